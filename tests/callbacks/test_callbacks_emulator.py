"""Callbacks end to end on the emulator: the agent's phone first, then the customer's, bridged.

Times are simulated seconds (the switch fixture runs at 10x). Customers sit behind the
emulator's PSTN gateway, so these tests need the emulator (emulator_only).
"""

import pytest

from fs_cc import events
from fs_cc.callbacks import AttemptOutcome, RetryPolicy
from fs_cc.emulator import Phone
from fs_cc.events import HangupSide
from tests.callbacks.support import CUSTOMER, CallbackStack, customers, shape
from tests.switch import wait_until

pytestmark = pytest.mark.emulator_only


@pytest.fixture
def make_stack(make_switch):
    """make_stack(agents, gateway=..., **options) -> (CallbackStack, switch); stopped after."""
    stacks = []

    def make(agents, gateway=None, phones=None, **options):
        extra = {} if phones is None else {"phones": phones}
        switch = make_switch(gateways=[gateway or customers()], **extra)
        stack = CallbackStack(switch, agents, **options)
        stacks.append(stack)
        return stack, switch

    yield make
    for stack in stacks:
        stack.stop()


def agent_leg_variables(switch, leg_uuid):
    """The agent leg's channel variables while it is up (what the agent's screen can read)."""
    channel = switch.emulator.channels.get(leg_uuid)
    return None if channel is None else channel.variables


def test_given_all_agents_busy_when_an_agent_frees_up_then_agent_rung_first_then_customer(
        make_stack):
    stack, switch = make_stack(["1000"])
    request = stack.desk.request("sales", CUSTOMER, since=stack.store.clock() - 60, priority=2)
    assert stack.store.waiting_callers("sales") == [request.callback_id]

    stack.acd.login("1000")

    dispatched, = stack.wait_for(events.CallbackDispatched, request.callback_id)
    assert (dispatched.agent, dispatched.attempt) == ("1000", 1)
    answered = wait_until(lambda: stack.emitter.of_type(events.AnsweredByAgent),
                          timeout=10, what="customer bridged to the agent")[0]
    variables = agent_leg_variables(switch, dispatched.leg_uuid)
    assert variables["fs_cc_callback"] == "true"
    assert variables["fs_cc_callback_id"] == request.callback_id
    assert variables["fs_cc_callback_number"] == CUSTOMER
    assert switch.emulator.channels[dispatched.leg_uuid].profile.caller_id_number == CUSTOMER
    assert answered.call_uuid == dispatched.call_uuid and answered.agent == "1000"
    completed, = stack.wait_for(events.CallbackCompleted, request.callback_id)
    assert (completed.agent, completed.attempts) == ("1000", 1)
    ended = stack.call_ended(dispatched.call_uuid)
    assert ended.side is HangupSide.CALLER  # the customer hung up after talking
    started = next(e for e in stack.emitter.of_call(dispatched.call_uuid)
                   if isinstance(e, events.CallStarted))
    assert (started.did, started.caller_number) == ("callback", CUSTOMER)
    # the agent's phone rang before the customer's: the offer precedes the call's start
    call_events = [type(e) for e in stack.emitter.of_call(dispatched.call_uuid)]
    assert call_events.index(events.OfferedToAgent) < call_events.index(events.CallStarted)
    wait_until(lambda: stack.store.get_agent("1000").status.value == "available",
               what="agent available again")
    assert request.callback_id not in stack.desk.requests


def test_given_customer_busy_when_retried_then_answers_on_the_second_call(make_stack):
    gateway = customers(busy=True)
    stack, switch = make_stack(["1000"], gateway=gateway,
                               policy=RetryPolicy(3, (0.5,)))
    stack.acd.login("1000")
    request = stack.desk.request("sales", CUSTOMER)

    busy, = stack.wait_for(events.CallbackAttempted, request.callback_id)
    assert (busy.outcome, busy.cause, busy.attempts) == (AttemptOutcome.BUSY, "USER_BUSY", 1)
    assert busy.retry_at is not None
    shape(gateway, answer=True)

    completed, = stack.wait_for(events.CallbackCompleted, request.callback_id)
    assert completed.attempts == 2
    attempts = stack.of_type(events.CallbackAttempted, request.callback_id)
    assert [a.outcome for a in attempts] == [AttemptOutcome.BUSY, AttemptOutcome.CONNECTED]
    first, second = stack.of_type(events.CallbackDispatched, request.callback_id)
    assert (first.attempt, second.attempt) == (1, 2)
    # the busy call has its own record: ended by the system with the customer's cause
    assert stack.call_ended(first.call_uuid).cause == "USER_BUSY"


def test_given_agent_does_not_answer_when_offered_then_back_in_line_and_next_agent_calls(
        make_stack):
    phones = [Phone("1000", no_answer=True), Phone("1001", answer_delay=1.0)]
    stack, switch = make_stack(["1000", "1001"], phones=phones)
    request = stack.desk.request("sales", CUSTOMER, since=stack.store.clock() - 30)
    stack.acd.login("1000")  # idle longest: rung first

    missed, = stack.wait_for(events.CallbackAttempted, request.callback_id)
    assert (missed.agent, missed.outcome) == ("1000", AttemptOutcome.AGENT_NO_ANSWER)
    assert missed.attempts == 0  # an agent's miss costs the customer no attempt
    failed = stack.emitter.of_type(events.OfferFailed)
    assert [(f.agent, f.cause) for f in failed] == [("1000", events.OfferFailure.NO_ANSWER)]
    caller = stack.acd.callers[request.callback_id]
    assert caller.since == request.since  # back at its place
    stack.acd.login("1001")

    completed, = stack.wait_for(events.CallbackCompleted, request.callback_id)
    assert (completed.agent, completed.attempts) == ("1001", 1)
    agents = [d.agent for d in stack.of_type(events.CallbackDispatched, request.callback_id)]
    assert agents[0] == "1000" and agents[-1] == "1001"


def test_given_customer_never_answers_when_attempts_run_out_then_failed_with_reason(
        make_stack):
    stack, switch = make_stack(["1000"], gateway=customers(answer=False),
                               policy=RetryPolicy(2, (0.2,)), customer_ring=2)
    stack.acd.login("1000")
    request = stack.desk.request("sales", CUSTOMER)

    failed, = stack.wait_for(events.CallbackFailed, request.callback_id, simulated=60)
    assert (failed.reason, failed.attempts) == ("NO_ANSWER", 2)
    attempts = stack.of_type(events.CallbackAttempted, request.callback_id)
    assert [a.outcome for a in attempts] == [AttemptOutcome.NO_ANSWER] * 2
    assert attempts[0].retry_at is not None and attempts[1].retry_at is None
    assert request.callback_id not in stack.desk.requests
    assert stack.store.waiting_callers("sales") == []
    wait_until(lambda: stack.store.get_agent("1000").status.value == "available",
               what="agent available again")


FLOW = """
name: callback_test
start: wait
nodes:
  wait:
    type: queue
    queue: sales
    priority: 3
    max_wait: 2
    outcomes: {timeout: offer}
  offer:
    type: callback
    prompt: ivr/ivr-please_choose_from_the_following.wav
    say_number: true
    number_prompt: voicemail/vm-press.wav
    next: goodbye
    default: goodbye
  goodbye:
    type: hangup
"""


def test_given_caller_waits_too_long_when_pressing_1_then_request_keeps_the_place(
        make_stack, tmp_path):
    flow = tmp_path / "callback_test.yaml"
    flow.write_text(FLOW, encoding="utf-8")
    stack, switch = make_stack(["1000"], flow=flow)
    switch.place_call("5901", caller_number=CUSTOMER, dtmf="1")

    requested, = stack.wait_for(events.CallbackRequested)
    call = stack.emitter.of_call(requested.call_uuid)  # the caller's session
    queued = next(e for e in call if isinstance(e, events.CallQueued))
    assert (requested.number, requested.queue, requested.priority) == (CUSTOMER, "sales", 3)
    # the place is the caller's time in line, not the time of the request
    assert abs((requested.since - queued.ts).total_seconds()) < 0.5
    assert (requested.ts - requested.since).total_seconds() > 0.1
    inputs = [(e.node, e.input, e.result) for e in call if isinstance(e, events.IvrInput)]
    assert inputs == [("offer", "1", "option")]
    assert stack.call_ended(requested.call_uuid).side is HangupSide.SYSTEM  # the hangup node
    stack.acd.login("1000")

    completed, = stack.wait_for(events.CallbackCompleted, requested.callback_id)
    assert completed.agent == "1000"
