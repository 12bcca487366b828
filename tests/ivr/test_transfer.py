"""The transfer node: to an agent's extension and to a number on the emulator, to another flow."""

import textwrap

import pytest

from fs_cc import events, journal
from fs_cc.callflow import CallHandler
from fs_cc.emitter import RecordingEmitter
from fs_cc.emulator import Gateway
from fs_cc.errors import ConfigError
from fs_cc.esl.outbound import OutboundServer
from fs_cc.events import HangupSide, TransferKind
from fs_cc.ivr import parse_flow
from fs_cc.ivr.nodes_transfer import DialStrings, TransferNode
from fs_cc.ivr.runner import FlowOutcome, FlowRunner
from tests.ivr.doubles import AnsweringAcd, RecordingAcd, ScriptedSession  # noqa: F401
from tests.switch import wait_until

TO_EXTENSION = """\
start: welcome
nodes:
  welcome: {type: play, prompt: "tone_stream://%(200,0,800)", next: desk}
  desk:
    type: transfer
    to: extension
    extension: "1010"
    failed: nobody
    NEXT
  nobody: {type: hangup, cause: USER_BUSY}
  after: {type: hangup, cause: CALL_REJECTED}
"""


def extension_flow(next_field):
    """TO_EXTENSION with ``next_field`` (a line, or "")."""
    return TO_EXTENSION.replace("NEXT", next_field)


class Stack:
    """An outbound server running the flows of ``runner_for(did)`` on the switch's calls."""

    def __init__(self, switch, runner_for, emitter):
        self.emitter = emitter
        self.handler = CallHandler(runner_for, emitter)
        self.results = []
        self.sessions = []
        self.server = OutboundServer("127.0.0.1", 0, self._on_call).start()
        switch.route_to(*self.server.address)
        self.switch = switch

    def _on_call(self, session):
        self.results.append(self.handler.handle(session))
        self.sessions.append(session)

    def call(self, **options):
        """Place a call and wait for its CallEnded; (the ended event, its record)."""
        self.switch.place_call("5901", **options)
        wait_until(lambda: self.results, timeout=10 + self.switch.real_seconds(60),
                   what="call ended")
        ended = self.results[0]
        return ended, journal.fold(self.emitter.of_call(ended.call_uuid))

    def stop(self):
        """Stop the outbound server."""
        self.server.stop(timeout=1)


@pytest.fixture
def stack_for(request):
    stacks = []

    def make(switch, text, services=None):
        emitter = RecordingEmitter()
        runner = FlowRunner(parse_flow(text, "transfer.yaml"), RecordingAcd(), emitter,
                            services=services or {})
        stacks.append(Stack(switch, lambda did: runner, emitter))
        return stacks[-1]

    yield make
    for stack in stacks:
        stack.stop()


def transfers(emitter):
    return [(e.target_kind, e.target, e.by_agent) for e in emitter.of_type(events.CallTransferred)]


def test_given_agent_answers_then_hangs_up_when_transferred_then_call_ends_by_agent(
        switch, stack_for):
    switch.set_agent("1010", talk_seconds=2)
    stack = stack_for(switch, extension_flow(""))
    ended, record = stack.call(dtmf="", talk_seconds=60)
    assert ended.side is HangupSide.AGENT
    assert transfers(stack.emitter) == [(TransferKind.AGENT, "1010", None)]
    assert record.ivr_path == ["welcome", "desk"]


def test_given_agent_busy_when_transferred_then_failed_path(switch, stack_for):
    switch.set_agent("1010", reject_cause="USER_BUSY")
    stack = stack_for(switch, extension_flow(""))
    ended, record = stack.call(dtmf="", talk_seconds=60)
    assert record.ivr_path == ["welcome", "desk", "nobody"]
    assert ended.side is HangupSide.SYSTEM and ended.cause == "USER_BUSY"


def test_given_extension_nobody_has_when_transferred_then_failed_path(switch, stack_for):
    stack = stack_for(switch, extension_flow("").replace('extension: "1010"',
                                                         'extension: "4444"'))
    ended, record = stack.call(dtmf="", talk_seconds=60)
    assert record.ivr_path == ["welcome", "desk", "nobody"]
    assert ended.cause == "USER_BUSY"  # the failed node's own hangup


def test_given_next_when_agent_hangs_up_then_caller_goes_on_there(switch, stack_for):
    switch.set_agent("1010", talk_seconds=2)
    stack = stack_for(switch, extension_flow("next: after"))
    ended, record = stack.call(dtmf="", talk_seconds=60)
    assert record.ivr_path == ["welcome", "desk", "after"]
    assert ended.cause == "CALL_REJECTED"


def test_given_caller_hangs_up_while_bridged_when_transferred_then_caller_side(
        switch, stack_for):
    switch.set_agent("1010", talk_seconds=60)
    stack = stack_for(switch, extension_flow("next: after"))
    ended, record = stack.call(dtmf="", talk_seconds=2)
    assert ended.side is HangupSide.CALLER
    assert record.ivr_path == ["welcome", "desk"]


@pytest.mark.emulator_only
def test_given_number_when_transferred_then_dialled_through_the_gateway(make_switch, stack_for):
    switch = make_switch(gateways=[Gateway("pstn", answer_probability=1.0, busy_probability=0.0,
                                           ring_seconds=(0.5, 0.5), talk_seconds=(2.0, 2.0))])
    text = textwrap.dedent("""\
        start: out
        nodes:
          out: {type: transfer, to: number, number: "+8613800138000", failed: bye}
          bye: {type: hangup, cause: USER_BUSY}
        """)
    stack = stack_for(switch, text,
                      {"dial_strings": DialStrings(number="sofia/gateway/pstn/{number}")})
    ended, record = stack.call(dtmf="", talk_seconds=60)
    assert transfers(stack.emitter) == [(TransferKind.NUMBER, "+8613800138000", None)]
    assert record.ivr_path == ["out"]
    assert ended.side is HangupSide.SYSTEM and ended.cause == "NORMAL_CLEARING"


def test_given_transfer_to_flow_when_run_then_other_flow_runs_with_the_callers_facts():
    first = parse_flow(textwrap.dedent("""\
        start: vip
        nodes:
          vip: {type: set, variable: tier, value: gold, priority: 7, next: away}
          away: {type: transfer, to: flow, flow: desk}
        """), "first.yaml")
    desk = parse_flow("start: q\nnodes:\n  q: {type: queue, queue: support}\n", "desk.yaml")
    session = ScriptedSession()
    acd, emitter = AnsweringAcd(session), RecordingEmitter()
    runners = {}
    runners["first"] = FlowRunner(first, acd, emitter, flows=runners.get)
    runners["desk"] = FlowRunner(desk, acd, emitter, flows=runners.get)
    emitter.emit(events.CallStarted, call_uuid=session.uuid, did="8000", caller_number="1")
    result = runners["first"].run(session)
    assert result.outcome is FlowOutcome.QUEUED and result.node_id == "q"
    assert acd.enqueued == [("call-1", "support")] and acd.options[0]["priority"] == 7
    assert transfers(emitter) == [(TransferKind.IVR, "desk", None)]
    assert journal.fold(emitter.events).ivr_path == ["vip", "away", "q"]
    assert [e.flow for e in emitter.of_type(events.IvrNodeEntered)] == ["first", "first", "desk"]


def test_given_transfer_to_flow_not_loaded_when_run_then_call_ended_by_system():
    flow = parse_flow("start: away\nnodes:\n  away: {type: transfer, to: flow, flow: gone}\n",
                      "first.yaml")
    session = ScriptedSession()
    result = FlowRunner(flow, RecordingAcd(), RecordingEmitter(), flows={}.get).run(session)
    assert result.outcome is FlowOutcome.FLOW_HUNG_UP and result.side is HangupSide.SYSTEM
    assert session.hung_up_by_us == "NORMAL_TEMPORARY_FAILURE"


def test_given_transfer_node_when_parsed_then_target_and_edges():
    node = parse_flow(extension_flow("next: after"), "t.yaml").node("desk")
    assert isinstance(node, TransferNode)
    assert (node.to, node.target, node.flow) == ("extension", "1010", None)
    assert [(t.label, t.node_id) for t in node.targets()] == [("failed", "nobody"),
                                                              ("next", "after")]


@pytest.mark.parametrize("fields, line, message", [
    ("to: phone", 5, "'to' must be one of extension, flow, number, not 'phone'"),
    ("to: extension\n    extension: 10a", 6, "'extension' must be digits, not '10a'"),
    ("to: number\n    number: '12'", 6, "'number' must be 3 to 20 digits"),
    ("to: extension\n    extension: '1'\n    number: '123'", 7,
     "'number' does not go with 'to: extension'"),
    ("to: flow\n    flow: desk\n    failed: bye", 7, "a transfer to a flow does not come back"),
    ("to: flow\n    flow: 'no good'", 6, "'flow' must be a flow's name"),
    ("to: extension", 3, "missing required field 'extension'"),
])
def test_given_bad_transfer_when_loaded_then_error_at_its_line(fields, line, message):
    text = f"start: t\nnodes:\n  t:\n    type: transfer\n    {fields}\n  bye: {{type: hangup}}\n"
    with pytest.raises(ConfigError) as caught:
        parse_flow(text, "bad.yaml")
    assert message in caught.value.message
    assert caught.value.line == line
