"""The agent hangs up while the inbound ESL link is down: emulator, a TCP proxy the test cuts.

Each test runs with the whole Engine (its resync reports vanished agent legs) and with the ACD
alone (no resync hook: ``uuid_exists`` settles a lost leg). Either way the record says the agent
ended the call, the caller is hung up and the agent is AVAILABLE again.
"""

import os

import pytest

from fs_cc import journal
from fs_cc.acd import MemoryStore, build_acd
from fs_cc.callctl import CallControl
from fs_cc.callflow import CallHandler
from fs_cc.emitter import RecordingEmitter
from fs_cc.calls import HangupSide
from fs_cc.emulator.dialplan import Dialplan, default_dialplan
from fs_cc.emulator.endpoints import Phone
from fs_cc.engine import Engine
from fs_cc.esl.inbound import InboundClient
from fs_cc.esl.outbound import OutboundServer
from fs_cc.ivr import FlowRunner, load_flow
from tests.acd.test_emulator_calls import EVENTS
from tests.engine.support import EMULATOR_SPEED, RecordingPublisher, engine_settings
from tests.switch import wait_until

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEED = EMULATOR_SPEED  # simulated seconds per real second (the emulator fixture)
AGENT = "1000"
AGENT_TALK = 20  # simulated seconds the agent talks before putting the phone down (1 s real)
CALLER_TALK = 600  # the caller would stay far longer than the test


def route_calls(emulator, address):
    target = "%s:%s" % address
    emulator.config.socket_target = target
    emulator.dialplan = Dialplan(default_dialplan(target))


class AcdAlone:
    """Outbound server, inbound client (through the proxy), flow and ACD: no engine, no resync."""

    def __init__(self, emulator, proxy):
        self.records = []
        self.store = MemoryStore()
        self.esl = InboundClient("127.0.0.1", proxy.port, emulator.config.password, events=EVENTS,
                                 backoff=(0.05, 0.2), connect_timeout=2)
        self.emitter = RecordingEmitter()
        self.acd = build_acd(self.store, CallControl(self.esl), {
            "queues": [{"name": "sales"}, {"name": "support"}],
            "agents": [{"extension": AGENT, "queues": ["sales", "support"]}],
            "ring_timeout": 5, "retry_delay": 0.05, "resync_grace": 0.2}, self.emitter)
        self.acd.start()
        flow = load_flow(os.path.join(REPO, "ivr_flows", "main.yaml"), queues={"sales", "support"})
        runner = FlowRunner(flow, self.acd, self.emitter)
        self.handler = CallHandler(lambda did: runner, self.emitter)
        self.outbound = OutboundServer("127.0.0.1", 0, self._on_call).start()
        route_calls(emulator, self.outbound.address)
        self.esl.start()
        assert self.esl.wait_connected(5)
        self.acd.login(AGENT)

    def _on_call(self, session):
        self.handler.handle(session)
        self.records.append(journal.fold(self.emitter.of_call(session.uuid)).to_dict())

    def agent_status(self):
        return self.store.get_agent(AGENT).status.value

    def stop(self):
        self.acd.stop()
        self.esl.stop()
        self.outbound.stop(timeout=1)


class WholeEngine:
    """The real Engine with its inbound link through the proxy (its resync reports vanished legs)."""

    def __init__(self, emulator, proxy, tmp_path):
        self.publisher = RecordingPublisher()
        settings = engine_settings(
            tmp_path, "127.0.0.1", proxy.port, agents_auto_login=True,
            agents=[{"extension": AGENT, "name": "Agent 1000", "queues": ["sales", "support"]}])
        self.engine = Engine(settings, publisher=self.publisher)
        self.engine.esl.backoff = (0.05, 0.2)
        self.engine.start()
        route_calls(emulator, self.engine.outbound.address)
        assert self.engine.esl.wait_connected(5)
        wait_until(lambda: self.engine.resyncs == 1, 5, "first resync")

    @property
    def records(self):
        return [payload for payload in self.publisher.payloads if payload.get("uuid")]

    @property
    def esl(self):
        return self.engine.esl

    def agent_status(self):
        (agent,) = self.engine.agents()
        return agent["status"]

    def stop(self):
        self.engine.stop()


@pytest.fixture(params=["engine", "acd_alone"])
def stack(request, emulator, proxy, tmp_path):
    if request.param == "engine":
        stack = WholeEngine(emulator, proxy, tmp_path)
    else:
        stack = AcdAlone(emulator, proxy)
    yield stack
    stack.stop()


def agent_leg(emulator):
    legs = [uuid for uuid, channel in emulator.channels.items()
            if channel.get_var("fs_cc_agent") == AGENT]
    return legs[0] if legs else None


def test_given_call_with_agent_when_agent_hangs_up_while_link_down_then_side_agent_caller_hung_up_agent_available(
        emulator, proxy, stack):
    emulator.phones.add(Phone(AGENT, answer_delay=1.0, talk_seconds=AGENT_TALK))
    caller = emulator.place_call("5901", caller_number="5551234", dtmf="1",
                                 talk_seconds=CALLER_TALK)
    wait_until(lambda: stack.agent_status() == "on_call", 10, "agent on the call")
    leg = agent_leg(emulator)
    assert leg is not None
    proxy.refusing = True
    proxy.cut()
    wait_until(lambda: leg not in emulator.channels, 10, "agent leg hung up while the link is down")
    # Like FreeSWITCH after uuid_bridge, the emulator ends the caller's leg with the agent's:
    # the caller's own socket (still up) shows its bridge ending before its hangup.
    wait_until(lambda: stack.records, 10, "call record")
    proxy.refusing = False
    (record,) = stack.records
    assert (record["caller_number"], record["queue"], record["agent"]) == ("5551234", "sales", AGENT)
    assert record["hangup_side"] == HangupSide.AGENT.value
    assert record["hangup_cause"] == "NORMAL_CLEARING"
    wait_until(lambda: caller not in emulator.channels, 5, "caller hung up")
    wait_until(lambda: stack.agent_status() == "available", 5, "agent available")
    wait_until(lambda: stack.esl.connected, 5, "reconnected")


def test_given_link_lost_when_agent_leg_survives_and_hangs_up_later_then_side_agent(
        emulator, proxy, stack):
    emulator.phones.add(Phone(AGENT, answer_delay=1.0, talk_seconds=40))  # 2 s real
    caller = emulator.place_call("5901", caller_number="5551234", dtmf="1",
                                 talk_seconds=CALLER_TALK)
    wait_until(lambda: stack.agent_status() == "on_call", 10, "agent on the call")
    leg = agent_leg(emulator)
    proxy.cut()  # reconnects at once: the leg is still there
    wait_until(lambda: leg not in emulator.channels, 10, "agent puts the phone down")

    wait_until(lambda: stack.records, 10, "call record")
    (record,) = stack.records
    assert (record["agent"], record["hangup_side"]) == (AGENT, HangupSide.AGENT.value)
    wait_until(lambda: caller not in emulator.channels, 5, "caller hung up by the ACD")
    wait_until(lambda: stack.agent_status() == "available", 5, "agent available")
