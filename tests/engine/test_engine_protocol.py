"""A real Engine against a fake FreeSWITCH speaking raw ESL bytes on a real socket (port 0).

Each test breaks the protocol one way and checks the engine logs it, stays up, and goes on
tracking channels (reconnecting and resyncing with `show channels` where the link had to go).
"""

import json
import logging
import time

import gevent
import pytest

from fs_cc.control import ControlClient
from fs_cc.engine import Engine
from fs_cc.esl.errors import ConnectionLost
from tests.engine.support import RecordingPublisher, engine_settings, stop_engine
from tests.esl.fake_freeswitch import FakeFreeSwitch
from tests.esl.wire import event_bytes, poll, recorded_event

SHOW = "show channels as json"


@pytest.fixture
def fs():
    server = FakeFreeSwitch().start()
    yield server
    server.stop()


@pytest.fixture
def engine(fs, tmp_path):
    engine = Engine(engine_settings(tmp_path, "127.0.0.1", fs.port), publisher=RecordingPublisher())
    engine.esl.backoff = (0.02, 0.2)  # reconnect at test speed
    engine.start()
    assert engine.esl.wait_connected(5)
    poll(lambda: engine.resyncs == 1)
    yield engine
    stop_engine(engine)


def channel_event(name, uuid, **extra):
    """A recorded FreeSWITCH 1.10.12 event, moved onto channel `uuid`."""
    headers = recorded_event("03_call_lifecycle_events", name)
    headers.update({"Unique-ID": uuid, "Channel-Call-UUID": uuid, **extra})
    headers.pop("variable_other_loopback_leg_uuid", None)
    return event_bytes(headers)


def show_channels(*uuids):
    rows = [{"uuid": uuid, "direction": "inbound", "created_epoch": "1795372152",
             "name": f"sofia/internal/{uuid}", "state": "CS_EXECUTE", "cid_num": "5551234",
             "dest": "5901", "callstate": "ACTIVE", "call_uuid": uuid} for uuid in uuids]
    return json.dumps({"row_count": len(rows), "rows": rows}) if rows else '{"row_count": 0}'


def wait_reconnected(fs, engine, connections):
    poll(lambda: len(fs.connections) >= connections and engine.esl.connected
         and engine.resyncs >= connections)


def test_given_engine_when_connected_then_it_resyncs_with_show_channels(fs, engine):
    assert f"api {SHOW}" in fs.commands
    assert engine.calls() == []


def test_given_events_when_pushed_then_calls_show_each_call_with_its_legs(fs, engine):
    fs.push(channel_event("CHANNEL_CREATE", "caller-1"))
    fs.push(channel_event("CHANNEL_CREATE", "agent-1", variable_fs_cc_call_uuid="caller-1",
                          variable_fs_cc_agent="1000"))
    fs.push(channel_event("CHANNEL_ANSWER", "agent-1"))
    poll(lambda: engine.channels.get("agent-1") and engine.channels.get("agent-1").answered_at)
    (call,) = engine.calls()
    assert call["uuid"] == "caller-1"
    assert [leg["uuid"] for leg in call["legs"]] == ["caller-1", "agent-1"]
    agent_leg = next(leg for leg in call["legs"] if leg["uuid"] == "agent-1")
    assert agent_leg["phase"] == "answered" and agent_leg["variables"]["fs_cc_agent"] == "1000"
    served = ControlClient("http://%s:%s" % engine.control.address, "test-control-secret").calls()
    assert served == json.loads(json.dumps(engine.calls()))


def test_given_truncated_message_when_peer_closes_then_logged_reconnected_and_resynced(
        fs, engine, caplog):
    caplog.set_level(logging.WARNING)
    fs.push(channel_event("CHANNEL_CREATE", "before"))
    poll(lambda: "before" in engine.channels)
    fs.api[SHOW] = show_channels()  # the channel ended meanwhile
    whole = channel_event("CHANNEL_ANSWER", "before")
    fs.push(whole[:len(whole) // 2])
    gevent.sleep(0)
    fs.current.close()
    wait_reconnected(fs, engine, 2)
    assert any("partial message" in r.getMessage() for r in caplog.records)
    assert "before" not in engine.channels
    fs.push(channel_event("CHANNEL_CREATE", "after"))
    poll(lambda: "after" in engine.channels)


@pytest.mark.parametrize("error", [-300, +60])
def test_given_wrong_content_length_when_read_then_engine_survives_and_tracks_later_events(
        fs, engine, error):
    good = channel_event("CHANNEL_CREATE", "bad-length")
    head, _, body = good.partition(b"\n\n")
    wrong = b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % (len(body) + error) + body
    fs.push(wrong + channel_event("CHANNEL_CREATE", "next-1"))
    for index in range(2, 6):
        gevent.sleep(0.02)
        if fs.current.closed:
            break
        fs.push(channel_event("CHANNEL_CREATE", f"next-{index}"))
    wait_reconnected(fs, engine, len(fs.connections))
    fs.push(channel_event("CHANNEL_CREATE", "later"))
    poll(lambda: "later" in engine.channels)
    assert engine.esl.api("status").startswith("UP")


def test_given_content_length_not_a_number_when_read_then_logged_dropped_and_reconnected(
        fs, engine, caplog):
    caplog.set_level(logging.ERROR)
    fs.push(b"Content-Type: text/event-plain\nContent-Length: lots\n\nEvent-Name: HEARTBEAT\n\n")
    wait_reconnected(fs, engine, 2)
    assert any("Content-Length 'lots'" in r.getMessage() for r in caplog.records)
    fs.push(channel_event("CHANNEL_CREATE", "after"))
    poll(lambda: "after" in engine.channels)


def test_given_unknown_content_type_when_read_then_skipped_on_the_same_connection(fs, engine):
    fs.push(b"Content-Type: text/x-fs-cc-mystery\nContent-Length: 12\n\nhello\n\nthere"
            + channel_event("CHANNEL_CREATE", "after"))
    poll(lambda: "after" in engine.channels)
    assert len(fs.connections) == 1 and engine.esl.connected


def test_given_one_megabyte_event_when_read_then_tracked_on_the_same_connection(fs, engine):
    note = "x" * (1 << 20)
    fs.push(channel_event("CHANNEL_CREATE", "huge", variable_fs_cc_note=note)
            + channel_event("CHANNEL_CREATE", "small"))
    poll(lambda: "small" in engine.channels)
    assert engine.channels.get("huge").variables["fs_cc_note"] == note
    assert len(fs.connections) == 1


def test_given_events_for_unknown_channels_when_read_then_ignored_or_adopted(fs, engine):
    for name in ("CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY", "CHANNEL_UNPARK"):
        fs.push(channel_event(name, "ghost"))
    fs.push(channel_event("CHANNEL_ANSWER", "adopted"))
    poll(lambda: "adopted" in engine.channels)
    assert "ghost" not in engine.channels and engine.channels.unknown_events >= 4
    assert [call["uuid"] for call in engine.calls()] == ["adopted"]
    assert len(fs.connections) == 1


def test_given_command_in_flight_when_connection_drops_then_it_fails_at_once_and_engine_resyncs(
        fs, engine, caplog):
    caplog.set_level(logging.WARNING)
    fs.push(channel_event("CHANNEL_CREATE", "caller-1"))
    fs.push(channel_event("CHANNEL_CREATE", "agent-1", variable_fs_cc_call_uuid="caller-1",
                          variable_fs_cc_agent="1000"))
    poll(lambda: "agent-1" in engine.channels)
    fs.hold.add("uuid_kill caller-1")
    pending = gevent.spawn(engine.esl.api, "uuid_kill caller-1")
    poll(lambda: "api uuid_kill caller-1" in fs.commands)
    fs.api[SHOW] = show_channels("caller-1")  # the agent hung up while we were away
    dropped_at = time.monotonic()
    fs.drop()
    pending.join(2)
    assert time.monotonic() - dropped_at < 1.0
    assert isinstance(pending.exception, ConnectionLost)
    assert "uuid_kill caller-1" in str(pending.exception)
    wait_reconnected(fs, engine, 2)
    assert "agent-1" not in engine.channels and "caller-1" in engine.channels
    assert any("agent 1000" in r.getMessage() and "agent-1" in r.getMessage()
               for r in caplog.records)
    assert engine.esl.api("status").startswith("UP")


def test_given_acd_with_a_vanished_leg_hook_when_resync_finds_one_then_it_is_told(
        fs, engine, monkeypatch):
    told = []
    monkeypatch.setattr(engine.acd, "agent_legs_vanished", told.extend, raising=False)
    fs.push(channel_event("CHANNEL_CREATE", "agent-2", variable_fs_cc_agent="1002"))
    fs.push(channel_event("CHANNEL_CREATE", "other"))
    poll(lambda: "other" in engine.channels)
    fs.api[SHOW] = show_channels()
    fs.drop()
    wait_reconnected(fs, engine, 2)
    assert [leg.uuid for leg in told] == ["agent-2"] and told[0].agent == "1002"


def test_given_resync_answer_is_garbage_when_reconnected_then_logged_and_view_kept(
        fs, engine, caplog):
    caplog.set_level(logging.WARNING)
    fs.push(channel_event("CHANNEL_CREATE", "kept"))
    poll(lambda: "kept" in engine.channels)
    fs.api[SHOW] = "-ERR something odd\n"
    fs.drop()
    poll(lambda: len(fs.connections) == 2 and engine.esl.connected)
    poll(lambda: any("resync" in r.getMessage() and "failed" in r.getMessage()
                     for r in caplog.records))
    assert "kept" in engine.channels and engine.resyncs == 1


def test_given_agent_leg_outlives_its_call_when_link_comes_back_then_engine_hangs_it_up(fs, engine):
    fs.push(channel_event("CHANNEL_CREATE", "agent-9", variable_fs_cc_call_uuid="gone-caller",
                          variable_fs_cc_agent="1000"))
    fs.push(channel_event("CHANNEL_CREATE", "other-9"))  # not an agent leg: left alone
    poll(lambda: engine.channels.get("agent-9") and engine.channels.get("other-9"))
    fs.api[SHOW] = show_channels("agent-9", "other-9")  # both still up on the switch
    fs.drop()
    wait_reconnected(fs, engine, 2)
    poll(lambda: "api uuid_kill agent-9 NORMAL_CLEARING" in fs.commands)
    assert not any(c.startswith("api uuid_kill other-9") for c in fs.commands)
