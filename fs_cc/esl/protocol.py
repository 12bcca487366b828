"""ESL wire format: an incremental, pure parser of messages and the events they carry."""

import json
from urllib.parse import unquote

from fs_cc.esl.errors import ProtocolError

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


class Event:
    """A FreeSWITCH event: URL-decoded headers and its own body (e.g. a BACKGROUND_JOB result)."""

    __slots__ = ("headers", "body")

    def __init__(self, headers, body=""):
        self.headers = headers
        self.body = body

    @property
    def name(self):
        """Event-Name, or Event-Subclass for CUSTOM events."""
        name = self.headers.get("Event-Name")
        if name == "CUSTOM":
            return self.headers.get("Event-Subclass", name)
        return name

    @property
    def uuid(self):
        """The channel's Unique-ID, or None for events about no channel."""
        return self.headers.get("Unique-ID")

    def get(self, key, default=None):
        """One header's value, or default."""
        return self.headers.get(key, default)

    def variable(self, name, default=None):
        """The channel variable `name` as carried by this event (header ``variable_<name>``)."""
        return self.headers.get("variable_" + name, default)

    def __repr__(self):
        return f"Event({self.name!r}, uuid={self.uuid!r})"


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
        buf += data
        size = len(buf)
        pos = 0
        out = []
        while True:
            if self._headers is None:
                end = buf.find(b"\n\n", self._scan)
                if end < 0:
                    if size - pos > self._max_header_bytes:
                        raise ProtocolError(f"header block longer than {self._max_header_bytes} bytes")
                    self._scan = max(pos, size - 1)
                    break
                head = buf[pos:end].decode("utf-8", "replace")
                pos = self._scan = end + 2
                headers = _parse_transport_headers(head)
                if not headers:
                    continue  # stray blank lines between messages
                self._need = _content_length(headers)
                self._headers = headers
            need = self._need
            if size - pos < need:
                break
            body = buf[pos:pos + need].decode("utf-8", "replace") if need else ""
            pos = self._scan = pos + need
            out.append(Message(self._headers, body))
            self._headers = None
        if pos:
            del buf[:pos]
            self._scan -= pos
        return out


_UNQUOTED = {}
_UNQUOTED_MAX = 8192


def _unquote(value):
    # Channel names, caller ids, variables and dates repeat from event to event: memoise.
    try:
        return _UNQUOTED[value]
    except KeyError:
        pass
    if len(_UNQUOTED) >= _UNQUOTED_MAX:
        _UNQUOTED.clear()
    decoded = _UNQUOTED[value] = unquote(value)
    return decoded


def _parse_plain(text):
    head, _, body = text.partition("\n\n")
    lines = head.split("\n")
    try:
        headers = dict([line.split(": ", 1) for line in lines])
    except ValueError:
        # Some line is not `Name: value` (empty value written as `Name:`, stray line...).
        headers = {}
        for line in lines:
            key, sep, value = line.partition(":")
            if sep:
                headers[key] = value[1:] if value.startswith(" ") else value
    # Decode each value only after the split: an encoded newline (%0A) must stay inside its value.
    for key, value in headers.items():
        if "%" in value:
            headers[key] = _unquote(value)
    return Event(headers, body)


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
    content_type = message.content_type
    if content_type == EVENT_PLAIN:
        return _parse_plain(message.body)
    if content_type == EVENT_JSON:
        return _parse_json(message.body)
    if "Event-Name" in message.headers:
        # The outbound `connect` reply: channel data as URL-encoded transport headers.
        return Event({k: unquote(v) if "%" in v else v for k, v in message.headers.items()}, message.body)
    raise ProtocolError(f"message of type {content_type!r} carries no event")
