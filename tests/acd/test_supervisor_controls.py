"""A supervisor's hands on waiting callers and on the wrap-up a disposition is owed: a caller's
priority changed, a caller moved to another queue at its place, with a double FreeSWITCH."""

from fs_cc import events
from fs_cc.acd import ACD, AgentStatus, MemoryStore, Queue
from fs_cc.acd.moves import move_caller
from fs_cc.callctl import CallControl
from fs_cc.emitter import RecordingEmitter
from fs_cc.events import QueueOutcome
from tests.acd.conftest import FakeClock
from tests.acd.doubles import CallerLine, FakeSwitch
from tests.acd.test_acd import ROUTERS, _stop_routers  # noqa: F401 (the routers stop after each)
from tests.polling import wait_until

A = AgentStatus


def make(queues=(Queue("sales"), Queue("support")), **options):
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    switch = FakeSwitch()
    acd = ACD(store, CallControl(switch), list(queues), RecordingEmitter(), ring_timeout=2,
              retry_delay=0.05, hangup_grace=0.05, **options)
    acd.start()
    ROUTERS.append(acd)
    return acd, store, switch, clock


def caller(acd, uuid, queue, **options):
    return CallerLine(acd, acd.ctl.esl, acd._emitter, uuid, queue, **options)


def of(acd, event_class, uuid):
    return [e for e in acd._emitter.events if isinstance(e, event_class) and e.call_uuid == uuid]


def test_given_two_waiting_callers_when_the_later_ones_priority_is_raised_then_it_is_served_first():
    acd, store, _, clock = make()
    store.define_agent("1000", "Ana", ["sales"])
    early = caller(acd, "early", "sales")
    clock.advance(60)
    later = caller(acd, "later", "sales")
    wait_until(lambda: len(store.waiting_callers("sales")) == 2, what="both in line")
    assert store.waiting_callers("sales") == ["early", "later"]

    assert acd.set_priority("later", 5) == {"call_uuid": "later", "queue": "sales",
                                            "priority": 5}
    assert store.waiting_callers("sales") == ["later", "early"]
    acd.login("1000")
    wait_until(lambda: later.agent == "1000", what="the raised caller served first")
    assert early.agent is None
    assert [e.priority for e in of(acd, events.CallPriorityChanged, "later")] == [5]
    later.caller_hangs_up()
    wait_until(lambda: early.agent == "1000", what="then the other")
    early.caller_hangs_up()


def test_given_a_waiting_caller_when_moved_then_it_waits_in_the_other_queue_at_its_old_place():
    acd, store, switch, clock = make()
    store.define_agent("1001", "Li", ["support"])
    moved = caller(acd, "moved", "sales", priority=2)
    clock.advance(60)
    there = caller(acd, "there", "support", priority=2)  # came later, same priority
    wait_until(lambda: store.waiting_callers("sales") == ["moved"], what="queued in sales")
    wait_until(lambda: store.waiting_callers("support") == ["there"], what="queued in support")

    assert move_caller(acd, acd.callers["moved"], acd.queue_definition("support")) is True
    assert store.waiting_callers("sales") == []
    assert store.waiting_callers("support") == ["moved", "there"]  # its time in line kept
    left = of(acd, events.QueueLeft, "moved")
    assert [(e.queue, e.outcome) for e in left] == [("sales", QueueOutcome.TRANSFERRED)]
    assert [(e.queue, e.priority, e.position) for e in of(acd, events.CallQueued, "moved")] == [
        ("sales", 2, 1), ("support", 2, 1)]
    acd.login("1001")
    wait_until(lambda: moved.agent == "1001", what="served by the other queue's agent")
    assert there.agent is None
    moved.caller_hangs_up()
    there.caller_hangs_up()


def test_given_a_connected_caller_when_moved_then_nothing_moves():
    acd, store, _, _ = make()
    store.define_agent("1000", "Ana", ["sales"])
    acd.login("1000")
    call = caller(acd, "talking", "sales")
    wait_until(lambda: call.agent == "1000", what="connected")
    assert move_caller(acd, acd.callers["talking"], acd.queue_definition("support")) is False
    assert acd.callers["talking"].queue == "sales"
    assert [e.outcome for e in of(acd, events.QueueLeft, "talking")] == [QueueOutcome.ANSWERED]
    assert [e.queue for e in of(acd, events.CallQueued, "talking")] == ["sales"]
    call.caller_hangs_up()


# -- the wrap-up a disposition is owed (desk agents: a user works as them, the desktop files) --

def connected_then_ended(acd, store, switch, uuid="caller-1"):
    call = caller(acd, uuid, "sales")
    wait_until(lambda: call.agent == "1000", what=f"{uuid} connected")
    switch.agent_hangs_up(switch.leg_of("1000"))
    call.result()
    return call


def agent_in(store, *queues):
    store.define_agent("1000", "Ana", list(queues))


def test_given_no_wrap_up_and_a_disposition_owed_when_the_call_ends_then_wrap_up_until_filed():
    acd, store, switch, _ = make([Queue("sales", wrap_up=0.0)], desk_agents=("1000",))
    agent_in(store, "sales")
    acd.login("1000")
    connected_then_ended(acd, store, switch)
    assert store.get_agent("1000").status is A.WRAP_UP
    assert acd.presence.disposition_filed("1000", "another-call")["status"] == "wrap_up"

    assert acd.presence.disposition_filed("1000", "caller-1")["status"] == "available"
    assert store.get_agent("1000").status is A.AVAILABLE


def test_given_a_wrap_up_timer_and_no_disposition_when_the_time_is_over_then_still_wrap_up():
    acd, store, switch, _ = make([Queue("sales", wrap_up=0.1)], desk_agents=("1000",))
    agent_in(store, "sales")
    acd.login("1000")
    connected_then_ended(acd, store, switch)
    timer = acd.presence._wrap_ups["1000"]
    wait_until(lambda: timer.dead, timeout=3, what="the wrap-up time over")
    assert store.get_agent("1000").status is A.WRAP_UP

    acd.presence.disposition_filed("1000", "caller-1")
    assert store.get_agent("1000").status is A.AVAILABLE


def test_given_a_disposition_filed_before_the_wrap_up_time_is_over_then_the_timer_ends_it():
    acd, store, switch, _ = make([Queue("sales", wrap_up=0.3)], desk_agents=("1000",))
    agent_in(store, "sales")
    acd.login("1000")
    connected_then_ended(acd, store, switch)
    assert acd.presence.disposition_filed("1000", "caller-1")["status"] == "wrap_up"
    wait_until(lambda: store.get_agent("1000").status is A.AVAILABLE, timeout=3,
               what="available once the time is over")


def test_given_a_disposition_owed_when_the_agent_ends_the_wrap_up_then_available():
    acd, store, switch, _ = make([Queue("sales")], desk_agents=("1000",))
    agent_in(store, "sales")
    acd.login("1000")
    connected_then_ended(acd, store, switch)
    assert acd.set_status("1000", "available", "wrap-up ended")["status"] == "available"
    assert "1000" not in acd.presence._owed


def test_given_a_queue_listing_no_dispositions_when_the_call_ends_then_available_at_once():
    acd, store, switch, _ = make([Queue("sales", dispositions=())], desk_agents=("1000",))
    agent_in(store, "sales")
    acd.login("1000")
    connected_then_ended(acd, store, switch)
    assert store.get_agent("1000").status is A.AVAILABLE


def test_given_an_agent_no_user_works_as_when_the_call_ends_then_available_at_once():
    acd, store, switch, _ = make([Queue("sales")], desk_agents=("1001",))
    agent_in(store, "sales")
    acd.login("1000")
    connected_then_ended(acd, store, switch)
    assert store.get_agent("1000").status is A.AVAILABLE


def test_given_a_wrap_up_without_its_timer_when_a_call_is_filed_then_available():
    acd, store, _, _ = make([Queue("sales")], desk_agents=("1000",))
    agent_in(store, "sales")
    acd.login("1000")
    acd.move("1000", A.RESERVED, "offered")
    acd.move("1000", A.ON_CALL, "answered")
    acd.move("1000", A.WRAP_UP, "call ended")  # a restarted engine lost the owed call and timer
    assert "1000" not in acd.presence._owed and "1000" not in acd.presence._wrap_ups

    assert acd.presence.disposition_filed("1000", "caller-1")["status"] == "available"
