"""The predictive pacer's decisions, on views built by hand (no simulation)."""

import pytest

from fs_cc.dialer.abandon import AbandonPolicy
from fs_cc.dialer.pacing import (Outcome, PredictivePacer, PreviewPacer, ProgressivePacer, View,
                                 allowed_share, progressive)


def trained_pacer(limit=0.03):
    """A pacer that has seen a campaign: 30 % answered after ~10 s, 120 s talk, 15 s wrap-up."""
    pacer = PredictivePacer(policy=AbandonPolicy(limit=limit))
    for i in range(300):
        pacer.observe(Outcome.ANSWERED if i % 10 < 3 else Outcome.NO_ANSWER, 0.0, 6.0 + i % 9)
        pacer.observe(Outcome.TALK_ENDED, 0.0, 60.0 + (i % 13) * 10)
        pacer.observe(Outcome.WRAP_ENDED, 0.0, 12.0 + i % 7)
    return pacer


def with_history(pacer, answers, drops, now=1000.0):
    for i in range(answers):
        pacer.observe(Outcome.ABANDONED if i < drops else Outcome.CONNECTED, now)
    return pacer


def busy_team(free, talking=18, now=1000.0):
    # agents well into their calls, a few of them about to finish
    elapsed = tuple(30.0 + 9.0 * i for i in range(talking))
    return View(now=now, logged_in=free + talking, free=free, talking=elapsed)


def test_given_no_agent_logged_in_then_no_call_is_placed():
    pacer = with_history(trained_pacer(), 1000, 0)
    view = View(now=1000.0, logged_in=0, free=0)

    assert pacer.dials(view) == 0
    assert ProgressivePacer().dials(view) == 0


def test_given_agents_free_and_history_under_the_limit_then_more_calls_than_free_agents():
    pacer = with_history(trained_pacer(), 1000, 5)

    assert pacer.dials(busy_team(free=2)) > 2


def test_given_more_free_agents_then_more_calls():
    counts = [with_history(trained_pacer(), 1000, 5).dials(busy_team(free=free))
              for free in (0, 2, 5)]

    assert counts[0] < counts[1] < counts[2]


def test_given_rate_nearing_the_limit_then_the_pacer_slows_down():
    far = with_history(trained_pacer(), 1000, 5).dials(busy_team(free=2))
    near = with_history(trained_pacer(), 1000, 28).dials(busy_team(free=2))

    assert near < far


def test_given_rate_above_the_limit_then_no_call_beyond_one_per_uncovered_free_agent():
    pacer = with_history(trained_pacer(), 1000, 40)

    assert pacer.dials(busy_team(free=0)) == 0
    assert pacer.dials(busy_team(free=3)) == 3
    ringing = View(now=1000.0, logged_in=21, free=3, talking=(50.0,) * 18, ringing=(4.0, 5.0))
    assert pacer.dials(ringing) == 1


def test_given_one_more_abandon_would_pass_the_limit_then_predictive_dialing_stops():
    assert allowed_share(rate=0.0, answers=10, drops=0, limit=0.03) == 0.0
    assert allowed_share(rate=0.0, answers=100, drops=0, limit=0.03) == pytest.approx(0.03)


def test_given_answers_still_expected_from_calls_in_flight_then_they_count_as_possible_abandons():
    assert allowed_share(rate=0.02, answers=1000, drops=20, limit=0.03, in_flight=5.0) > 0.0
    assert allowed_share(rate=0.02, answers=1000, drops=20, limit=0.03, in_flight=12.0) == 0.0


def test_given_rate_within_the_taper_then_the_share_shrinks_towards_zero_at_the_limit():
    shares = [allowed_share(rate=r, answers=10_000, drops=int(r * 10_000), limit=0.03)
              for r in (0.02, 0.0290, 0.0295, 0.0299)]

    assert shares[0] == pytest.approx(0.03)
    assert shares[0] > shares[1] > shares[2] > shares[3] > 0.0


def test_given_progressive_then_one_call_per_free_agent_with_none_on_the_way():
    view = View(now=0.0, logged_in=5, free=3, ringing=(1.0,), waiting=1)

    assert progressive(view) == 1
    assert PreviewPacer().dials(view) == 0
