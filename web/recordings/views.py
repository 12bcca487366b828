"""The Recordings page and its JSON, and a recording's audio and download.

``recordings.listen`` hears every recording; ``recordings.listen_own`` (which it implies) only
those of the calls one's extension took: another's is 404 as one that does not exist. The rules
of the files and their audit are in web.recordings.playback.
"""

from flask import (Blueprint, current_app, flash, g, jsonify, redirect, render_template,
                   request, send_file, url_for)

from web.api.openapi import operation
from web.auth.decorators import permission_required
from web.errors import InvalidFilter
from web.extensions import db
from web.params import check_query
from web.recordings import schemas
from web.recordings.playback import NoRecording, RecordingFiles, download_name, starts_playback
from web.recordings.search import (LISTEN_OWN, RecordingFilters, RecordingSearch,
                                   parse_recording_filters)
from web.timezone import display_timezone

# the feature owns its page and its JSON route (/api/recordings): no URL prefix
bp = Blueprint("recordings", __name__)
PAGE_PARAMS = ("from", "to", "caller", "queue", "agent", "disposition", "min_seconds",
               "max_seconds", "status", "page")
PER_PAGE = 50
MAX_LIMIT = 500
AUDITED = (200, 206, 304)  # a file served (or the browser's copy confirmed): heard


def _files():
    return RecordingFiles(db.session, current_app.extensions["fs_cc_settings"].recordings_root)


def _urls(row):
    if not row.playable:
        return {"audio_url": None, "download_url": None}
    return {"audio_url": url_for("recordings.audio", recording_id=row.recording.id),
            "download_url": url_for("recordings.download", recording_id=row.recording.id)}


def _page(search, **context):
    return render_template("recordings/index.html", args=request.args,
                           queues=search.queue_names(), dispositions=search.disposition_names(),
                           urls=_urls, **context)


@bp.get("/recordings")
@permission_required(LISTEN_OWN)
def index():
    """Recordings newest first, filtered, paged, each with a player; own calls only for agents."""
    per_page = current_app.config.get("RECORDINGS_PER_PAGE", PER_PAGE)
    search = RecordingSearch(db.session)
    try:
        check_query(PAGE_PARAMS)  # a misspelt filter must not look like the answer
        filters = parse_recording_filters(request.args, default_limit=per_page, paging="page",
                                          tz=display_timezone())
    except InvalidFilter as exc:
        return _page(search, error=exc, rows=[], total=0, page=1, pages=1,
                     filters=RecordingFilters()), 400
    rows, total = search.search(filters, viewer=g.user)
    page = filters.offset // per_page + 1
    pages = max(1, -(-total // per_page))
    if page > pages:
        flash(f"There is no page {request.args['page']}: the recordings fill {pages} "
              f"page{'s' if pages > 1 else ''}; this is the last.", "info")
        return redirect(url_for("recordings.index", **filters.query_args(),
                                **({"page": pages} if pages > 1 else {})))
    return _page(search, error=None, rows=rows, total=total, page=page, pages=pages,
                 filters=filters)


@bp.get("/api/recordings")
@permission_required(LISTEN_OWN)
@operation(query=schemas.RecordingQuerySchema, response=schemas.RecordingPageSchema)
def listing():
    """Recordings with their calls, newest first, filtered, paged by limit/offset.

    Filters: from, to, caller, queue, agent, disposition, min_seconds, max_seconds, status
    (stored by default). With only ``recordings.listen_own``: the recordings of one's own
    calls (by extension), whatever ``agent`` says.
    """
    filters = parse_recording_filters(
        request.args, default_limit=current_app.config.get("RECORDINGS_PER_PAGE", PER_PAGE),
        max_limit=current_app.config.get("RECORDINGS_MAX_LIMIT", MAX_LIMIT),
        tz=display_timezone())
    rows, total = RecordingSearch(db.session).search(filters, viewer=g.user)
    return jsonify(recordings=[{**row.to_dict(), **_urls(row)} for row in rows], total=total,
                   limit=filters.limit, offset=filters.offset)


def _serve(recording_id, audit, attachment=False):
    files = _files()
    row, path = files.find(recording_id, g.user)
    named = {"as_attachment": True,
             "download_name": download_name(row, display_timezone())} if attachment else {}
    try:
        response = send_file(path, mimetype="audio/wav", conditional=True, **named)
    except (FileNotFoundError, PermissionError):
        raise NoRecording(f"the file of recording {recording_id} is not readable here",
                          field="recording_id") from None
    # the first request of a playback (or download), not each range a player seeks to
    if (request.method == "GET" and response.status_code in AUDITED
            and starts_playback(request.headers.get("Range"))):
        audit(files, row)
    return response


@bp.get("/recordings/<int:recording_id>/audio")
@permission_required(LISTEN_OWN)
def audio(recording_id):
    """The recording's WAV file, as the switch wrote it (ranges served, for the player)."""
    return _serve(recording_id, RecordingFiles.played)


@bp.get("/recordings/<int:recording_id>/download")
@permission_required(LISTEN_OWN)
def download(recording_id):
    """The recording's WAV file as an attachment, named after its date, queue, caller, call."""
    return _serve(recording_id, RecordingFiles.downloaded, attachment=True)
