"""The audit log page (``audit.view``): search by user, action, period and text; CSV export.

There is no route that edits or deletes an entry.
"""

from flask import Blueprint, Response, render_template, request

from web.audit import actions
from web.audit.services import AuditFilters, AuditLog
from web.auth.decorators import permission_required
from web.calls.filters import parse_datetime
from web.errors import InvalidFilter
from web.extensions import db
from web.timezone import display_timezone
from web.params import check_query

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

PAGE_PARAMS = ("user", "action", "q", "from", "to", "page")
PER_PAGE = 100
MAX_PAGE = 100_000


def parse_audit_filters(args):
    """AuditFilters from the page's query ``args``; InvalidFilter naming the field at fault."""
    check_query(PAGE_PARAMS)  # a misspelt filter must not look like the answer
    tz = display_timezone()
    filters = AuditFilters(username=(args.get("user") or "").strip() or None,
                           action=(args.get("action") or "").strip() or None,
                           text=(args.get("q") or "").strip()[:200] or None, limit=PER_PAGE)
    if filters.action and filters.action not in actions.ACTIONS:
        raise InvalidFilter(f"action: unknown action {filters.action!r}", field="action")
    if args.get("from"):
        filters.date_from = parse_datetime(args["from"], "from", tz=tz)
    if args.get("to"):
        filters.date_to = parse_datetime(args["to"], "to", end_of_day=True, tz=tz)
    page = (args.get("page") or "1").strip()
    if not page.isdigit() or not 1 <= int(page) <= MAX_PAGE:
        raise InvalidFilter(f"page: must be a whole number from 1 to {MAX_PAGE}", field="page")
    filters.offset = (int(page) - 1) * PER_PAGE
    return filters


@bp.get("")
@permission_required("audit.view")
def index():
    """The entries matching the search, newest first, a page at a time."""
    log = AuditLog(db.session)
    context = {"args": request.args, "actions": actions.ACTIONS, "usernames": log.usernames()}
    try:
        filters = parse_audit_filters(request.args)
    except InvalidFilter as exc:
        return render_template("audit/index.html", error=exc, rows=[], total=0, page=1,
                               pages=1, **context), 400
    rows, total = log.search(filters)
    return render_template("audit/index.html", error=None, rows=rows, total=total,
                           page=filters.offset // PER_PAGE + 1,
                           pages=max(1, -(-total // PER_PAGE)), **context)


@bp.get("/export.csv")
@permission_required("audit.view", "data.export")
def export():
    """Every entry matching the search as CSV; the export itself is audited."""
    filters = parse_audit_filters(request.args)
    log = AuditLog(db.session)
    text, count = log.export_csv(filters)
    log.record(actions.AUDIT_EXPORTED, target="audit_log",
               detail={"rows": count, "filters": {key: value for key, value in
                                                  request.args.items() if key != "page"}})
    return Response(text, content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="audit_log.csv"'})
