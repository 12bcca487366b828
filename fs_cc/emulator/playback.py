"""The emulator's media applications: playback, play_and_get_digits and read, with their keys.

How FreeSWITCH 1.10.12 stops a playback on keys (playback_terminators) and what it reports is in
docs/freeswitch-semantics.rst; registered in execution.APPS by fs_cc.emulator.apps.
"""

import logging
import os
import re

from fs_cc.emulator.channel import WakeReason
from fs_cc.emulator.execution import run_queued
from fs_cc.sounds import candidates, is_file, pieces

logger = logging.getLogger(__name__)

DEFAULT_PROMPT_SECONDS = 2.0
FOREVER = None
NOT_FOUND = "not found"  # what _play returns for a sound the switch cannot open
ANY_KEY = "1234567890*#"  # playback_terminators=any (on_dtmf in mod_dptools.c)
READ_AHEAD_SAMPLES = 16384  # a stopped playback's playback_samples: whole reads of this size


def media_seconds(path, default=DEFAULT_PROMPT_SECONDS):
    """Simulated length of a media path; None means it plays until interrupted."""
    if path.startswith("local_stream://"):
        return FOREVER
    if path.startswith("silence_stream://"):
        ms = int(re.split(r"[,;]", path[len("silence_stream://"):])[0] or 0)
        return FOREVER if ms < 0 else ms / 1000.0
    if path.startswith("tone_stream://"):
        spec = path[len("tone_stream://"):]
        loops = 1
        match = re.search(r"loops=(-?\d+)", spec)
        if match:
            loops = int(match.group(1))
        if loops < 0:
            return FOREVER
        total = 0
        for group in re.findall(r"%\(([^)]*)\)", spec):
            numbers = group.split(",")
            total += int(numbers[0] or 0) + (int(numbers[1] or 0) if len(numbers) > 1 else 0)
        return total * loops / 1000.0
    return default


def _found(channel, sound):
    """Whether the switch can open ``sound``: a tone or stream, or a file under sound_prefix."""
    if not is_file(sound):
        return True
    prefix = channel.get_var("sound_prefix", "")
    return any(os.path.exists(path) for path in candidates(sound, prefix))


def _play(channel, path, stop_on_dtmf=False, terminators=None):
    """Play one file (or a file_string:// list); returns the WakeReason that ended it.

    NOT_FOUND when the file cannot be opened, at once (switch_ivr_play_file's
    SWITCH_STATUS_NOTFOUND), without PLAYBACK_START / PLAYBACK_STOP; a file_string:// list
    skips its missing files (next_file in mod_dptools.c) and is NOT_FOUND only when none can be
    opened. Whatever plays is framed by one PLAYBACK_START and one PLAYBACK_STOP.
    ``terminators`` (the playback application's keys, see _play_one) stop the whole list.
    """
    started = None
    reason = WakeReason.TIMEOUT
    played = 0.0  # simulated seconds of the pieces played out
    for piece in pieces(path):
        if not _found(channel, piece):
            logger.warning("%s: cannot open sound %s", channel.uuid, piece)
            continue
        if started is None:
            started = channel.switch.clock.monotonic()
            _playback_event(channel, "PLAYBACK_START", path)
        seconds = _limited(channel, media_seconds(piece), started)
        reason = _play_one(channel, seconds, stop_on_dtmf, terminators)
        if reason != WakeReason.TIMEOUT:
            break
        played += seconds
    if started is None:
        return NOT_FOUND
    if reason == WakeReason.TIMEOUT:  # played out: the media's own length, to the sample
        ms = int(round(played * 1000))
    else:
        ms = int((channel.switch.clock.monotonic() - started) * channel.switch.clock.speed * 1000)
    offset = read = ms * 8  # L16 at 8 kHz
    if terminators is not None and reason == WakeReason.DTMF:
        # stopped by a key: the file module had read ahead in 16384-sample blocks (measured)
        read = -(-max(offset, 1) // READ_AHEAD_SAMPLES) * READ_AHEAD_SAMPLES
    for key, value in (("playback_last_offset_pos", offset), ("playback_seconds", read // 8000),
                       ("playback_ms", read // 8), ("playback_samples", read)):
        channel.set_var(key, value)
    broken = reason in (WakeReason.BREAK, WakeReason.DTMF)
    _playback_event(channel, "PLAYBACK_STOP", path, status="break" if broken else "done")
    return reason


def playback_file_path(channel, path):
    """The path switch_ivr_play_file opens: a relative file gets the channel's sound_prefix."""
    if not is_file(path) or "://" in path or os.path.isabs(path) or path.startswith("{"):
        return path
    prefix = channel.get_var("sound_prefix")
    return "%s%s%s" % (prefix, os.sep, path) if prefix else path


def _limited(channel, seconds, started):
    """The playback_timeout_sec channel variable caps a playback (switch_ivr_play_file)."""
    limit = channel.get_var("playback_timeout_sec")
    try:
        limit = float(limit) if limit else None
    except ValueError:
        limit = None
    if limit is None or limit <= 0:
        return seconds
    elapsed = (channel.switch.clock.monotonic() - started) * channel.switch.clock.speed
    left = max(0.0, limit - elapsed)
    return left if seconds is None or seconds == FOREVER or seconds > left else seconds


def _playback_event(channel, name, path, status=None):
    """PLAYBACK_START / PLAYBACK_STOP as switch_ivr_play_file fires them."""
    post = []
    if path.startswith("local_stream:"):
        post.append(("Playback-File-Type", "local_stream"))
    if path.startswith("tone_stream:"):
        post.append(("Playback-File-Type", "tone_stream"))
    post.append(("Playback-File-Path", playback_file_path(channel, path)))
    if status:
        post.append(("Playback-Status", status))
    channel.fire(name, post=post)


def _play_one(channel, seconds, stop_on_dtmf, terminators=None):
    """switch_ivr_play_file's loop: it parses the session's queued messages between frames.

    So an application sent with sendmsg while a file plays runs at once, nested inside the
    playback, which then goes on (unless the playing application holds an event lock).
    With ``terminators`` (a text of keys) every key that arrives is taken from the queue and
    handed to the playback application's on_dtmf: one of them stops it (WakeReason.DTMF, the
    key in playback_terminator_used), any other is dropped and the file plays on.
    """
    clock = channel.switch.clock
    deadline = None if seconds is None else clock.monotonic() + clock.real(seconds)
    while True:
        remaining = None if deadline is None else max(0.0, deadline - clock.monotonic())
        reason = channel.wait(remaining, dtmf=stop_on_dtmf or terminators is not None,
                              queue=not channel.event_lock, simulated=False)
        if reason == WakeReason.DTMF and terminators is not None:
            if _take_terminator(channel, terminators):
                return reason
            continue
        if reason != WakeReason.QUEUE:
            return reason
        run_queued(channel)


def _take_terminator(channel, terminators):
    """Dequeue the channel's keys up to the first terminator; True (and the variable) if one came."""
    while channel.dtmf_buffer:
        digit, channel.dtmf_buffer = channel.dtmf_buffer[0], channel.dtmf_buffer[1:]
        if digit in terminators:
            channel.set_var("playback_terminator_used", digit)
            return True
    return False


def playback_terminators(channel):
    """The keys that stop a ``playback``: on_dtmf in mod_dptools.c reads playback_terminators.

    Unset: ``*``; ``any``: every key; ``none``: no key; otherwise the keys it lists.
    """
    value = channel.get_var("playback_terminators")
    if value is None:
        return "*"
    if value.lower() == "any":
        return ANY_KEY
    if value.lower() == "none":
        return ""
    return value


def app_playback(channel, arg):
    """playback <file>: FILE PLAYED, FILE NOT FOUND, or PLAYBACK ERROR when the caller hangs up
    or is taken away (uuid_bridge, transfer: as recorded, 14_attended_transfer).

    A key of playback_terminators stops it (FILE PLAYED all the same); the variable
    playback_terminator_used is removed first and names that key. Keys pressed before it started
    are gone: between applications the async socket's park loop takes them (measured, 1.10.12).
    """
    channel.set_var("playback_terminator_used", None)  # set to "" in playback_function: deleted
    channel.dtmf_buffer = ""
    reason = _play(channel, arg, terminators=playback_terminators(channel))
    if reason == NOT_FOUND:
        return "FILE NOT FOUND"
    if reason in (WakeReason.HANGUP, WakeReason.TAKEOVER):
        return "PLAYBACK ERROR"
    return "FILE PLAYED"


def _collect(channel, min_digits, max_digits, timeout_ms, terminators, digit_timeout_ms, prompt):
    """Play prompt (interrupted by DTMF) and collect digits. Returns (digits, terminator)."""
    channel.prompts_started += 1
    channel.state_changed.set()
    reason = _play(channel, prompt, stop_on_dtmf=True) if prompt else WakeReason.TIMEOUT
    if reason in (WakeReason.HANGUP, WakeReason.TAKEOVER):
        return None, ""
    if reason == NOT_FOUND:
        # switch_ivr_read gives up before collecting when its prompt cannot be played: the
        # attempt fails at once and the keys the caller presses are never read
        return "", ""
    digits = ""
    wait_ms = timeout_ms
    while len(digits) < max_digits:
        if not channel.dtmf_buffer:
            reason = channel.wait(wait_ms / 1000.0, dtmf=True)
            if reason != WakeReason.DTMF:
                if reason in (WakeReason.HANGUP, WakeReason.TAKEOVER):
                    return None, ""
                break
        digit, channel.dtmf_buffer = channel.dtmf_buffer[0], channel.dtmf_buffer[1:]
        if digit in terminators:
            return digits, digit
        digits += digit
        wait_ms = digit_timeout_ms
    return digits, ""


def app_play_and_get_digits(channel, arg):
    """play_and_get_digits min max tries timeout terminators file invalid var regexp digit_timeout.

    As switch_play_and_get_digits (1.10): after a failed last try the variable keeps what
    switch_ivr_read left (too few keys stay in it); a regexp miss is in ``<var>_invalid``.
    """
    parts = arg.split()
    min_d, max_d, tries, timeout = int(parts[0]), int(parts[1]), int(parts[2]), int(parts[3])
    terminators = parts[4] if len(parts) > 4 else "#"
    prompt = parts[5] if len(parts) > 5 else ""
    invalid = parts[6] if len(parts) > 6 else ""
    var = parts[7] if len(parts) > 7 else "pagd_input"
    regexp = parts[8] if len(parts) > 8 else ".*"
    digit_timeout = int(parts[9]) if len(parts) > 9 else timeout
    channel.dtmf_buffer = ""
    channel.set_var(var + "_invalid", None)
    for _ in range(max(1, tries)):
        channel.set_var(var, None)  # switch_ivr_read clears it before each try
        digits, _term = _collect(channel, min_d, max_d, timeout,
                                 "" if terminators == "none" else terminators, digit_timeout, prompt)
        if digits is None:
            return "_none_"
        if digits:
            # switch_ivr_read leaves whatever was keyed in the variable, too few keys as well
            channel.set_var(var, digits)
        if len(digits) >= min_d and re.fullmatch(regexp, digits):
            channel.set_var("read_result", "success")
            return "_none_"
        if digits and len(digits) >= min_d:
            # switch_play_and_get_digits: a regexp miss clears the variable, keeps <var>_invalid
            channel.set_var("read_result", "success")
            channel.set_var(var, None)
            channel.set_var(var + "_invalid", digits)
        else:
            channel.set_var("read_result", "failure")
        if invalid and _play(channel, invalid) == WakeReason.HANGUP:
            return "_none_"
    return "_none_"


def app_read(channel, arg):
    """read min max file var timeout terminators."""
    parts = arg.split()
    min_d, max_d = int(parts[0]), int(parts[1])
    prompt = parts[2] if len(parts) > 2 else ""
    var = parts[3] if len(parts) > 3 else "read_input"
    timeout = int(parts[4]) if len(parts) > 4 else 5000
    terminators = parts[5] if len(parts) > 5 else "#"
    channel.dtmf_buffer = ""
    digits, _term = _collect(channel, min_d, max_d, timeout, terminators, timeout, prompt)
    if digits is None:
        return "_none_"
    if len(digits) >= min_d:
        channel.set_var("read_result", "success")
        channel.set_var(var, digits)
    else:
        channel.set_var("read_result", "timeout")
    return "_none_"
