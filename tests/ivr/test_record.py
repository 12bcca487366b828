"""The record and voicemail nodes: parsed at file:line, run on scripted sessions and on the
emulator's record application (speech, silence, the terminator key, a hang-up mid-message)."""

import datetime
import pathlib
import wave

import gevent
import pytest

from fs_cc import events
from fs_cc.callflow import CallHandler
from fs_cc.emitter import RecordingEmitter
from fs_cc.errors import ConfigError
from fs_cc.esl.errors import CallerHungUp
from fs_cc.esl.outbound import OutboundServer
from fs_cc.esl.protocol import Event
from fs_cc.ivr import parse_flow
from fs_cc.ivr.nodes_record import (DEFAULT_BEEP, MESSAGES_SERVICE, MessageStore, RecordNode,
                                    VoicemailNode, judge, overflow_box)
from fs_cc.ivr.runner import FlowOutcome, FlowRunner
from tests.ivr.doubles import RecordingAcd, ScriptedSession
from tests.ivr.test_overflow import QueuesAcd
from tests.switch import wait_until

NOON = datetime.datetime(2026, 3, 2, 12, 0, 5, tzinfo=datetime.timezone.utc)

FLOW = """\
start: leave
nodes:
  leave:
    type: record
    prompt: ivr/ivr-welcome_to_freeswitch.wav
    max_seconds: 60
    silence_threshold: 200
    silence_seconds: 3
    variable: message_path
    next: thanks
    no_input: nothing
  thanks: {type: hangup, cause: NORMAL_CLEARING}
  nothing: {type: hangup, cause: NO_USER_RESPONSE}
"""

VOICEMAIL = """\
start: vm
nodes:
  vm:
    type: voicemail
    box: "queue:support"
    greeting: ivr/ivr-welcome_to_freeswitch.wav
    email: lead@example.com
    max_seconds: 30
    next: bye
    no_input: bye
  bye: {type: hangup}
"""


class RecordingSession(ScriptedSession):
    """A ScriptedSession whose ``record`` answers with the switch's variables as told."""

    def __init__(self, record_vars=None, **options):
        super().__init__(**options)
        self.record_vars = record_vars or {}

    def execute(self, app, arg=None, *, wait=True, timeout=None):
        event = super().execute(app, arg, wait=wait, timeout=timeout)
        if app != "record":
            return event
        headers = dict(event.headers)
        headers.update({f"variable_{k}": str(v) for k, v in self.record_vars.items()})
        return Event(headers)


def run(flow_text, session, root):
    emitter = RecordingEmitter()
    runner = FlowRunner(parse_flow(flow_text, "inline.yaml"), RecordingAcd(), emitter,
                        services={MESSAGES_SERVICE: MessageStore(root, lambda: NOON)})
    return runner.run(session), emitter


def error_of(text):
    with pytest.raises(ConfigError) as caught:
        parse_flow(text, "bad.yaml")
    return caught.value


def test_given_record_node_when_parsed_then_fields_defaults_and_edges():
    node = parse_flow(FLOW, "f.yaml").node("leave")
    assert isinstance(node, RecordNode)
    assert (node.max_seconds, node.silence_threshold, node.silence_seconds) == (60, 200, 3)
    assert node.beep == DEFAULT_BEEP and node.terminator == "#"
    assert [(t.label, t.node_id) for t in node.targets()] == [("next", "thanks"),
                                                              ("no_input", "nothing")]
    assert node.sounds() == ("ivr/ivr-welcome_to_freeswitch.wav", DEFAULT_BEEP)
    assert node.record_arguments("/r/a.wav") == "/r/a.wav 60 200 3"


def test_given_voicemail_node_when_parsed_then_box_queue_and_default_length():
    node = parse_flow(VOICEMAIL.replace("    max_seconds: 30\n", ""), "f.yaml").node("vm")
    assert isinstance(node, VoicemailNode)
    assert (node.box, node.queue, node.email, node.max_seconds) == (
        "queue:support", "support", "lead@example.com", 180)
    assert node.folder() == "voicemail/queue/support"


@pytest.mark.parametrize("field, value, message", [
    ("box", '"support"', "'box' must be \"queue:NAME\" or \"agent:EXTENSION\""),
    ("email", "not-an-address", "'email' must be one e-mail address"),
    ("terminator", '"##"', "'terminator' must be one key"),
    ("max_seconds", "0", "'max_seconds' must be a whole number of at least 1"),
])
def test_given_bad_voicemail_field_when_parsed_then_error_at_its_line(field, value, message):
    lines = VOICEMAIL.splitlines()
    index = next(i for i, line in enumerate(lines) if line.strip().startswith(f"{field}:")) \
        if any(line.strip().startswith(f"{field}:") for line in lines) else None
    if index is None:
        lines.insert(8, f"    {field}: {value}")
        index = 8
    else:
        lines[index] = f"    {field}: {value}"
    error = error_of("\n".join(lines) + "\n")
    assert message in str(error)
    assert error.line == index + 1


def test_given_voicemail_to_unknown_queue_when_checked_then_error_names_it():
    with pytest.raises(ConfigError) as caught:
        parse_flow(VOICEMAIL, "vm.yaml", queues={"sales"})
    assert "unknown queue 'support'" in str(caught.value) and caught.value.line == 5


def test_given_caller_speaks_when_recorded_then_event_path_and_variable(tmp_path):
    session = RecordingSession({"record_ms": 7000, "silence_hits_exhausted": "true"})
    result, emitter = run(FLOW, session, tmp_path)
    assert result.node_id == "thanks"
    path = f"{tmp_path}/2026-03-02/messages/leave/call-1-120005.wav"
    assert ("record", f"{path} 60 200 3") in session.executed
    assert session.variables["playback_terminators"] == "#"
    assert session.apps()[:4] == ["answer", "playback", "playback", "record"]  # prompt, beep
    [recorded] = emitter.of_type(events.MessageRecorded)
    assert (recorded.path, recorded.duration_ms, recorded.cause) == (path, 7000, "silence")
    assert session.variables["message_path"] == path


def test_given_only_the_silence_that_ended_it_when_recorded_then_no_input(tmp_path):
    session = RecordingSession({"record_ms": 3000, "silence_hits_exhausted": "true"})
    result, emitter = run(FLOW, session, tmp_path)
    assert result.node_id == "nothing"
    assert emitter.of_type(events.MessageRecorded) == []


def test_given_terminator_key_when_recorded_then_cause_terminator():
    node = parse_flow(FLOW, "f.yaml").node("leave")
    recorded = judge(node, "/nowhere.wav", {"record_ms": "2500", "playback_terminator_used": "#",
                                            "silence_hits_exhausted": "false"})
    assert (recorded.cause, recorded.duration_ms, recorded.empty) == ("terminator", 2500, False)
    assert judge(node, "/nowhere.wav", {"record_ms": "0"}).empty


def test_given_caller_hangs_up_while_recording_when_run_then_ends_and_partial_reported(tmp_path):
    # execute 4 is the record application: answer, prompt, beep, record
    session = RecordingSession(hang_up_at=4)
    path = tmp_path / "2026-03-02" / "messages" / "leave" / "call-1-120005.wav"
    path.parent.mkdir(parents=True)
    with wave.open(str(path), "wb") as handle:  # what the switch wrote before the hang-up
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(8000)
        handle.writeframes(bytes(2 * 8000 * 2))
    result, emitter = run(FLOW, session, tmp_path)
    assert result.outcome is FlowOutcome.CALLER_HUNG_UP and result.node_id == "leave"
    assert session.apps()[-1] == "record"  # nothing sent after the hang-up
    [recorded] = emitter.of_type(events.MessageRecorded)
    assert (recorded.cause, recorded.duration_ms) == ("hangup", 2000)
    assert recorded.size == path.stat().st_size


def test_given_caller_hangs_up_in_greeting_when_run_then_no_message(tmp_path):
    result, emitter = run(FLOW, RecordingSession(hang_up_at=2), tmp_path)
    assert result.outcome is FlowOutcome.CALLER_HUNG_UP
    assert emitter.of_type(events.MessageRecorded) == []


def test_given_voicemail_when_left_then_event_names_box_caller_and_email(tmp_path):
    session = RecordingSession({"record_ms": 9000, "playback_terminator_used": "#"},
                               caller_number="13800138000")
    result, emitter = run(VOICEMAIL, session, tmp_path)
    assert result.node_id == "bye"
    [left] = emitter.of_type(events.VoicemailLeft)
    assert (left.box, left.caller_number, left.email, left.duration_ms) == (
        "queue:support", "13800138000", "lead@example.com", 9000)
    assert left.path == f"{tmp_path}/2026-03-02/voicemail/queue/support/call-1-120005.wav"


# -- on the emulator's record application -------------------------------------------------------

def place_speaking_caller(emulator, speak_seconds, dtmf=None, patience=None):
    """A loopback caller who speaks ``speak_seconds`` into the recording (simulated)."""
    parts = ["origination_caller_id_number=5551234", f"fs_cc_sim_speak_seconds={speak_seconds}"]
    if dtmf:
        parts.append(f"fs_cc_sim_dtmf='{dtmf}'")
    if patience is not None:
        parts.append(f"fs_cc_sim_patience_seconds={patience}")
    command = "{%s}loopback/5901/public &park()" % ",".join(parts)
    gevent.spawn(emulator.api.execute, "originate", command)


@pytest.fixture
def record_stack(emulator, tmp_path):
    """FLOW on the emulator's calls, messages under tmp_path; (emitter, finished results)."""
    emitter = RecordingEmitter()
    runner = FlowRunner(parse_flow(FLOW, "inline.yaml"), RecordingAcd(), emitter,
                        services={MESSAGES_SERVICE: MessageStore(tmp_path)})
    handler = CallHandler(lambda did: runner, emitter)
    results = []
    server = OutboundServer("127.0.0.1", 0, lambda s: results.append(handler.handle(s))).start()
    emulator.config.socket_target = "%s:%s" % server.address
    yield emitter, results
    server.stop(timeout=1)


def wait_done(results, emulator, simulated):
    wait_until(lambda: results, timeout=10 + simulated / emulator.config.speed,
               what="the flow to finish")


def test_given_emulated_caller_speaks_then_silent_when_recorded_then_file_and_length(
        emulator, record_stack):
    emitter, results = record_stack
    place_speaking_caller(emulator, 4)
    wait_done(results, emulator, 30)
    [recorded] = emitter.of_type(events.MessageRecorded)
    assert recorded.cause == "silence"
    assert recorded.duration_ms == 7000  # 4 s of speech and the 3 s of silence that ended it
    with wave.open(recorded.path, "rb") as handle:
        assert handle.getnframes() == 7 * 8000
    left = [e.outcome for e in emitter.of_type(events.IvrNodeLeft)]
    assert left == ["thanks"]


def test_given_emulated_caller_presses_hash_when_recording_then_ends_by_terminator(
        emulator, record_stack):
    emitter, results = record_stack
    place_speaking_caller(emulator, 30, dtmf="#@5")
    wait_done(results, emulator, 30)
    [recorded] = emitter.of_type(events.MessageRecorded)
    assert recorded.cause == "terminator"
    assert 5000 <= recorded.duration_ms < 30000
    assert pathlib.Path(recorded.path).exists()


def test_given_silent_emulated_caller_when_recording_then_no_input_branch(emulator, record_stack):
    emitter, results = record_stack
    place_speaking_caller(emulator, 0)
    wait_done(results, emulator, 30)
    assert emitter.of_type(events.MessageRecorded) == []
    assert [e.outcome for e in emitter.of_type(events.IvrNodeLeft)] == ["nothing"]


def test_given_emulated_caller_hangs_up_mid_message_when_recording_then_partial_reported(
        emulator, record_stack):
    emitter, results = record_stack
    place_speaking_caller(emulator, 50, patience=8)
    wait_done(results, emulator, 30)
    [recorded] = emitter.of_type(events.MessageRecorded)
    assert recorded.cause == "hangup"
    assert recorded.duration_ms is not None and 0 < recorded.duration_ms < 50000
    [ended] = emitter.of_type(events.CallEnded)
    assert ended.side is events.HangupSide.CALLER


# -- a queue's voicemail overflow ---------------------------------------------------------------

def test_given_queue_overflowing_to_voicemail_when_no_agents_then_message_in_its_box(tmp_path):
    acd = QueuesAcd({"sales": events.QueueOutcome.NO_AGENTS},
                    [{"name": "sales", "overflow": {"no_agents": "voicemail"}}])
    flow_text = "start: wait\nnodes:\n  wait: {type: queue, queue: sales}\n"
    session = RecordingSession({"record_ms": 6000, "silence_hits_exhausted": "true"})
    emitter = RecordingEmitter()
    runner = FlowRunner(parse_flow(flow_text, "inline.yaml"), acd, emitter,
                        services={MESSAGES_SERVICE: MessageStore(tmp_path, lambda: NOON)})
    result = runner.run(session)
    [left] = emitter.of_type(events.VoicemailLeft)
    assert (left.box, left.node, left.duration_ms) == ("queue:sales", "wait.voicemail", 6000)
    assert left.path.startswith(f"{tmp_path}/2026-03-02/voicemail/queue/sales/")
    assert ("playback", DEFAULT_BEEP) in session.executed
    assert result.outcome is FlowOutcome.FLOW_HUNG_UP and session.hung_up_by_us


@pytest.mark.parametrize("target, box", [("", "queue:sales"), ("support", "queue:support"),
                                         ("agent:1001", "agent:1001")])
def test_given_voicemail_overflow_target_when_resolved_then_box(target, box):
    assert overflow_box("sales", target) == box


def test_given_a_caller_who_says_nothing_on_the_switch_when_recording_then_no_input(
        switch, tmp_path):
    """On FreeSWITCH 1.10.12 as on the emulator: a caller sending no audio gives record_ms 0 and a
    header-only file once the silence seconds pass (docs/freeswitch-semantics.rst section 11)."""
    emitter = RecordingEmitter()
    root = tmp_path / "recordings"
    root.mkdir()
    root.chmod(0o777)  # the switch may run as another user
    runner = FlowRunner(parse_flow(FLOW, "inline.yaml"), RecordingAcd(), emitter,
                        services={MESSAGES_SERVICE: MessageStore(root)})
    handler = CallHandler(lambda did: runner, emitter)
    done = []
    server = OutboundServer("127.0.0.1", 0, lambda s: done.append(handler.handle(s))).start()
    try:
        switch.route_to(*server.address)
        switch.place_call("5901", dtmf="", patience_seconds=60)
        wait_until(lambda: done, timeout=10 + switch.real_seconds(30), what="the flow to end")
    finally:
        server.stop(timeout=1)
    assert emitter.of_type(events.MessageRecorded) == []
    assert [e.outcome for e in emitter.of_type(events.IvrNodeLeft)] == ["nothing"]


def test_given_a_missing_folder_when_the_switch_records_then_it_hangs_the_caller_up(switch,
                                                                                 tmp_path):
    """What the node's make_folder is for: ``record`` makes no folder (measured on 1.10.12)."""
    causes = []

    def on_call(session):
        session.execute("answer")
        try:
            session.execute("record", f"{tmp_path}/no/such/folder/m.wav 10 200 2")
        except CallerHungUp:
            pass
        session.hungup.wait(timeout=5)
        causes.append(session.hangup_cause)

    server = OutboundServer("127.0.0.1", 0, on_call).start()
    try:
        switch.route_to(*server.address)
        switch.place_call("5901", dtmf="", patience_seconds=60)
        wait_until(lambda: causes, timeout=10 + switch.real_seconds(30), what="the hang-up")
    finally:
        server.stop(timeout=1)
    assert causes == ["DESTINATION_OUT_OF_ORDER"]
