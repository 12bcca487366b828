"""Media bugs, and recording (`record_session`, `uuid_record`) on them.

A media bug (switch_core_media_bug_add / switch_core_media_bug_destroy in switch_core_media_bug.c)
fires MEDIA_BUG_START with `Media-Bug-Function` and `Media-Bug-Target` ahead of the channel data
when added, MEDIA_BUG_STOP when removed: by its owner, or in CS_HANGUP before the call state turns
HANGUP (switch_core_session_hangup_state removes every bug). Recording
(switch_ivr_record_session_event in switch_ivr_async.c) is the bug `session_record` whose target
is the path: record_callback fires RECORD_START (`Record-File-Path`) before the MEDIA_BUG_START and
send_record_stop_event RECORD_STOP (`Record-Completion-Cause` too) before the MEDIA_BUG_STOP.
The file is written when the recording stops, as silence of the recording's (simulated) length:
a WAV of L16 at 8 kHz, two channels when ``RECORD_STEREO`` is true, in folders made as needed (as
the switch makes them); an empty recording is discarded and its file removed, as the switch does
(measured on 1.10.12). The emulator keeps the paths being recorded in `channel.recordings`.
"""

import logging
import os
import wave

logger = logging.getLogger(__name__)

RECORD_BUG = "session_record"
PACKET_MS = 20  # a recording stopped before its first frame is an empty file


class MediaBug:
    """One media bug on a channel (switch_media_bug_t): its function, target and close callback."""

    def __init__(self, channel, function, target, on_close=None):
        self.channel = channel
        self.function = function
        self.target = target
        self.on_close = on_close

    def _headers(self):
        return [("Media-Bug-Function", self.function), ("Media-Bug-Target", self.target)]

    def add(self):
        """switch_core_media_bug_add: MEDIA_BUG_START on the channel."""
        self.channel.media_bugs.append(self)
        self.channel.fire("MEDIA_BUG_START", pre=self._headers())
        return self

    def remove(self):
        """switch_core_media_bug_destroy: the close callback, then MEDIA_BUG_STOP; once only."""
        if self not in self.channel.media_bugs:
            return False
        self.channel.media_bugs.remove(self)
        if self.on_close is not None:
            self.on_close(self)
        self.channel.fire("MEDIA_BUG_STOP", pre=self._headers())
        return True


class Recording:
    """One recording: its path, when it started and whether it is masked."""

    def __init__(self, channel, path):
        self.channel = channel
        self.path = path
        self.started = channel.switch.clock.monotonic()
        self.bug = MediaBug(channel, RECORD_BUG, path, on_close=self._stopped)

    def _stopped(self, _bug):
        """send_record_stop_event: record_* variables, then RECORD_STOP."""
        channel = self.channel
        clock = channel.switch.clock
        ms = int((clock.monotonic() - self.started) * clock.speed * 1000)
        if ms < PACKET_MS:
            cause = "empty-file"  # no frame written: the file is discarded
            channel.set_var("RECORD_DISCARDED", "true")
        elif channel.hungup:
            cause = "success-silence"  # hung up while speech (assumed without silence detection)
        else:
            cause = "success-maxtime"
        samples = ms * 8  # L16 at 8 kHz
        size = _write_silence(self.path, samples, _stereo(channel), cause == "empty-file")
        for key, value in (("record_file_size", size), ("record_samples", samples),
                           ("record_seconds", ms // 1000), ("record_ms", ms),
                           ("record_completion_cause", cause)):
            channel.set_var(key, value)
        channel.fire("RECORD_STOP", post=[("Record-File-Path", self.path),
                                          ("Record-Completion-Cause", cause)])
        recordings = _recordings(channel)
        if self in recordings:
            recordings.remove(self)
        if not recordings:
            channel.set_var("fs_cc_recording", None)


def _stereo(channel):
    # channel variables are case-blind in FreeSWITCH: vanilla's directory sets record_stereo
    for name in ("RECORD_STEREO", "record_stereo"):
        value = channel.get_var(name)
        if value is not None:
            return value.strip().lower() in ("true", "yes", "on", "1")
    return False


def _make_folder(path):
    if os.path.isabs(path):
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        except OSError as exc:
            logger.warning("recording %s: folder not made: %s", path, exc)


def _write_silence(path, samples, stereo, discard):
    """Write ``samples`` frames of silence to the WAV at path; its size (44: header only).

    A path the emulator cannot write (not absolute, a folder it may not create) is logged and
    reported as the header's size, as a recording nothing reached.
    """
    if not os.path.isabs(path):
        return 44
    try:
        if discard:
            if os.path.exists(path):
                os.remove(path)
            return 44
        with wave.open(path, "wb") as handle:
            handle.setnchannels(2 if stereo else 1)
            handle.setsampwidth(2)
            handle.setframerate(8000)
            handle.writeframes(bytes(2 * (2 if stereo else 1) * samples))
        return os.path.getsize(path)
    except OSError as exc:
        logger.warning("recording %s not written: %s", path, exc)
        return 44


def start_recording(channel, path):
    """Start recording the channel to path (RECORD_START, MEDIA_BUG_START); False if recording it."""
    recordings = _recordings(channel)
    if any(r.path == path for r in recordings):
        logger.info("%s: already recording %s", channel.uuid, path)
        return False
    recording = Recording(channel, path)
    _make_folder(path)  # the switch opens the file (making its folders) as the recording starts
    recordings.append(recording)
    channel.set_var("fs_cc_recording", path)
    channel.fire("RECORD_START", post=[("Record-File-Path", path)])
    recording.bug.add()
    return True


def stop_recording(channel, path):
    """switch_ivr_stop_record_session: stop one recording (`all`: every one); False when none."""
    targets = [r for r in _recordings(channel) if path == "all" or r.path == path]
    for recording in targets:
        recording.bug.remove()
    return bool(targets)


def _recordings(channel):
    if not hasattr(channel, "recordings"):
        channel.recordings = []
    return channel.recordings


SESS_REC_SYNTAX = "<uuid> [start|stop|mask|unmask] <path> [<limit>] [<recording_vars>]"


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
        if not any(r.path == path for r in _recordings(channel)):
            return "-ERR Cannot %s recording session!\n" % action
        channel.set_var("fs_cc_recording_masked", "true" if action == "mask" else None)
        return "+OK Success\n"
    return "-USAGE: %s\n" % SESS_REC_SYNTAX
