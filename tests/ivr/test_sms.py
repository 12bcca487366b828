"""The sms node: checked at file:line, variables filled in, one durable request per visit (its
event in the engine's outbox until the worker stores it), on scripted calls and the emulator."""

import pytest

from fs_cc import events, outbox as outbox_mod
from fs_cc.callflow import CallHandler
from fs_cc.emitter import RecordingEmitter
from fs_cc.errors import ConfigError
from fs_cc.esl.outbound import OutboundServer
from fs_cc.ivr import parse_flow
from fs_cc.ivr.nodes_sms import SMS_ID_VARIABLE, SmsNode, fill
from fs_cc.ivr.runner import FlowRunner
from fs_cc.ivr.validate import validate_text
from tests.ivr.doubles import RecordingAcd, ScriptedSession
from tests.switch import wait_until

FLOW = """\
start: card
nodes:
  card:
    type: collect
    prompt: ivr/ivr-welcome_to_freeswitch.wav
    variable: booking
    min_length: 4
    max_length: 8
    next: address
    default: address
  address:
    type: sms
    to: "{caller_number}"
    text: "Hotel Lotus, 88 Nanjing Road. Booking {booking}. 欢迎光临"
    done_prompt: ivr/ivr-thank_you.wav
    next: bye
  bye: {type: hangup}
"""


def run(session, flow_text=FLOW, emitter=None):
    emitter = emitter or RecordingEmitter()
    result = FlowRunner(parse_flow(flow_text, "inline.yaml"), RecordingAcd(), emitter).run(session)
    return result, emitter


def test_given_sms_node_when_parsed_then_fields_and_variables():
    node = parse_flow(FLOW, "f.yaml").node("address")
    assert isinstance(node, SmsNode)
    assert node.variables_read() == ["booking"]
    assert [t.node_id for t in node.targets()] == ["bye"]
    assert node.sounds() == ("ivr/ivr-thank_you.wav",)


@pytest.mark.parametrize("line, message", [
    ('    to: "hello"', "'to' must be a phone number or a variable"),
    ('    text: ""', "'text' must be a non-empty text"),
    ("    text: " + "x" * 501, "'text' is 501 characters; at most 500"),
])
def test_given_bad_sms_field_when_parsed_then_error_at_its_line(line, message):
    lines = FLOW.splitlines()
    field = line.strip().split(":")[0]
    index = next(i for i, text in enumerate(lines) if text.startswith(f"    {field}:")
                 and i > 10)
    lines[index] = line
    with pytest.raises(ConfigError) as caught:
        parse_flow("\n".join(lines) + "\n", "bad.yaml")
    assert message in str(caught.value) and caught.value.line == index + 1


def test_fill_replaces_known_and_blanks_unknown_variables():
    assert fill("{a} and {b}", {"a": "1"}.get) == "1 and "


def test_given_caller_number_and_collected_booking_when_run_then_one_request_event():
    session = ScriptedSession(caller_number="13800138000", keys=["4711"])
    result, emitter = run(session)
    assert result.node_id == "bye"
    [request] = emitter.of_type(events.SmsRequested)
    assert (request.number, request.node, request.flow) == ("13800138000", "address", "inline")
    assert request.text == "Hotel Lotus, 88 Nanjing Road. Booking 4711. 欢迎光临"
    assert session.variables[SMS_ID_VARIABLE] == request.request_id
    assert ("playback", "ivr/ivr-thank_you.wav") in session.executed


def test_given_hidden_caller_number_when_run_then_no_request_and_flow_goes_on():
    session = ScriptedSession(caller_number="anonymous", keys=["4711"])
    result, emitter = run(session)
    assert result.node_id == "bye"
    assert emitter.of_type(events.SmsRequested) == []
    assert ("playback", "ivr/ivr-thank_you.wav") not in session.executed


def test_given_caller_hangs_up_in_done_prompt_when_run_then_request_already_durable(tmp_path):
    """The request is in the outbox before the prompt plays: neither the hang-up nor an engine
    that stops before publishing (a new Outbox on the same file) loses it."""
    def broker_down(batch):
        raise ConnectionError("broker down")

    path = tmp_path / "outbox.sqlite"
    emitter = RecordingEmitter(outbox=outbox_mod.Outbox(path, broker_down))
    session = ScriptedSession(caller_number="13800138000", keys=["4711"], hang_up_at=3)
    run(session, emitter=emitter)
    [request] = emitter.of_type(events.SmsRequested)
    restarted = outbox_mod.Outbox(path, broker_down)
    assert [e.request_id for e in restarted.pending_events()
            if isinstance(e, events.SmsRequested)] == [request.request_id]


def test_given_emulated_caller_when_flow_runs_then_sms_requested_for_its_number(emulator):
    emitter = RecordingEmitter()
    runner = FlowRunner(parse_flow(FLOW, "inline.yaml"), RecordingAcd(), emitter)
    handler = CallHandler(lambda did: runner, emitter)
    done = []
    server = OutboundServer("127.0.0.1", 0, lambda s: done.append(handler.handle(s))).start()
    try:
        emulator.config.socket_target = "%s:%s" % server.address
        emulator.place_call("5901", caller_number="13912345678", dtmf="4711#")
        wait_until(lambda: done, timeout=10 + 30 / emulator.config.speed, what="flow finished")
    finally:
        server.stop(timeout=1)
    [request] = emitter.of_type(events.SmsRequested)
    assert request.number == "13912345678" and "Booking 4711." in request.text
    assert request.call_uuid == done[0].call_uuid


VALIDATED = """\
start: rec
nodes:
  rec:
    type: record
    variable: msg
    next: address
  address:
    type: sms
    to: "{caller_number}"
    text: "Message {msg} kept. Booking {booking}"
    next: bye
  bye: {type: hangup}
"""


def test_given_sms_text_naming_an_unset_variable_when_validated_then_error_at_its_column():
    problems = [str(p) for p in validate_text(VALIDATED, "hotel.yaml") if p.severity == "error"]
    assert problems == ["hotel.yaml:10:40: error: node 'address' uses the variable 'booking', "
                        "but no 'set' or 'collect' node before it gives it a value and it is "
                        "not a channel variable"]  # the recorded path {msg} is known
