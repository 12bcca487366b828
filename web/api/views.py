"""JSON endpoints that belong to no one feature; errors answer ``{"error": ..., "field": ...}``.

Each feature serves its own JSON routes under /api (web.calls: /api/calls, web.agents:
/api/agents, web.events: /api/events); this blueprint keeps what is about the caller.
"""

from flask import Blueprint, g, jsonify

from web.auth.decorators import login_required

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.route("/me")
@login_required
def me():
    """Who the caller is authenticated as."""
    return jsonify(username=g.user.username, role=g.user.role.name, extension=g.user.extension,
                   permissions=sorted(g.user.permissions))
