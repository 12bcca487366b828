"""FreeSWITCH events as handlers read them, and the lazy reading of a text/event-plain block.

:class:`Event` holds its headers in a dict (event-json, the outbound connect reply, tests).
:class:`PlainEvent` keeps the URL-encoded block as it came and finds a header in it when asked:
handlers read a handful of an event's hundred-odd headers, and splitting and decoding them all
was most of the cost of an event. Every answer is the one the full reading gives
(fs_cc.esl.plain_text's _read_plain_headers: split into lines, then decode each value).
"""

import collections.abc
import types

from fs_cc.esl.plain_text import (_MANY_PLANS, _PLANS, _VARIABLE_LINES, _below, _layout, _many_plan,
                                  _plan, _read_plain_headers, _unquote, _variable_lines)


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

    A look-up finds the first line of the header block that starts with ``Name:`` (of repeated
    names the first wins, as FreeSWITCH reads an event) with one forward search, above the
    variables for a name that is not one (most are near the top: the search stops there), from
    them on for a variable, and decodes that value alone; reading :attr:`headers` whole
    (iterating, comparing) builds the full dict once. A line that does not read as ``Name:
    value`` sends the look-up to the full dict, so both ways agree. Where the block ends, and
    whether other headers follow the variables, is found the first time a look-up needs it.
    get_many searches for each name in turn, in one call (the calls around a search cost as
    much as the search); from _MANY names above the variables on, one pass of re finds all
    their lines. variables() reads its lines in one pass of re, and keeps them for get.
    """

    __slots__ = ("_body", "_end", "_found", "_head", "_mixed", "_text", "_top")

    def __init__(self, text, top, end=None, head=None):
        self._headers = None
        # the first line's name (up to its first colon): a look-up of it needs no search, and
        # the searches for "\nName:" miss it (no line break before it)
        if head is None:
            colon = text.find(":")
            head = text[:colon] if colon >= 0 else "\n"  # no name: matches no key
        self._head = head
        self._body = None
        self._text = text  # the header block is text[:end], still URL-encoded
        self._top = top  # text[:top]: the lines above the variables (see _layout)
        self._end = end  # None until a look-up below the top needs it (see _bottom)
        self._mixed = False  # whether lines other than variables follow them (see _below)
        self._found = {}  # name -> decoded value, or None when absent

    @property
    def headers(self):
        """Every header, URL-decoded, as a mapping of name to value."""
        headers = self._headers
        return _HeaderView(self) if headers is None else headers

    @headers.setter
    def headers(self, headers):
        self._bottom()  # the body is kept: it is what follows the block
        self.body  # noqa: B018 - read before the text goes
        self._headers = headers
        self._found = _READ_WHOLE

    @property
    def body(self):
        """What follows the header block (e.g. a BACKGROUND_JOB's result)."""
        body = self._body
        if body is None:
            body = self._body = self._text[self._bottom() + 2:]
        return body

    @property
    def name(self):
        """Event-Name, or Event-Subclass for CUSTOM events."""
        name = self._found.get("Event-Name", _UNSEEN)  # read at parse time, as a rule
        if name is _UNSEEN:
            name = self.get("Event-Name")
        if name == "CUSTOM":
            return self.get("Event-Subclass", name)
        return name

    def _bottom(self):
        """Where the header block ends (found now if not yet)."""
        end = self._end
        if end is None:
            end, self._mixed = _below(self._text, self._top)
            self._end = end
        return end

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
        if self._headers is None and keys.__class__ is tuple:
            plan = _MANY_PLANS.get(keys)
            if plan is None:
                plan = _many_plan(keys)
            if plan:
                if plan[0] is None:
                    values = self._find_each(keys, plan)
                elif plan[2] not in self._found:  # one pass pays only if its names are unseen
                    values = self._find_many(keys, plan)
                else:
                    values = None
                if values is not None:
                    return values
        found = self._found
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

    def _find_each(self, keys, plan):
        """get_many of a few names: _find's forward search for each, in one loop.

        None when a name needs the full reading (its first line reads `Name:` without a
        space) or the block's end: get_many takes it.
        """
        found, text, top, head = self._found, self._text, self._top, self._head
        values = []
        for key, (needle, size, variable) in zip(keys, plan[1]):
            value = found.get(key, _UNSEEN)
            if value is _UNSEEN:
                if variable or key == head:
                    return None  # below the top, or on the first line: _find knows
                at = text.find(needle, 0, top)
                if at < 0:
                    if self._end is None or self._mixed:
                        return None
                    found[key] = None  # not above the top, and only variables below it
                    values.append(None)
                    continue
                start = at + size
                if text[start:start + 1] != " ":
                    return None
                stop = text.find("\n", start)  # none: the last line of a block with no end
                value = text[start + 1:stop] if stop >= 0 else text[start + 1:top]
                if "%" in value:
                    value = _unquote(value)
                found[key] = value
            values.append(value)
        return tuple(values)

    def _find_many(self, keys, plan):
        """get_many of several names above the variables: one pass of re finds all their lines.

        The pass maps each name to its first line's value (of repeated names the first wins),
        or to "" when that line reads `Name: ` or `Name:` without a space. A name that has ""
        there (only the full reading tells those apart), a name absent above the variables, a
        name on the first line (no line break before it) and encoded values are looked up one
        by one. None when a look-up took the full reading.
        """
        findall, names, _ = plan
        found, text, top = self._found, self._text, self._top
        lines = dict(reversed(findall(text, 0, top)))
        values = tuple(map(lines.get, keys))
        first = self._head + ":"  # the first line's "Name:"
        if (None not in values and "" not in values and "%" not in "".join(values)
                and first not in names.values()):
            found.update(zip(keys, values))  # the usual case, told without a loop
            return values
        values = []
        for key in keys:
            value = lines.get(key)
            if value and first != names.get(key):
                if "%" in value:
                    value = _unquote(value)
            else:
                value = found.get(key, _UNSEEN)
                if value is _UNSEEN:
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
        text, top = self._text, self._top
        if key == self._head:
            at = -1  # the first line, as if a line break came before it
        elif not variable:  # most look-ups: a name above the variables
            at = text.find(needle, 0, top)
            if at < 0:
                end = self._bottom()
                if not self._mixed:
                    return None
                at = text.find(needle, max(top - 1, 0), end)
                if at < 0:
                    return None
        else:
            at = text.find(needle, max(top - 1, 0), self._bottom())
            if at < 0:
                return None
        start = at + size
        if text[start:start + 1] != " ":
            return self._whole().get(key)  # `Name:` without a space: only the full reading knows
        stop = text.find("\n", start)
        value = text[start + 1:stop] if stop >= 0 else text[start + 1:self._bottom()]
        return _unquote(value) if "%" in value else value

    def variables(self, prefix=""):
        """The channel variables whose names start with prefix, as {name: value}."""
        start = "variable_" + prefix
        if self._headers is not None or ":" in start or "\n" in start:
            return super().variables(prefix)
        text, top, end = self._text, self._top, self._bottom()
        if top:
            # the lines of the variables (and what follows them) that start so, up to the end
            lines = (_VARIABLE_LINES.get(prefix) or _variable_lines(prefix))(text, top - 1, end)
        else:  # the first line is a variable: no line break before it
            lines = (_VARIABLE_LINES.get(prefix) or _variable_lines(prefix))("\n" + text, 0, end + 1)
        found = {}
        for line in lines:
            name, sep, value = line.partition(": ")
            if not sep or ":" in name:  # its first colon is not followed by a space
                return super().variables(prefix)
            if name not in found:  # of repeated names the first wins
                found[name] = _unquote(value) if "%" in value else value
        # each is what get("variable_<name>") finds: the first line of its name, all read here
        known = self._found
        for name, value in found.items():
            known["variable_" + name] = value
        return found

    def _whole(self):
        headers = self._headers
        if headers is None:
            end = self._bottom()
            self.body  # noqa: B018 - read before the text goes
            headers = self._headers = _read_plain_headers(self._text[:end])
            self._text = None
            self._found = _READ_WHOLE
        return headers


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


def read_plain(text):
    """The PlainEvent of a text/event-plain body: its header block, a blank line, its own body."""
    top, end = _layout(text)
    if top and text.startswith("Event-Name: "):
        event = PlainEvent(text, top, end, "Event-Name")
        # the first line's is the name (the first wins), which every handler reads first
        stop = text.find("\n")
        name = text[12:stop] if stop >= 0 else text[12:]
        event._found["Event-Name"] = _unquote(name) if "%" in name else name
        return event
    return PlainEvent(text, top, end)
