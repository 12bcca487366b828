"""Serving a recording's file to someone allowed to hear it, each playback and download audited.

Only a stored recording is served (not one deleted by retention, missing, empty or failed), and
only from inside the recordings folder: the row's path is what the switch wrote, and a path
leading elsewhere is refused rather than followed.

A player fetches a file in byte ranges: a seek is a new request from the middle of the file. So
a playback is audited once, on the request that starts reading at the first byte (no ``Range``,
or a range from byte 0), not once for every range the player then asks for.
"""

import os
import re

from web.audit import AuditLog, actions
from web.errors import WebError
from web.recordings.search import RecordingSearch

FROM_FIRST_BYTE = re.compile(r"\s*bytes\s*=\s*0+\s*-", re.IGNORECASE)
UNSAFE = re.compile(r"[^0-9A-Za-z+._-]+")


class NoRecording(WebError):
    """No such recording (or not one this user may hear), or no file of it to hear."""

    status = 404


def starts_playback(range_header):
    """Whether a request with this ``Range`` header (None: none) reads from the first byte."""
    return range_header is None or FROM_FIRST_BYTE.match(range_header) is not None


def _part(text):
    # a file name the browser keeps as it is, on any system: no separators, no spaces
    return UNSAFE.sub("-", text or "").strip("-.") or "_"


def download_name(row, tz):
    """``<date>_<queue>_<caller>_<uuid>.wav``, the date in the display time zone ``tz``."""
    day = row.recording.started_at.astimezone(tz).date().isoformat()
    return "_".join((day, _part(row.queue), _part(row.caller),
                     _part(row.recording.call_uuid))) + ".wav"


class RecordingFiles:
    """The files of the recordings under ``root``, as a viewer may hear them; commits the
    audit entries it writes (the request changes nothing else)."""

    def __init__(self, session, root):
        self.session = session
        self.root = os.path.realpath(root)

    def find(self, recording_id, viewer):
        """(RecordingRow, real path) of a recording the viewer may hear; NoRecording otherwise."""
        row = RecordingSearch(self.session).visible(recording_id, viewer)
        if row is None:
            raise NoRecording(f"no recording {recording_id}", field="recording_id")
        if not row.playable:
            raise NoRecording(f"recording {recording_id} is {row.recording.status.value}: no "
                              "file to play", field="recording_id")
        path = os.path.realpath(row.recording.path)
        if os.path.commonpath([self.root, path]) != self.root:
            raise NoRecording(f"recording {recording_id} is not in the recordings folder",
                              field="recording_id")
        return row, path

    def _audit(self, action, row):
        recording = row.recording
        AuditLog(self.session).record(action, target=f"recording {recording.id}", detail={
            "call_uuid": recording.call_uuid, "queue": row.queue, "agent": row.agent,
            "started_at": recording.started_at.isoformat()})

    def played(self, row):
        """Write that ``row`` was played (a playback's first request)."""
        self._audit(actions.RECORDING_PLAYED, row)

    def downloaded(self, row):
        """Write that ``row``'s file was downloaded."""
        self._audit(actions.RECORDING_DOWNLOADED, row)
