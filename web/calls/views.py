"""The Calls page (calls in progress from the engine above the stored records) and its JSON."""

from flask import Blueprint, current_app, flash, g, jsonify, redirect, render_template, request, url_for

from web.api.openapi import operation
from web.api.schemas import CallPageSchema, CallQuerySchema
from web.auth.decorators import permission_required
from web.calls.filters import CallFilters, parse_filters
from web.calls.live import RINGING_AGENT, WITH_AGENT, LiveCallService
from web.calls.services import CallRecordService
from web.crm.masking import PERMISSION as FULL_NUMBERS
from web.crm.masking import mask_number
from web.errors import InvalidFilter
from web.extensions import db
from web.params import check_query
from web.timezone import display_timezone

# the feature owns its page and its JSON routes (/api/calls), so the blueprint has no URL prefix
PAGE_PARAMS = ("from", "to", "caller", "queue", "agent", "page")  # what the Calls page takes

bp = Blueprint("calls", __name__)

LIVE_REFRESH_SECONDS = 5


def live_call_service():
    """The LiveCallService over the app's control client."""
    return LiveCallService(current_app.extensions["fs_cc_control"])


def shown_number(viewer):
    """How ``viewer`` sees callers' numbers: as they are with crm.phones, else masked (as the
    CRM masks a customer's numbers)."""
    if viewer is not None and viewer.can(FULL_NUMBERS):
        return lambda number: number
    return lambda number: mask_number(number) if number else number


def _live_for(viewer):
    """The calls in progress, their callers' numbers as ``viewer`` may see them: in full on the
    viewer's own call (ringing or talking with their agent), as the desktop shows it."""
    live = live_call_service().in_progress(viewer=viewer)
    shown, own = shown_number(viewer), (viewer.extension if viewer is not None else None)
    for call in live.calls:
        if not (own and call.agent == own and call.state in (WITH_AGENT, RINGING_AGENT)):
            call.caller = shown(call.caller)
    return live


def _live_context():
    return {"live": _live_for(g.user), "shown_number": shown_number(g.user),
            "live_refresh_seconds": current_app.config.get("CALLS_LIVE_REFRESH_SECONDS",
                                                           LIVE_REFRESH_SECONDS)}


@bp.route("/calls")
@permission_required("calls.view_own")
def index():
    """Calls in progress, then call records newest first, filtered, paged; agents: their own."""
    per_page = current_app.config["CALLS_PER_PAGE"]
    calls = CallRecordService(db.session)
    try:
        check_query(PAGE_PARAMS)  # a misspelt filter must not look like the answer
        filters = parse_filters(request.args, default_limit=per_page, paging="page",
                                tz=display_timezone())
    except InvalidFilter as exc:
        return render_template("calls/index.html", error=exc, rows=[], total=0, page=1, pages=1,
                               filters=CallFilters(), args=request.args,
                               queues=calls.queue_names(), **_live_context()), 400
    rows, total = calls.search(filters, viewer=g.user)
    page = filters.offset // per_page + 1
    pages = max(1, -(-total // per_page))
    if page > pages:
        # a link kept from when there were more calls, or a typed number: the last page, said so
        flash(f"There is no page {request.args['page']}: the call records fill {pages} "
              f"page{'s' if pages > 1 else ''}; this is the last.", "info")
        return redirect(url_for("calls.index", **filters.query_args(),
                                **({"page": pages} if pages > 1 else {})))
    return render_template("calls/index.html", error=None, rows=rows, total=total, page=page,
                           pages=pages, filters=filters, args=request.args,
                           queues=calls.queue_names(), **_live_context())


@bp.route("/calls/in-progress")
@permission_required("calls.view_own")
def in_progress():
    """Calls in progress as JSON (the Calls page refreshes from it); 503 when the engine is down."""
    live = _live_for(g.user)
    return jsonify(live.to_dict()), (200 if live.engine_available else 503)


@bp.route("/api/calls")
@permission_required("calls.view_own")
@operation(query=CallQuerySchema, response=CallPageSchema)
def records_json():
    """Call records, newest first; filters from/to/caller/queue/agent, paging limit/offset."""
    filters = parse_filters(request.args, default_limit=current_app.config["CALLS_PER_PAGE"],
                            max_limit=current_app.config["CALLS_MAX_LIMIT"],
                            tz=display_timezone())
    rows, total = CallRecordService(db.session).search(filters, viewer=g.user)
    shown = shown_number(g.user)
    return jsonify(calls=[{**row.to_dict(), "caller_number": shown(row.caller_number)}
                          for row in rows], total=total,
                   limit=filters.limit, offset=filters.offset)
