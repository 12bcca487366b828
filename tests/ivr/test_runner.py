"""The flow runner on a scripted call: paths taken, what FreeSWITCH is asked to do, hang-ups."""

import os

import pytest

from fs_cc import events, journal
from fs_cc.emitter import RecordingEmitter
from fs_cc.ivr import load_flow, parse_flow
from fs_cc.ivr.runner import DIGITS_VARIABLE, FlowOutcome, FlowRunner, menu_arguments
from tests.ivr.doubles import AnsweringAcd, RecordingAcd, ScriptedSession

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def main_flow():
    return load_flow(os.path.join(REPO, "ivr_flows", "main.yaml"))


def run(flow, session, acd=None):
    """Run the flow; the result, the record the journal folds from its events, and the ACD.

    By default an agent answers and the call ends at once: no wait for a hangup the double never
    sends."""
    acd = acd or AnsweringAcd(session)
    emitter = RecordingEmitter()
    emitter.emit(events.CallStarted, call_uuid=session.uuid, did="8000", caller_number="5551000")
    result = FlowRunner(flow, acd, emitter).run(session)
    return result, journal.fold(emitter.events), acd


def test_given_caller_presses_1_when_flow_runs_then_sales_queue_and_path(main_flow):
    session = ScriptedSession(keys=["1"])
    result, record, acd = run(main_flow, session)
    assert result.outcome is FlowOutcome.QUEUED
    assert record.ivr_path == ["welcome", "menu", "menu:1", "sales"]
    assert acd.enqueued == [("call-1", "sales")]
    assert session.apps() == ["answer", "playback", "play_and_get_digits"]
    assert session.executed[1] == ("playback", "ivr/ivr-welcome_to_freeswitch.wav")


def test_given_caller_presses_2_when_flow_runs_then_support_queue(main_flow):
    result, record, acd = run(main_flow, ScriptedSession(keys=["2"]))
    assert record.ivr_path == ["welcome", "menu", "menu:2", "support"]
    assert acd.enqueued == [("call-1", "support")]


def test_given_no_input_every_time_when_flow_runs_then_menu_repeats_then_support(main_flow):
    session = ScriptedSession(keys=["", "", ""])
    result, record, acd = run(main_flow, session)
    assert record.ivr_path == ["welcome", "menu", "menu:timeout", "menu:timeout",
                               "menu:timeout", "support"]
    assert session.apps().count("play_and_get_digits") == 3
    assert acd.enqueued == [("call-1", "support")]


def test_given_no_input_then_1_when_flow_runs_then_repeat_once_then_sales(main_flow):
    result, record, acd = run(main_flow, ScriptedSession(keys=["", "1"]))
    assert record.ivr_path == ["welcome", "menu", "menu:timeout", "menu:1", "sales"]
    assert acd.enqueued == [("call-1", "sales")]


def test_given_invalid_key_when_flow_runs_then_invalid_prompt_and_retry(main_flow):
    session = ScriptedSession(keys=["7", "2"])
    result, record, acd = run(main_flow, session)
    assert record.ivr_path == ["welcome", "menu", "menu:invalid", "menu:2", "support"]
    assert session.apps() == ["answer", "playback", "play_and_get_digits", "playback",
                              "play_and_get_digits"]
    assert session.executed[3] == ("playback", "ivr/ivr-that_was_an_invalid_entry.wav")


def test_given_caller_hangs_up_during_menu_when_flow_runs_then_clean_end_naming_menu(main_flow):
    session = ScriptedSession(keys=[], hang_up_at=3)  # answer, welcome, menu
    result, record, acd = run(main_flow, session)
    assert result.outcome is FlowOutcome.CALLER_HUNG_UP
    assert result.node_id == "menu"
    assert result.hangup_cause == "NORMAL_CLEARING"
    assert record.ivr_path == ["welcome", "menu"]
    assert acd.enqueued == []


def test_given_caller_hangs_up_before_answer_completes_then_no_node_visited(main_flow):
    result, record, acd = run(main_flow, ScriptedSession(hang_up_at=1))
    assert result.outcome is FlowOutcome.CALLER_HUNG_UP
    assert record.ivr_path == []


def test_given_menu_node_when_arguments_built_then_play_and_get_digits_reads_one_key(main_flow):
    args = menu_arguments(main_flow.node("menu")).split(" ")
    assert args[:5] == ["1", "1", "1", "5000", "#"]
    assert args[5].startswith("file_string://ivr/ivr-please_choose_from_the_following.wav!")
    assert args[7:] == [DIGITS_VARIABLE, "^[0-9*]$", "5000"]


def test_given_set_goto_and_hangup_nodes_when_run_then_variable_set_and_system_hangup():
    flow = parse_flow("""\
start: tag
nodes:
  tag: {type: set, variable: fs_cc_lang, value: en, next: jump}
  jump: {type: goto, to: bye}
  bye: {type: hangup, cause: CALL_REJECTED}
""", "inline.yaml")
    session = ScriptedSession()
    result, record, acd = run(flow, session)
    assert result.outcome is FlowOutcome.FLOW_HUNG_UP
    assert result.hangup_cause == "CALL_REJECTED"
    assert session.variables == {"fs_cc_lang": "en"}
    assert session.hung_up_by_us == "CALL_REJECTED"
    assert record.ivr_path == ["tag", "jump", "bye"]


def test_given_caller_repeats_menu_forever_when_run_then_step_limit_hangs_up():
    flow = parse_flow("""\
start: menu
nodes:
  menu:
    type: menu
    prompt: ivr/ivr-please_choose_from_the_following.wav
    options: {9: menu, 1: bye}
    default: bye
  bye: {type: hangup}
""", "inline.yaml")
    session = ScriptedSession(keys=["9"] * 100)
    acd = RecordingAcd()
    result = FlowRunner(flow, acd, RecordingEmitter(), max_steps=10).run(session)
    assert result.outcome is FlowOutcome.FLOW_HUNG_UP
    assert session.hung_up_by_us == "NORMAL_CLEARING"


def test_given_the_ivr_ports_when_checked_then_the_real_parts_and_the_doubles_fit_them():
    """The Protocols of fs_cc.ivr.ports are what the runner uses: the real session and ACD, and
    the doubles the tests drive it with, all have their members (no drift between them)."""
    import inspect

    from fs_cc.acd import ACD
    from fs_cc.esl.session import CallSession
    from fs_cc.ivr.ports import CallChannel, Queueing

    assert isinstance(ScriptedSession(), CallChannel)
    assert isinstance(RecordingAcd(), Queueing)
    for protocol, real in ((CallChannel, CallSession), (Queueing, ACD)):
        members = {name for name in dir(protocol) if not name.startswith("_")}
        missing = {name for name in members if not hasattr(real, name)
                   and name not in getattr(real, "__annotations__", {})
                   and name not in inspect.signature(real.__init__).parameters}
        assert not missing or all(name in ("uuid", "caller_number", "destination_number",
                                           "hangup_cause", "hangup_event", "hungup")
                                  for name in missing), (real, missing)
    signature = inspect.signature(ACD.enqueue)
    assert list(inspect.signature(Queueing.enqueue).parameters) == list(signature.parameters)
