"""Recording queued calls: started when an agent answers, reported when the switch stops it.

The recorder is an Emitter listener: it learns each call's queue from the engine's own facts,
and when a call is answered by an agent it asks the switch (``uuid_record`` on the caller's
channel, which FreeSWITCH stops by itself at hangup) to record it under a predictable path,
``<root>/<YYYY-MM-DD>/<queue>/<call uuid>.wav`` (the UTC date of the answer). Stereo puts the
caller on the left and the agent on the right (``RECORD_STEREO`` on the caller's channel: what it
reads, then what it hears). What the switch answers and, at the end, its RECORD_STOP (length,
size, completion cause, whether it discarded the file) become events, so a recording that did
not start or came out empty is reported, never silently missing.
"""

import logging
import pathlib

import gevent

from fs_cc import events
from fs_cc.esl.errors import ESLError

logger = logging.getLogger(__name__)

OFF, MIXED, STEREO = "off", "mixed", "stereo"
MODES = (OFF, MIXED, STEREO)
NO_QUEUE = "_"  # the folder of calls answered outside a queue, and of unsafe queue names
RECORD_STOP = "RECORD_STOP"


def check_mode(mode, where="record_calls"):
    """``mode`` if it is one of MODES; ValueError naming ``where`` otherwise."""
    if mode not in MODES:
        raise ValueError(f"{where}: {mode!r} is not one of {', '.join(MODES)}")
    return mode


def recording_path(root, when, queue, call_uuid):
    """``<root>/<YYYY-MM-DD>/<queue>/<call uuid>.wav``: where one call's recording goes."""
    folder = queue if queue and queue not in (".", "..") and "/" not in queue else NO_QUEUE
    return pathlib.PurePosixPath(root) / when.strftime("%Y-%m-%d") / folder / f"{call_uuid}.wav"


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class CallRecorder:
    """Starts each answered queued call's recording and reports how it ended.

    ``mode_for(queue)`` says off, mixed or stereo for a queue (the queue's setting, else the
    deployment's ``record_calls``). Register the recorder as an Emitter listener and its
    :meth:`on_record_stop` for the switch's RECORD_STOP events.
    """

    def __init__(self, ctl, emitter, root, mode_for, *, spawn=gevent.spawn):
        self.ctl = ctl
        self.emitter = emitter
        self.root = root
        self.mode_for = mode_for
        self._spawn = spawn
        self._queues = {}  # call uuid -> the queue it waits or waited in
        self._recorded = set()  # calls whose recording was asked for (once a call)
        self._paths = {}  # path being recorded -> call uuid

    def __call__(self, event):
        """Follow one of the engine's facts (an Emitter listener: never blocks)."""
        if isinstance(event, (events.CallQueued, events.OfferedToAgent)) and event.queue:
            self._queues[event.call_uuid] = event.queue
        elif isinstance(event, events.AnsweredByAgent):
            if event.call_uuid not in self._recorded:
                self._recorded.add(event.call_uuid)
                self._spawn(self.start, event.call_uuid, event.agent, event.ts)
        elif isinstance(event, events.CallEnded):
            self._queues.pop(event.call_uuid, None)
            self._recorded.discard(event.call_uuid)

    def start(self, call_uuid, agent, when):
        """Ask the switch to record the call; the event saying it did, or why not (None: off)."""
        queue = self._queues.get(call_uuid)
        mode = self.mode_for(queue)
        if mode == OFF:
            return None
        path = str(recording_path(self.root, when, queue, call_uuid))
        try:
            # said either way: vanilla's directory sets record_stereo=true on its users' legs
            self.ctl.set_var(call_uuid, "RECORD_STEREO", "true" if mode == STEREO else "false")
            reply = self.ctl.record(call_uuid, path).strip()
        except ESLError as exc:
            reply = f"-ERR {exc}"
        if not reply.startswith("+OK"):
            logger.error("call %s: recording to %s refused: %s", call_uuid, path, reply)
            return self.emitter.emit(events.RecordingFailed, call_uuid=call_uuid, path=path,
                                     reason=reply or "no answer")
        self._paths[path] = call_uuid
        return self.emitter.emit(events.RecordingStarted, call_uuid=call_uuid, path=path,
                                 mode=mode, queue=queue, agent=agent)

    def on_record_stop(self, event):
        """The switch stopped a recording: report ours with its length, size and cause."""
        path = event.get("Record-File-Path")
        call_uuid = self._paths.pop(path, None)
        if call_uuid is None:
            return None  # not one this engine started (a supervisor's, another engine's)
        cause = event.get("Record-Completion-Cause") or ""
        discarded = (event.get("variable_RECORD_DISCARDED") or "").lower() == "true"
        if discarded or cause == "empty-file":
            logger.warning("call %s: recording %s came out empty (%s)", call_uuid, path,
                           cause or "discarded")
        return self.emitter.emit(
            events.RecordingStopped, call_uuid=call_uuid, path=path,
            duration_ms=_int(event.get("variable_record_ms")),
            size=_int(event.get("variable_record_file_size")), cause=cause, discarded=discarded)
