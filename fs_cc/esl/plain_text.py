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
