"""The `up` banner's login lines: the demo agent's password shown at the first start only, like
the admin's, and a plain word when there is no demo agent."""

from fs_cc.up import agent_login


def test_given_the_first_start_then_the_demo_agents_password_is_shown_once():
    line = agent_login({"agent": {"username": "agent1000", "password": "Xy7-secret"}})
    assert line.startswith("agent1000 / Xy7-secret") and "shown this once" in line


def test_given_a_later_start_then_no_password_but_how_to_set_one():
    line = agent_login({"agent": {"username": "agent1000", "password": None}})
    assert "Xy7" not in line and "fs-cc user passwd agent1000" in line


def test_given_no_demo_agent_then_the_banner_says_so():
    assert agent_login({"agent": {"username": None, "password": None}}).startswith("no demo agent")
    assert agent_login({}).startswith("no demo agent")  # a web app older than the engine
