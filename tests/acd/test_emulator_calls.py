"""Whole inbound calls over real sockets: switch -> outbound ESL -> IVR -> ACD -> agent phone.

The switch is the `switch` fixture: the emulator at a speed factor, or a real FreeSWITCH test
switch when FS_CC_TEST_ESL is set (tests/README.rst). Times below are simulated seconds.
"""

import os

import pytest

from fs_cc import journal
from fs_cc.acd import MemoryStore, build_acd
from fs_cc.callctl import CallControl
from fs_cc.calls import HangupSide
from fs_cc.callflow import CallHandler
from fs_cc.emitter import RecordingEmitter
from fs_cc.esl.inbound import InboundClient
from fs_cc.esl.outbound import OutboundServer
from fs_cc.ivr import FlowRunner, load_flow
from tests.switch import wait_until

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DID = "5901"  # a test number on a real test switch; the emulator routes any number
EVENTS = ("CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE",
          "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "BACKGROUND_JOB")


class Stack:
    """Engine side of one test: outbound server, inbound ESL client, flow and ACD over a switch."""

    def __init__(self, switch, agents, strategy="longest-idle"):
        self.switch = switch
        self.records = []
        self.caller_causes = []  # the caller channel's own hangup cause, as FreeSWITCH told it
        self.store = MemoryStore()
        self.outbound = OutboundServer("127.0.0.1", 0, self._on_call).start()
        switch.route_to(*self.outbound.address)
        self.esl = InboundClient(*switch.esl_address, switch.password, events=EVENTS)
        self.esl.start()
        assert self.esl.wait_connected(timeout=5)
        self.emitter = RecordingEmitter()
        self.acd = build_acd(self.store, CallControl(self.esl), {
            "queues": [{"name": "sales", "strategy": strategy}, {"name": "support"}],
            "agents": [{"extension": ext, "name": f"Agent {ext}", "queues": ["sales", "support"]}
                       for ext in agents],
            "ring_timeout": 2, "retry_delay": 0.05}, self.emitter)
        self.acd.start()
        flow = load_flow(os.path.join(REPO, "ivr_flows", "main.yaml"), queues={"sales", "support"})
        runner = FlowRunner(flow, self.acd, self.emitter)
        self.handler = CallHandler(lambda did: runner, self.emitter)

    def _on_call(self, session):
        self.handler.handle(session)
        self.caller_causes.append(session.hangup_cause)
        self.records.append(journal.fold(self.emitter.of_call(session.uuid)))

    def wait_record(self, simulated_seconds):
        """The first finished call record, waiting as long as the scenario lasts on this switch."""
        wait_until(lambda: self.records, timeout=10 + self.switch.real_seconds(simulated_seconds),
                   what="call record")
        return self.records[0]

    def stop(self):
        self.acd.stop()
        self.esl.stop()
        self.outbound.stop(timeout=1)


@pytest.fixture
def make_stack(switch):
    """make_stack(agent extensions) -> a Stack on the switch under test; stopped afterwards."""
    stacks = []

    def make(agents, strategy="longest-idle"):
        stack = Stack(switch, agents, strategy)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.stop()


def test_given_caller_presses_1_when_agent_answers_then_record_complete_and_agent_free(
        switch, make_stack):
    switch.set_agent("1000", answer_delay=1.0)
    switch.set_agent("1001", answer_delay=1.0)
    stack = make_stack(["1000", "1001"])
    stack.acd.login("1001")
    stack.acd.login("1000")
    uuid = switch.place_call(DID, caller_number="5551234", dtmf="1", talk_seconds=10)
    record = stack.wait_record(30)
    assert record.did == DID and record.caller_number == "5551234"
    assert record.ivr_path == ["welcome", "menu", "menu:1", "sales"]
    assert (record.queue, record.agent) == ("sales", "1001")
    assert record.hangup_side == HangupSide.CALLER
    assert record.answered_at is not None and record.ended_at >= record.answered_at
    assert uuid
    wait_until(lambda: stack.store.get_agent("1001").status.value == "available",
               what="agent available again")


def test_given_ring_all_when_two_phones_answer_together_then_one_gets_the_caller(
        switch, make_stack):
    switch.set_agent("1000", answer_delay=1.0)
    switch.set_agent("1001", answer_delay=1.0)
    stack = make_stack(["1000", "1001"], strategy="ring-all")
    stack.acd.login("1000")
    stack.acd.login("1001")
    switch.place_call(DID, caller_number="5551234", dtmf="1", talk_seconds=5)
    record = stack.wait_record(30)
    assert record.queue == "sales" and record.agent in ("1000", "1001")
    offered = {e.agent for e in stack.emitter.events if type(e).__name__ == "OfferedToAgent"}
    assert offered == {"1000", "1001"}  # both rang
    answered = [e.agent for e in stack.emitter.events if type(e).__name__ == "AnsweredByAgent"]
    assert answered == [record.agent]  # exactly one got the caller
    wait_until(lambda: {stack.store.get_agent(ext).status.value for ext in ("1000", "1001")}
               == {"available"}, what="both agents available again")


@pytest.mark.emulator_only
def test_given_first_agent_unregistered_when_caller_queues_then_next_agent_takes_it(
        switch, make_stack):
    switch.set_agent("1000", registered=False)
    switch.set_agent("1001", answer_delay=1.0)
    stack = make_stack(["1000", "1001"])
    stack.acd.login("1000")
    stack.acd.login("1001")
    switch.place_call(DID, dtmf="2", talk_seconds=5)
    record = stack.wait_record(30)
    assert (record.queue, record.agent) == ("support", "1001")
    agent = stack.store.get_agent("1000")
    assert agent.status.value == "available" and agent.registered is False  # never rung again


def test_given_no_agent_when_caller_gives_up_then_abandoned_record(switch, make_stack):
    stack = make_stack(["1000"])
    switch.place_call(DID, dtmf="1", patience_seconds=15)
    record = stack.wait_record(15)
    assert record.queue == "sales" and record.agent is None
    assert record.hangup_side == HangupSide.CALLER
    assert record.wait_seconds > 0
    assert stack.acd.queues()[0]["waiting"] == 0


def test_given_agent_hangs_up_first_when_call_ends_then_side_agent(switch, make_stack):
    switch.set_agent("1000", answer_delay=1.0, talk_seconds=5)
    stack = make_stack(["1000"])
    stack.acd.login("1000")
    switch.place_call(DID, dtmf="1", talk_seconds=60)
    record = stack.wait_record(30)
    assert record.agent == "1000"
    assert record.hangup_side == HangupSide.AGENT
    # hangup_after_bridge: FreeSWITCH ends the caller with the agent's cause, instead of letting
    # it fall back to the dialplan's `hangup NORMAL_TEMPORARY_FAILURE` after `socket`
    assert stack.caller_causes == ["NORMAL_CLEARING"]


def test_given_caller_hangs_up_in_menu_when_call_ends_then_ivr_abandon(switch, make_stack):
    stack = make_stack(["1000"])
    switch.place_call(DID, dtmf="", patience_seconds=8)
    record = stack.wait_record(8)
    assert record.queue is None
    assert record.hangup_side == HangupSide.CALLER
    assert record.ivr_path[:2] == ["welcome", "menu"]


def test_given_callers_hang_up_while_talking_when_calls_end_then_every_side_is_caller(
        switch, make_stack):
    # both legs' hangups often fall in one 20 ms tick of FreeSWITCH's event clock, so they carry
    # the same Event-Date-Timestamp: only Event-Sequence tells the caller's came first
    agents = ["1000", "1001", "1002", "1003"]
    for ext in agents:
        switch.set_agent(ext, answer_delay=1.0)
    stack = make_stack(agents)
    for ext in agents:
        stack.acd.login(ext)
    for _ in agents:
        switch.place_call(DID, dtmf="1", talk_seconds=4)
    wait_until(lambda: len(stack.records) == len(agents),
               timeout=10 + switch.real_seconds(40), what="every call record")
    assert sorted(r.agent for r in stack.records) == agents
    assert [r.hangup_side for r in stack.records] == [HangupSide.CALLER] * len(agents)
