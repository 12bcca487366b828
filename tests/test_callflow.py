"""CallHandler: every call comes back as a completed record, however it ended."""

import os

import pytest

from fs_cc.calls import HangupSide
from fs_cc.callflow import CallHandler
from fs_cc.esl.errors import ConnectionLost
from fs_cc.ivr import FlowRunner, load_flow, parse_flow
from tests.ivr.doubles import RecordingAcd, ScriptedSession

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def main_flow():
    return load_flow(os.path.join(REPO, "ivr_flows", "main.yaml"))


def test_given_call_answered_by_agent_when_handled_then_record_from_session_and_acd(main_flow):
    acd = RecordingAcd(hangup_side=HangupSide.AGENT, hangup_cause="NORMAL_CLEARING")
    session = ScriptedSession(uuid="c-1", caller_number="5551234", destination_number="8000",
                              keys=["1"])
    record = CallHandler(FlowRunner(main_flow, acd)).handle(session)
    assert (record.uuid, record.caller_number, record.did) == ("c-1", "5551234", "8000")
    assert record.ivr_path == ["welcome", "menu", "menu:1", "sales"]
    assert record.queue == "sales"
    assert (record.hangup_side, record.hangup_cause) == ("agent", "NORMAL_CLEARING")
    assert record.started_at <= record.ended_at


def test_given_caller_hangs_up_in_ivr_when_handled_then_side_caller_and_path_shows_where(
        main_flow):
    session = ScriptedSession(hang_up_at=3)
    record = CallHandler(FlowRunner(main_flow, RecordingAcd())).handle(session)
    assert (record.hangup_side, record.hangup_cause) == (HangupSide.CALLER, "NORMAL_CLEARING")
    assert record.ivr_path[-1] == "menu"
    assert record.queue is None and record.ended_at is not None


def test_given_flow_hangs_up_when_handled_then_side_system_with_its_cause():
    flow = parse_flow("start: bye\nnodes:\n  bye: {type: hangup, cause: CALL_REJECTED}\n", "x")
    record = CallHandler(FlowRunner(flow, RecordingAcd())).handle(ScriptedSession())
    assert (record.hangup_side, record.hangup_cause) == (HangupSide.SYSTEM, "CALL_REJECTED")


def test_given_acd_leaves_side_unset_when_handled_then_system_hangs_up(main_flow):
    session = ScriptedSession(keys=["2"])
    record = CallHandler(FlowRunner(main_flow, RecordingAcd())).handle(session)
    assert record.hangup_side == HangupSide.SYSTEM
    assert session.hung_up_by_us == "NORMAL_CLEARING"
    assert record.hangup_cause == "NORMAL_CLEARING"


def test_given_connection_lost_mid_flow_when_handled_then_record_still_completed(
        main_flow, monkeypatch):
    session = ScriptedSession()

    def lost(app, arg=None, *, wait=True, timeout=None):
        raise ConnectionLost(f"sendmsg {app}")

    monkeypatch.setattr(session, "execute", lost)
    record = CallHandler(FlowRunner(main_flow, RecordingAcd())).handle(session)
    assert (record.hangup_side, record.hangup_cause) == (HangupSide.SYSTEM,
                                                          "NORMAL_TEMPORARY_FAILURE")
    assert record.ended_at is not None
