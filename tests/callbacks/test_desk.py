"""The engine's callback desk: held, in line at the caller's place, taken, cancelled, rescheduled."""

import datetime

import pytest

from fs_cc import events
from fs_cc.acd import ACD, MemoryStore, Queue, UnknownQueue
from fs_cc.acd.callbacks import CallbackDesk, to_time
from fs_cc.callbacks import CallbackState, InvalidNumber
from fs_cc.callctl import CallControl
from fs_cc.control import commands
from fs_cc.control.commands import CommandRefused
from fs_cc.emitter import RecordingEmitter
from tests.acd.conftest import FakeClock
from tests.acd.doubles import CallerLine, FakeSwitch
from tests.polling import wait_until

NUMBER = "5557000111"


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def desks():
    made = []
    yield made
    for acd in made:
        acd.stop()


@pytest.fixture
def make_desk(desks, clock):
    """make_desk(phones) -> (desk, switch, emitter): an ACD on a FakeSwitch with agents 1000-1001."""

    def make(phones=None):
        store = MemoryStore(clock=clock)
        for ext in ("1000", "1001"):
            store.define_agent(ext, f"Agent {ext}", ("sales",))
        switch = FakeSwitch(phones)
        emitter = RecordingEmitter()
        acd = ACD(store, CallControl(switch), [Queue("sales"), Queue("support")], emitter,
                  ring_timeout=2, retry_delay=0.05, hangup_grace=0.05)
        acd.start()
        desks.append(acd)
        # the customer is dialled as user/<number> so that the FakeSwitch answers for it
        return CallbackDesk(acd, dial="user/{number}"), switch, emitter

    return make


def queue_command(callback_id="cb-9", since=None, **fields):
    since = since or datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.timezone.utc)
    return commands.QueueCallback(callback_id=callback_id, queue="sales", number=NUMBER,
                                  since=since, **fields)


def test_given_a_request_when_recorded_then_in_line_at_the_callers_place(make_desk, clock):
    desk, _, emitter = make_desk()
    request = desk.request("sales", "555 700-0111", since=clock.now - 90, priority=2,
                           skills={"fr": 3}, call_uuid="call-1", caller_number="5551000")

    requested, = emitter.of_type(events.CallbackRequested)
    assert (requested.callback_id, requested.number, requested.since) == (
        request.callback_id, NUMBER, to_time(clock.now - 90))
    assert (requested.priority, dict(requested.skills), requested.call_uuid) == (
        2, {"fr": 3}, "call-1")
    assert desk.acd.store.waiting_callers("sales") == [request.callback_id]
    assert desk.acd.queues()[0]["waiting"] == 1


def test_given_a_callback_waiting_longer_when_an_agent_frees_then_it_goes_before_a_new_caller(
        make_desk, clock):
    desk, switch, emitter = make_desk()
    live = CallerLine(desk.acd, switch, emitter, "caller-new", "sales")
    request = desk.request("sales", NUMBER, since=clock.now - 120)

    desk.acd.login("1000")

    dispatched = wait_until(lambda: emitter.of_type(events.CallbackDispatched),
                            what="callback dispatched")[0]
    assert (dispatched.callback_id, dispatched.agent) == (request.callback_id, "1000")
    first_rung = switch.originates[0][1]
    assert first_rung["fs_cc_callback_id"] == request.callback_id
    assert live.agent is None


def test_given_a_caller_with_higher_priority_when_an_agent_frees_then_the_caller_first(
        make_desk, clock):
    desk, switch, emitter = make_desk()
    desk.request("sales", NUMBER, since=clock.now - 120, priority=0)
    live = CallerLine(desk.acd, switch, emitter, "caller-vip", "sales", priority=5)

    desk.acd.login("1000")

    wait_until(lambda: live.agent == "1000", what="the priority caller answered")
    assert emitter.of_type(events.CallbackDispatched) == []


def test_given_bad_input_when_requested_then_refused_naming_what(make_desk):
    desk, _, emitter = make_desk()
    with pytest.raises(UnknownQueue):
        desk.request("billing", NUMBER)
    with pytest.raises(InvalidNumber) as caught:
        desk.request("sales", "12ab")
    assert caught.value.field == "number"
    assert emitter.of_type(events.CallbackRequested) == []


def test_given_a_resent_request_when_taken_twice_then_held_once(make_desk):
    desk, _, emitter = make_desk()
    first = desk.take(queue_command(attempts=1))
    again = desk.take(queue_command(attempts=1))

    assert (first["taken"], again["taken"]) == (True, False)
    assert [e.callback_id for e in emitter.of_type(events.CallbackQueued)] == ["cb-9"]
    assert desk.acd.store.waiting_callers("sales") == ["cb-9"]
    assert desk.requests["cb-9"].attempts == 1


def test_given_a_pending_request_when_cancelled_then_out_of_line_and_a_resend_ignored(
        make_desk):
    desk, _, emitter = make_desk()
    desk.take(queue_command())

    answer = desk.cancel("cb-9", by="lead")

    assert answer["state"] == "cancelled"
    assert [(e.callback_id, e.by) for e in emitter.of_type(events.CallbackCancelled)] == [
        ("cb-9", "lead")]
    assert desk.acd.store.waiting_callers("sales") == []
    assert "cb-9" not in desk.acd.callers
    assert desk.take(queue_command())["taken"] is False
    assert desk.cancel("cb-9")["state"] == "cancelled"  # again: nothing more happens
    assert len(emitter.of_type(events.CallbackCancelled)) == 1


def test_given_a_request_this_engine_never_held_when_cancelled_then_cancelled_anyway(make_desk):
    desk, _, emitter = make_desk()
    desk.cancel("cb-unknown", by="lead")

    assert [e.callback_id for e in emitter.of_type(events.CallbackCancelled)] == ["cb-unknown"]
    assert desk.take(queue_command("cb-unknown"))["taken"] is False


def test_given_a_request_in_progress_when_cancelled_then_refused(make_desk):
    desk, switch, emitter = make_desk(phones={"1000": 30})  # rings a long time
    request = desk.request("sales", NUMBER)
    desk.acd.login("1000")
    wait_until(lambda: request.state is CallbackState.IN_PROGRESS, what="agent rung")

    with pytest.raises(CommandRefused) as caught:
        desk.cancel(request.callback_id)

    assert caught.value.field == "callback_id" and "in progress" in caught.value.reason


def test_given_a_pending_request_when_rescheduled_then_out_of_line_until_then_at_its_place(
        make_desk, clock):
    desk, _, emitter = make_desk()
    request = desk.request("sales", NUMBER, since=clock.now - 300)
    soon = to_time(clock.now + 0.2)
    command = commands.RescheduleCallback(
        callback_id=request.callback_id, queue="sales", number=NUMBER,
        since=to_time(request.since), attempts=0, not_before=soon, by="lead")

    desk.reschedule(command)

    assert desk.acd.store.waiting_callers("sales") == []
    rescheduled, = emitter.of_type(events.CallbackRescheduled)
    assert (rescheduled.not_before, rescheduled.by) == (soon, "lead")
    wait_until(lambda: desk.acd.store.waiting_callers("sales") == [request.callback_id],
               what="back in line at its time")
    assert desk.acd.callers[request.callback_id].since == clock.now - 300


def test_given_a_failed_request_when_rescheduled_then_held_again_with_fresh_attempts(
        make_desk, clock):
    desk, _, emitter = make_desk()
    desk._finish("cb-9", CallbackState.FAILED)  # as after its last attempt
    command = commands.RescheduleCallback(
        callback_id="cb-9", queue="sales", number=NUMBER, since=to_time(clock.now - 600),
        attempts=0, not_before=to_time(clock.now - 1), by="lead")

    desk.reschedule(command)

    assert desk.requests["cb-9"].attempts == 0
    assert desk.acd.store.waiting_callers("sales") == ["cb-9"]


def test_given_a_completed_request_when_rescheduled_or_cancelled_then_refused(make_desk, clock):
    desk, _, _ = make_desk()
    desk._finish("cb-9", CallbackState.COMPLETED)
    with pytest.raises(CommandRefused):
        desk.reschedule(commands.RescheduleCallback(
            callback_id="cb-9", queue="sales", number=NUMBER, since=to_time(clock.now),
            not_before=to_time(clock.now)))
    with pytest.raises(CommandRefused):
        desk.cancel("cb-9")


def test_given_its_queue_removed_while_it_waits_for_its_time_then_failed_with_the_reason(
        make_desk, clock):
    desk, _, emitter = make_desk()
    desk.take(queue_command(not_before=to_time(clock.now + 0.1)))
    desk.acd.set_queues([Queue("support")])

    failed = wait_until(lambda: emitter.of_type(events.CallbackFailed), what="failed")[0]
    assert failed.reason == "unknown queue sales"
    assert "cb-9" not in desk.requests


def test_given_an_end_an_earlier_run_spooled_when_resent_then_not_called_again(make_desk):
    # the worker re-sends a request whose completion it never stored (the engine crashed first)
    desk, switch, emitter = make_desk()
    desk.remember_finished({"cb-9": "completed", "cb-8": "cancelled"})

    answer = desk.take(queue_command())

    assert answer == {"callback_id": "cb-9", "taken": False, "state": "completed"}
    assert desk.requests == {} and desk.acd.store.waiting_callers("sales") == []
    assert emitter.of_type(events.CallbackQueued) == []
    assert desk.cancel("cb-8")["state"] == "cancelled"
    assert emitter.of_type(events.CallbackCancelled) == []  # already over: nothing emitted
