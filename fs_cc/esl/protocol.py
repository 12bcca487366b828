"""ESL wire format: an incremental, pure parser of messages, and the events they carry (fs_cc.esl.event)."""

import json
import re
from urllib.parse import unquote

from fs_cc.esl.errors import ProtocolError
from fs_cc.esl.event import Event, PlainEvent, read_plain  # noqa: F401 - imported from here too
from fs_cc.esl.plain_text import _unquote  # noqa: F401 - imported from here too

EVENT_PLAIN = "text/event-plain"
EVENT_JSON = "text/event-json"
COMMAND_REPLY = "command/reply"
API_RESPONSE = "api/response"
AUTH_REQUEST = "auth/request"
DISCONNECT_NOTICE = "text/disconnect-notice"
RUDE_REJECTION = "text/rude-rejection"

# Transport headers are a few hundred bytes; the largest real block is the
# outbound `connect` reply carrying every channel variable (a few KB).
MAX_HEADER_BYTES = 1 << 20


class Message:
    """One whole ESL message: transport headers and exactly Content-Length bytes of body."""

    __slots__ = ("headers", "body")

    def __init__(self, headers, body=""):
        self.headers = headers
        self.body = body

    @property
    def content_type(self):
        """The Content-Type header, or None."""
        return self.headers.get("Content-Type")

    @property
    def reply_text(self):
        """The Reply-Text header, URL-decoded (the outbound connect reply encodes it)."""
        text = self.headers.get("Reply-Text", "")
        return unquote(text).strip() if "%" in text else text

    def __repr__(self):
        return f"Message({self.content_type!r}, {len(self.headers)} headers, {len(self.body)} chars)"


def _parse_transport_headers(head):
    headers = {}
    for line in head.split("\n"):
        key, sep, value = line.partition(":")
        if not sep:
            continue  # blank or garbage line: nothing to keep
        headers[key.strip()] = value.strip()
    return headers


def _content_length(headers):
    raw = headers.get("Content-Length")
    if raw is None or raw == "":
        return 0
    try:
        length = int(raw)
    except ValueError:
        raise ProtocolError(f"Content-Length {raw!r} is not a number") from None
    if length < 0:
        raise ProtocolError(f"Content-Length {raw!r} is negative")
    return length


# The head mod_event_socket puts on every event, read without the general loop (nor a search
# for its end: it holds no blank line before its own)
_EVENT_HEAD = re.compile(rb"Content-Length: ([0-9]+)\nContent-Type: text/event-plain\n\n").match


class Parser:
    """Incremental ESL framer: feed it bytes as they come, get back whole Messages."""

    def __init__(self, max_header_bytes=MAX_HEADER_BYTES):
        self._buf = bytearray()
        self._scan = 0  # where the search for the end of the header block resumes
        self._headers = None  # headers of the message whose body is still arriving
        self._need = 0
        self._max_header_bytes = max_header_bytes

    @property
    def pending_bytes(self):
        """How many received bytes do not yet form a whole message."""
        return len(self._buf)

    def feed(self, data):
        """Add received bytes; return the list of Messages they complete (often empty)."""
        buf = self._buf
        if buf or data.__class__ is not bytes:
            buf += data
        else:
            buf = data  # nothing pending: read the received bytes where they are
        size = len(buf)
        pos, scan, headers, need = 0, self._scan, self._headers, self._need
        out = []
        # bodies are decoded from the buffer where they lie, not from a copy sliced out first;
        # released before the buffer is resized (a bytearray with a view on it cannot be)
        view = memoryview(buf)
        try:
            while True:
                if headers is None:
                    event_head = _EVENT_HEAD(buf, pos)
                    if event_head is not None:
                        length = event_head.group(1)
                        headers = {"Content-Length": length.decode(), "Content-Type": EVENT_PLAIN}
                        need = int(length)
                        pos = scan = event_head.end()
                    else:
                        end = buf.find(b"\n\n", scan)
                        if end < 0:
                            if size - pos > self._max_header_bytes:
                                raise ProtocolError(f"header block longer than {self._max_header_bytes} bytes")
                            scan = max(pos, size - 1)
                            break
                        head = buf[pos:end].decode("utf-8", "replace")
                        pos = scan = end + 2
                        headers = _parse_transport_headers(head)
                        if not headers:
                            headers = None
                            continue  # stray blank lines between messages
                        need = _content_length(headers)
                if size - pos < need:
                    break
                body = str(view[pos:pos + need], "utf-8", "replace") if need else ""
                pos = scan = pos + need
                out.append(Message(headers, body))
                headers = None
        finally:
            view.release()
        self._headers, self._need = headers, need
        if buf is not self._buf:
            self._buf = bytearray(buf[pos:])
        elif pos:
            del buf[:pos]
        self._scan = scan - pos
        return out


def _parse_json(text):
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ProtocolError(f"bad event JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError("event JSON is not an object")
    body = data.pop("_body", "")
    return Event({str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}, body)


def parse_event(message):
    """The Event carried by a Message (event-plain, event-json, or the outbound connect reply)."""
    content_type = message.headers.get("Content-Type")
    if content_type == EVENT_PLAIN:
        return read_plain(message.body)
    if content_type == EVENT_JSON:
        return _parse_json(message.body)
    if "Event-Name" in message.headers:
        # The outbound `connect` reply: channel data as URL-encoded transport headers.
        return Event({k: unquote(v) if "%" in v else v for k, v in message.headers.items()}, message.body)
    raise ProtocolError(f"message of type {content_type!r} carries no event")
