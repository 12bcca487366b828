"""The collect node: checked at file:line, run attempt by attempt, secret digits out of events."""

import pytest

from fs_cc import events, journal
from fs_cc.emitter import RecordingEmitter
from fs_cc.errors import ConfigError
from fs_cc.esl.outbound import OutboundServer
from fs_cc.callflow import CallHandler
from fs_cc.ivr import parse_flow
from fs_cc.ivr.nodes_collect import COLLECT_VARIABLE, CollectNode, collect_arguments
from fs_cc.ivr.runner import FlowOutcome, FlowRunner
from tests.ivr.doubles import RecordingAcd, ScriptedSession
from tests.switch import wait_until

FLOW = """\
start: card
nodes:
  card:
    type: collect
    prompt: ivr/ivr-welcome_to_freeswitch.wav
    variable: card_number
    min_length: 4
    max_length: 8
    regex: "^62[0-9]+$"
    max_attempts: 3
    secret: {secret}
    next: check
    default: agent
  check:
    type: condition
    branches:
      - when: {{variable: card_number, equals: "62001234"}}
        then: known
    else: unknown
  known: {{type: hangup, cause: NORMAL_CLEARING}}
  unknown: {{type: hangup, cause: CALL_REJECTED}}
  agent: {{type: hangup, cause: USER_BUSY}}
"""


def flow(secret="false", source="inline.yaml"):
    return parse_flow(FLOW.format(secret=secret), source)


def run(flow_, session):
    emitter = RecordingEmitter()
    emitter.emit(events.CallStarted, call_uuid=session.uuid, did="8000", caller_number="5551000")
    result = FlowRunner(flow_, RecordingAcd(), emitter).run(session)
    return result, emitter


def inputs(emitter):
    return [(e.input, e.result) for e in emitter.events if isinstance(e, events.IvrInput)]


def error_of(text):
    with pytest.raises(ConfigError) as caught:
        parse_flow(text, "bad.yaml")
    return caught.value


def test_given_collect_node_when_parsed_then_fields_and_defaults():
    node = flow().node("card")
    assert isinstance(node, CollectNode)
    assert (node.min_length, node.max_length, node.terminators) == (4, 8, "#")
    assert (node.timeout, node.digit_timeout, node.max_attempts) == (5.0, 3.0, 3)
    assert node.invalid_prompts == ("ivr/ivr-that_was_an_invalid_entry.wav",)
    assert [t.node_id for t in node.targets()] == ["check", "agent"]


def test_given_collect_node_when_arguments_built_then_freeswitch_order_one_try():
    args = collect_arguments(flow().node("card")).split(" ")
    # min max tries timeout terminators prompt invalid var regexp digit_timeout
    assert args == ["4", "8", "1", "5000", "#", "ivr/ivr-welcome_to_freeswitch.wav",
                    "silence_stream://250", COLLECT_VARIABLE, "^[0-9*#]+$", "3000"]


def test_given_no_terminator_when_arguments_built_then_none_is_passed():
    text = FLOW.format(secret="false").replace("    max_length: 8\n",
                                               "    max_length: 8\n    terminator: ''\n")
    assert collect_arguments(parse_flow(text, "x.yaml").node("card")).split(" ")[4] == "none"


@pytest.mark.parametrize("old, new, line, message", [
    ("    regex: \"^62[0-9]+$\"", "    regex: \"^62[0-9+$\"", 9, "bad regex '^62[0-9+$'"),
    ("    max_length: 8", "    max_length: 3", 8, "'max_length' must be 4 to 128, not 3"),
    ("    min_length: 4", "    min_length: 0", 7, "'min_length' must be a whole number of at "
                                                  "least 1"),
    ("    variable: card_number", "    variable: 'card number'", 6,
     "'card number' is not a variable name"),
    ("    max_attempts: 3", "    max_attempts: 3\n    terminator: 'a'", 11,
     "'terminator' must be keys from 0-9, * and #"),
    ("    variable: card_number\n", "", 3, "missing required field 'variable'"),
    ("    default: agent\n", "    default: agentt\n", 13, "default goes to unknown node 'agentt'"),
])
def test_given_bad_collect_field_when_loaded_then_error_at_its_line(old, new, line, message):
    text = FLOW.format(secret="false")
    assert old in text
    error = error_of(text.replace(old, new))
    assert error.line == line, str(error)
    assert message in str(error)
    assert str(error).startswith(f"bad.yaml:{line}: ")


def test_given_secret_as_text_when_loaded_then_error():
    error = error_of(FLOW.format(secret="'yes'"))
    assert error.line == 11 and "'secret' must be true or false" in str(error)


def test_given_valid_card_when_run_then_variable_set_kept_and_condition_uses_it():
    session = ScriptedSession(keys=["62001234"])
    result, emitter = run(flow(), session)
    assert session.variables == {"card_number": "62001234"}
    assert result.hangup_cause == "NORMAL_CLEARING"  # the condition saw the collected value
    assert inputs(emitter) == [("62001234", "valid")]
    record = journal.fold(emitter.events)
    assert record.ivr_path == ["card", "card:valid", "check", "known"]


def test_given_too_short_then_wrong_then_valid_when_run_then_invalid_prompt_twice():
    session = ScriptedSession(keys=["62", "71001234", "62009999"])
    result, emitter = run(flow(), session)
    assert inputs(emitter) == [("62", "invalid"), ("71001234", "invalid"), ("62009999", "valid")]
    assert session.apps() == ["answer", "play_and_get_digits", "playback", "play_and_get_digits",
                              "playback", "play_and_get_digits"]
    assert session.executed[2] == ("playback", "ivr/ivr-that_was_an_invalid_entry.wav")
    assert result.hangup_cause == "CALL_REJECTED"  # a valid card, not the known one


def test_given_no_keys_every_attempt_when_run_then_timeouts_then_default_without_variable():
    session = ScriptedSession(keys=["", "", ""])
    result, emitter = run(flow(), session)
    assert inputs(emitter) == [(None, "timeout")] * 3
    assert session.apps().count("playback") == 0  # a timeout plays no invalid prompt
    assert "card_number" not in session.variables
    assert result.outcome is FlowOutcome.FLOW_HUNG_UP and result.hangup_cause == "USER_BUSY"
    assert journal.fold(emitter.events).ivr_path == [
        "card", "card:timeout", "card:timeout", "card:timeout", "agent"]


def test_given_secret_variable_when_run_then_events_carry_masked_digits_only():
    session = ScriptedSession(keys=["620", "62001234"])
    result, emitter = run(flow(secret="true"), session)
    assert session.variables == {"card_number": "62001234"}  # the channel still gets it
    assert inputs(emitter) == [("xxx", "invalid"), ("xxxxxxxx", "valid")]
    # no field carries the keys (but the time, the call's uuid and the sequence, whose digits
    # may hold anything)
    assert not any("620" in repr(value) for event in emitter.events
                   for name, value in events.to_dict(event).items()
                   if name not in ("ts", "call_uuid", "seq"))


def test_given_caller_hangs_up_in_collect_when_run_then_clean_end_naming_node():
    session = ScriptedSession(hang_up_at=2)
    result, emitter = run(flow(), session)
    assert result.outcome is FlowOutcome.CALLER_HUNG_UP and result.node_id == "card"
    assert inputs(emitter) == []


@pytest.fixture
def flow_stack(switch):
    """An outbound server running FLOW on the switch's calls; the finished calls' events."""
    emitter = RecordingEmitter()
    runner = FlowRunner(flow(), RecordingAcd(), emitter)
    handler = CallHandler(lambda did: runner, emitter)
    done = []

    def on_call(session):
        handler.handle(session)
        done.append(session.uuid)

    server = OutboundServer("127.0.0.1", 0, on_call).start()
    switch.route_to(*server.address)
    yield emitter, done
    server.stop(timeout=1)


def test_given_caller_keys_short_then_valid_card_on_the_switch_when_run_then_known_branch(
        switch, flow_stack):
    emitter, done = flow_stack
    switch.place_call("5901", caller_number="5551234", dtmf="62,62001234#", talk_seconds=5)
    wait_until(lambda: done, timeout=10 + switch.real_seconds(30), what="flow finished")
    call_events = emitter.of_call(done[0])
    assert [(e.input, e.result) for e in call_events if isinstance(e, events.IvrInput)] == [
        ("62", "invalid"), ("62001234", "valid")]
    left = [e for e in call_events if isinstance(e, events.IvrNodeLeft)]
    assert [(e.node, e.outcome) for e in left] == [("card", "check"), ("check", "known")]


def test_given_regex_miss_then_too_few_keys_when_switch_reads_then_freeswitch_variables(switch):
    """What collect relies on from play_and_get_digits (FreeSWITCH 1.10): a regexp miss leaves the
    keys in <var>_invalid, too few keys stay in the variable with read_result failure."""
    seen = []

    def on_call(session):
        session.execute("answer")
        for _ in range(2):
            event = session.execute("play_and_get_digits", "4 8 1 5000 # "
                                    "ivr/ivr-welcome_to_freeswitch.wav silence_stream://250 v "
                                    "^62[0-9]+$ 2000")
            seen.append((event.variable("v"), event.variable("v_invalid"),
                         event.variable("read_result")))
        session.hangup()

    server = OutboundServer("127.0.0.1", 0, on_call).start()
    try:
        switch.route_to(*server.address)
        switch.place_call("5901", dtmf="71001234#,62#", talk_seconds=5)
        wait_until(lambda: len(seen) == 2, timeout=10 + switch.real_seconds(30),
                   what="two reads")
    finally:
        server.stop(timeout=1)
    assert seen[0] == (None, "71001234", "success")
    assert seen[1] == ("62", None, "failure")  # <var>_invalid is cleared at each start
