import logging
import time

import gevent
import pytest
from gevent.event import Event as Flag

from fs_cc.esl.errors import CommandError, ConnectionLost, ESLTimeout, NotConnectedError
from fs_cc.esl.inbound import InboundClient
from tests.esl.fake_freeswitch import FakeFreeSwitch
from tests.esl.wire import event_bytes, poll, recorded_event


@pytest.fixture
def fs():
    server = FakeFreeSwitch().start()
    yield server
    server.stop()


@pytest.fixture
def make_client(fs):
    clients = []

    def make(password="ClueCon", **kwargs):
        kwargs.setdefault("backoff", (0.02, 0.2))
        kwargs.setdefault("command_timeout", 5.0)
        client = InboundClient("127.0.0.1", fs.port, password, **kwargs)
        clients.append(client)
        return client.start()

    yield make
    for client in clients:
        client.stop()


def channel_event(name, uuid, **extra):
    headers = recorded_event("03_call_lifecycle_events", name)
    headers.update({"Unique-ID": uuid, **extra})
    return event_bytes(headers)


def test_given_right_password_when_started_then_connects_and_subscribes(fs, make_client):
    client = make_client()
    assert client.wait_connected(5)
    assert client.connected
    assert fs.commands[:2] == ["auth ClueCon", "event plain ALL"]


def test_given_only_some_events_when_connecting_then_background_job_is_added_for_bgapi(fs, make_client):
    client = make_client(events=("CHANNEL_CREATE", "CHANNEL_HANGUP"))
    assert client.wait_connected(5)
    assert fs.commands[1] == "event plain CHANNEL_CREATE CHANNEL_HANGUP BACKGROUND_JOB"


def test_given_api_when_answered_then_body_is_returned(fs, make_client):
    client = make_client()
    client.wait_connected(5)
    assert client.api("status").startswith("UP 0 years")
    assert client.api("show channels as json") == '{"row_count": 0}\n'


def test_given_api_answered_with_err_when_called_then_command_error_with_reason(fs, make_client):
    client = make_client()
    client.wait_connected(5)
    with pytest.raises(CommandError) as info:
        client.api("originate user/1000 &park()")
    assert info.value.reason == "USER_NOT_REGISTERED"
    assert info.value.command == "originate user/1000 &park()"


def test_given_bgapi_when_job_finishes_then_its_body_is_returned(fs, make_client):
    client = make_client()
    client.wait_connected(5)
    assert client.bgapi("status").startswith("UP 0 years")
    with pytest.raises(CommandError) as info:
        client.bgapi("originate error/no_answer &park()")
    assert info.value.reason == "NO_ANSWER"


def test_given_not_connected_when_api_then_not_connected_error(make_client, fs):
    fs.stop()
    client = make_client()
    with pytest.raises(NotConnectedError):
        client.api("status")


def test_given_wrong_password_when_started_then_clear_error_and_retries_with_growing_delay(fs, make_client, caplog):
    caplog.set_level(logging.INFO, logger="fs_cc.esl")
    client = make_client(password="wrong", backoff=(0.02, 0.5))
    poll(lambda: len(fs.connections) >= 5, timeout=5)
    times = [c.connected_at for c in fs.connections[:5]]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps[-1] > gaps[0] * 2
    assert not client.connected
    refused = [r for r in caplog.records if "refused the ESL password" in r.getMessage()]
    assert refused and refused[0].levelno == logging.ERROR
    assert f"FreeSWITCH at 127.0.0.1:{fs.port} refused the ESL password" in refused[0].getMessage()
    assert all(r.exc_info is None for r in refused)
    assert not client._runner.dead


def test_given_server_drops_when_it_is_back_then_client_reconnects_and_calls_on_connect(fs, make_client):
    client = make_client()
    resyncs = []
    client.on_connect(lambda c: resyncs.append(c.api("show channels as json")))
    poll(lambda: len(resyncs) == 1)
    fs.drop()
    poll(lambda: len(resyncs) == 2)
    assert resyncs == ['{"row_count": 0}\n'] * 2
    assert client.api("status").startswith("UP")


def test_given_command_pending_when_connection_drops_then_it_fails_at_once(fs, make_client):
    client = make_client(command_timeout=30)
    client.wait_connected(5)
    fs.hold.add("slow")
    waiter = gevent.spawn(client.api, "slow")
    poll(lambda: "api slow" in fs.commands)
    started = time.monotonic()
    fs.drop()
    waiter.join(5)
    assert isinstance(waiter.exception, ConnectionLost)
    assert time.monotonic() - started < 1.0


def test_given_command_unanswered_when_timeout_passes_then_esl_timeout_and_later_replies_still_pair(fs, make_client):
    client = make_client()
    client.wait_connected(5)
    fs.hold.add("slow")
    with pytest.raises(ESLTimeout):
        client.api("slow", timeout=0.05)
    fs.push(b"Content-Type: api/response\nContent-Length: 9\n\nlate one\n")
    assert client.api("status").startswith("UP")


def test_given_truncated_message_then_close_when_reading_then_pending_fails_and_nothing_spins(fs, make_client):
    client = make_client(command_timeout=30)
    client.wait_connected(5)
    fs.hold.add("slow")
    waiter = gevent.spawn(client.api, "slow")
    poll(lambda: "api slow" in fs.commands)
    fs.push(b"Content-Type: api/response\nContent-Length: 100\n\nonly part of the body")
    fs.drop()
    waiter.join(5)
    assert isinstance(waiter.exception, ConnectionLost)
    # The hub is free: a short timer fires on time (a spinning reader would starve it).
    started = time.monotonic()
    gevent.sleep(0.02)
    assert time.monotonic() - started < 0.2


def test_given_a_huge_event_when_pushed_then_handler_gets_it_whole(fs, make_client):
    client = make_client()
    got = []
    client.on("BACKGROUND_JOB", got.append)
    client.wait_connected(5)
    body = "y" * (1 << 20)
    fs.push(event_bytes({"Event-Name": "BACKGROUND_JOB", "Job-UUID": "nobody"}, body))
    poll(lambda: got)
    assert got[0].body == body


def test_given_events_when_pushed_then_named_and_star_handlers_get_them_in_order(fs, make_client):
    client = make_client()
    named, everything = [], []
    client.on("CHANNEL_CREATE", named.append)
    client.on("*", everything.append)
    client.wait_connected(5)
    fs.push(channel_event("CHANNEL_CREATE", "c1") + channel_event("CHANNEL_ANSWER", "c1")
            + channel_event("CHANNEL_CREATE", "c2"))
    poll(lambda: len(everything) == 3)
    assert [(e.name, e.uuid) for e in named] == [("CHANNEL_CREATE", "c1"), ("CHANNEL_CREATE", "c2")]
    assert [e.name for e in everything] == ["CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_CREATE"]


def test_given_a_slow_handler_when_events_flow_then_other_handlers_are_not_delayed(fs, make_client):
    client = make_client()
    release = Flag()
    slow_seen, fast_seen = [], []

    def slow(event):
        slow_seen.append(event)
        release.wait()

    client.on("CHANNEL_STATE", slow)
    client.on("CHANNEL_STATE", fast_seen.append)
    client.wait_connected(5)
    fs.push(b"".join(channel_event("CHANNEL_STATE", f"u{i}") for i in range(100)))
    poll(lambda: len(fast_seen) == 100)
    assert len(slow_seen) == 1
    release.set()
    poll(lambda: len(slow_seen) == 100)


def test_given_a_failing_handler_when_events_flow_then_it_and_others_keep_receiving(fs, make_client, caplog):
    client = make_client()
    attempts, ok = [], []

    def broken(event):
        attempts.append(event)
        raise RuntimeError("bug in handler")

    client.on("CHANNEL_ANSWER", broken)
    client.on("CHANNEL_ANSWER", ok.append)
    client.wait_connected(5)
    fs.push(channel_event("CHANNEL_ANSWER", "a") + channel_event("CHANNEL_ANSWER", "b"))
    poll(lambda: len(attempts) == 2 and len(ok) == 2)
    assert any("bug in handler" in (r.exc_text or "") or r.exc_info for r in caplog.records)


def test_given_off_when_events_flow_then_handler_no_longer_called(fs, make_client):
    client = make_client()
    first, marker = [], []
    client.on("CHANNEL_ANSWER", first.append)
    client.on("CHANNEL_HANGUP", marker.append)
    client.wait_connected(5)
    client.off("CHANNEL_ANSWER", first.append)
    fs.push(channel_event("CHANNEL_ANSWER", "a") + channel_event("CHANNEL_HANGUP", "a"))
    poll(lambda: marker)
    assert first == []


def test_given_watch_when_events_of_other_channels_arrive_then_it_sees_only_its_own(fs, make_client):
    client = make_client()
    client.wait_connected(5)
    with client.watch("agent-leg") as watch:
        fs.push(channel_event("CHANNEL_CREATE", "stranger") + channel_event("CHANNEL_CREATE", "agent-leg")
                + channel_event("CHANNEL_CALLSTATE", "agent-leg") + channel_event("CHANNEL_ANSWER", "agent-leg"))
        assert watch.get(timeout=5).name == "CHANNEL_CREATE"
        answered = watch.wait_for(["CHANNEL_ANSWER", "CHANNEL_HANGUP"], timeout=5)
        assert answered.uuid == "agent-leg" and answered.name == "CHANNEL_ANSWER"
        with pytest.raises(ESLTimeout):
            watch.get(timeout=0.02)
    assert "agent-leg" not in client._watches


def test_given_watch_when_connection_drops_then_get_raises_connection_lost(fs, make_client):
    client = make_client()
    client.wait_connected(5)
    watch = client.watch("agent-leg")
    fs.drop()
    with pytest.raises(ConnectionLost):
        watch.get(timeout=5)
    watch.close()
