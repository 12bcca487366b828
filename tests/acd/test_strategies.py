"""Every strategy, levels, skills with their score and relaxation: pure functions, no sockets."""

import random

import pytest

from fs_cc.acd import Agent, AgentStatus
from fs_cc.acd.skills import merged, parse_relax, relaxed, steps_due, match_score
from fs_cc.acd.strategy import STRATEGIES, Context, choose, rank, ring_group, strategy_named
from fs_cc.errors import ConfigError

A = AgentStatus
NOW = 1_700_000_000.0


def agent(extension, idle_for=0.0, *, status=A.AVAILABLE, skills=None, level=1, calls=0,
          talk=0.0, answered_ago=(), registered=None, queues=("sales",)):
    return Agent(extension, f"Agent {extension}", tuple(queues), status, NOW - idle_for,
                 skills=dict(skills or {}), levels={"sales": level}, calls_answered=calls,
                 talk_seconds=talk, answered_at=tuple(NOW - ago for ago in answered_ago),
                 registered=registered)


def pick(agents, name, required=None, cursor=None, seed=1):
    ctx = Context("sales", NOW, cursor, random.Random(seed))
    chosen = choose(agents, required or {}, ctx, strategy_named(name))
    return chosen.extension if chosen else None


def test_given_the_issue_list_then_every_strategy_is_known_by_its_names():
    assert set(STRATEGIES) == {"longest-idle", "round-robin", "ring-all", "fewest-calls",
                               "least-talk-time", "fewest-calls-last-hour", "random", "top-down"}
    assert strategy_named("agent-with-fewest-calls-in-the-last-hour").name == \
        "fewest-calls-last-hour"
    with pytest.raises(ConfigError, match="known: fewest-calls"):
        strategy_named("ring-some")


def test_given_idle_times_when_longest_idle_then_the_one_idle_longest():
    agents = [agent("1000", 5), agent("1001", 50), agent("1002", 20)]
    assert pick(agents, "longest-idle") == "1001"


def test_given_a_cursor_when_round_robin_then_the_next_extension_after_it_wrapping():
    agents = [agent("1000"), agent("1001"), agent("1003")]
    assert pick(agents, "round-robin") == "1000"
    assert pick(agents, "round-robin", cursor="1000") == "1001"
    assert pick(agents, "round-robin", cursor="1001") == "1003"  # 1002 is not free
    assert pick(agents, "round-robin", cursor="1003") == "1000"  # wraps to the start


def test_given_counters_when_fewest_calls_then_fewest_answered_since_login():
    agents = [agent("1000", 99, calls=4), agent("1001", 1, calls=2), agent("1002", 5, calls=2)]
    assert pick(agents, "fewest-calls") == "1002"  # tie on 2 calls: idle longer


def test_given_talk_seconds_when_least_talk_time_then_least_talk():
    agents = [agent("1000", talk=300.0), agent("1001", talk=120.5), agent("1002", talk=121.0)]
    assert pick(agents, "least-talk-time") == "1001"


def test_given_answers_when_fewest_in_the_last_hour_then_older_answers_do_not_count():
    agents = [agent("1000", calls=4, answered_ago=(4000, 5000, 6000, 100)),  # 1 in the hour
              agent("1001", calls=2, answered_ago=(100, 200))]
    assert pick(agents, "fewest-calls-last-hour") == "1000"
    assert pick(agents, "fewest-calls") == "1001"  # all since login: 2 < 4


def test_given_a_seeded_generator_when_random_then_every_free_agent_is_drawn_sometimes():
    agents = [agent("1000"), agent("1001"), agent("1002", status=A.ON_CALL)]
    drawn = {pick(agents, "random", seed=seed) for seed in range(40)}
    assert drawn == {"1000", "1001"}


def test_given_the_first_agent_busy_when_top_down_then_the_next_one_never_a_halt():
    agents = [agent("1000", status=A.ON_CALL), agent("1002"), agent("1001", status=A.NOT_READY),
              agent("1003")]
    assert pick(agents, "top-down") == "1002"
    assert pick([agent("1000", status=A.WRAP_UP)], "top-down") is None


CHOOSING = sorted(name for name, strategy in STRATEGIES.items() if not strategy.ring_all)


@pytest.mark.parametrize("name", CHOOSING)
def test_given_levels_when_any_strategy_then_level_one_before_level_two(name):
    agents = [agent("1000", 900, level=2), agent("1009", 1, level=1, calls=50, talk=9999)]
    assert pick(agents, name) == "1009"
    assert pick([agent("1000", 900, level=2)], name) == "1000"  # level 2 when no level 1 is free


@pytest.mark.parametrize("name", CHOOSING)
def test_given_skills_when_any_strategy_then_best_match_wins_and_unfit_never(name):
    agents = [agent("1000", 900, skills={"en": 3}),  # lacks the level asked
              agent("1001", 1, skills={"en": 9, "zh": 5}),
              agent("1002", 500, skills={"en": 6, "zh": 5})]
    assert pick(agents, name, {"en": 5, "zh": 4}) == "1001"  # score 14 beats 11
    assert pick(agents, name, {"fr": 1}) is None


def test_given_equal_scores_then_the_strategy_breaks_the_tie():
    agents = [agent("1000", 10, skills={"en": 5}), agent("1001", 90, skills={"en": 5}),
              agent("1002", 500, skills={"en": 4})]
    assert pick(agents, "longest-idle", {"en": 4}) == "1001"  # 1002 scores 4, the others 5
    assert [a.extension for a in rank(agents, {"en": 4}, Context("sales"),
                                      STRATEGIES["longest-idle"])] == ["1001", "1000", "1002"]


def test_given_an_unregistered_phone_or_another_queue_then_never_chosen():
    agents = [agent("1000", 999, registered=False), agent("1001", 999, queues=("support",)),
              agent("1002", 1, registered=True)]
    assert pick(agents, "longest-idle") == "1002"


def test_given_an_exclusion_then_the_next_best():
    agents = [agent("1000", 10), agent("1001", 5)]
    ctx = Context("sales", NOW)
    assert choose(agents, {}, ctx, STRATEGIES["longest-idle"], exclude={"1000"}).extension == \
        "1001"


# -- skills ---------------------------------------------------------------------------------

def test_given_queue_and_caller_asks_when_merged_then_the_higher_minimum_per_skill():
    assert merged({"en": 3, "billing": 2}, {"en": 6, "zh": 1}) == {"en": 6, "billing": 2, "zh": 1}
    assert match_score({"en": 7, "zh": 2}, {"en": 6, "zh": 1}) == 9
    assert match_score({"en": 7}, {"en": 6, "zh": 1}) is None


def test_given_relax_steps_when_time_passes_then_levels_drop_and_skills_go_step_by_step():
    steps = parse_relax([{"after": 60, "drop": ["zh"]}, {"after": 30, "minus": 2},
                         {"after": 120, "drop": True}], "queues[0].skill_relax")
    required = {"en": 6, "zh": 2}
    assert [step.after for step in steps] == [30.0, 60.0, 120.0]
    assert [steps_due(steps, waited) for waited in (0, 29.9, 30, 61, 500)] == [0, 0, 1, 2, 3]
    assert relaxed(required, steps, 0) == {"en": 6, "zh": 2}
    assert relaxed(required, steps, 1) == {"en": 4}  # zh 2 - 2 reaches 0: no longer asked
    assert relaxed(required, steps, 2) == {"en": 6}  # minus of the current step only; zh dropped
    assert relaxed(required, steps, 3) == {}


@pytest.mark.parametrize("items, message", [
    ([{"after": -1, "minus": 1}], r"skill_relax\[0\].after must be a number"),
    ([{"after": 10}], r"skill_relax\[0\] relaxes nothing"),
    ([{"after": 10, "minus": 10}], r"skill_relax\[0\].minus must be"),
    ([{"after": 10, "drop": "zh"}], r"skill_relax\[0\].drop must be true or a list"),
    ([{"after": 10, "minus": 1, "when": 3}], r"unknown field\(s\): when"),
    (["30s"], r"skill_relax\[0\] must be a mapping"),
])
def test_given_bad_relax_steps_then_config_error_names_the_step(items, message):
    with pytest.raises(ConfigError, match=message):
        parse_relax(items, "queues[0].skill_relax")


def test_given_ring_all_then_every_fit_of_the_best_level_longest_idle_first():
    agents = [agent("1000", 10, skills={"en": 5}), agent("1001", 90, skills={"en": 2}),
              agent("1002", 500, skills={"en": 9}, level=2), agent("1003", 50, skills={}),
              agent("1004", 70, skills={"en": 4}, status=A.ON_CALL)]
    group = ring_group(agents, {"en": 2}, Context("sales", NOW))
    assert [a.extension for a in group] == ["1001", "1000"]  # whatever the score; level 2 waits
    assert [a.extension for a in ring_group(agents, {"en": 2}, Context("sales"), limit=1)] == [
        "1001"]
    assert ring_group(agents, {"fr": 1}, Context("sales")) == []
