"""The agent desktop's call controls on a real Engine: hold, unhold, DTMF and blind transfers.

The switch is the `switch` fixture (the emulator, or a real FreeSWITCH test switch with
FS_CC_TEST_ESL). Each test places a caller through the IVR into queue sales, lets agent 1000
answer, sends the command through the engine's control backend, and then asks the switch what
its channels do (`show calls`, events of the caller's legs), not only what was sent.
"""

import json

import pytest

from fs_cc import events
from fs_cc.acd.waiting import Phase
from fs_cc.config import EslTarget
from fs_cc.control import commands as cmd
from fs_cc.engine import Engine
from fs_cc.esl import commands
from fs_cc.esl.inbound import InboundClient
from fs_cc.events import TransferKind
from tests.engine.support import RecordingPublisher, engine_settings, stop_engine
from tests.switch import wait_until

DID = "5901"  # a test number; the main flow's menu key 1 is queue sales
WRAP_UP = 600  # seconds: the transferring agent is still in wrap-up when the test looks
WATCHED = ("CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE", "CHANNEL_HANGUP", "PLAYBACK_START",
           "PLAYBACK_STOP", "DTMF")


class Desk:
    """An engine on the switch, with agents 1000 (sales, support) and 1001 (sales)."""

    def __init__(self, switch, tmp_path, agents, **settings):
        self.switch = switch
        host, port = switch.esl_address
        self.engine = Engine(engine_settings(
            tmp_path, host, port, esl=EslTarget(host, port, switch.password),
            agents_auto_login=True, agents=agents,
            queues=[{"name": "sales", "moh": "local_stream://moh", "wrap_up": WRAP_UP},
                    {"name": "support", "moh": "local_stream://moh", "wrap_up": WRAP_UP}],
            **settings), publisher=RecordingPublisher())
        self.engine.start()
        switch.route_to(*self.engine.outbound.address)
        assert self.engine.esl.wait_connected(5)
        self.events = []
        self.engine.emitter.listeners.append(self.events.append)
        # the test's own view of the switch: every channel's events, as a desktop cannot see them
        self.esl = InboundClient(host, port, switch.password, events=WATCHED)
        self.esl.start()
        assert self.esl.wait_connected(5)

    def agent(self, ext):
        """An agent's status value."""
        return self.engine.store.get_agent(ext).status.value

    def connected_call(self, agent="1000"):
        """Place a caller (menu key 1: sales) and wait until ``agent`` talks to it; the ACD's
        Caller and the caller's own (A-)leg."""
        wait_until(lambda: self.agent(agent) == "available", 10, f"agent {agent} logged in")
        a_leg = self.switch.place_call(DID, caller_number="5551234", dtmf="1")
        caller = wait_until(lambda: next(
            (c for c in self.engine.acd.callers.values()
             if c.phase is Phase.CONNECTED and c.agent == agent), None),
            10 + self.switch.real_seconds(20), f"caller connected to {agent}")
        wait_until(lambda: self.bridged(caller.call_uuid) == caller.leg, 10, "bridge stands")
        return caller, a_leg

    def execute(self, command):
        """Through the engine's control backend, as the web does."""
        return self.engine.execute(command)

    def refused(self, command):
        """The field a command's refusal names (it must be refused)."""
        with pytest.raises(cmd.CommandError) as error:
            self.execute(command)
        return error.value.field

    def calls(self):
        """`show calls as json` rows of the switch."""
        body = self.engine.ctl.api("show calls as json")
        return json.loads(body).get("rows", []) if body.strip().startswith("{") else []

    def bridged(self, uuid):
        """The uuid the switch shows ``uuid`` bridged to (`show calls`), or None."""
        for row in self.calls():
            if row.get("uuid") == uuid and row.get("b_uuid"):
                return row["b_uuid"]
            if row.get("b_uuid") == uuid:
                return row["uuid"]
        return None

    def exists(self, uuid):
        """Whether the switch still has the channel."""
        return self.engine.ctl.exists(uuid)

    def of(self, event_class, uuid):
        """Our engine's events of one class for a call."""
        return [e for e in self.events if isinstance(e, event_class) and e.call_uuid == uuid]

    def stop(self):
        self.esl.stop()
        stop_engine(self.engine)


@pytest.fixture
def make_desk(switch, tmp_path):
    desks = []

    def make(agents=(("1000", ("sales", "support")), ("1001", ("sales",))), **settings):
        for ext, _ in agents:
            switch.set_agent(ext, answer_delay=1.0)
        desk = Desk(switch, tmp_path, [{"extension": ext, "name": f"Agent {ext}",
                                        "queues": list(queues)} for ext, queues in agents],
                    **settings)
        desks.append(desk)
        return desk

    yield make
    for desk in desks:
        desk.stop()


def test_given_a_connected_caller_when_held_then_it_hears_music_and_unheld_it_talks_again(
        make_desk):
    desk = make_desk(agents=(("1000", ("sales",)),))
    caller, _ = desk.connected_call()
    uuid = caller.call_uuid
    with desk.esl.watch(uuid) as watch:
        assert desk.execute(cmd.HoldCall(call_uuid=uuid, by_agent="1000"))["held"] is True

        started = watch.wait_for("PLAYBACK_START", timeout=10)
        assert started.get("Playback-File-Path") == "local_stream://moh"
        with pytest.raises(cmd.CommandRefused) as again:
            desk.execute(cmd.HoldCall(call_uuid=uuid, by_agent="1000"))
        assert again.value.field == "call_uuid"

        assert desk.execute(cmd.UnholdCall(call_uuid=uuid, by_agent="1000"))["held"] is False
        watch.wait_for("PLAYBACK_STOP", timeout=10)
    assert desk.bridged(uuid) == caller.leg  # talking to the agent's leg again
    assert [e.by_agent for e in desk.of(events.CallHeld, uuid)] == ["1000"]
    assert [e.by_agent for e in desk.of(events.CallUnheld, uuid)] == ["1000"]
    assert desk.agent("1000") == "on_call"


def test_given_a_connected_caller_when_dtmf_sent_then_the_callers_leg_receives_the_digits(
        make_desk):
    desk = make_desk(agents=(("1000", ("sales",)),))
    caller, a_leg = desk.connected_call()
    with desk.esl.watch(a_leg) as far_end:  # the caller's own phone: the loopback A-leg
        desk.execute(cmd.SendDtmf(call_uuid=caller.call_uuid, digits="12#", by_agent="1000"))
        digits = [far_end.wait_for("DTMF", timeout=10).get("DTMF-Digit") for _ in range(3)]
    assert digits == ["1", "2", "#"]
    assert desk.bridged(caller.call_uuid) == caller.leg


def test_given_bad_digits_when_send_dtmf_built_then_refused_naming_digits():
    for digits in ("12x", "1" * 33):
        with pytest.raises(cmd.codec.FieldError) as refused:
            cmd.SendDtmf(call_uuid="u", digits=digits)
        assert refused.value.field == "digits"


@pytest.mark.parametrize("command", [
    cmd.HoldCall(call_uuid="call-1", by_agent="1000"),
    cmd.UnholdCall(call_uuid="call-1"),
    cmd.SendDtmf(call_uuid="call-1", digits="0123456789*#ABCD", by_agent="1000"),
], ids=lambda command: command.TYPE)
def test_given_a_call_control_command_when_encoded_and_decoded_then_it_is_equal(command):
    assert cmd.decode(cmd.encode(command)) == command


def test_given_digits_when_uuid_send_dtmf_built_then_one_word_of_dtmf_only():
    assert commands.uuid_send_dtmf("u-1", "12#*AD") == "uuid_send_dtmf u-1 12#*AD"
    for digits in ("", "1 2", "12\n", "x", "1" * 33):
        with pytest.raises(ValueError):
            commands.uuid_send_dtmf("u-1", digits)


def test_given_a_connected_caller_when_transferred_to_an_agent_then_bridged_and_first_wraps_up(
        make_desk):
    desk = make_desk()
    desk.execute(cmd.SetAgentStatus(agent="1001", status="break", reason="lunch"))
    caller, _ = desk.connected_call("1000")
    uuid, old_leg = caller.call_uuid, caller.leg
    desk.execute(cmd.SetAgentStatus(agent="1001", status="available"))

    answer = desk.execute(cmd.TransferCall(call_uuid=uuid, target_kind=TransferKind.AGENT,
                                           target="1001", by_agent="1000"))

    new_leg = answer["leg_uuid"]
    wait_until(lambda: desk.bridged(uuid) == new_leg, 10 + desk.switch.real_seconds(5),
               "caller bridged to agent 1001")
    wait_until(lambda: not desk.exists(old_leg), 10, "the first agent's leg gone")
    wait_until(lambda: desk.agent("1000") == "wrap_up", 10, "agent 1000 in wrap-up")
    assert desk.agent("1001") == "on_call"
    assert caller.agent == "1001" and caller.leg == new_leg
    (moved,) = desk.of(events.CallTransferred, uuid)
    assert (moved.target_kind, moved.target, moved.by_agent) == (TransferKind.AGENT, "1001",
                                                                 "1000")


def test_given_a_connected_caller_when_transferred_to_a_queue_then_it_waits_there_with_music(
        make_desk):
    desk = make_desk(agents=(("1000", ("sales", "support")),))
    caller, _ = desk.connected_call()
    uuid, old_leg = caller.call_uuid, caller.leg
    with desk.esl.watch(uuid) as watch:
        desk.execute(cmd.TransferCall(call_uuid=uuid, target_kind=TransferKind.QUEUE,
                                      target="support", by_agent="1000"))
        watch.wait_for("PLAYBACK_START", timeout=10)  # hold music in the new line
    wait_until(lambda: uuid in desk.engine.store.waiting_callers("support"), 10,
               "caller waiting in support")
    assert caller.queue == "support" and caller.phase is Phase.WAITING
    assert not desk.exists(old_leg) and desk.exists(uuid)
    assert desk.bridged(uuid) is None
    assert desk.agent("1000") == "wrap_up"
    queued = desk.of(events.CallQueued, uuid)
    assert [e.queue for e in queued] == ["sales", "support"]
    assert queued[-1].priority == queued[0].priority


def test_given_a_connected_caller_when_transferred_to_a_number_then_bridged_to_the_outside_leg(
        make_desk):
    desk = make_desk(agents=(("1000", ("sales",)),), callback_dial="loopback/{number}/default")
    caller, _ = desk.connected_call()
    uuid, old_leg = caller.call_uuid, caller.leg

    answer = desk.execute(cmd.TransferCall(call_uuid=uuid, target_kind=TransferKind.NUMBER,
                                           target="9196", by_agent="1000"))  # the echo test

    wait_until(lambda: desk.bridged(uuid) == answer["leg_uuid"], 10, "caller bridged out")
    wait_until(lambda: not desk.exists(old_leg), 10, "the agent's leg gone")
    wait_until(lambda: desk.agent("1000") == "wrap_up", 10, "agent in wrap-up")
    assert caller.agent is None


def test_given_refusals_when_commands_cannot_apply_then_command_refused_naming_the_field(
        make_desk):
    desk = make_desk()
    desk.execute(cmd.SetAgentStatus(agent="1001", status="break", reason="lunch"))
    caller, _ = desk.connected_call("1000")
    uuid = caller.call_uuid

    refused = desk.refused

    assert refused(cmd.HoldCall(call_uuid="no-such-call")) == "call_uuid"
    assert refused(cmd.HoldCall(call_uuid=uuid, by_agent="1001")) == "by_agent"
    assert refused(cmd.TransferCall(call_uuid=uuid, target_kind=TransferKind.AGENT,
                                    target="4242")) == "target"
    assert refused(cmd.TransferCall(call_uuid=uuid, target_kind=TransferKind.AGENT,
                                    target="1001")) == "target"  # on a break
    assert refused(cmd.TransferCall(call_uuid=uuid, target_kind=TransferKind.QUEUE,
                                    target="nowhere")) == "target"
    assert refused(cmd.TransferCall(call_uuid=uuid, target_kind=TransferKind.NUMBER,
                                    target="not a number")) == "target"
    assert refused(cmd.TransferCall(call_uuid=uuid, target_kind=TransferKind.IVR,
                                    target="nowhere")) == "target"  # no such flow loaded
    assert refused(cmd.UnholdCall(call_uuid=uuid)) == "call_uuid"  # not held
    assert desk.bridged(uuid) == caller.leg and desk.agent("1000") == "on_call"
