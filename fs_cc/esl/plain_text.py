"""The text of an event-plain header block: how a name is searched in it, decoded, or read whole.

Pure functions over str, for fs_cc.esl.event's PlainEvent: where the block ends and where its
variables start (_layout), the search plans for names and tuples of names, URL-decoding
(_unquote) and the full reading every lazy look-up must agree with (_read_plain_headers).
"""

import codecs
import os
import re
from urllib.parse import unquote

_PLANS = {}  # header name -> ("\nName:", its length, is a variable_ name)


def _plan(key):
    """How to look a name up; None for one that only the full reading can find."""
    if key.__class__ is not str or ":" in key or "\n" in key:
        return None
    plan = ("\n" + key + ":", len(key) + 2, key.startswith("variable_"))
    if len(_PLANS) < 4096:  # the names code asks for, not values: a few dozen
        _PLANS[key] = plan
    return plan


# tuple of names -> how get_many finds them in an event with its variables apart: (None, the
# _plan of each) for a search each, (findall of their lines above the variables, {name:
# "Name:"}, the first of those names) for one pass of re; False when one of them only the
# full reading can find
_MANY_PLANS = {}
# from this many names above the variables on, one pass of re finds them faster than a search
# each (counted in instructions on recorded events: re tries every line against the names, a
# search skips along the text; a pass costs about as much as seven searches)
_MANY = 8


def _many_plan(keys):
    """How get_many finds these names (see _MANY_PLANS)."""
    plans = tuple(_plan(key) if key.__class__ is str and key else None for key in keys)
    names = {key: key + ":" for key, plan in zip(keys, plans) if plan is not None and not plan[2]}
    if len(names) >= _MANY:
        # each line of these names: (name, its value) after `Name: `, (name, "") after `Name:`
        pattern = "\n(" + _alternatives(sorted(names)) + "):(?: ([^\n]*)|[^\n]*)"
        many = (re.compile(pattern).findall, names, next(iter(names)))
    elif None in plans:
        many = False
    else:
        many = (None, plans)
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
    """Every header of a block, decoded; of a name on several lines, the first line's value.

    The first, as FreeSWITCH itself reads an event (switch_event_get_header_ptr walks the
    headers from the head and answers the first of the name): a CHANNEL_HANGUP carries
    Hangup-Cause twice, an API event of ``expand X`` says API-Command: expand, then X.
    """
    lines = head.split("\n")
    try:
        pairs = [line.split(": ", 1) for line in lines]
        headers = dict(pairs)
    except ValueError:
        # Some line is not `Name: value` (empty value written as `Name:`, stray line...).
        headers = {}
        for line in lines:
            key, sep, value = line.partition(":")
            if sep and key not in headers:
                headers[key] = value[1:] if value.startswith(" ") else value
    else:
        if len(headers) < len(pairs):  # a name repeated: its first line's value, order kept
            for key, value in reversed(pairs):
                headers[key] = value
    # Decode each value only after the split: an encoded newline (%0A) must stay inside its value.
    for key, value in headers.items():
        if "%" in value:
            headers[key] = _unquote(value)
    return headers


# the first blank line or variable_ line, whichever comes first ("\n" factored out: re skips to
# each line break and tries both there)
_LAYOUT_MARK = re.compile("\n(?:\n|variable_)").search
# A line break that does not start a variable_ line (a blank line included).
_NOT_A_VARIABLE = re.compile("\n(?!variable_)").search


def _layout(text):
    """(top, end): the top of the block is text[:top], its lines none blank and none a variable.

    switch_event_serialize writes the event's own headers, then the channel's variables, then a
    blank line: top is where the first variable_ line starts (end None: where the block ends is
    found when a look-up needs it, see _below), or where the block ends when a blank line comes
    before any variable (end is top then). A name's first line is then above top whenever it
    is not a variable, and a variable's at top or below: the search for a name starts there.
    """
    if text.startswith("variable_"):
        return 0, None
    found = _LAYOUT_MARK(text)
    if found is None:
        return len(text), len(text)  # no blank line, no variable: the block is the whole text
    at = found.start()
    if text[at + 1] == "\n":
        return at, at
    return at + 1, None


def _below(text, top):
    """(end, mixed) of a block whose variables start at top: where the block ends, and whether
    a line other than a variable_ one comes after top (then a name not found above top may be
    there)."""
    found = _NOT_A_VARIABLE(text, max(top - 1, 0))
    if found is None:
        return len(text), False  # variables to the end, with no blank line
    at = found.start()
    if at + 1 == len(text) or text[at + 1] == "\n":
        return at if at + 1 < len(text) else len(text), False
    end = text.find("\n\n", at)
    return (len(text) if end < 0 else end), True
