"""Variable expansion over an event's headers, as `eval` and `expand` do it.

A port of switch_event_expand_headers_check (src/switch_event.c): `${name}` is the event's header
of that name (case-insensitive), else the global variable, whose value is expanded in turn;
`$${name}` is always the global; `${name:offset:length}` cuts the value; `${api(args)}` and
`${api args}` run an api command (its own API event); `\\$` keeps a `$` and `\\\\` a backslash.
"""

import logging

logger = logging.getLogger(__name__)

MAX_DEPTH = 100


def needs_expansion(text):
    """switch_string_var_check_const or switch_string_has_escaped_data."""
    return "${" in text or "\\$" in text or "\\'" in text


def header_lookup(headers):
    """A lookup over (name, value) pairs: the first header of a name, case-insensitive."""
    index = {}
    for name, value in headers:
        index.setdefault(name.lower(), str(value))
    return lambda name: index.get(name.lower())


def expand_headers(text, lookup, global_var, call_api, depth=0):
    """Expand ``text``; lookup(name) is a header or None, call_api(cmd, args) a text or None."""
    if depth > MAX_DEPTH or not text or not needs_expansion(text):
        return text
    again = lambda sub: expand_headers(sub, lookup, global_var, call_api, depth + 1)
    out = []
    i, n = 0, len(text)
    while i < n:
        literal = False
        if text[i] == "\\" and i + 1 < n:
            if text[i + 1] == "$":
                literal = True
                i += 1
                if i + 1 < n and text[i + 1] == "$":
                    i += 1
            elif text[i + 1] == "'":
                i += 2  # an escaped quote goes, with its backslash
                continue
            elif text[i + 1] == "\\":
                out.append("\\")
                i += 2
                continue
        vtype = 0
        if text[i] == "$" and not literal:
            is_global = i + 1 < n and text[i + 1] == "$"
            if is_global:
                i += 1
            if i + 1 < n and text[i + 1] == "{":
                vtype = 3 if is_global else 1
            else:
                literal = True
        if literal or not vtype:
            out.append(text[i])
            i += 1
            continue
        start = end = i + 2
        braces = 1
        while end < n:
            if braces == 1 and text[end] == "}":
                braces = 0
                break
            if end != start and text[end] == "{":
                braces += 1
            elif braces > 1 and text[end] == "}":
                braces -= 1
            end += 1
        name = text[start:end]
        i = end + 1 if end < n else n
        value = _function(name, again, call_api)
        if value is None:
            value = _variable(name, vtype == 3, lookup, global_var, again)
        out.append(value or "")
        if i < n and text[i] != "$":
            out.append(text[i])  # the character after `}` is taken as it is
            i += 1
    return "".join(out)


def _function(name, again, call_api):
    """`${api(args)}` / `${api args}`: the command's output, "" when it fails; None: no function."""
    for k, char in enumerate(name):
        if char in " (":
            break
    else:
        return None
    command, arg = name[:k].rstrip(" "), name[k + 1:]
    depth = 1 if name[k] == "(" else 0
    for j, char in enumerate(arg):
        if char == "(":
            depth += 1
        elif depth > 1 and char == ")":
            depth -= 1
        elif depth == 1 and char == ")":
            arg = arg[:j]
            break
    return call_api(again(command), again(arg)) or ""


def _variable(name, is_global, lookup, global_var, again):
    """`${name[:offset[:length]]}`: a header (not expanded again), else a global (expanded)."""
    name = again(name)
    offset = length = 0
    if ":" in name:
        name, _, rest = name.partition(":")
        offset_text, _, length_text = rest.partition(":")
        offset, length = _atoi(offset_text), _atoi(length_text)
    indexed = "[" in name and "]" in name.partition("[")[2]
    if indexed:
        name = name.partition("[")[0]
    value = None if is_global or indexed else lookup(name)
    if value is None:
        value = global_var(name)
        if value is not None:
            value = again(value)
    if value is None:
        return ""
    if offset >= 0:
        value = value[offset:]
    elif -offset <= len(value):
        value = value[len(value) + offset:]
    if 0 < length < len(value):
        value = value[:length]
    return value


def _atoi(text):
    """C's atoi: the leading integer, 0 without one."""
    digits = ""
    for k, char in enumerate(text.strip()):
        if char.isdigit() or (k == 0 and char in "+-"):
            digits += char
        else:
            break
    try:
        return int(digits)
    except ValueError:
        return 0
