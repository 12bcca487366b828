"""Recording: `record_session` and `uuid_record` with RECORD_START / RECORD_STOP events.

switch_ivr_record_session (switch_ivr_async.c) fires RECORD_START with `Record-File-Path` when the
media bug starts and RECORD_STOP when it is removed (stop, or the channel hanging up). Nothing is
written to disk; the emulator keeps the paths in `channel.recordings`.
"""

import logging

logger = logging.getLogger(__name__)


def start_recording(channel, path):
    """Start recording the channel to path (RECORD_START); stops by itself at hangup."""
    recordings = _recordings(channel)
    if path in recordings:
        return
    recordings.append(path)
    channel.set_var("fs_cc_recording", path)
    channel.fire("RECORD_START", post=[("Record-File-Path", path)])
    if _stop_all not in channel.on_hangup:
        channel.on_hangup.append(_stop_all)


def stop_recording(channel, path):
    """Stop one recording (`all` stops every one); False when there was none."""
    recordings = _recordings(channel)
    targets = list(recordings) if path == "all" else [p for p in recordings if p == path]
    for target in targets:
        recordings.remove(target)
        channel.fire("RECORD_STOP", post=[("Record-File-Path", target), ("record_ms", "0"),
                                          ("record_samples", "0")])
    if not recordings:
        channel.set_var("fs_cc_recording", None)
    return bool(targets)


def _stop_all(channel):
    stop_recording(channel, "all")


def _recordings(channel):
    if not hasattr(channel, "recordings"):
        channel.recordings = []
    return channel.recordings


SESS_REC_SYNTAX = "<uuid> [start|stop|mask|unmask] <path> [<limit>]"


def api_uuid_record(switch, args):
    """uuid_record (session_record_function in mod_commands.c)."""
    parts = args.split()
    if len(parts) < 3:
        return "-USAGE: %s\n" % SESS_REC_SYNTAX
    channel = switch.channels.get(parts[0])
    if channel is None:
        return "-ERR Cannot locate session!\n"
    action, path = parts[1].lower(), parts[2]
    if action == "start":
        start_recording(channel, path)
        return "+OK Success\n"
    if action == "stop":
        if not stop_recording(channel, path):
            return "-ERR Cannot stop record session!\n"
        return "+OK Success\n"
    if action in ("mask", "unmask"):
        if path not in _recordings(channel):
            return "-ERR Cannot %s recording session!\n" % action
        channel.set_var("fs_cc_recording_masked", "true" if action == "mask" else None)
        return "+OK Success\n"
    return "-USAGE: %s\n" % SESS_REC_SYNTAX
