"""Consult (attended) transfer on a real Engine, against the `switch` fixture (emulator or real).

The agent puts its caller aside and calls a second party; the tests then ask the switch who is
bridged to whom (`show calls`) and whether the caller hears music, after a cancel (the agent
back with the caller) and after a complete (the caller with the consulted party, the first
agent in wrap-up).
"""

import pytest

from fs_cc import events
from fs_cc.control import commands as cmd
from fs_cc.esl import errors as cmd_errors
from fs_cc.events import TransferKind
from tests.acd import test_call_controls
from tests.switch import wait_until

make_desk = test_call_controls.make_desk  # the desks of the call-control tests


def consulting(desk, caller, target="1001", kind=TransferKind.AGENT):
    """Start a consult and wait until the agent's leg talks to the consulted party."""
    answer = desk.execute(cmd.ConsultCall(call_uuid=caller.call_uuid, target_kind=kind,
                                          target=target, by_agent="1000"))
    leg = answer["leg_uuid"]
    wait_until(lambda: desk.bridged(caller.leg) == leg, 10 + desk.switch.real_seconds(10),
               "the agent's leg bridged to the consulted party")
    wait_until(lambda: desk.bridged(caller.call_uuid) is None, 10, "the caller parked")
    return leg


def test_given_a_consult_when_cancelled_then_the_agent_talks_to_the_caller_again(make_desk):
    desk = make_desk()
    desk.execute(cmd.SetAgentStatus(agent="1001", status="break", reason="lunch"))
    caller, _ = desk.connected_call("1000")
    desk.execute(cmd.SetAgentStatus(agent="1001", status="available"))
    uuid, agent_leg = caller.call_uuid, caller.leg

    with desk.esl.watch(uuid) as watch:
        leg = consulting(desk, caller)
        watch.wait_for("PLAYBACK_START", timeout=10)  # the caller hears music meanwhile
        assert desk.agent("1001") == "on_call"
        with pytest.raises(cmd.CommandRefused):  # no hold while consulting
            desk.execute(cmd.HoldCall(call_uuid=uuid, by_agent="1000"))

        desk.execute(cmd.CancelConsult(call_uuid=uuid, by_agent="1000"))

        wait_until(lambda: desk.bridged(uuid) == agent_leg, 10, "caller and agent joined again")
    wait_until(lambda: not desk.exists(leg), 10, "the consulted leg gone")
    assert desk.exists(agent_leg) and caller.leg == agent_leg and caller.agent == "1000"
    assert desk.agent("1000") == "on_call"
    wait_until(lambda: desk.agent("1001") in ("available", "wrap_up"), 10, "1001 released")
    (ended,) = desk.of(events.ConsultEnded, uuid)
    assert (ended.outcome, ended.leg_uuid) == ("cancelled", leg)
    assert desk.engine.ctl.get_var(uuid, "park_after_bridge") == ""


def test_given_a_consult_when_completed_then_the_caller_talks_to_the_consulted_agent(make_desk):
    desk = make_desk()
    desk.execute(cmd.SetAgentStatus(agent="1001", status="break", reason="lunch"))
    caller, _ = desk.connected_call("1000")
    desk.execute(cmd.SetAgentStatus(agent="1001", status="available"))
    uuid, agent_leg = caller.call_uuid, caller.leg
    leg = consulting(desk, caller)

    desk.execute(cmd.CompleteConsult(call_uuid=uuid, by_agent="1000"))

    wait_until(lambda: desk.bridged(uuid) == leg, 10, "the caller bridged to agent 1001")
    wait_until(lambda: not desk.exists(agent_leg), 10, "the first agent's leg gone")
    wait_until(lambda: desk.agent("1000") == "wrap_up", 10, "agent 1000 in wrap-up")
    assert desk.agent("1001") == "on_call"
    wait_until(lambda: caller.agent == "1001" and caller.leg == leg, 10, "the ACD follows")
    (moved,) = desk.of(events.CallTransferred, uuid)
    assert (moved.target_kind, moved.target) == (TransferKind.AGENT, "1001")
    assert [e.outcome for e in desk.of(events.ConsultEnded, uuid)] == ["completed"]
    desk.engine.ctl.kill(uuid, "NORMAL_CLEARING")
    wait_until(lambda: not desk.exists(leg), 10, "the call ended")


def test_given_a_consult_of_a_number_when_completed_then_the_caller_is_bridged_out(make_desk):
    desk = make_desk(agents=(("1000", ("sales",)),), callback_dial="loopback/{number}/default")
    caller, _ = desk.connected_call()
    uuid, agent_leg = caller.call_uuid, caller.leg
    leg = consulting(desk, caller, target="9196", kind=TransferKind.NUMBER)

    desk.execute(cmd.CompleteConsult(call_uuid=uuid, by_agent="1000"))

    wait_until(lambda: desk.bridged(uuid) == leg, 10, "the caller bridged to the number")
    wait_until(lambda: not desk.exists(agent_leg), 10, "the agent's leg gone")
    wait_until(lambda: desk.agent("1000") == "wrap_up", 10, "the agent in wrap-up")


def test_given_a_consult_when_the_consulted_party_hangs_up_then_back_to_the_caller(make_desk):
    desk = make_desk(agents=(("1000", ("sales",)),), callback_dial="loopback/{number}/default")
    caller, _ = desk.connected_call()
    uuid, agent_leg = caller.call_uuid, caller.leg
    leg = consulting(desk, caller, target="9196", kind=TransferKind.NUMBER)

    desk.engine.ctl.kill(leg, "NORMAL_CLEARING")

    wait_until(lambda: desk.bridged(uuid) == agent_leg, 10, "caller and agent joined again")
    wait_until(lambda: desk.of(events.ConsultEnded, uuid), 10, "the consult ended")
    assert desk.of(events.ConsultEnded, uuid)[0].outcome == "cancelled"
    assert desk.agent("1000") == "on_call"


def test_given_consult_refusals_then_refused_naming_the_field(make_desk):
    desk = make_desk()
    desk.execute(cmd.SetAgentStatus(agent="1001", status="break", reason="lunch"))
    caller, _ = desk.connected_call("1000")
    uuid = caller.call_uuid

    refused = desk.refused

    assert refused(cmd.ConsultCall(call_uuid=uuid, target_kind=TransferKind.AGENT,
                                   target="1001")) == "target"  # on a break
    assert refused(cmd.ConsultCall(call_uuid=uuid, target_kind=TransferKind.QUEUE,
                                   target="sales")) == "target_kind"
    assert refused(cmd.CompleteConsult(call_uuid=uuid)) == "call_uuid"
    assert refused(cmd.CancelConsult(call_uuid=uuid)) == "call_uuid"
    assert desk.bridged(uuid) == caller.leg


def conference_count(desk, room):
    """How many members `conference <room> list count` says the room has (0: no room)."""
    try:
        answer = desk.engine.ctl.api(f"conference {room} list count").strip()
    except cmd_errors.CommandError:
        return 0
    return int(answer) if answer.isdigit() else 0


def conference_members(desk, room):
    """The channel UUIDs `conference <room> list` shows (its third column)."""
    try:
        body = desk.engine.ctl.api(f"conference {room} list")
    except cmd_errors.CommandError:  # no such room (yet, or any more)
        return set()
    return {line.split(";")[2] for line in body.splitlines() if line.count(";") > 2}


def test_given_a_consult_when_conferenced_then_three_in_the_room_and_two_stay_when_agent_leaves(
        make_desk):
    desk = make_desk()
    desk.execute(cmd.SetAgentStatus(agent="1001", status="break", reason="lunch"))
    caller, _ = desk.connected_call("1000")
    desk.execute(cmd.SetAgentStatus(agent="1001", status="available"))
    uuid, agent_leg = caller.call_uuid, caller.leg
    leg = consulting(desk, caller)

    answer = desk.execute(cmd.ConferenceCall(call_uuid=uuid, by_agent="1000"))

    room = answer["room"]
    wait_until(lambda: conference_members(desk, room) == {uuid, agent_leg, leg}, 10,
               "the caller, the agent and the consulted party in the conference")
    assert conference_count(desk, room) == 3
    (started,) = desk.of(events.ConferenceStarted, uuid)
    assert (started.room, started.agent_leg, started.party_leg) == (room, agent_leg, leg)
    assert [e.outcome for e in desk.of(events.ConsultEnded, uuid)] == ["conference"]

    desk.engine.ctl.kill(agent_leg, "NORMAL_CLEARING")  # the first agent leaves

    wait_until(lambda: desk.agent("1000") == "wrap_up", 10, "agent 1000 in wrap-up")
    wait_until(lambda: conference_members(desk, room) == {uuid, leg}, 10, "caller and 1001 stay")
    assert desk.exists(uuid) and desk.exists(leg)
    wait_until(lambda: caller.agent == "1001" and caller.leg == leg, 10, "the ACD follows")
    assert desk.agent("1001") == "on_call"

    desk.engine.ctl.kill(uuid, "NORMAL_CLEARING")  # the caller hangs up
    wait_until(lambda: not desk.exists(leg), 10, "the third party's leg ends too")
    wait_until(lambda: conference_count(desk, room) == 0, 10, "the room gone")
