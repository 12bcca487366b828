"""Test-side ESL wire helpers: a message reader that records framing, and event parsing."""

import re
import socket
import time
from urllib.parse import unquote

import gevent

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Message:
    """One received message: outer headers, body, and parsed event headers when it is an event."""

    def __init__(self, headers, body):
        self.headers = headers
        self.body = body
        self.event = None
        self.event_body = None
        if headers.get("Content-Type") == "text/event-plain":
            self.event, self.event_body = parse_event_plain(body)

    @property
    def content_type(self):
        return self.headers.get("Content-Type")


def parse_event_plain(body):
    """[(name, decoded value)] of an event-plain body (split lines first, then decode)."""
    head, _, rest = body.partition("\n\n")
    pairs = []
    for line in head.split("\n"):
        if ": " in line:
            key, _, value = line.partition(": ")
            pairs.append((key, unquote(value)))
    return pairs, rest


def parse_message(data):
    """Message from a whole recorded message text."""
    head, _, body = data.partition("\n\n")
    headers = {}
    for line in head.split("\n"):
        if ": " in line:
            key, _, value = line.partition(": ")
            headers.setdefault(key, value)
    return Message(headers, body)


class Reader:
    """Reads whole messages from a socket on its own greenlet, checking Content-Length framing."""

    def __init__(self, sock):
        self.sock = sock
        self.messages = []
        self.framing_errors = []
        self.closed = False
        self._buf = b""
        self._greenlet = gevent.spawn(self._run)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError()
        self._buf += chunk

    def _run(self):
        try:
            while True:
                while b"\n\n" not in self._buf:
                    self._fill()
                head, _, self._buf = self._buf.partition(b"\n\n")
                headers = {}
                for line in head.decode().split("\n"):
                    key, _, value = line.partition(": ")
                    headers.setdefault(key, value)
                length = int(headers.get("Content-Length", 0))
                while len(self._buf) < length:
                    self._fill()
                body, self._buf = self._buf[:length], self._buf[length:]
                message = Message(headers, body.decode())
                if message.event is not None:
                    inner = dict(message.event)
                    if "Content-Length" in inner and int(inner["Content-Length"]) != len(message.event_body.encode()):
                        self.framing_errors.append(inner.get("Event-Name"))
                self.messages.append(message)
        except (EOFError, OSError):
            self.closed = True

    def wait_for(self, predicate, timeout=10.0, what="message"):
        """Poll until predicate(messages) is true."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.messages):
                return
            gevent.sleep(0.005)
        raise AssertionError("timed out waiting for %s" % what)


def connect(address, password="ClueCon"):
    """An authenticated inbound connection: (socket, Reader)."""
    sock = socket.create_connection(address)
    reader = Reader(sock)
    reader.wait_for(lambda m: len(m) >= 1, what="auth/request")
    sock.sendall(("auth %s\n\n" % password).encode())
    reader.wait_for(lambda m: len(m) >= 2, what="auth reply")
    return sock, reader


def command(sock, reader, text, timeout=10.0):
    """Send a command and return the next reply (command/reply or api/response)."""
    before = len([m for m in reader.messages if m.content_type in ("command/reply", "api/response")])
    sock.sendall(text.encode() + b"\n\n")
    reader.wait_for(lambda m: len([x for x in m if x.content_type in ("command/reply", "api/response")]) > before,
                    timeout, "reply to %s" % text)
    return [x for x in reader.messages if x.content_type in ("command/reply", "api/response")][before]


def events(reader, name=None, uuid=None):
    """Received events as dicts, filtered by name and Unique-ID."""
    result = []
    for message in reader.messages:
        if message.event is None:
            continue
        event = dict(message.event)
        if name and event.get("Event-Name") != name:
            continue
        if uuid and event.get("Unique-ID") != uuid:
            continue
        result.append(event)
    return result
