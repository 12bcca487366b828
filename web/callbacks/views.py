"""The Callbacks page: pending, in-progress and finished requests with their attempts.

Seeing it needs ``calls.view_all``; cancelling and rescheduling (forms, CSRF) ``callbacks.manage``.
"""

from flask import (Blueprint, current_app, flash, g, redirect, render_template, request,
                   url_for)

from web.audit import actions as audit_actions
from web.audit.services import AuditLog
from web.auth.decorators import permission_required
from web.callbacks.services import (CallbackActions, CallbackFilters, CallbackQueries,
                                    parse_filters)
from web.calls.filters import parse_datetime
from web.errors import InvalidFilter, WebError
from web.extensions import db
from web.facts.services import FactService, parse_batch
from web.timezone import display_timezone
from web.params import check_query

bp = Blueprint("callbacks", __name__)

PAGE_PARAMS = ("state", "queue", "number", "limit", "offset")  # what the page takes
VIEW = "calls.view_all"
MANAGE = "callbacks.manage"


def store_engine_events(batch):
    """Store events the engine answered with, as the worker does (web.facts)."""
    facts, _ = parse_batch(batch)
    FactService(db.session).store(facts)


def callback_actions():
    """CallbackActions over the app's engine control."""
    return CallbackActions(db.session, current_app.extensions["fs_cc_control"],
                           store_engine_events)


def cancel_callback(callback_id):
    """Cancel as the current user, audited; the row after."""
    row = callback_actions().cancel(callback_id, by=g.user.username)
    AuditLog(db.session).record(audit_actions.CALLBACK_CANCELLED, target=callback_id,
                                detail={"queue": row.queue, "number": row.number})
    return row


def reschedule_callback(callback_id, text, tz):
    """Reschedule for ``text`` (ISO 8601; naive in ``tz``) as the current user, audited."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidFilter("not_before: a date and time is required", field="not_before")
    not_before = parse_datetime(text, "not_before", tz=tz)
    row = callback_actions().reschedule(callback_id, not_before, by=g.user.username)
    AuditLog(db.session).record(audit_actions.CALLBACK_RESCHEDULED, target=callback_id,
                                detail={"not_before": not_before.isoformat()})
    return row


@bp.route("/callbacks")
@permission_required(VIEW)
def index():
    """The requests, open ones first by their place in line; filters state, queue, number."""
    queries = CallbackQueries(db.session)
    per_page = current_app.config.get("CALLBACKS_PER_PAGE", 50)
    try:
        check_query(PAGE_PARAMS)
        filters = parse_filters(request.args, default_limit=per_page, max_limit=per_page)
    except InvalidFilter as exc:
        return _page(queries, CallbackFilters(), [], 0, error=exc), 400
    rows, total = queries.search(filters)
    return _page(queries, filters, rows, total)


def _page(queries, filters, rows, total, error=None):
    return render_template("callbacks/index.html", rows=rows, total=total, filters=filters,
                           args=request.args, queues=queries.queue_names(), error=error,
                           may_manage=MANAGE in g.user.permissions)


@bp.post("/callbacks/<callback_id>/cancel")
@permission_required(VIEW, MANAGE)
def cancel(callback_id):
    """Cancel a pending callback (the engine stops it), then back to the list."""
    try:
        cancel_callback(callback_id)
    except WebError as exc:
        flash(f"Not cancelled: {exc.message}", "error")
    else:
        flash(f"Callback {callback_id} cancelled.", "ok")
    return redirect(url_for("callbacks.index", **_kept_filters()))


@bp.post("/callbacks/<callback_id>/reschedule")
@permission_required(VIEW, MANAGE)
def reschedule(callback_id):
    """Set when a callback is tried next (its place in line is kept)."""
    try:
        row = reschedule_callback(callback_id, request.form.get("not_before"),
                                  display_timezone())
    except WebError as exc:
        flash(f"Not rescheduled: {exc.message}", "error")
    else:
        flash(f"Callback {callback_id} rescheduled; it is {row.state.value}.", "ok")
    return redirect(url_for("callbacks.index", **_kept_filters()))


def _kept_filters():
    return {name: request.form[name] for name in ("state", "queue", "number")
            if request.form.get(name)}
