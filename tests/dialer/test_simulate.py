"""The pacers' properties in short seeded simulations."""

import pytest

from fs_cc.dialer.abandon import AbandonPolicy
from fs_cc.dialer.pacing import PredictivePacer, ProgressivePacer, progressive
from fs_cc.dialer.simulate import Scenario, simulate
from fs_cc.dialer.vicidial import AdaptivePacer

LOGIN, LOGOUT = 600.0, 1800.0


@pytest.mark.parametrize("make", [PredictivePacer, ProgressivePacer, AdaptivePacer])
def test_given_agents_logged_in_only_mid_shift_then_no_call_is_placed_without_one(make):
    scenario = Scenario(agents=10, hours=0.75, seed=3, roster=((LOGIN, LOGOUT),) * 10)

    result = simulate(scenario, make(), trace=True)

    placed = [(view, n) for view, n, _ in result.trace if n]
    assert placed and result.connects > 0
    assert all(view.logged_in > 0 for view, _ in placed)
    assert all(LOGIN <= view.now < LOGOUT for view, _ in placed)


def test_given_a_shift_then_our_abandon_rate_over_the_period_stays_under_the_limit():
    for seed in (1, 2):
        result = simulate(Scenario(agents=20, hours=1.5, seed=seed), PredictivePacer())

        assert result.abandons > 0  # it did dial predictively
        assert result.abandon_rate <= 0.03


def test_given_the_rate_above_the_limit_then_only_progressive_calls_are_placed():
    limit = 0.01
    result = simulate(Scenario(agents=20, hours=1.0, seed=4),
                      PredictivePacer(policy=AbandonPolicy(limit=limit)), trace=True)

    above = [(view, n) for view, n, (answers, drops) in result.trace
             if (drops + 1) / (answers + 1) > limit]
    assert above  # the tight limit is reached in the hour
    assert all(n <= progressive(view) for view, n in above)
    assert result.abandon_rate <= limit


def test_given_the_same_seed_then_the_same_figures():
    first = simulate(Scenario(agents=5, hours=0.5, seed=7), PredictivePacer())
    second = simulate(Scenario(agents=5, hours=0.5, seed=7), PredictivePacer())

    assert (first.dials, first.connects, first.talk_seconds) == (
        second.dials, second.connects, second.talk_seconds)
