"""Test helpers: recorded FreeSWITCH transcripts and raw ESL bytes built from them."""

import json
from urllib.parse import quote

from tests.fixtures import ESL_FIXTURES as FIXTURES
from tests.polling import wait_until


def transcript(name):
    """The message lines of one recorded transcript (the scenario line dropped)."""
    path = FIXTURES / (name if name.endswith(".jsonl") else name + ".jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()[1:]]


def all_transcripts():
    """Every transcript file name."""
    return sorted(p.name for p in FIXTURES.glob("*.jsonl"))


def received(name, conn=None):
    """The whole messages FreeSWITCH sent in a transcript, as text."""
    return [m["data"] for m in transcript(name) if m["dir"] == "recv" and (conn is None or m["conn"] == conn)]


def split_plain(text):
    """Reference parse of an event-plain body: split lines first, then decode each value (of a
    name on several lines the first, as FreeSWITCH reads an event)."""
    from urllib.parse import unquote
    head, _, body = text.partition("\n\n")
    headers = {}
    for line in head.split("\n"):
        key, _, value = line.partition(": ")
        headers.setdefault(key, unquote(value))
    return headers, body


def recorded_event(name, event_name, conn=None):
    """Decoded headers of the first recorded event called event_name in a transcript."""
    for data in received(name, conn):
        head, _, body = data.partition("\n\n")
        if "Content-Type: text/event-plain" in head and body.startswith(f"Event-Name: {event_name}\n"):
            return split_plain(body)[0]
    raise LookupError(event_name)


def event_bytes(headers, body=""):
    """A whole text/event-plain message with URL-encoded header values."""
    lines = [f"{k}: {quote(str(v), safe='')}" for k, v in headers.items() if k != "Content-Length"]
    if body:
        lines.append(f"Content-Length: {len(body.encode())}")
    text = "\n".join(lines) + "\n\n" + body
    data = text.encode()
    return b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(data) + data


def api_response(body):
    """A whole api/response message."""
    data = body.encode()
    return b"Content-Type: api/response\nContent-Length: %d\n\n" % len(data) + data


def command_reply(text, extra=""):
    """A whole command/reply message."""
    return f"Content-Type: command/reply\nReply-Text: {text}\n{extra}\n".encode()


DISCONNECT_BODY = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"


def disconnect_notice(disposition=None, uuid=None):
    """A text/disconnect-notice as FreeSWITCH sends it (linger: no body)."""
    if disposition == "linger":
        return (f"Content-Type: text/disconnect-notice\nControlled-Session-UUID: {uuid}\n"
                f"Content-Disposition: linger\nChannel-Name: loopback/5901-b\nLinger-Time: -1\n"
                f"Content-Length: 0\n\n").encode()
    head = "Content-Type: text/disconnect-notice\n"
    if disposition:
        head += f"Controlled-Session-UUID: {uuid}\nContent-Disposition: {disposition}\n"
    return (head + f"Content-Length: {len(DISCONNECT_BODY)}\n\n" + DISCONNECT_BODY).encode()


def read_command(sock, buf):
    """Read one command (up to its blank line) from a socket; None at EOF. buf is a bytearray."""
    while True:
        end = buf.find(b"\n\n")
        if end >= 0:
            text = buf[:end].decode()
            del buf[:end + 2]
            return text
        try:
            data = sock.recv(65536)
        except OSError:
            return None
        if not data:
            return None
        buf += data


def poll(condition, timeout=5.0, interval=0.005):
    """Wait until condition() is true (gevent-friendly); return its value or raise AssertionError."""
    return wait_until(condition, timeout, interval=interval)
