"""The ``record`` application (record_function in mod_dptools.c, switch_ivr_record_file_event).

``record <path> [<time limit s>] [<silence threshold>] [<silence seconds>]`` records what the
caller says until a key in ``playback_terminators`` (``*`` when unset, ``none`` for no key), the
time limit, ``silence seconds`` of silence in a row (only with a threshold; 3 when not given), or
the hangup. The switch writes every frame it read, the trailing silence too, and sets
``record_ms``, ``record_seconds``, ``record_samples``, ``silence_hits_exhausted`` (true when the
silence ended it) and ``playback_terminator_used``; RECORD_START and RECORD_STOP frame it. A path whose folder does not
exist cannot be opened: the switch hangs the caller up with DESTINATION_OUT_OF_ORDER at once.

The simulated caller speaks for ``fs_cc_sim_speak_seconds`` (simulated seconds) from the start
of the recording, then is silent; its frames, the silence after the speech too, are written. A
caller who never speaks (unset or 0) sends no media at all, like a parked loopback leg on the
real switch: frames of comfort noise are not written, so the file is the 44-byte header and
``record_ms`` is 0 (measured on 1.10.12, docs/freeswitch-semantics.rst). Its keys come from the
``fs_cc_sim_dtmf`` script: the recording counts as one prompt, as play_and_get_digits does.
"""

import logging
import os

from fs_cc.emulator.channel import WakeReason
from fs_cc.emulator.execution import APPS
from fs_cc.emulator.recording import _write_silence

logger = logging.getLogger(__name__)

SPEAK_VAR = "fs_cc_sim_speak_seconds"
DEFAULT_TERMINATORS = "*"  # on_dtmf in mod_dptools.c without playback_terminators
DEFAULT_SILENCE_SECONDS = 3


def _number(text, default=0):
    try:
        return int(text.lstrip("+"))
    except (AttributeError, ValueError):
        return default


def _terminators(channel):
    value = channel.get_var("playback_terminators")
    if value is None:
        return DEFAULT_TERMINATORS
    if value.lower() == "none":
        return ""
    return "1234567890*#" if value.lower() == "any" else value


def _end_seconds(channel, limit, threshold, silence):
    """Simulated seconds until the recording stops by itself (None: only by key or hangup),
    and whether the silence stops it."""
    ends = []
    if limit:
        ends.append((float(limit), False))
    if threshold:
        speak = max(0.0, float(channel.get_var(SPEAK_VAR) or 0))
        ends.append((speak + (silence or DEFAULT_SILENCE_SECONDS), True))
    if not ends:
        return None, False
    return min(ends)


def app_record(channel, arg):
    """record path [limit] [threshold] [silence seconds]."""
    parts = (arg or "").split()
    if not parts:
        logger.error("%s: record: no file specified", channel.uuid)
        return None
    path = parts[0]
    limit = _number(parts[1]) if len(parts) > 1 else 0
    threshold = _number(parts[2]) if len(parts) > 2 else 0
    silence = _number(parts[3]) if len(parts) > 3 else 0
    if not os.path.isdir(os.path.dirname(path) or "."):
        # switch_core_file_open fails (record_file, unlike record_session, makes no folder):
        # record_function hangs the caller up (measured on 1.10.12)
        logger.error("%s: record: cannot open %s", channel.uuid, path)
        channel.hangup("DESTINATION_OUT_OF_ORDER")
        return None
    clock = channel.switch.clock
    channel.set_var("playback_terminator_used", "")
    channel.set_var("silence_hits_exhausted", "false")
    channel.dtmf_buffer = ""
    channel.prompts_started += 1  # the caller's script keys into the recording as a prompt
    channel.state_changed.set()
    channel.fire("RECORD_START", post=[("Record-File-Path", path)])
    started = clock.monotonic()
    seconds, by_silence = _end_seconds(channel, limit, threshold, silence)
    deadline = None if seconds is None else started + clock.real(seconds)
    terminators = _terminators(channel)
    while True:
        remaining = None if deadline is None else max(0.0, deadline - clock.monotonic())
        reason = channel.wait(remaining, dtmf=True, simulated=False)
        if reason == WakeReason.DTMF:
            digit, channel.dtmf_buffer = channel.dtmf_buffer[0], channel.dtmf_buffer[1:]
            if digit in terminators:
                channel.set_var("playback_terminator_used", digit)
                break
            continue
        if reason == WakeReason.TIMEOUT and by_silence:
            channel.set_var("silence_hits_exhausted", "true")
        break
    ms = int((clock.monotonic() - started) * clock.speed * 1000)
    if seconds is not None:
        ms = min(ms, int(seconds * 1000))
    if not float(channel.get_var(SPEAK_VAR) or 0):
        ms = 0  # no media from the caller: nothing written
    samples = ms * 8  # L16 at 8 kHz
    size = _write_silence(path, samples, False, False)
    for key, value in (("record_seconds", ms // 1000), ("record_ms", ms),
                       ("record_samples", samples), ("record_file_size", size)):
        channel.set_var(key, value)
    channel.fire("RECORD_STOP", post=[("Record-File-Path", path)])
    return None


APPS["record"] = app_record
