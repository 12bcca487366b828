"""Agent states around calls: wrap-up, not ready with reasons, missed offers, moves asked during
a call, unregistered phones, skills relaxing with the wait, levels; with a double FreeSWITCH."""

import pytest

from fs_cc import events
from fs_cc.acd import AgentStatus, Queue
from fs_cc.acd.queue_def import Overflow
from fs_cc.acd.skills import parse_relax
from fs_cc.states import InvalidReason
from tests.acd.test_acd import ROUTERS, _stop_routers, clock, make_acd, start_call, store  # noqa
from tests.acd.doubles import FakeSwitch
from tests.polling import wait_until

A = AgentStatus


def changes(acd, extension):
    """(old, new, reason) of the agent's status events, in order."""
    return [(e.old.value, e.new.value, e.reason) for e in acd._emitter.events
            if isinstance(e, events.AgentStatusChanged) and e.agent == extension]


def connect(acd, switch, uuid="caller-1", **options):
    call = start_call(acd, uuid, **options)
    wait_until(lambda: call.agent is not None, what=f"{uuid} connected")
    return call


def test_given_a_wrap_up_time_when_a_call_ends_then_wrap_up_then_available_by_itself(
        store, clock):
    switch = FakeSwitch()
    acd = make_acd(store, switch, clock, logged_in=("1000",),
                   queues=[Queue("sales", wrap_up=0.3)])
    call = connect(acd, switch)
    switch.agent_hangs_up(switch.leg_of("1000"))
    call.result()
    assert store.get_agent("1000").status is A.WRAP_UP
    second = start_call(acd, "caller-2")  # waits while the agent wraps up
    wait_until(lambda: second.agent == "1000", timeout=5, what="the next call after wrap-up")
    assert changes(acd, "1000")[1:] == [
        ("available", "reserved", "offered"), ("reserved", "on_call", "answered"),
        ("on_call", "wrap_up", "call ended"), ("wrap_up", "available", "wrap-up over"),
        ("available", "reserved", "offered"), ("reserved", "on_call", "answered")]


def test_given_wrap_up_when_the_agent_ends_it_early_then_available_once(store, clock):
    switch = FakeSwitch()
    acd = make_acd(store, switch, clock, logged_in=("1000",),
                   queues=[Queue("sales", wrap_up=0.2)])
    call = connect(acd, switch)
    switch.agent_hangs_up(switch.leg_of("1000"))
    call.result()
    timer = acd.presence._wrap_ups["1000"]
    assert acd.set_status("1000", "available", "wrap-up ended")["status"] == "available"
    acd.set_status("1000", "not_ready", "meeting")
    # the wrap-up's timer was cancelled: it cannot make the agent available behind its back
    wait_until(lambda: timer.dead, timeout=2, what="the wrap-up timer gone")
    assert "1000" not in acd.presence._wrap_ups
    assert store.get_agent("1000").status is A.NOT_READY
    assert changes(acd, "1000")[-2:] == [("wrap_up", "available", "wrap-up ended"),
                                         ("available", "not_ready", "meeting")]


def test_given_an_agent_missing_offers_in_a_row_then_not_ready_no_answer_and_caller_kept(
        store, clock):
    switch = FakeSwitch({"1000": "NO_ANSWER"})
    acd = make_acd(store, switch, clock, logged_in=("1000",),
                   queues=[Queue("sales", max_no_answer=2)])
    call = start_call(acd)
    wait_until(lambda: store.get_agent("1000").status is A.NOT_READY, timeout=5,
               what="agent 1000 set not ready")
    agent = store.get_agent("1000")
    assert (agent.reason, agent.no_answers, len(switch.originates)) == ("no-answer", 2, 2)
    assert changes(acd, "1000")[-1] == ("reserved", "not_ready", "no-answer")
    acd.login("1001")  # the caller still waits, and the next agent takes it
    wait_until(lambda: call.agent == "1001", timeout=5, what="the caller served by 1001")
    assert store.get_agent("1000").status is A.NOT_READY  # not logged out, not back


def test_given_an_answer_then_the_missed_offers_count_again_from_zero(store, clock):
    switch = FakeSwitch({"1000": "NO_ANSWER"})
    acd = make_acd(store, switch, clock, logged_in=("1000",),
                   queues=[Queue("sales", max_no_answer=3)])
    call = start_call(acd)
    wait_until(lambda: store.get_agent("1000").no_answers == 2, timeout=5, what="two misses")
    switch.phones["1000"] = "answer"
    wait_until(lambda: call.agent == "1000", timeout=5, what="answered at last")
    agent = store.get_agent("1000")
    assert (agent.status, agent.no_answers, agent.calls_answered) == (A.ON_CALL, 0, 1)


def test_given_not_ready_asked_during_a_call_then_applied_when_it_ends(store, clock):
    switch = FakeSwitch()
    acd = make_acd(store, switch, clock, logged_in=("1000",),
                   queues=[Queue("sales", wrap_up=30)])
    call = connect(acd, switch)
    during = acd.set_status("1000", "not_ready", "lunch")
    assert (during["status"], during["after_call"]) == ("on_call", "not_ready:lunch")
    switch.agent_hangs_up(switch.leg_of("1000"))
    call.result()
    agent = store.get_agent("1000")
    assert (agent.status, agent.reason, agent.after_call) == (A.NOT_READY, "lunch", None)
    assert changes(acd, "1000")[-1] == ("on_call", "not_ready", "lunch")


def test_given_logout_asked_while_ringing_then_logged_out_once_the_call_ends(store, clock):
    switch = FakeSwitch({"1000": 0.5})  # rings half a second, then answers
    acd = make_acd(store, switch, clock, logged_in=("1000",))
    call = start_call(acd)
    wait_until(lambda: store.get_agent("1000").status is A.RESERVED, what="ringing")
    assert acd.logout("1000")["after_call"] == "logged_out"
    wait_until(lambda: call.agent == "1000", timeout=5, what="the offer answered all the same")
    switch.agent_hangs_up(switch.leg_of("1000"))
    call.result()
    assert store.get_agent("1000").status is A.LOGGED_OUT
    assert changes(acd, "1000")[-1] == ("on_call", "logged_out", "call ended")


def test_given_an_unknown_reason_then_refused_naming_the_field(store, clock):
    acd = make_acd(store, FakeSwitch(), clock, logged_in=("1000",))
    with pytest.raises(InvalidReason) as caught:
        acd.set_status("1000", "not_ready", "coffee")
    assert caught.value.field == "reason"
    assert "coffee" in str(caught.value) and "lunch" in str(caught.value)
    assert acd.set_status("1000", "not_ready")["reason"] == "break"  # none given: break


def test_given_an_unregistered_phone_then_not_offered_again_and_shown_so(store, clock):
    switch = FakeSwitch({"1000": "USER_NOT_REGISTERED"})
    acd = make_acd(store, switch, clock, logged_in=("1000", "1001"))
    call = start_call(acd)
    wait_until(lambda: call.agent == "1001", timeout=5, what="served by the registered phone")
    switch.agent_hangs_up(switch.leg_of("1001"))
    call.result()
    assert store.get_agent("1000").to_dict()["registered"] is False
    second = start_call(acd, "caller-2")
    wait_until(lambda: second.agent == "1001", timeout=5, what="1001 again, never 1000")
    assert [ext for ext, _ in switch.originates] == ["1000", "1001", "1001"]
    acd.set_status("1000", "not_ready")
    acd.set_status("1000", "available")  # ready again: its phone is tried again
    assert store.get_agent("1000").registered is None


def test_given_a_skill_nobody_has_when_the_wait_relaxes_it_then_served(store, clock):
    switch = FakeSwitch()
    relax = parse_relax([{"after": 0.3, "drop": ["zh"]}], "sales.skill_relax")
    acd = make_acd(store, switch, clock, logged_in=("1000",),
                   queues=[Queue("sales", skills={"en": 2}, skill_relax=relax)])
    store.define_agent("1000", "Agent 1000", ["sales"], {"en": 5})
    call = start_call(acd, skills={"zh": 6})
    wait_until(lambda: "caller-1" in acd.callers, what="queued")
    assert acd.router.route_caller("caller-1") is False  # nobody speaks zh yet
    assert switch.originates == []
    wait_until(lambda: call.agent == "1000", timeout=5, what="served once zh was dropped")


def test_given_a_queue_asking_a_skill_then_an_agent_without_it_is_never_rung(store, clock):
    switch = FakeSwitch()
    acd = make_acd(store, switch, clock, logged_in=("1000", "1001"),
                   queues=[Queue("sales", skills={"billing": 3})])
    store.define_agent("1001", "Agent 1001", ["sales"], {"billing": 3})
    call = connect(acd, switch)
    assert call.agent == "1001"  # 1000 was idle longer but lacks billing


def test_given_levels_when_both_are_free_then_level_one_is_rung_first(store, clock):
    switch = FakeSwitch()
    acd = make_acd(store, switch, clock, logged_in=("1000", "1001"),
                   queues=[Queue("sales", strategy="fewest-calls")])
    store.define_agent("1000", "Agent 1000", ["sales"], levels={"sales": 2})
    store.define_agent("1001", "Agent 1001", ["sales"], levels={"sales": 1})
    call = connect(acd, switch)
    assert call.agent == "1001"


# -- ring-all ---------------------------------------------------------------------------------

def ring_all_acd(store, clock, phones, logged_in=("1000", "1001", "1002")):
    switch = FakeSwitch(phones)
    acd = make_acd(store, switch, clock, logged_in=logged_in,
                   queues=[Queue("sales", strategy="ring-all")])
    return switch, acd


def offers_failed(acd):
    return sorted((e.agent, e.cause.value, e.hangup_cause) for e in acd._emitter.events
                  if isinstance(e, events.OfferFailed))


def test_given_ring_all_when_one_answers_then_the_others_stop_ringing_and_are_available(
        store, clock):
    switch, acd = ring_all_acd(store, clock, {"1000": 5.0, "1001": 0.2, "1002": "USER_BUSY"})
    call = start_call(acd)
    wait_until(lambda: call.agent == "1001", timeout=5, what="the first to answer connected")
    assert sorted(ext for ext, _ in switch.originates) == ["1000", "1001", "1002"]
    leg_1000 = [v["origination_uuid"] for ext, v in switch.originates if ext == "1000"][0]
    assert f"uuid_kill {leg_1000} ORIGINATOR_CANCEL" in switch.commands
    wait_until(lambda: store.get_agent("1000").status is A.AVAILABLE, what="1000 released")
    assert store.get_agent("1002").status is A.AVAILABLE
    assert offers_failed(acd) == [("1000", "cancelled", "ORIGINATOR_CANCEL"),
                                  ("1002", "busy", "USER_BUSY")]
    assert store.get_agent("1000").no_answers == 0  # someone else answered: not a miss
    assert switch.bridges == [("caller-1", switch.leg_of("1001"))]


def test_given_ring_all_when_two_answer_at_once_then_exactly_one_gets_the_caller(store, clock):
    switch, acd = ring_all_acd(store, clock, {"1000": "answer", "1001": "answer"},
                               logged_in=("1000", "1001"))
    call = start_call(acd)
    wait_until(lambda: call.agent is not None, what="connected")
    loser = ({"1000", "1001"} - {call.agent}).pop()
    wait_until(lambda: store.get_agent(loser).status is A.AVAILABLE, what="the other released")
    assert store.get_agent(call.agent).status is A.ON_CALL
    assert len(switch.bridges) == 1
    loser_leg = [v["origination_uuid"] for ext, v in switch.originates if ext == loser][0]
    assert f"uuid_kill {loser_leg} NORMAL_CLEARING" in switch.commands
    assert offers_failed(acd) == [(loser, "cancelled", "LOSE_RACE")]


def test_given_ring_all_when_the_caller_hangs_up_then_every_phone_stops(store, clock):
    switch, acd = ring_all_acd(store, clock, {"1000": 5.0, "1001": 5.0, "1002": 5.0})
    call = start_call(acd)
    wait_until(lambda: len(switch.ringing) == 3, what="three phones ringing")
    call.caller_hangs_up("ORIGINATOR_CANCEL")
    call.result()
    wait_until(lambda: all(store.get_agent(ext).status is A.AVAILABLE
                           for ext in ("1000", "1001", "1002")), what="all released")
    assert [cause for _, cause, _ in offers_failed(acd)] == ["cancelled"] * 3


def test_given_ring_all_when_nobody_answers_then_each_miss_counts_and_the_caller_waits(
        store, clock):
    switch, acd = ring_all_acd(store, clock, {"1000": "NO_ANSWER", "1001": "NO_ANSWER"},
                               logged_in=("1000", "1001"))
    call = start_call(acd)
    wait_until(lambda: store.get_agent("1000").no_answers >= 1
               and store.get_agent("1001").no_answers >= 1, what="both missed")
    assert call.agent is None and "caller-1" in acd.callers
    switch.phones["1001"] = "answer"
    wait_until(lambda: call.agent == "1001", timeout=5, what="served on a later round")


# -- the queue's own limits -------------------------------------------------------------------

def queue_left(acd, uuid):
    return [(e.outcome.value, e.position) for e in acd._emitter.events
            if isinstance(e, events.QueueLeft) and e.call_uuid == uuid]


def test_given_max_callers_when_one_more_comes_then_it_leaves_full_at_once(store, clock):
    acd = make_acd(store, FakeSwitch(), clock, logged_in=(),
                   queues=[Queue("sales", max_callers=2)])
    start_call(acd, "c1")
    start_call(acd, "c2")
    third = start_call(acd, "c3")
    assert third.result().outcome.value == "full"
    assert queue_left(acd, "c3") == [("full", None)]
    assert store.waiting_callers("sales") == ["c1", "c2"]


def test_given_a_no_agents_overflow_when_nobody_staffs_the_queue_then_no_agents(store, clock):
    overflow = {"no_agents": Overflow("voicemail")}
    acd = make_acd(store, FakeSwitch(), clock, logged_in=(),
                   queues=[Queue("sales", overflow=overflow)])
    assert start_call(acd, "c1").result().outcome.value == "no_agents"
    acd.set_status("1000", "not_ready", "lunch")  # logged in but not ready: not staffing
    assert start_call(acd, "c2").result().outcome.value == "no_agents"
    acd.set_status("1000", "available")
    call = start_call(acd, "c3")
    wait_until(lambda: call.agent == "1000", what="a staffed queue takes the caller")


def test_given_the_queues_max_wait_and_exit_key_then_they_apply_unless_the_flow_says(
        store, clock):
    acd = make_acd(store, FakeSwitch(), clock, logged_in=(),
                   queues=[Queue("sales", max_wait=0.2, exit_key="#")])
    waited = start_call(acd, "c1")
    assert waited.result().outcome.value == "timeout"
    leaving = start_call(acd, "c2", max_wait=30)
    wait_until(lambda: "c2" in acd.callers, what="queued")
    assert acd.callers["c2"].exit_key == "#" and acd.callers["c2"].max_wait == 30
    leaving.presses("#")
    assert leaving.result().outcome.value == "exit_key"
    assert queue_left(acd, "c2")[0][0] == "exit_key"


def test_given_a_caller_who_hangs_up_in_line_then_the_abandon_says_its_place(store, clock):
    acd = make_acd(store, FakeSwitch(), clock, logged_in=())
    start_call(acd, "c1")
    second = start_call(acd, "c2")
    wait_until(lambda: store.waiting_callers("sales") == ["c1", "c2"], what="two in line")
    second.caller_hangs_up("NORMAL_CLEARING")
    second.result()
    assert queue_left(acd, "c2") == [("hung_up", 2)]


def test_given_a_queue_ring_timeout_then_its_offers_ring_that_long(store, clock):
    switch = FakeSwitch()
    acd = make_acd(store, switch, clock, logged_in=("1000",),
                   queues=[Queue("sales", ring_timeout=7, retry_delay=0.5)])
    connect(acd, switch)
    assert switch.originates[0][1]["originate_timeout"] == "7"
    assert (acd.ring_timeout_of("sales"), acd.retry_delay_of("sales")) == (7, 0.5)
    assert (acd.ring_timeout_of("support"), acd.retry_delay_of("support")) == (2, 0.05)
