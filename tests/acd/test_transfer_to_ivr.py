"""An agent's blind transfer of the caller into an IVR flow, on a real Engine and the switch.

The caller runs flow ``front`` (welcome, menu key 1: queue sales), agent 1000 answers, and the
agent transfers the caller into flow ``survey``: the agent's leg goes, the agent wraps up, and
the caller's own IVR session plays the survey from its start (also when the caller was on
hold), or waits in the next flow's queue. A flow the engine has not loaded, or a call with no
IVR session (a callback's customer), is refused. The switch is the `switch` fixture (the
emulator, or a real FreeSWITCH test switch with FS_CC_TEST_ESL).
"""

import pytest

from fs_cc import events, journal
from fs_cc.control import commands as cmd
from fs_cc.events import HangupSide, TransferKind
from tests.acd.test_call_controls import Desk
from tests.switch import wait_until

FRONT = """\
name: front
start: welcome
nodes:
  welcome:
    type: play
    prompt: ivr/ivr-welcome_to_freeswitch.wav
    next: menu
  menu:
    type: menu
    prompt: ivr/ivr-please_choose_from_the_following.wav
    timeout: 5
    max_attempts: 3
    options:
      1: sales
      8: to_support
      9: to_survey
    default: sales
  sales:
    type: queue
    queue: sales
  to_support:
    type: transfer
    to: flow
    flow: support_desk
  to_survey:
    type: transfer
    to: flow
    flow: survey
"""
SURVEY_PROMPT = "digits/9.wav"  # a sound flow front never plays
SURVEY = f"""\
name: survey
start: thanks
nodes:
  thanks:
    type: play
    prompt: {SURVEY_PROMPT}
    next: bye
  bye:
    type: hangup
    cause: NORMAL_CLEARING
"""
SUPPORT = """\
name: support_desk
start: support
nodes:
  support:
    type: queue
    queue: support
"""


@pytest.fixture
def desk(switch, tmp_path):
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "survey.yaml").write_text(SURVEY)
    (flows / "support_desk.yaml").write_text(SUPPORT)
    (flows / "front.yaml").write_text(FRONT)  # it names the other flows: the engine loads them
    switch.set_agent("1000", answer_delay=1.0)
    switch.set_agent("1001", answer_delay=1.0)
    desk = Desk(switch, tmp_path, [{"extension": "1000", "name": "Agent 1000",
                                    "queues": ["sales"]},
                                   {"extension": "1001", "name": "Agent 1001",
                                    "queues": ["support"]}],
                ivr_flow=flows / "front.yaml", callback_dial="loopback/{number}/default")
    yield desk
    desk.stop()


def test_given_a_connected_caller_when_transferred_to_a_flow_then_its_session_runs_that_flow(
        desk):
    caller, _ = desk.connected_call()
    uuid, old_leg = caller.call_uuid, caller.leg

    with desk.esl.watch(uuid) as watch:
        answer = desk.execute(cmd.TransferCall(call_uuid=uuid, target_kind=TransferKind.IVR,
                                               target="survey", by_agent="1000"))
        heard = watch.wait_for("PLAYBACK_START", timeout=10 + desk.switch.real_seconds(5))

    assert answer == {"call_uuid": uuid, "target_kind": "ivr", "target": "survey",
                      "ringing": False, "leg_uuid": None}
    assert heard.get("Playback-File-Path").endswith(SURVEY_PROMPT)
    wait_until(lambda: desk.agent("1000") == "wrap_up", 10, "agent 1000 in wrap-up")
    assert not desk.exists(old_leg)
    (ended,) = wait_until(lambda: desk.of(events.CallEnded, uuid), 10 + desk.switch.real_seconds(5),
                          "the survey ends the call")
    assert (ended.side, ended.cause) == (HangupSide.SYSTEM, "NORMAL_CLEARING")
    (moved,) = desk.of(events.CallTransferred, uuid)
    assert (moved.target_kind, moved.target, moved.by_agent) == (TransferKind.IVR, "survey",
                                                                 "1000")
    entered = [(e.flow, e.node) for e in desk.of(events.IvrNodeEntered, uuid)]
    assert entered == [("front", "welcome"), ("front", "menu"), ("front", "sales"),
                       ("survey", "thanks"), ("survey", "bye")]
    calls = [e for e in desk.events if getattr(e, "call_uuid", None) == uuid]
    assert calls.index(moved) < calls.index(desk.of(events.IvrNodeEntered, uuid)[3])
    record = journal.fold(calls)
    assert record.ivr_path == ["welcome", "menu", "menu:1", "sales", "thanks", "bye"]
    assert (record.agent, record.queue, record.hangup_side) == ("1000", "sales",
                                                                HangupSide.SYSTEM)


def test_given_a_held_caller_when_transferred_to_a_flow_then_the_music_stops_for_the_flow(desk):
    caller, _ = desk.connected_call()
    uuid = caller.call_uuid
    with desk.esl.watch(uuid) as watch:
        desk.execute(cmd.HoldCall(call_uuid=uuid, by_agent="1000"))
        music = watch.wait_for("PLAYBACK_START", timeout=10)
        assert music.get("Playback-File-Path") == "local_stream://moh"

        desk.execute(cmd.TransferCall(call_uuid=uuid, target_kind=TransferKind.IVR,
                                      target="survey", by_agent="1000"))
        stopped = watch.wait_for("PLAYBACK_STOP", timeout=10)
        heard = watch.wait_for("PLAYBACK_START", timeout=10 + desk.switch.real_seconds(5))

    assert stopped.get("Playback-File-Path") == "local_stream://moh"
    assert heard.get("Playback-File-Path").endswith(SURVEY_PROMPT)
    wait_until(lambda: desk.of(events.CallEnded, uuid), 10 + desk.switch.real_seconds(5),
               "the survey ends the call")
    assert [e.node for e in desk.of(events.IvrNodeEntered, uuid)][-2:] == ["thanks", "bye"]


def test_given_a_flow_with_a_queue_when_transferred_there_then_its_agent_ends_the_call(desk):
    caller, _ = desk.connected_call("1000")
    uuid = caller.call_uuid

    desk.execute(cmd.TransferCall(call_uuid=uuid, target_kind=TransferKind.IVR,
                                  target="support_desk", by_agent="1000"))
    # the flow's queue node puts the caller in the ACD's hands anew
    again = wait_until(lambda: (lambda c: c if c is not None and c is not caller
                                and c.agent == "1001" and c.leg else None)(
        desk.engine.acd.callers.get(uuid)), 10 + desk.switch.real_seconds(20),
        "the caller connected to agent 1001 in support")
    second = again.leg
    wait_until(lambda: desk.bridged(uuid) == second, 10, "bridge stands")
    assert desk.agent("1000") == "wrap_up" and desk.agent("1001") == "on_call"
    with desk.esl.watch(uuid) as watch:
        desk.engine.ctl.kill(second, "NORMAL_CLEARING")  # agent 1001 puts the phone down
        watch.wait_for("CHANNEL_HANGUP", timeout=10)  # the caller's channel too, not parked

    (ended,) = wait_until(lambda: desk.of(events.CallEnded, uuid), 10, "the call ended")
    assert ended.side is HangupSide.AGENT
    assert [e.queue for e in desk.of(events.CallQueued, uuid)] == ["sales", "support"]
    assert [e.agent for e in desk.of(events.AnsweredByAgent, uuid)] == ["1000", "1001"]


def test_given_a_transfer_to_a_flow_when_it_cannot_go_then_refused_naming_the_field(desk):
    caller, _ = desk.connected_call()
    uuid = caller.call_uuid

    def refused(target):
        with pytest.raises(cmd.CommandError) as error:
            desk.execute(cmd.TransferCall(call_uuid=uuid, target_kind=TransferKind.IVR,
                                          target=target, by_agent="1000"))
        return error.value.field, error.value.reason

    field, message = refused("nowhere")
    assert field == "target" and "nowhere" in message
    assert desk.bridged(uuid) == caller.leg and desk.agent("1000") == "on_call"
    assert desk.of(events.CallTransferred, uuid) == []


def test_given_a_callback_customer_with_an_agent_when_transferred_to_a_flow_then_refused(desk):
    wait_until(lambda: desk.agent("1000") == "available", 10, "agent 1000 logged in")
    started = desk.execute(cmd.OriginateCallback(number="9196", queue="sales"))  # the echo test
    uuid = started["call_uuid"]
    caller = wait_until(lambda: (lambda c: c if c is not None and c.leg else None)(
        desk.engine.acd.callers.get(uuid)), 10 + desk.switch.real_seconds(20),
        "the callback's customer connected to agent 1000")
    wait_until(lambda: desk.bridged(uuid) == caller.leg, 10, "bridge stands")

    with pytest.raises(cmd.CommandError) as error:
        desk.execute(cmd.TransferCall(call_uuid=uuid, target_kind=TransferKind.IVR,
                                      target="survey", by_agent="1000"))

    assert error.value.field == "call_uuid"
    assert "no IVR session to continue" in error.value.reason
    assert desk.bridged(uuid) == caller.leg and desk.agent("1000") == "on_call"
