"""JSON endpoints; errors answer ``{"error": ..., "field": ...}`` with a proper status."""

from flask import Blueprint, current_app, g, jsonify, request

from web.agents.views import SUPERVISING_ROLES, agent_service
from web.auth.decorators import login_required, roles_required
from web.calls.filters import parse_filters
from web.calls.services import CallRecordService
from web import display_timezone
from web.extensions import db

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.route("/calls")
@login_required
def calls():
    """Call records, newest first; filters from/to/caller/queue/agent, paging limit/offset."""
    filters = parse_filters(request.args, default_limit=current_app.config["CALLS_PER_PAGE"],
                            max_limit=current_app.config["CALLS_MAX_LIMIT"],
                            tz=display_timezone())
    rows, total = CallRecordService(db.session).search(filters, viewer=g.user)
    return jsonify(calls=[row.to_dict() for row in rows], total=total,
                   limit=filters.limit, offset=filters.offset)


@bp.route("/agents")
@roles_required(*SUPERVISING_ROLES)
def agents():
    """Each agent's live state from the engine; 503 when the engine does not answer."""
    board = agent_service().board()
    if board.engine_available:
        return jsonify(board.to_dict())
    return jsonify(dict(board.to_dict(), field=None)), 503


@bp.route("/me")
@login_required
def me():
    """Who the caller is authenticated as."""
    return jsonify(username=g.user.username, role=g.user.role.value, extension=g.user.extension)
