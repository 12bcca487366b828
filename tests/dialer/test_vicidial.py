"""The ViciDial adaptive reference follows AST_VDadapt.pl's rules."""

from fs_cc.dialer.pacing import Outcome, View
from fs_cc.dialer.vicidial import AdaptivePacer, Campaign


def run(pacer, seconds, free, talking=0, waiting=0, logged_in=None):
    logged_in = free + talking if logged_in is None else logged_in
    placed = 0
    for tick in range(int(seconds * 2)):
        view = View(now=tick / 2, logged_in=logged_in, free=free, talking=(60.0,) * talking,
                    waiting=waiting)
        placed += pacer.dials(view)
    return placed


def test_given_every_agent_ready_then_the_level_doubles_every_15_s_up_to_the_maximum():
    pacer = AdaptivePacer(Campaign(adaptive_maximum_level=3.0))

    run(pacer, 16.5, free=10)
    assert pacer.level == 2.0
    run(pacer, 60, free=10)
    assert pacer.level == 3.0


def test_given_calls_waiting_for_agents_then_the_level_falls_but_never_under_one():
    pacer = AdaptivePacer(Campaign(auto_dial_level=2.0))

    run(pacer, 16.5, free=0, talking=10, waiting=2)  # 2 calls waiting for 10 agents: -20 %
    assert pacer.level == 1.6
    run(pacer, 120, free=0, talking=10, waiting=2)
    assert pacer.level == 1.0


def test_given_no_agent_logged_in_then_no_call_is_placed():
    assert run(AdaptivePacer(Campaign(auto_dial_level=3.0)), 30, free=0) == 0


def test_given_level_then_calls_fill_level_times_ready_and_incall_less_existing_calls():
    pacer = AdaptivePacer(Campaign(auto_dial_level=2.0))

    placed = pacer.dials(View(now=0.0, logged_in=10, free=2, talking=(5.0,) * 8, ringing=(1.0,) * 4))

    assert placed == 2 * 10 - (4 + 8)


def over_limit(method):
    pacer = AdaptivePacer(Campaign(dial_method=method, auto_dial_level=2.8))
    for _ in range(60):
        pacer.observe(Outcome.DIALED, 0.0)
    for i in range(20):
        pacer.observe(Outcome.ABANDONED if i < 2 else Outcome.CONNECTED, 0.0)
    run(pacer, 16.5, free=2, talking=8)  # 10 % of answers dropped, limit 3 %
    return pacer.level


def test_given_drops_over_the_limit_then_each_method_lowers_the_level_its_own_way():
    # the differential (2 ready of 10) first raises 2.8 to 3.36, capped at 3.0
    assert over_limit("ADAPT_HARD_LIMIT") == 1.0
    assert over_limit("ADAPT_AVERAGE") == 1.5
    assert over_limit("ADAPT_TAPERED") == 3.0  # 09:00, more than ten hours to 21:00: rate 1
