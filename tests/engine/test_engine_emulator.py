"""A real Engine with the emulator; its inbound ESL link goes through a proxy the test cuts mid-call."""

import json
import urllib.request

import pytest

from fs_cc.emulator.dialplan import Dialplan, default_dialplan
from fs_cc.engine import Engine
from tests.engine.support import EMULATOR_SPEED, RecordingPublisher, engine_settings, stop_engine
from tests.switch import wait_until

SPEED = EMULATOR_SPEED  # simulated seconds per real second (the emulator fixture)
AGENT = "1000"


@pytest.fixture
def publisher():
    return RecordingPublisher()


@pytest.fixture
def engine(emulator, proxy, publisher, tmp_path):
    settings = engine_settings(
        tmp_path, "127.0.0.1", proxy.port, agents_auto_login=True,
        agents=[{"extension": AGENT, "name": "Agent 1000", "queues": ["sales", "support"]}])
    engine = Engine(settings, publisher=publisher)
    engine.esl.backoff = (0.05, 0.2)
    # A handshake on a socket closed before auth/request waits out connect_timeout (InboundClient
    # does not wake on the close): keep it short so the refusing proxy costs little.
    engine.esl.connect_timeout = 0.5
    engine.start()
    target = "%s:%s" % engine.outbound.address
    emulator.config.socket_target = target
    emulator.dialplan = Dialplan(default_dialplan(target))
    assert engine.esl.wait_connected(5)
    wait_until(lambda: engine.resyncs == 1, 5, "first resync")
    yield engine
    stop_engine(engine)


def agent_status(engine):
    (agent,) = engine.agents()
    return agent["status"]


def records(publisher):
    return [payload for payload in publisher.payloads if payload.get("uuid")]


def test_given_call_with_agent_when_esl_link_is_cut_then_record_published_agent_available_and_next_call_served(
        emulator, proxy, publisher, engine):
    emulator.place_call("5901", caller_number="5551234", dtmf="1", talk_seconds=40)
    wait_until(lambda: agent_status(engine) == "on_call", 10, "agent on the call")
    wait_until(lambda: any(len(call["legs"]) >= 3 for call in engine.calls()), 5, "legs tracked")

    def agent_phases():
        (call,) = [call for call in engine.calls() if call["uuid"] in engine.live]
        return [leg["phase"] for leg in call["legs"] if leg["variables"].get("fs_cc_agent") == AGENT]
    # uuid_bridge answers +OK before the switch fires CHANNEL_BRIDGE, as FreeSWITCH does
    wait_until(lambda: agent_phases() == ["bridged"], 5, "agent leg bridged")
    (call,) = [call for call in engine.calls() if call["uuid"] in engine.live]
    agent_legs = [leg for leg in call["legs"] if leg["variables"].get("fs_cc_agent") == AGENT]
    assert call["caller"] == "5551234" and len(agent_legs) == 1
    assert agent_legs[0]["phase"] == "bridged"

    proxy.cut()
    wait_until(lambda: engine.resyncs >= 2 and engine.esl.connected, 10, "reconnected and resynced")
    wait_until(lambda: records(publisher), 10, "call record published")
    (record,) = records(publisher)
    assert (record["caller_number"], record["queue"], record["agent"]) == ("5551234", "sales", AGENT)
    assert record["hangup_side"] == "caller"
    wait_until(lambda: agent_status(engine) == "available", 5, "agent available")
    agent_leg = agent_legs[0]["uuid"]
    wait_until(lambda: agent_leg not in emulator.channels and agent_leg not in engine.channels, 5,
               "agent leg hung up by the engine after the reconnect, and seen going")

    emulator.place_call("5901", caller_number="5559876", dtmf="2", talk_seconds=10)
    wait_until(lambda: len(records(publisher)) == 2, 15, "second call record")
    second = records(publisher)[1]
    assert (second["caller_number"], second["queue"], second["agent"]) == ("5559876", "support", AGENT)
    wait_until(lambda: agent_status(engine) == "available", 5, "agent available again")


def test_given_caller_hangs_up_while_esl_link_is_down_then_record_published_and_agent_available(
        emulator, proxy, publisher, engine):
    emulator.place_call("5901", caller_number="5551234", dtmf="1", talk_seconds=20)
    wait_until(lambda: agent_status(engine) == "on_call", 10, "agent on the call")
    proxy.refusing = True
    proxy.cut()
    wait_until(lambda: records(publisher), 10, "call record published while the link is down")
    assert not engine.esl.connected
    (record,) = records(publisher)
    assert (record["queue"], record["agent"], record["hangup_side"]) == ("sales", AGENT, "caller")
    wait_until(lambda: agent_status(engine) == "available", 5, "agent available")
    proxy.refusing = False
    wait_until(lambda: engine.resyncs >= 2, 10, "reconnected and resynced")
    assert {channel.uuid for channel in engine.channels.channels()} == set(emulator.channels)


def test_given_flow_naming_a_sound_missing_from_sounds_dir_when_engine_built_then_refused(tmp_path):
    from fs_cc.errors import ConfigError
    (tmp_path / "sounds").mkdir()
    settings = engine_settings(tmp_path, "127.0.0.1", 1, sounds_dir=tmp_path / "sounds")

    with pytest.raises(ConfigError) as caught:
        Engine(settings, publisher=RecordingPublisher())

    assert "main.yaml:" in str(caught.value) and "ivr/ivr-welcome_to_freeswitch.wav" in str(caught.value)


def test_given_switch_without_a_sound_when_engine_connects_then_it_names_the_missing_sound(
        emulator, engine, caplog):
    assert engine.check_switch_sounds() == []
    emulator.set_global_var("sound_prefix", "/nonexistent/en/us/callie")

    missing = engine.check_switch_sounds()

    assert "ivr/ivr-welcome_to_freeswitch.wav" in [sound for sound, _, _ in missing]
    assert "cannot open under /nonexistent/en/us/callie" in caplog.text


def test_given_a_running_engine_when_its_router_dies_then_health_says_so_and_it_restarts(
        engine, proxy):
    url = "http://%s:%s/health" % engine.control.address
    before = json.loads(urllib.request.urlopen(url, timeout=5).read())
    assert before["ok"] is True and before["switch_connected"] is True
    assert before["router"]["alive"] is True and before["router"]["restarts"] == 0
    engine.acd.router._greenlet.kill(RuntimeError("a bug in routing"), block=True)
    wait_until(lambda: engine.acd.router.restarts == 1, 5, "the router restarted")
    after = json.loads(urllib.request.urlopen(url, timeout=5).read())
    assert after["ok"] is True and after["router"]["restarts"] == 1


def test_given_an_agent_on_call_for_a_call_the_switch_lacks_when_reconciled_then_freed(engine):
    # as after a lost hangup event: the store says on_call, the switch has no leg of the agent
    store = engine.acd.store
    assert store.reserve_agent(AGENT) is not None
    store.set_status(AGENT, "on_call")
    engine.reconciler.grace = 0.0
    engine.resync()
    agent = store.get_agent(AGENT)
    assert agent.status.value == "available" and engine.reconciler.freed == 1
    engine.reconciler.grace = 3600.0  # held a moment ago: its offer may not have a leg yet
    assert store.reserve_agent(AGENT) is not None
    engine.resync()
    assert store.get_agent(AGENT).status.value == "reserved" and engine.reconciler.freed == 1
