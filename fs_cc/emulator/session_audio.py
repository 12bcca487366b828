"""`uuid_audio` (mute and level of a channel's audio) and `uuid_buglist`, as mod_commands has them.

session_audio_function (mod_commands.c) splits its arguments on spaces: `<uuid> stop` removes
the channel's `audio` media bug (switch_ivr_stop_session_audio: `+OK` whether there was one or
not); `<uuid> start read|write mute|level <level>` adds the bug (function `audio`, target the
first command given: `mute` or `level`) or changes the one there, as switch_ivr_session_audio
does, and answers `+OK`. A unknown uuid answers `-ERR No such channel!`, anything else the usage.
The channel keeps what its bug does in `channel.session_audio` ({"read_mute": level, ...}), so a
test can tell a muted agent; a level of 0 mutes nothing, one below 2 is silence.
uuid_buglist (uuid_buglist_function, switch_core_media_bug_enumerate) lists the bugs in the order
they were added; a uuid no session has answers nothing.
"""

from fs_cc.emulator.recording import MediaBug

AUDIO_SYNTAX = "<uuid> [start [read|write] [mute|level <level>]|stop]"
BUGLIST_SYNTAX = "<uuid>"
AUDIO_BUG = "audio"


def _atoi(text):
    """C atoi: the leading optional sign and digits, 0 when there are none."""
    sign, digits = 1, ""
    body = text.lstrip()
    if body[:1] in "+-" and body:
        sign, body = (-1 if body[0] == "-" else 1), body[1:]
    for ch in body:
        if not ch.isdigit():
            break
        digits += ch
    return sign * int(digits) if digits else 0


def _audio_bug(channel):
    return next((bug for bug in channel.media_bugs if bug.function == AUDIO_BUG), None)


def api_uuid_audio(switch, args):
    """uuid_audio (session_audio_function in mod_commands.c)."""
    argv = args.split(" ") if args else []
    argv = [word for word in argv if word][:5]
    if len(argv) < 2:
        return f"-USAGE: {AUDIO_SYNTAX}\n"
    channel = switch.channels.get(argv[0])
    if channel is None:
        return "-ERR No such channel!\n"
    if argv[1].lower() == "stop":
        bug = _audio_bug(channel)
        if bug is not None:
            bug.remove()
        return "+OK\n"
    if argv[1].lower() != "start" or len(argv) < 5 or argv[2].lower() not in ("read", "write"):
        return f"-USAGE: {AUDIO_SYNTAX}\n"
    command, direction, level = argv[3].lower(), argv[2].lower(), _atoi(argv[4])
    if command not in ("mute", "level"):
        return f"-USAGE: {AUDIO_SYNTAX}\n"
    state = channel.session_audio
    if command == "mute":
        state[direction + "_mute"] = level
        state[direction + "_level"] = 0
    elif -5 < level < 5:
        state[direction + "_level"] = level
    if _audio_bug(channel) is None:
        MediaBug(channel, AUDIO_BUG, command, on_close=lambda bug: state.clear()).add()
    return "+OK\n"


def api_uuid_buglist(switch, args):
    """uuid_buglist (uuid_buglist_function in mod_commands.c)."""
    argv = args.split()
    if not argv:
        return f"-USAGE: {BUGLIST_SYNTAX}\n"
    channel = switch.channels.get(argv[0])
    if channel is None:
        return ""
    rows = "".join(f" <media-bug>\n  <function>{bug.function}</function>\n  <target>{bug.target}"
                   "</target>\n  <thread-locked>0</thread-locked>\n </media-bug>\n"
                   for bug in channel.media_bugs)
    return f"<media-bugs>\n{rows}</media-bugs>\n"
