"""ESL wire format: an incremental, pure parser of messages and the events they carry."""

import codecs
import collections.abc
import json
import re
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

    __slots__ = ("_headers", "body")

    def __init__(self, headers, body=""):
        self._headers = headers
        self.body = body

    @property
    def headers(self):
        """Every header, URL-decoded, as a mapping of name to value."""
        return self._headers

    @headers.setter
    def headers(self, headers):
        self._headers = headers

    @property
    def name(self):
        """Event-Name, or Event-Subclass for CUSTOM events."""
        name = self.get("Event-Name")
        if name == "CUSTOM":
            return self.get("Event-Subclass", name)
        return name

    @property
    def uuid(self):
        """The channel's Unique-ID, or None for events about no channel."""
        return self.get("Unique-ID")

    def get(self, key, default=None):
        """One header's value, or default."""
        return self._headers.get(key, default)

    def get_many(self, keys):
        """Several headers' values at once, in order, None for each one absent."""
        return tuple(map(self.headers.get, keys))

    def variable(self, name, default=None):
        """The channel variable `name` as carried by this event (header ``variable_<name>``)."""
        return self.get("variable_" + name, default)

    def variables(self, prefix=""):
        """The channel variables whose names start with prefix, as {name: value}."""
        start = "variable_" + prefix
        return {key[9:]: value for key, value in self.headers.items() if key.startswith(start)}

    def __repr__(self):
        return f"Event({self.name!r}, uuid={self.uuid!r})"


_UNSEEN = object()


class PlainEvent(Event):
    """An event read from text/event-plain lazily: a header is found in the text when asked for.

    Handlers read a handful of an event's hundred-odd headers, and splitting and decoding them
    all was most of the cost of an event. A look-up finds the last line of the header block that
    starts with ``Name:`` (the last of repeated names wins, as in a dict) and decodes that value
    alone; reading :attr:`headers` whole (iterating, comparing) builds the full dict once. A line
    that does not read as ``Name: value`` sends the look-up to the full dict, so both ways agree.
    """

    __slots__ = ("_text", "_end", "_tail", "_found")

    def __init__(self, text, end, tail=None, body=""):
        self._headers = None
        self.body = body
        self._text = text  # the header block is text[:end], still URL-encoded
        self._end = end
        # None, or where the variables start: every line from there on is a variable_ line
        # and none before is (see _layout), so a name is searched only where it can be
        self._tail = tail
        self._found = {}  # name -> decoded value, or None when absent

    @property
    def headers(self):
        """Every header, URL-decoded, as a mapping of name to value."""
        headers = self._headers
        return _HeaderView(self) if headers is None else headers

    @headers.setter
    def headers(self, headers):
        self._headers = headers

    def get(self, key, default=None):
        """One header's value, or default."""
        if self._headers is not None:
            return self._headers.get(key, default)
        value = self._found.get(key, _UNSEEN)
        if value is _UNSEEN:
            value = self._found[key] = self._find(key)
        return default if value is None else value

    def get_many(self, keys):
        """Several headers' values at once, in order, None for each one absent."""
        if self._headers is None:
            found = self._found
            for key in keys:
                if key not in found:
                    found[key] = self._find(key)
                    if self._headers is not None:
                        break  # that one took the full reading: answer from it
            else:
                return tuple(map(found.get, keys))
        return tuple(map(self._headers.get, keys))

    def _find(self, key):
        plan = _PLANS.get(key) or _plan(key)
        if plan is None:
            return self._whole().get(key)
        needle, size, first, variable = plan
        text, tail = self._text, self._tail
        if tail is None:
            low, high = 0, self._end
        elif variable:
            low, high = tail - 1, self._end
        else:
            low, high = 0, tail
        at = text.rfind(needle, low, high)
        if at >= 0:
            start = at + size
        elif low == 0 and text.startswith(first, 0, high):
            start = size - 1  # the first line
        else:
            return None
        if not text.startswith(" ", start):
            return self._whole().get(key)  # `Name:` without a space: only the full reading knows
        stop = text.find("\n", start)
        value = text[start + 1:stop] if stop >= 0 else text[start + 1:self._end]
        return _unquote(value) if "%" in value else value

    def variables(self, prefix=""):
        """The channel variables whose names start with prefix, as {name: value}."""
        start = "variable_" + prefix
        if self._headers is not None or ":" in start or "\n" in start:
            return super().variables(prefix)
        text, end, tail = self._text, self._end, self._tail
        found = {}
        needle = "\n" + start
        if tail is None and text.startswith(start, 0, end):
            begin = 0
        else:
            at = text.find(needle, 0 if tail is None else tail - 1, end)
            begin = at + 1 if at >= 0 else -1
        while begin >= 0:
            stop = text.find("\n", begin, end)
            if stop < 0:
                stop = end
            colon = text.find(":", begin, stop)
            if colon < 0 or not text.startswith(" ", colon + 1, stop):
                return super().variables(prefix)
            value = text[colon + 2:stop]
            found[text[begin + 9:colon]] = _unquote(value) if "%" in value else value
            at = text.find(needle, stop, end)
            begin = at + 1 if at >= 0 else -1
        return found

    def _whole(self):
        headers = self._headers
        if headers is None:
            headers = self._headers = _read_plain_headers(self._text[:self._end])
            self._text = None
        return headers


_PLANS = {}  # header name -> ("\nName:", its length, "Name:", is a variable_ name)


def _plan(key):
    """How to look a name up; None for one that only the full reading can find."""
    if key.__class__ is not str or ":" in key or "\n" in key:
        return None
    plan = ("\n" + key + ":", len(key) + 2, key + ":", key.startswith("variable_"))
    if len(_PLANS) < 4096:  # the names code asks for, not values: a few dozen
        _PLANS[key] = plan
    return plan


class _HeaderView(collections.abc.Mapping):
    """The headers of a PlainEvent: a look-up stays lazy, anything that reads them all parses them all."""

    __slots__ = ("_event",)

    def __init__(self, event):
        self._event = event

    def get(self, key, default=None):
        return self._event.get(key, default)

    def __getitem__(self, key):
        value = self._event.get(key, _UNSEEN)
        if value is _UNSEEN:
            raise KeyError(key)
        return value

    def __contains__(self, key):
        return self._event.get(key, _UNSEEN) is not _UNSEEN

    def __iter__(self):
        return iter(self._event._whole())

    def __len__(self):
        return len(self._event._whole())

    def keys(self):
        return self._event._whole().keys()

    def items(self):
        return self._event._whole().items()

    def values(self):
        return self._event._whole().values()

    def copy(self):
        return dict(self._event._whole())

    def __eq__(self, other):
        if isinstance(other, _HeaderView):
            other = other._event._whole()
        return self._event._whole() == other

    __hash__ = None

    def __repr__(self):
        return repr(self._event._whole())


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


# The head mod_event_socket puts on every event, read without the general loop.
_EVENT_HEAD = re.compile(rb"Content-Length: ([0-9]+)\nContent-Type: text/event-plain").fullmatch


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
        while True:
            if headers is None:
                end = buf.find(b"\n\n", scan)
                if end < 0:
                    if size - pos > self._max_header_bytes:
                        raise ProtocolError(f"header block longer than {self._max_header_bytes} bytes")
                    scan = max(pos, size - 1)
                    break
                event_head = _EVENT_HEAD(buf, pos, end)
                if event_head is not None:
                    length = event_head.group(1)
                    headers = {"Content-Length": length.decode(), "Content-Type": EVENT_PLAIN}
                    need = int(length)
                    pos = scan = end + 2
                else:
                    head = buf[pos:end].decode("utf-8", "replace")
                    pos = scan = end + 2
                    headers = _parse_transport_headers(head)
                    if not headers:
                        headers = None
                        continue  # stray blank lines between messages
                    need = _content_length(headers)
            if size - pos < need:
                break
            body = buf[pos:pos + need].decode("utf-8", "replace") if need else ""
            pos = scan = pos + need
            out.append(Message(headers, body))
            headers = None
        self._headers, self._need = headers, need
        if buf is not self._buf:
            self._buf = bytearray(buf[pos:])
        elif pos:
            del buf[:pos]
        self._scan = scan - pos
        return out


_escape_decode = codecs.escape_decode


def _unquote(value):
    """urllib.parse.unquote(value), in C: %XX becomes \\xXX for the bytes-escape decoder."""
    text = value.replace("\\", "\\\\") if "\\" in value else value
    try:
        raw = _escape_decode(text.replace("%", "\\x").encode("utf-8"))[0]
    except (ValueError, UnicodeEncodeError):
        return unquote(value)  # a stray '%' or a lone surrogate: the reference takes it
    return raw.decode("utf-8", "replace")


def _read_plain_headers(head):
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
    return headers


_LAYOUT_MARK = re.compile("\n\n|\nvariable_|\nEvent-Name:").search


def _layout(text):
    """(end, tail): the header block is text[:end]; tail is where its variables start, or None.

    switch_event_serialize writes the event's own headers, then the channel's variables, then a
    blank line. One search finds the first blank line or variable_ line, whichever comes first:
    the lines before it are the top (none blank, none a variable, and none a second Event-Name,
    which the search would have stopped at). When every line from the first variable_ one to the
    final blank line is a variable_ line, tail is where they start; when a blank line came first,
    the block has no variables and tail is its end. Otherwise (variables followed by other
    headers, say) tail is None and look-ups search the whole block.
    """
    found = _LAYOUT_MARK(text)
    if found is None:
        return len(text), None  # no blank line at all: the block is the whole text
    at = found.start()
    mark = text[at + 1]
    if mark == "E" or at == 0 or text.startswith("variable_"):
        end = text.find("\n\n")
        return (len(text) if end < 0 else end), None
    if mark == "\n":
        return at, at  # the first blank line ends a block with no variables
    tail, end = at + 1, len(text) - 2
    if text.endswith("\n\n") and text.count("\n", tail, end) == text.count("\nvariable_", tail, end):
        return end, tail
    end = text.find("\n\n", tail)
    return (len(text) if end < 0 else end), None


def _parse_plain(text):
    end, tail = _layout(text)
    event = PlainEvent(text, end, tail, text[end + 2:])
    if tail is not None and text.startswith("Event-Name: "):
        # _layout met no other Event-Name line: the first line's is the name, which every
        # handler reads first, taken here where the search has just passed
        name = text[12:text.find("\n")]
        event._found["Event-Name"] = _unquote(name) if "%" in name else name
    return event


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
        return _parse_plain(message.body)
    if content_type == EVENT_JSON:
        return _parse_json(message.body)
    if "Event-Name" in message.headers:
        # The outbound `connect` reply: channel data as URL-encoded transport headers.
        return Event({k: unquote(v) if "%" in v else v for k, v in message.headers.items()}, message.body)
    raise ProtocolError(f"message of type {content_type!r} carries no event")
