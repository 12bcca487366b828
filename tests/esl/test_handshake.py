"""InboundClient's connect handshake against peers that close, reject or stay silent (port 0)."""

import logging
import time

import pytest
from gevent.server import StreamServer

from fs_cc.esl.inbound import HandshakeError, InboundClient
from tests.esl.fake_freeswitch import FakeFreeSwitch
from tests.esl.wire import poll

# What mod_event_socket sends a client its ACL refuses, then it closes the socket.
REJECTION = b"Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n"
CONNECT_TIMEOUT = 5.0  # a handshake that waited for it would fail these tests


class Doorman:
    """A TCP server on port 0 greeting each connection as told: close, reject or say nothing."""

    def __init__(self, greeting):
        self.greeting = greeting
        self.accepted = []  # monotonic times of accepted connections
        self._server = StreamServer(("127.0.0.1", 0), self._handle)

    def start(self):
        """Listen on a free port."""
        self._server.start()
        return self

    @property
    def port(self):
        """The port actually bound."""
        return self._server.server_port

    def stop(self):
        """Stop listening."""
        self._server.stop(timeout=1)

    def _handle(self, sock, _address):
        self.accepted.append(time.monotonic())
        if self.greeting == "silent":
            sock.recv(1024)  # until the client gives up and closes
            return
        if self.greeting == "reject":
            sock.sendall(REJECTION)
        sock.close()


@pytest.fixture
def make_doorman():
    servers = []

    def make(greeting):
        server = Doorman(greeting).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def make_client():
    clients = []

    def make(port, **kwargs):
        client = InboundClient("127.0.0.1", port, "ClueCon", **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.stop()


def first_error(client, timeout):
    """Start the client and return (its first connection error, seconds it took)."""
    started = time.monotonic()
    client.start()
    poll(lambda: client.last_error is not None, timeout=timeout)
    return client.last_error, time.monotonic() - started


@pytest.mark.parametrize("greeting, reason", [
    ("close", "peer closed"),
    ("reject", "rude rejection"),
])
def test_given_peer_ends_before_auth_request_when_connecting_then_attempt_fails_at_once(
        make_doorman, make_client, greeting, reason):
    server = make_doorman(greeting)
    client = make_client(server.port, connect_timeout=CONNECT_TIMEOUT)
    error, took = first_error(client, timeout=CONNECT_TIMEOUT)
    assert took < 1.0
    assert isinstance(error, HandshakeError)
    assert (error.host, error.port, error.reason) == ("127.0.0.1", server.port, reason)
    assert f"127.0.0.1:{server.port}" in str(error)
    assert not client.connected


def test_given_rude_rejection_when_connecting_then_error_names_the_acl(make_doorman, make_client):
    server = make_doorman("reject")
    client = make_client(server.port, connect_timeout=CONNECT_TIMEOUT)
    error, _ = first_error(client, timeout=CONNECT_TIMEOUT)
    assert "apply-inbound-acl" in str(error)


def test_given_silent_peer_when_connect_timeout_passes_then_attempt_fails_naming_the_wait(
        make_doorman, make_client):
    server = make_doorman("silent")
    client = make_client(server.port, connect_timeout=0.1)
    error, took = first_error(client, timeout=2)
    assert isinstance(error, HandshakeError)
    assert error.reason == "no auth/request within 0.1s"
    assert 0.1 <= took < 1.0


@pytest.mark.parametrize("greeting", ["close", "reject"])
def test_given_peer_keeps_ending_handshakes_when_running_then_retries_with_backoff_not_timeout(
        make_doorman, make_client, caplog, greeting):
    caplog.set_level(logging.INFO, logger="fs_cc.esl")
    server = make_doorman(greeting)
    client = make_client(server.port, connect_timeout=CONNECT_TIMEOUT, backoff=(0.02, 0.5)).start()
    poll(lambda: len(server.accepted) >= 4, timeout=3)
    gaps = [b - a for a, b in zip(server.accepted, server.accepted[1:4])]
    assert gaps[-1] > gaps[0]  # backing off, each attempt over long before connect_timeout
    assert not client.connected
    assert isinstance(client.last_error, HandshakeError)
    errors = [r for r in caplog.records if "gave no auth/request" in r.getMessage()]
    assert errors and errors[0].levelno == logging.ERROR and errors[0].exc_info is None


def test_given_switch_rejected_then_accepts_when_running_then_client_connects(
        make_doorman, make_client):
    fs = FakeFreeSwitch().start()
    try:
        server = make_doorman("reject")
        client = make_client(server.port, connect_timeout=CONNECT_TIMEOUT,
                             backoff=(0.02, 0.05)).start()
        poll(lambda: len(server.accepted) >= 2, timeout=3)
        client.port = fs.port  # e.g. the ACL was fixed: the next attempt gets in
        assert client.wait_connected(3)
        assert fs.commands[:1] == ["auth ClueCon"]
    finally:
        fs.stop()


def test_given_nothing_listening_when_retrying_then_warnings_first_then_errors(make_client, caplog):
    import socket

    caplog.set_level(logging.INFO, logger="fs_cc.esl")
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(port, backoff=(0.01, 0.02)).start()

    def misses():
        return [r.levelno for r in caplog.records if "cannot reach FreeSWITCH" in r.getMessage()]

    poll(lambda: len(misses()) >= 5, timeout=3)
    assert misses()[:5] == [logging.WARNING] * 3 + [logging.ERROR] * 2
