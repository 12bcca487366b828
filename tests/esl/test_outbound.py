import time

import gevent
import pytest
from gevent import socket

from fs_cc.esl.errors import CallerHungUp, CommandError
from fs_cc.esl.outbound import OutboundServer
from tests.esl.wire import (command_reply, disconnect_notice, event_bytes, poll, read_command, received,
                            recorded_event)

IVR = "05_outbound_socket_ivr"
CONNECT_REPLY = received(IVR, "outbound")[0].encode()  # CHANNEL_DATA exactly as recorded
CALLER_UUID = "9dfe76e5-0811-4797-9987-3ba7a61a1b39"


class FakeChannel:
    """FreeSWITCH's side of one outbound socket: connects to us and answers like the recording."""

    def __init__(self, address):
        self.sock = socket.create_connection(address)
        self.connected_at = time.monotonic()
        self.buf = bytearray()

    def expect(self, prefix):
        command = read_command(self.sock, self.buf)
        assert command is not None and command.startswith(prefix), command
        return command

    def push(self, data):
        self.sock.sendall(data)

    def handshake(self):
        self.expect("connect")
        self.push(CONNECT_REPLY)
        self.expect("myevents")
        self.push(command_reply("+OK Events Enabled"))
        self.expect("linger")
        self.push(command_reply("+OK will linger"))

    def event(self, name, **extra):
        headers = recorded_event(IVR, name, "outbound")
        headers.update(extra)
        self.push(event_bytes(headers))

    def take_execute(self, app):
        command = self.expect("sendmsg")
        assert f"execute-app-name: {app}" in command
        self.push(command_reply("+OK"))
        return command.split("Event-UUID: ", 1)[1].split("\n", 1)[0]

    def hang_up(self, cause="ORIGINATOR_CANCEL"):
        self.event("CHANNEL_HANGUP", **{"Hangup-Cause": cause})

    def closed_by_peer(self, timeout=5):
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except OSError:
            return True

    def close(self):
        self.sock.close()


@pytest.fixture
def run_server():
    servers = []

    def start(handler, **kwargs):
        server = OutboundServer("127.0.0.1", 0, handler, linger_wait=2.0, **kwargs).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop(timeout=1)


def test_given_a_call_when_it_connects_then_handshake_and_channel_data_reach_the_handler(run_server):
    seen = []
    server = run_server(seen.append)
    channel = FakeChannel(server.address)
    channel.handshake()
    session = poll(lambda: seen and seen[0])
    assert session.uuid == CALLER_UUID
    assert session.call_uuid == CALLER_UUID
    assert session.caller_number == "13800138000"
    assert session.caller_name == "Bob"
    assert session.destination_number == "5901"
    assert session.get_var("fs_cc_did") == "5901"
    assert session.data.name == "CHANNEL_DATA"
    assert channel.closed_by_peer()  # the handler returned: the socket is closed
    channel.close()


def test_given_calls_arriving_when_accepted_then_connect_is_sent_without_polling_delay(run_server):
    server = run_server(lambda session: None)
    delays = []
    for _ in range(5):
        channel = FakeChannel(server.address)
        channel.expect("connect")
        delays.append(time.monotonic() - channel.connected_at)
        channel.close()
    assert max(delays) < 0.05


def test_given_execute_when_completion_arrives_then_it_returns_the_matching_event(run_server):
    results = []

    def handler(session):
        results.append(session.execute("playback", "tone_stream://%(300,100,440);loops=2"))
        session.set_var("fs_cc_queue", "sales")
        results.append(session.get_var("fs_cc_queue"))
        session.hangup()

    server = run_server(handler)
    channel = FakeChannel(server.address)
    channel.handshake()
    app_uuid = channel.take_execute("playback")
    channel.event("CHANNEL_EXECUTE", **{"Application": "playback", "Application-UUID": app_uuid})
    # A completion of some other application must not satisfy the wait.
    channel.event("CHANNEL_EXECUTE_COMPLETE", **{"Application": "playback", "Application-UUID": "other"})
    channel.event("CHANNEL_EXECUTE_COMPLETE", **{"Application": "playback", "Application-UUID": app_uuid,
                                                 "Application-Response": "FILE PLAYED"})
    set_uuid = channel.take_execute("set")
    channel.event("CHANNEL_EXECUTE_COMPLETE", **{"Application": "set", "Application-UUID": set_uuid})
    hangup = channel.expect("sendmsg")
    assert "call-command: hangup" in hangup and "hangup-cause: NORMAL_CLEARING" in hangup
    channel.push(command_reply("+OK"))
    poll(lambda: len(results) == 2)
    assert results[0].get("Application-UUID") == app_uuid
    assert results[0].get("Application-Response") == "FILE PLAYED"
    assert results[1] == "sales"
    channel.close()


def test_given_caller_hangs_up_during_execute_then_caller_hung_up_and_linger_then_closed(run_server):
    outcome = []
    sessions = []

    def handler(session):
        sessions.append(session)
        try:
            session.execute("playback", "long.wav")
        except CallerHungUp as exc:
            outcome.append(exc)
        try:
            session.execute("playback", "after.wav")
        except CallerHungUp as exc:
            outcome.append(exc)

    server = run_server(handler)
    channel = FakeChannel(server.address)
    channel.handshake()
    app_uuid = channel.take_execute("playback")
    channel.event("CHANNEL_EXECUTE", **{"Application": "playback", "Application-UUID": app_uuid})
    channel.hang_up("ORIGINATOR_CANCEL")
    channel.event("CHANNEL_EXECUTE_COMPLETE", **{"Application": "playback", "Application-UUID": app_uuid,
                                                 "Application-Response": "PLAYBACK ERROR"})
    poll(lambda: len(outcome) == 2)
    assert [e.cause for e in outcome] == ["ORIGINATOR_CANCEL"] * 2
    assert outcome[0].uuid == CALLER_UUID
    session = sessions[0]
    assert session.hungup.is_set() and not session.is_up
    assert session.hangup_cause == "ORIGINATOR_CANCEL"
    assert session.hangup_event.name == "CHANNEL_HANGUP"
    # Still lingering: the session reads on until the disconnect notice.
    channel.event("CHANNEL_HANGUP_COMPLETE", variable_hangup_cause="ORIGINATOR_CANCEL")
    channel.push(disconnect_notice("linger", CALLER_UUID))
    poll(lambda: session.lingering)
    assert not session.closed.is_set()
    assert session.get_var("hangup_cause") == "ORIGINATOR_CANCEL"
    channel.push(disconnect_notice("disconnect", CALLER_UUID))
    poll(lambda: session.closed.is_set())
    assert channel.closed_by_peer()
    channel.close()


def test_given_execute_refused_when_called_then_command_error(run_server):
    errors = []

    def handler(session):
        try:
            session.execute("no_such_app")
        except CommandError as exc:
            errors.append(exc)

    server = run_server(handler)
    channel = FakeChannel(server.address)
    channel.handshake()
    channel.expect("sendmsg")
    channel.push(command_reply("-ERR no such application"))
    poll(lambda: errors)
    assert errors[0].reason == "no such application"
    channel.close()


def test_given_wait_for_dtmf_when_it_arrives_then_returned_and_hangup_ends_other_waits(run_server):
    got = []

    def handler(session):
        got.append(session.wait_for("DTMF", lambda e: e.get("DTMF-Digit") == "2", timeout=5))
        try:
            session.wait_for("DTMF", timeout=5)
        except CallerHungUp as exc:
            got.append(exc)
        got.append(session.wait_for("CHANNEL_HANGUP_COMPLETE", timeout=5))

    server = run_server(handler)
    channel = FakeChannel(server.address)
    channel.handshake()
    poll(lambda: server.sessions and next(iter(server.sessions))._waiters)
    channel.event("DTMF", **{"DTMF-Digit": "1"})
    channel.event("DTMF", **{"DTMF-Digit": "2"})
    poll(lambda: len(got) == 1)
    poll(lambda: next(iter(server.sessions))._waiters)
    channel.hang_up("NORMAL_CLEARING")
    channel.event("CHANNEL_HANGUP_COMPLETE", **{"Hangup-Cause": "NORMAL_CLEARING"})
    poll(lambda: len(got) == 3)
    assert got[0].get("DTMF-Digit") == "2"
    assert isinstance(got[1], CallerHungUp)
    assert got[2].name == "CHANNEL_HANGUP_COMPLETE"
    channel.close()


def test_given_socket_closed_by_freeswitch_when_handler_waits_then_it_does_not_hang(run_server):
    errors = []

    def handler(session):
        try:
            session.execute("playback", "x.wav")
        except Exception as exc:  # noqa: BLE001 - the test records whatever comes
            errors.append(exc)

    server = run_server(handler)
    channel = FakeChannel(server.address)
    channel.handshake()
    channel.take_execute("playback")
    channel.push(b"Content-Length: 500\nContent-Type: text/event-plain\n\nEvent-Name: CHANNEL_EXE")
    channel.close()
    poll(lambda: errors, timeout=2)
    assert type(errors[0]).__name__ == "ConnectionLost"


def test_given_session_handlers_when_events_arrive_then_each_gets_them(run_server):
    seen = []

    def handler(session):
        session.on("DTMF", seen.append)
        session.wait_for("CHANNEL_HANGUP", timeout=5)
        poll(lambda: seen)

    server = run_server(handler)
    channel = FakeChannel(server.address)
    channel.handshake()
    poll(lambda: server.sessions and next(iter(server.sessions))._waiters)
    channel.event("DTMF", **{"DTMF-Digit": "5"})
    channel.hang_up()
    poll(lambda: seen)
    assert seen[0].get("DTMF-Digit") == "5"
    channel.close()


def test_given_a_pool_size_when_full_then_next_call_waits_for_a_free_slot(run_server):
    release = gevent.event.Event()
    server = run_server(lambda session: release.wait(), pool_size=1)
    first = FakeChannel(server.address)
    first.handshake()
    second = FakeChannel(server.address)
    second.sock.settimeout(0.1)
    with pytest.raises(OSError):
        second.sock.recv(1)
    release.set()
    second.sock.settimeout(5)
    second.expect("connect")
    first.close()
    second.close()
