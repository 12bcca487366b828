"""A real Engine on the emulator: the moment an agent's phone rings, the engine tells the call's
context (the agent desktop's screen pop), in-process and over its control interface."""

import pytest

from fs_cc import events
from fs_cc.control import ControlClient, ControlRefused, UnknownTarget
from fs_cc.emulator import Emulator, EmulatorConfig
from fs_cc.emulator.dialplan import Dialplan, default_dialplan
from fs_cc.engine import Engine
from tests.callbacks.support import CUSTOMER, DIAL, customers
from tests.engine.support import EMULATOR_SPEED, RecordingPublisher, engine_settings, stop_engine
from tests.switch import wait_until

AGENT = "1000"
SECRET = "test-control-secret"  # engine_settings' control secret


class PopAtRing:
    """An Emitter listener after the engine's own: each call's context as its agent's phone rang."""

    def __init__(self, engine):
        self.engine = engine
        self.contexts = {}

    def __call__(self, event):
        if isinstance(event, events.OfferedToAgent):
            self.contexts[event.call_uuid] = self.engine.call_context(event.call_uuid)


def start_engine(emulator, tmp_path, **settings):
    engine = Engine(engine_settings(
        tmp_path, *emulator.esl_address, agents_auto_login=True,
        agents=[{"extension": AGENT, "name": "Agent 1000", "queues": ["sales", "support"]}],
        **settings), publisher=RecordingPublisher())
    engine.esl.backoff = (0.05, 0.2)
    pops = PopAtRing(engine)
    engine.emitter.listeners.append(pops)
    engine.start()
    target = "%s:%s" % engine.outbound.address
    emulator.config.socket_target = target
    emulator.dialplan = Dialplan(default_dialplan(target))
    assert engine.esl.wait_connected(5)
    wait_until(lambda: engine.resyncs == 1, 5, "first resync")
    return engine, pops


@pytest.fixture
def engine(emulator, tmp_path):
    engine, pops = start_engine(emulator, tmp_path)
    yield engine, pops
    stop_engine(engine)


def control_client(engine):
    return ControlClient("http://%s:%s" % engine.control.address, SECRET)


def test_given_a_caller_through_the_ivr_when_the_agents_phone_rings_then_the_context_is_there(
        emulator, engine):
    engine, pops = engine
    emulator.place_call("5901", caller_number="5551234", caller_name="Ada", dtmf="1",
                        talk_seconds=10)

    (uuid, ringing), = wait_until(lambda: list(pops.contexts.items()), 10, "agent rung")

    assert (ringing["caller"], ringing["caller_name"], ringing["did"]) == ("5551234", "Ada",
                                                                           "5901")
    assert (ringing["state"], ringing["queue"], ringing["offered_to"]) == ("offering", "sales",
                                                                           AGENT)
    assert ringing["ivr"] == {"flow": "main", "path": ["welcome", "menu", "sales"],
                              "inputs": [{"node": "menu", "input": "1", "result": "option"}]}
    assert ringing["origin"] == "inbound" and ringing["agent"] is None
    assert ringing["queued_at"] >= ringing["started_at"] and ringing["waited"] >= 0
    # the desktop asks over the control interface: the same context
    client = control_client(engine)
    wait_until(lambda: client.call(uuid)["agent"] == AGENT, 10, "agent answered")
    assert client.call(uuid) == dict(engine.call_context(uuid))
    wait_until(lambda: uuid not in engine.live, 10, "call ended")
    ended = client.call(uuid)
    assert ended["state"] == "ended"
    assert {key: ended[key] for key in ("caller", "queue", "agent", "ivr", "offered_to")} == {
        "caller": "5551234", "queue": "sales", "agent": AGENT, "ivr": ringing["ivr"],
        "offered_to": AGENT}


def test_given_a_call_the_engine_never_had_when_asked_then_unknown_target(engine):
    engine, _ = engine

    with pytest.raises(UnknownTarget) as unknown:
        engine.call_context("no-such-call")
    with pytest.raises(ControlRefused) as refused:
        control_client(engine).call("no-such-call")

    assert (unknown.value.field, unknown.value.value) == ("call_uuid", "no-such-call")
    assert (refused.value.status, refused.value.field) == (404, "call_uuid")
    assert refused.value.error == str(unknown.value)


@pytest.fixture
def pstn_emulator():
    """An emulator whose gateway ``pstn`` answers every customer."""
    emulator = Emulator(EmulatorConfig(port=0, speed=EMULATOR_SPEED, gateways=[customers()]))
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.mark.emulator_only
def test_given_a_callback_when_the_agents_phone_rings_then_the_customers_number_is_the_caller(
        pstn_emulator, tmp_path):
    engine, pops = start_engine(pstn_emulator, tmp_path, callback_dial=DIAL)
    try:
        wait_until(lambda: engine.agents()[0]["status"] == "available", 5, "agent logged in")
        request = engine.callbacks.request("sales", CUSTOMER)

        (uuid, ringing), = wait_until(lambda: list(pops.contexts.items()), 10, "agent rung")

        # the callback's call has not started yet (the customer is called once the agent answers)
        assert (ringing["caller"], ringing["did"], ringing["origin"]) == (CUSTOMER, "callback",
                                                                          "callback")
        assert (ringing["state"], ringing["queue"], ringing["offered_to"]) == ("offering",
                                                                               "sales", AGENT)
        assert ringing["waited"] >= 0 and ringing["queued_at"] is not None
        assert request.callback_id not in (uuid, ringing["uuid"]) and ringing["uuid"] == uuid
        wait_until(lambda: engine.call_context(uuid)["agent"] == AGENT, 10, "customer bridged")
        assert control_client(engine).call(uuid)["caller"] == CUSTOMER
    finally:
        stop_engine(engine)
