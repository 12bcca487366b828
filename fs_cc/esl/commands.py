"""Pure builders of FreeSWITCH command text; nothing here touches a socket.

api commands (``originate``, ``uuid_*``) are returned without the ``api``/``bgapi``
prefix: pass them to ``InboundClient.api`` or ``bgapi``. ``sendmsg_*`` return a whole
multi-line ``sendmsg`` command for the ESL socket.
"""

import re

_VAR_NAME = re.compile(r"^[A-Za-z0-9_.:\-]+$")
_CONTROL_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _token(value, what):
    """A single word of a command: no whitespace, never empty (stops command injection)."""
    text = str(value)
    if not text or any(ch.isspace() for ch in text):
        raise ValueError(f"{what} must be one non-empty word, got {text!r}")
    return text


def _line(value, what):
    """Free text that must stay on one line of the ESL command."""
    text = str(value)
    if "\n" in text or "\r" in text:
        raise ValueError(f"{what} must not contain a line break, got {text!r}")
    return text


def _escape_value(value):
    # FreeSWITCH splits `{a=b,c=d}` on commas honouring backslash escapes, strips
    # quotes, trims spaces and turns \n \r \t \s into characters (switch_separate_string).
    text = str(value)
    depth = 0
    for ch in text:
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            break
    if depth != 0:
        raise ValueError(f"channel variable value has unbalanced braces: {text!r}")
    out = []
    for ch in text:
        if ch in "\\,'\"":
            out.append("\\" + ch)
        elif ch == " ":
            out.append("\\s")
        elif ch in _CONTROL_ESCAPES:
            out.append(_CONTROL_ESCAPES[ch])
        else:
            out.append(ch)
    return "".join(out)


def channel_vars(variables):
    """``{k=v,k2=v2}`` for a dial string, values escaped as FreeSWITCH unescapes them; "" when empty."""
    if not variables:
        return ""
    parts = []
    for name, value in variables.items():
        if not _VAR_NAME.match(str(name)):
            raise ValueError(f"bad channel variable name {name!r}")
        if value is True or value is False:
            value = "true" if value else "false"
        parts.append(f"{name}={_escape_value(value)}")
    return "{" + ",".join(parts) + "}"


def _api_argument(text):
    # The api layer first splits its arguments on blanks and removes one level of
    # backslash escapes and quotes: protect what the bracket parser needs to see.
    return text.replace("\\", "\\\\").replace("'", "\\'").replace('"', '\\"')


def originate(dial_string, app="&park()", variables=None):
    """``originate {vars}dial_string app`` (app such as ``&park()`` or an extension number)."""
    dial = _token(dial_string, "dial string")
    target = _token(app, "originate application")
    return f"originate {_api_argument(channel_vars(variables))}{dial} {target}"


def uuid_bridge(a, b):
    """``uuid_bridge a b``: join two existing legs."""
    return f"uuid_bridge {_token(a, 'uuid')} {_token(b, 'uuid')}"


def uuid_kill(uuid, cause=None):
    """``uuid_kill uuid [cause]``: hang a channel up."""
    command = f"uuid_kill {_token(uuid, 'uuid')}"
    return f"{command} {_token(cause, 'hangup cause')}" if cause else command


def uuid_break(uuid, all=False):  # noqa: A002 - the name FreeSWITCH uses
    """``uuid_break uuid [all]``: stop the current (or every queued) media on a channel."""
    command = f"uuid_break {_token(uuid, 'uuid')}"
    return f"{command} all" if all else command


def uuid_transfer(uuid, destination, dialplan=None, context=None, leg=None):
    """``uuid_transfer uuid [-bleg|-both] destination [dialplan [context]]``."""
    parts = ["uuid_transfer", _token(uuid, "uuid")]
    if leg:
        if leg not in ("bleg", "both"):
            raise ValueError(f"leg must be 'bleg' or 'both', got {leg!r}")
        parts.append(f"-{leg}")
    parts.append(_token(destination, "destination"))
    if context and not dialplan:
        dialplan = "XML"
    if dialplan:
        parts.append(_token(dialplan, "dialplan"))
    if context:
        parts.append(_token(context, "context"))
    return " ".join(parts)


def uuid_broadcast(uuid, path, leg="aleg"):
    """``uuid_broadcast uuid path leg``: play a file (or ``app::args``) to aleg, bleg or both."""
    if leg not in ("aleg", "bleg", "both"):
        raise ValueError(f"leg must be aleg, bleg or both, got {leg!r}")
    return f"uuid_broadcast {_token(uuid, 'uuid')} {_token(path, 'path')} {leg}"


def uuid_getvar(uuid, name):
    """``uuid_getvar uuid name``."""
    return f"uuid_getvar {_token(uuid, 'uuid')} {_token(name, 'variable name')}"


def uuid_setvar(uuid, name, value=None):
    """``uuid_setvar uuid name [value]`` (no value unsets the variable)."""
    command = f"uuid_setvar {_token(uuid, 'uuid')} {_token(name, 'variable name')}"
    return command if value is None else f"{command} {_line(value, 'variable value')}"


def sendmsg_execute(app, arg=None, event_uuid=None, event_lock=False, loops=None, uuid=None):
    """A ``sendmsg`` executing `app` on the socket's channel (or on `uuid` from an inbound socket)."""
    lines = ["sendmsg" if uuid is None else f"sendmsg {_token(uuid, 'uuid')}",
             "call-command: execute",
             f"execute-app-name: {_token(app, 'application')}"]
    if arg is not None and str(arg) != "":
        lines.append(f"execute-app-arg: {_line(arg, 'application argument')}")
    if loops is not None:
        lines.append(f"loops: {int(loops)}")
    if event_lock:
        lines.append("event-lock: true")
    if event_uuid is not None:
        lines.append(f"Event-UUID: {_token(event_uuid, 'event uuid')}")
    return "\n".join(lines)


def sendmsg_hangup(cause="NORMAL_CLEARING", uuid=None):
    """A ``sendmsg`` hanging the socket's channel (or `uuid`) up with `cause`."""
    head = "sendmsg" if uuid is None else f"sendmsg {_token(uuid, 'uuid')}"
    return f"{head}\ncall-command: hangup\nhangup-cause: {_token(cause, 'hangup cause')}"


def uuid_hold(uuid, off=False):
    """``uuid_hold [off] uuid``: put the channel's partner on hold music, or take it off."""
    return f"uuid_hold {'off ' if off else ''}{_token(uuid, 'uuid')}"


def uuid_exists(uuid):
    """``uuid_exists uuid``: answers true or false."""
    return f"uuid_exists {_token(uuid, 'uuid')}"


def uuid_record(uuid, path, stop=False):
    """``uuid_record uuid start|stop path``."""
    return f"uuid_record {_token(uuid, 'uuid')} {'stop' if stop else 'start'} {_token(path, 'path')}"


def eavesdrop_app(uuid):
    """``&eavesdrop(uuid)``, the originate application of a supervisor's leg."""
    return f"&eavesdrop({_token(uuid, 'uuid')})"


_DTMF = re.compile(r"^[0-9*#A-Da-d]{1,32}$")


def uuid_send_dtmf(uuid, digits):
    """``uuid_send_dtmf uuid digits``: DTMF to the far end of the channel (0-9 * # A-D, 1-32)."""
    text = str(digits)
    if not _DTMF.fullmatch(text):
        raise ValueError(f"DTMF digits must be 1-32 of 0-9 * # A-D, got {text!r}")
    return f"uuid_send_dtmf {_token(uuid, 'uuid')} {text}"
