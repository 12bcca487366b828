"""ESL wire format: an incremental, pure parser of messages and the events they carry."""

import codecs
import collections.abc
import json
import os
import re
import types
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
# PlainEvent._found once the headers are read whole (or replaced): it answers nothing, so every
# look-up goes on to the dict; read-only, so that nothing is ever kept in it by mistake
_READ_WHOLE = types.MappingProxyType({})


class PlainEvent(Event):
    """An event read from text/event-plain lazily: a header is found in the text when asked for.

    Handlers read a handful of an event's hundred-odd headers, and splitting and decoding them
    all was most of the cost of an event. A look-up finds the last line of the header block that
    starts with ``Name:`` (the last of repeated names wins, as in a dict) and decodes that value
    alone; reading :attr:`headers` whole (iterating, comparing) builds the full dict once. A line
    that does not read as ``Name: value`` sends the look-up to the full dict, so both ways agree.
    get_many of several names above the variables and variables() each read their lines in one
    pass of re instead of one search per name (the searches were most of a tracked event's cost).
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
        self._found = _READ_WHOLE

    def get(self, key, default=None):
        """One header's value, or default."""
        found = self._found  # a value found before is the common case: it is asked first
        value = found.get(key, _UNSEEN)
        if value is _UNSEEN:
            headers = self._headers
            if headers is not None:
                return headers.get(key, default)
            # into this dict, not self._found: a look-up that takes the full reading replaces it
            value = found[key] = self._find(key)
        return default if value is None else value

    def get_many(self, keys):
        """Several headers' values at once, in order, None for each one absent."""
        found = self._found
        if self._tail is not None and self._headers is None and keys.__class__ is tuple:
            plan = _MANY_PLANS.get(keys)
            if plan is None:
                plan = _many_plan(keys)
            if plan and keys[plan[2]] not in found:  # its first name above the variables: unseen
                values = self._find_many(keys, plan)
                if values is not None:
                    return values
        values = []
        for key in keys:
            value = found.get(key, _UNSEEN)
            if value is _UNSEEN:
                if self._headers is not None:
                    break  # read whole (before, or by the look-up just made): answer from it
                value = found[key] = self._find(key)
            values.append(value)
        else:
            return tuple(values)
        return tuple(map(self._headers.get, keys))

    def _find_many(self, keys, plan):
        """get_many of several names above the variables: one pass of re finds all their lines.

        The last line of each name wins, as with _find; a name on the first line, or whose last
        line reads `Name:` without a space, and the other names are looked up as get does.
        None when a look-up took the full reading.
        """
        findall, names, _ = plan
        found, text, tail = self._found, self._text, self._tail
        lines = {}
        for name, space, value in findall(text, 0, tail):
            lines[name] = value if space else None
        values = []
        for key in keys:
            value = found.get(key, _UNSEEN)
            if value is _UNSEEN:
                if key in names:
                    value = lines.get(key, _UNSEEN)
                    if value is None:
                        self._whole()  # `Name:` without a space: only the full reading knows
                        return None
                    if value is _UNSEEN:
                        value = self._find(key) if text.startswith(names[key], 0, tail) else None
                    elif "%" in value:
                        value = _unquote(value)
                else:
                    value = self._find(key)
                if self._headers is not None:
                    return None
                found[key] = value
            values.append(value)
        return tuple(values)

    def _find(self, key):
        plan = _PLANS.get(key) or _plan(key)
        if plan is None:
            return self._whole().get(key)
        needle, size, variable = plan
        text, tail = self._text, self._tail
        if tail is not None and not variable:  # most look-ups: a name above the variables
            at = text.rfind(needle, 0, tail)
            high = tail
        elif tail is not None:
            at = text.rfind(needle, tail - 1, self._end)
            if at < 0:
                return None  # no variable on the first line: the top is above them
        else:
            high = self._end
            at = text.rfind(needle, 0, high)
        if at < 0:
            if not text.startswith(needle[1:], 0, high):
                return None
            at = -1  # the first line, as if a line break came before it
        start = at + size
        if text[start:start + 1] != " ":
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
        if tail is not None:
            # the lines of the variables block that start so, each up to its end (or the block's)
            lines = (_VARIABLE_LINES.get(prefix) or _variable_lines(prefix))(text, tail - 1, end)
            found = {}
            for line in lines:
                name, sep, value = line.partition(": ")
                if not sep or ":" in name:  # its first colon is not followed by a space
                    return super().variables(prefix)
                found[name] = _unquote(value) if "%" in value else value
            return found
        found = {}
        needle = "\n" + start
        if text.startswith(start, 0, end):
            begin = 0
        else:
            at = text.find(needle, 0, end)
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
            self._found = _READ_WHOLE
        return headers


_PLANS = {}  # header name -> ("\nName:", its length, is a variable_ name)


def _plan(key):
    """How to look a name up; None for one that only the full reading can find."""
    if key.__class__ is not str or ":" in key or "\n" in key:
        return None
    plan = ("\n" + key + ":", len(key) + 2, key.startswith("variable_"))
    if len(_PLANS) < 4096:  # the names code asks for, not values: a few dozen
        _PLANS[key] = plan
    return plan


# tuple of names -> (findall of their lines above the variables, {name: "Name:"}, the index in
# the tuple of the first of them), or False for a tuple of fewer than _MANY such names
_MANY_PLANS = {}
_MANY = 4  # from this many names on, one pass of re finds them faster than an rfind each


def _many_plan(keys):
    """How get_many finds these names in one pass; False when a search for each is faster."""
    names = {}  # the names the pass can take: not variable_ ones, nor any only _whole can find
    for key in keys:
        plan = _plan(key) if key.__class__ is str and key else None
        if plan is not None and not plan[2]:
            names[key] = key + ":"
    many = False
    if len(names) >= _MANY:
        pattern = "\n(" + _alternatives(sorted(names)) + "):( ?)([^\n]*)"
        first = next(index for index, key in enumerate(keys) if key in names)
        many = (re.compile(pattern).findall, names, first)
    if len(_MANY_PLANS) < 256:  # the tuples code asks for: a handful
        _MANY_PLANS[keys] = many
    return many


def _alternatives(names):
    """A regular expression matching exactly these (sorted) names, as a tree of their prefixes.

    re tries the branches of an alternation one after the other at each line: sharing prefixes
    (``Channel-`` once for Channel-State and Channel-Name) keeps that to a few characters a line.
    """
    groups = {}
    for name in names:
        groups.setdefault(name[:1], []).append(name[1:])
    branches = []
    ends_here = False
    for first, rests in groups.items():
        if not first:
            ends_here = True  # this name is a prefix of the others
            continue
        common = os.path.commonprefix(rests)
        rests = [rest[len(common):] for rest in rests]
        branches.append(re.escape(first + common) + ("" if rests == [""] else _alternatives(rests)))
    pattern = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return "(?:" + pattern + ")?" if ends_here else pattern


_VARIABLE_LINES = {}  # prefix -> findall of the variable lines whose names start with it


def _variable_lines(prefix):
    """re's findall of "\nvariable_<prefix>...": one pass in C over the variables (a few dozen lines)."""
    findall = re.compile("\nvariable_(" + re.escape(prefix) + "[^\n]*)").findall
    if len(_VARIABLE_LINES) < 256:  # the prefixes code asks for: a handful
        _VARIABLE_LINES[prefix] = findall
    return findall


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
        # bodies are decoded from the buffer where they lie, not from a copy sliced out first;
        # released before the buffer is resized (a bytearray with a view on it cannot be)
        view = memoryview(buf)
        try:
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


# Written with the "\n" factored out: re skips to each newline and tries the three there
# (a tenth faster than the same alternation spelled out in full).
_LAYOUT_MARK = re.compile("\n(?:\n|variable_|Event-Name:)").search
# A line break that does not start a variable_ line (a blank line included).
_NOT_A_VARIABLE = re.compile("\n(?!variable_)").search


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
    if text.endswith("\n\n") and _NOT_A_VARIABLE(text, tail, end) is None:
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
