"""The agents page: live status from the engine, refreshed by a small fetch."""

from flask import Blueprint, current_app, render_template

from web.agents.services import AgentService
from web.auth.decorators import roles_required

bp = Blueprint("agents", __name__, url_prefix="/agents")

SUPERVISING_ROLES = ("admin", "manager", "supervisor")


def agent_service():
    """The AgentService over the app's control client."""
    return AgentService(current_app.extensions["fs_cc_control"])


@bp.route("")
@roles_required(*SUPERVISING_ROLES)
def index():
    """Each agent's status, since when, and queues; a notice when the engine does not answer."""
    board = agent_service().board()
    return render_template("agents/index.html", board=board,
                           refresh_seconds=current_app.config["AGENTS_REFRESH_SECONDS"]), (
        200 if board.engine_available else 503)
