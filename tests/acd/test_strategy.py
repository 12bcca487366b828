"""Routing strategies as pure functions, and the agent status rules."""

import pytest

from fs_cc.acd import Agent, AgentStatus, InvalidStatus, TRANSITIONS, longest_idle
from fs_cc.acd.agents import allowed_from
from fs_cc.acd.strategy import strategy_named
from fs_cc.errors import ConfigError

A = AgentStatus


def agent(extension, since, status=A.AVAILABLE, queues=("sales",)):
    return Agent(extension, f"Agent {extension}", tuple(queues), status, since)


def test_given_available_agents_when_choosing_then_oldest_idle_wins():
    agents = [agent("1000", 30.0), agent("1001", 10.0), agent("1002", 20.0)]
    assert longest_idle(agents, "sales").extension == "1001"


def test_given_equal_idle_times_when_choosing_then_lowest_extension_wins():
    assert longest_idle([agent("1002", 5.0), agent("1001", 5.0)], "sales").extension == "1001"


def test_given_busy_or_other_queue_agents_when_choosing_then_none():
    agents = [agent("1000", 1.0, A.ON_CALL), agent("1001", 1.0, A.BREAK),
              agent("1002", 1.0, queues=("support",)), agent("1003", 1.0, A.RESERVED)]
    assert longest_idle(agents, "sales") is None


def test_given_excluded_agent_when_choosing_then_next_longest_idle():
    agents = [agent("1000", 1.0), agent("1001", 2.0)]
    assert longest_idle(agents, "sales", exclude={"1000"}).extension == "1001"


def test_given_strategy_name_when_looked_up_then_function_or_config_error():
    assert strategy_named("longest-idle").name == "longest-idle"
    assert strategy_named("longest-idle-agent").name == "longest-idle"  # mod_callcenter's name
    with pytest.raises(ConfigError, match="unknown queue strategy 'fastest'"):
        strategy_named("fastest")


def test_given_transition_table_then_every_status_has_a_way_out_and_in():
    assert set(TRANSITIONS) == set(AgentStatus)
    for status in AgentStatus:
        assert TRANSITIONS[status], status
        assert allowed_from(status), status
    assert allowed_from(A.RESERVED) == {A.AVAILABLE}


@pytest.mark.parametrize("text", ["available", "AVAILABLE", " Available "])
def test_given_status_text_when_parsed_then_enum(text):
    assert AgentStatus.parse(text) is A.AVAILABLE


def test_given_unknown_status_text_when_parsed_then_invalid_status_value_error():
    with pytest.raises(ValueError) as caught:
        AgentStatus.parse("lunch")
    assert isinstance(caught.value, InvalidStatus)
