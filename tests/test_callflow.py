"""CallHandler: every call's events fold into a completed record, however it ended."""

import os

import pytest

from fs_cc import events, journal
from fs_cc.callflow import CallHandler
from fs_cc.emitter import RecordingEmitter
from fs_cc.esl.errors import ConnectionLost
from fs_cc.events import HangupSide, QueueOutcome
from fs_cc.ivr import FlowRunner, load_flow, parse_flow
from tests.ivr.doubles import AnsweringAcd, RecordingAcd, ScriptedSession


def handle(flow, acd, session):
    """Run one call through a CallHandler; the record its events fold into, and the events."""
    emitter = RecordingEmitter()
    runner = FlowRunner(flow, acd, emitter)
    ended = CallHandler(lambda did: runner, emitter).handle(session)
    assert isinstance(ended, events.CallEnded) and emitter.events[-1] is ended
    assert isinstance(emitter.events[0], events.CallStarted)
    return journal.fold(emitter.events)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def main_flow():
    return load_flow(os.path.join(REPO, "ivr_flows", "main.yaml"))


def test_given_call_answered_by_agent_when_handled_then_record_from_session_and_acd(main_flow):
    session = ScriptedSession(uuid="c-1", caller_number="5551234", destination_number="8000",
                              keys=["1"])
    acd = AnsweringAcd(session, hangup_side=HangupSide.AGENT, hangup_cause="NORMAL_CLEARING")
    record = handle(main_flow, acd, session)
    assert (record.uuid, record.caller_number, record.did) == ("c-1", "5551234", "8000")
    assert record.ivr_path == ["welcome", "menu", "menu:1", "sales"]
    assert acd.enqueued == [("c-1", "sales")]
    assert (record.hangup_side, record.hangup_cause) == (HangupSide.AGENT, "NORMAL_CLEARING")
    assert record.started_at <= record.ended_at


def test_given_caller_hangs_up_in_ivr_when_handled_then_side_caller_and_path_shows_where(
        main_flow):
    session = ScriptedSession(hang_up_at=3)
    record = handle(main_flow, RecordingAcd(), session)
    assert (record.hangup_side, record.hangup_cause) == (HangupSide.CALLER, "NORMAL_CLEARING")
    assert record.ivr_path[-1] == "menu"
    assert record.queue is None and record.ended_at is not None


def test_given_flow_hangs_up_when_handled_then_side_system_with_its_cause():
    flow = parse_flow("start: bye\nnodes:\n  bye: {type: hangup, cause: CALL_REJECTED}\n", "x")
    record = handle(flow, RecordingAcd(), ScriptedSession())
    assert (record.hangup_side, record.hangup_cause) == (HangupSide.SYSTEM, "CALL_REJECTED")


def test_given_queue_times_out_without_a_next_node_when_handled_then_system_hangs_up(main_flow):
    session = ScriptedSession(keys=["2"])
    record = handle(main_flow, RecordingAcd(None, None, QueueOutcome.TIMEOUT), session)
    assert record.hangup_side == HangupSide.SYSTEM
    assert session.hung_up_by_us == "NORMAL_CLEARING"
    assert record.hangup_cause == "NORMAL_CLEARING"


def test_given_queue_unknown_at_runtime_when_handled_then_system_failure_naming_the_queue(
        main_flow):
    session = ScriptedSession(keys=["2"])
    record = handle(main_flow, RecordingAcd(None, None, QueueOutcome.UNKNOWN_QUEUE), session)
    assert (record.hangup_side, record.hangup_cause) == (HangupSide.SYSTEM,
                                                          "NORMAL_TEMPORARY_FAILURE")
    assert session.hung_up_by_us == "NORMAL_TEMPORARY_FAILURE"


def test_given_queue_timeout_with_a_next_node_when_handled_then_the_flow_goes_on():
    flow = parse_flow("""\
start: wait
nodes:
  wait: {type: queue, queue: sales, max_wait: 30, outcomes: {timeout: sorry}}
  sorry: {type: hangup, cause: CALL_REJECTED}
""", "inline.yaml")
    acd = RecordingAcd(None, None, QueueOutcome.TIMEOUT)
    record = handle(flow, acd, ScriptedSession())
    assert record.ivr_path == ["wait", "sorry"]
    assert (record.hangup_side, record.hangup_cause) == (HangupSide.SYSTEM, "CALL_REJECTED")
    assert acd.options[0]["max_wait"] == 30.0


def test_given_connection_lost_mid_flow_when_handled_then_record_still_completed(
        main_flow, monkeypatch):
    session = ScriptedSession()

    def lost(app, arg=None, *, wait=True, timeout=None):
        raise ConnectionLost(f"sendmsg {app}")

    monkeypatch.setattr(session, "execute", lost)
    record = handle(main_flow, RecordingAcd(), session)
    assert (record.hangup_side, record.hangup_cause) == (HangupSide.SYSTEM,
                                                          "NORMAL_TEMPORARY_FAILURE")
    assert record.ended_at is not None
