"""The call records page."""

from flask import Blueprint, current_app, g, render_template, request

from web.auth.decorators import login_required
from web.calls.filters import CallFilters, parse_filters
from web.calls.services import CallRecordService
from web.errors import InvalidFilter
from web import display_timezone
from web.extensions import db

bp = Blueprint("calls", __name__, url_prefix="/calls")


@bp.route("")
@login_required
def index():
    """Call records, newest first, filtered and paged; agents see only their own calls."""
    per_page = current_app.config["CALLS_PER_PAGE"]
    calls = CallRecordService(db.session)
    try:
        filters = parse_filters(request.args, default_limit=per_page, paging="page",
                                tz=display_timezone())
    except InvalidFilter as exc:
        return render_template("calls/index.html", error=exc, rows=[], total=0, page=1, pages=1,
                               filters=CallFilters(), args=request.args,
                               queues=calls.queue_names()), 400
    rows, total = calls.search(filters, viewer=g.user)
    page = filters.offset // per_page + 1
    pages = max(1, -(-total // per_page))
    return render_template("calls/index.html", error=None, rows=rows, total=total, page=page,
                           pages=pages, filters=filters, args=request.args,
                           queues=calls.queue_names())
