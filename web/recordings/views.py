"""A call recording's audio, for those allowed to hear it (``recordings.listen``).

Only a stored recording is served (not one deleted by retention, missing, empty or failed), and
only from inside the recordings folder (``recordings_dir``): the row's path is what the switch
wrote, and a path leading elsewhere is refused rather than followed.
"""

import os

from flask import Blueprint, current_app, send_file

from web.auth.decorators import permission_required
from web.errors import WebError
from web.extensions import db
from web.recordings.models import Recording, RecordingStatus

bp = Blueprint("recordings", __name__)
LISTEN = "recordings.listen"


class NoRecording(WebError):
    """No such recording, or no file of it to hear."""

    status = 404


@bp.get("/recordings/<int:recording_id>/audio")
@permission_required(LISTEN)
def audio(recording_id):
    """The recording's WAV file, as the switch wrote it (ranges served, for the player)."""
    row = db.session.get(Recording, recording_id)
    if row is None:
        raise NoRecording(f"no recording {recording_id}", field="recording_id")
    if row.status is not RecordingStatus.STORED:
        raise NoRecording(f"recording {recording_id} is {row.status.value}: no file to play",
                          field="recording_id")
    root = os.path.realpath(current_app.extensions["fs_cc_settings"].recordings_root)
    path = os.path.realpath(row.path)
    if os.path.commonpath([root, path]) != root:
        raise NoRecording(f"recording {recording_id} is not in the recordings folder",
                          field="recording_id")
    try:
        return send_file(path, mimetype="audio/wav", conditional=True)
    except (FileNotFoundError, PermissionError):
        raise NoRecording(f"the file of recording {recording_id} is not readable here",
                          field="recording_id") from None
