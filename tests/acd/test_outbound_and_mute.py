"""Click-to-dial and mute on a real Engine, against the `switch` fixture (emulator or real).

An agent's outbound call rings its own phone, then the number, then bridges the two; the tests
ask the switch what its channels do afterwards (`show calls`, `uuid_buglist`), and check that
the agent ends where it was: available, or on its break with the same reason, whether the call
went through or failed.
"""

import pytest

from fs_cc import events, journal
from fs_cc.acd.mute import uuid_audio_mute, uuid_audio_stop
from fs_cc.control import commands as cmd
from tests.acd import test_call_controls
from tests.acd.test_call_controls import DID
from tests.switch import wait_until

make_desk = test_call_controls.make_desk  # the desks of the call-control tests

ECHO = "9196"  # the echo test: a number that answers and stays up
DIAL = "loopback/{number}/default"
BUSY_DIAL = "error/user_busy"  # every number is busy


def media_bugs(desk, uuid):
    """(function, target) of each media bug on a channel, as `uuid_buglist` lists them."""
    body = desk.engine.ctl.api(f"uuid_buglist {uuid}")
    functions = [part.split("</function>")[0] for part in body.split("<function>")[1:]]
    targets = [part.split("</target>")[0] for part in body.split("<target>")[1:]]
    return list(zip(functions, targets))


def dialled_call(desk, agent="1000", number=ECHO):
    """Dial ``number`` for ``agent`` and wait until the switch bridges its phone to the number."""
    answer = desk.execute(cmd.DialNumber(agent=agent, number=number))
    call_uuid, leg = answer["call_uuid"], answer["leg_uuid"]
    wait_until(lambda: desk.bridged(call_uuid) == leg, 10 + desk.switch.real_seconds(10),
               "the agent's phone bridged to the number")
    return call_uuid, leg


def test_given_an_available_agent_when_it_dials_then_bridged_on_call_and_a_record_is_made(
        make_desk):
    desk = make_desk(agents=(("1000", ("sales",)),), callback_dial=DIAL)
    wait_until(lambda: desk.agent("1000") == "available", 10, "agent logged in")

    call_uuid, leg = dialled_call(desk)

    assert desk.agent("1000") == "on_call"
    # a caller for the agent's queue waits: the agent is not offered ACD calls while dialling
    desk.switch.place_call(DID, caller_number="5551234", dtmf="1")
    waiting = wait_until(lambda: desk.engine.store.waiting_callers("sales"),
                         10 + desk.switch.real_seconds(20), "the caller waiting in sales")
    assert not desk.of(events.OfferedToAgent, waiting[0])

    desk.engine.ctl.kill(call_uuid, "NORMAL_CLEARING")  # the far end hangs up
    wait_until(lambda: desk.of(events.CallEnded, call_uuid), 10, "the outbound call ended")
    wait_until(lambda: not desk.exists(leg), 10, "the agent's phone hung up")
    record = journal.fold([e for e in desk.events if getattr(e, "call_uuid", None) == call_uuid])
    assert (record.did, record.caller_number, record.agent) == ("outbound", ECHO, "1000")
    assert record.answered_at is not None and record.ended_at is not None
    assert desk.of(events.CallEnded, call_uuid)[0].side is events.HangupSide.CALLER
    moves = [(e.new.value, e.reason) for e in desk.events
             if isinstance(e, events.AgentStatusChanged) and e.agent == "1000"]
    start = moves.index(("reserved", "outbound"))
    assert moves[start:start + 3] == [("reserved", "outbound"), ("on_call", "outbound"),
                                      ("available", "outbound call ended")]
    # free again, the agent is offered the caller who waited
    wait_until(lambda: desk.of(events.OfferedToAgent, waiting[0]), 10,
               "the waiting caller offered to the agent")


def test_given_an_agent_on_break_when_its_outbound_call_fails_then_it_stays_on_the_same_break(
        make_desk):
    desk = make_desk(agents=(("1000", ("sales",)),), callback_dial=BUSY_DIAL)
    wait_until(lambda: desk.agent("1000") == "available", 10, "agent logged in")
    desk.execute(cmd.SetAgentStatus(agent="1000", status="break", reason="lunch"))

    answer = desk.execute(cmd.DialNumber(agent="1000", number="5550100"))

    call_uuid, leg = answer["call_uuid"], answer["leg_uuid"]
    (ended,) = wait_until(lambda: desk.of(events.CallEnded, call_uuid), 10 +
                          desk.switch.real_seconds(10), "the outbound call failed")
    assert ended.cause == "USER_BUSY"
    wait_until(lambda: not desk.exists(leg), 10, "the agent's phone hung up")
    agent = desk.engine.store.get_agent("1000")
    assert (agent.status.value, agent.reason) == ("not_ready", "lunch")
    assert desk.bridged(leg) is None


def test_given_an_agent_on_break_when_its_outbound_call_ends_then_it_is_on_the_same_break(
        make_desk):
    desk = make_desk(agents=(("1000", ("sales",)),), callback_dial=DIAL)
    wait_until(lambda: desk.agent("1000") == "available", 10, "agent logged in")
    desk.execute(cmd.SetAgentStatus(agent="1000", status="break", reason="meeting"))

    call_uuid, leg = dialled_call(desk)

    during = desk.engine.store.get_agent("1000")
    assert (during.status.value, during.reason) == ("not_ready", "outbound")
    desk.engine.ctl.kill(leg, "NORMAL_CLEARING")  # the agent puts the phone down
    wait_until(lambda: desk.of(events.CallEnded, call_uuid), 10, "the outbound call ended")
    wait_until(lambda: not desk.exists(call_uuid), 10, "the number's leg hung up")
    after = desk.engine.store.get_agent("1000")
    assert (after.status.value, after.reason) == ("not_ready", "meeting")
    assert desk.of(events.CallEnded, call_uuid)[0].side is events.HangupSide.AGENT


def test_given_an_agent_on_a_call_when_it_dials_then_refused_naming_the_agent(make_desk):
    desk = make_desk(agents=(("1000", ("sales",)),), callback_dial=DIAL)
    caller, _ = desk.connected_call()
    with pytest.raises(cmd.CommandRefused) as refused:
        desk.execute(cmd.DialNumber(agent="1000", number=ECHO))
    assert refused.value.field == "agent"
    assert desk.bridged(caller.call_uuid) == caller.leg


def test_given_a_connected_caller_when_muted_then_the_agent_leg_has_the_mute_bug_until_unmuted(
        make_desk):
    desk = make_desk(agents=(("1000", ("sales",)),))
    caller, _ = desk.connected_call()
    uuid, leg = caller.call_uuid, caller.leg

    answer = desk.execute(cmd.MuteCall(call_uuid=uuid, by_agent="1000"))

    assert (answer["leg_uuid"], answer["muted"]) == (leg, True)
    assert media_bugs(desk, leg) == [("audio", "mute")]
    assert media_bugs(desk, uuid) == []  # the caller is heard as before
    assert desk.bridged(uuid) == leg
    with pytest.raises(cmd.CommandRefused) as again:
        desk.execute(cmd.MuteCall(call_uuid=uuid, by_agent="1000"))
    assert again.value.field == "call_uuid"

    desk.execute(cmd.UnmuteCall(call_uuid=uuid, by_agent="1000"))

    assert media_bugs(desk, leg) == []
    assert desk.bridged(uuid) == leg
    assert [e.leg_uuid for e in desk.of(events.CallMuted, uuid)] == [leg]
    assert [e.by_agent for e in desk.of(events.CallUnmuted, uuid)] == ["1000"]
    with pytest.raises(cmd.CommandRefused):
        desk.execute(cmd.UnmuteCall(call_uuid=uuid, by_agent="1000"))


def test_given_an_outbound_call_when_muted_then_the_agents_phone_leg_is_muted(make_desk):
    desk = make_desk(agents=(("1000", ("sales",)),), callback_dial=DIAL)
    wait_until(lambda: desk.agent("1000") == "available", 10, "agent logged in")
    call_uuid, leg = dialled_call(desk)

    desk.execute(cmd.MuteCall(call_uuid=call_uuid, by_agent="1000"))

    assert media_bugs(desk, leg) == [("audio", "mute")]
    with pytest.raises(cmd.CommandRefused) as other:
        desk.execute(cmd.UnmuteCall(call_uuid=call_uuid, by_agent="1001"))
    assert other.value.field == "by_agent"
    desk.execute(cmd.UnmuteCall(call_uuid=call_uuid, by_agent="1000"))
    assert media_bugs(desk, leg) == []
    desk.engine.ctl.kill(call_uuid, "NORMAL_CLEARING")
    wait_until(lambda: desk.agent("1000") == "available", 10, "agent available again")


def test_given_a_mute_of_no_call_when_executed_then_refused_naming_the_call(make_desk):
    desk = make_desk(agents=(("1000", ("sales",)),))
    with pytest.raises(cmd.CommandError) as refused:
        desk.execute(cmd.MuteCall(call_uuid="no-such-call"))
    assert refused.value.field == "call_uuid"


@pytest.mark.parametrize("number", ["12a", "1" * 33, "12 34", "+1-555"])
def test_given_a_bad_number_when_dial_built_then_refused_naming_number(number):
    with pytest.raises(cmd.codec.FieldError) as refused:
        cmd.DialNumber(agent="1000", number=number)
    assert refused.value.field == "number"


@pytest.mark.parametrize("command", [
    cmd.DialNumber(agent="1000", number="+4930123*#"),
    cmd.MuteCall(call_uuid="call-1", by_agent="1000"),
    cmd.UnmuteCall(call_uuid="call-1"),
], ids=lambda command: command.TYPE)
def test_given_a_new_command_when_encoded_and_decoded_then_it_is_equal(command):
    assert cmd.decode(cmd.encode(command)) == command


def test_given_a_leg_when_uuid_audio_built_then_one_word_uuid_and_read_mute():
    assert uuid_audio_mute("u-1") == "uuid_audio u-1 start read mute -4"
    assert uuid_audio_stop("u-1") == "uuid_audio u-1 stop"
    with pytest.raises(ValueError):
        uuid_audio_mute("u 1")
