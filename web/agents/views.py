"""The agents page and its JSON (/api/agents): live state from the engine, kept fresh by push."""

from flask import Blueprint, current_app, jsonify, render_template

from web.agents.services import AgentService
from web.api.openapi import operation
from web.api.schemas import AgentBoardSchema
from web.auth.decorators import permission_required

# the feature owns its page and its JSON route, so the blueprint has no URL prefix
bp = Blueprint("agents", __name__)

def agent_service():
    """The AgentService over the app's control client."""
    return AgentService(current_app.extensions["fs_cc_control"])


@bp.route("/agents")
@permission_required("agents.view")
def index():
    """Each agent's status, since when, and queues; a notice when the engine does not answer."""
    board = agent_service().board()
    return render_template("agents/index.html", board=board), (
        200 if board.engine_available else 503)


@bp.route("/api/agents")
@permission_required("agents.view")
@operation(response=AgentBoardSchema, errors=((503, AgentBoardSchema),))
def board_json():
    """Each agent's live state from the engine; 503 when the engine does not answer."""
    board = agent_service().board()
    if board.engine_available:
        return jsonify(board.to_dict())
    return jsonify(dict(board.to_dict(), field=None)), 503
