"""The supervisor's seat (/supervisor) and its JSON API (/api/supervisor): the wallboard for
anyone who sees the agents (agents.view), agent moves with agents.manage, listening, whispering
and barging with supervise."""

from flask import Blueprint, current_app, g, jsonify, render_template, request

from web.api.openapi import operation
from web.auth.decorators import permission_required
from web.extensions import db
from web.supervisor import schemas
from web.supervisor.services import SupervisorError, SupervisorSeat, thresholds
from web.teams.services import NoSuchTeam, TeamService

TAG = "supervisor"

pages = Blueprint("supervisor", __name__)
bp = Blueprint("supervisor_api", __name__, url_prefix="/api/supervisor")


@bp.record_once
def _check_thresholds(state):
    # a bad setting stops the app at start, naming it, not at the first wallboard
    settings = state.app.extensions["fs_cc_settings"]
    state.app.extensions["fs_cc_wallboard"] = thresholds(
        getattr(settings, "wallboard_thresholds", None))


def seat():
    """The request user's SupervisorSeat."""
    return SupervisorSeat(current_app.extensions["fs_cc_control"], g.user,
                          current_app.extensions["fs_cc_wallboard"])


def _body():
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise SupervisorError("the body must be a JSON object", field=None)
    return data


@pages.get("/supervisor")
@permission_required("agents.view")
def index():
    """The wallboard, the agents and the calls, live; ``?tv=1`` for a screen on the wall."""
    return render_template("supervisor/index.html", tv=request.args.get("tv") == "1",
                           may_manage=g.user.can("agents.manage"),
                           may_supervise=g.user.can("supervise"))


def chosen_team(teams, value):
    """The team the board shows for the ``team`` parameter (None: every agent)."""
    if value is None:
        return teams.default_team(g.user)
    if value == "all":
        return None
    if not value.isdigit():
        raise SupervisorError("team: a team's id, or all", field="team")
    try:
        return teams.get(int(value))
    except NoSuchTeam:
        raise SupervisorError(f"team: no team {value}", field="team", status=404) from None


@bp.get("/board")
@permission_required("agents.view")
@operation(query=schemas.BoardQuerySchema, response=schemas.BoardSchema, tag=TAG)
def board():
    """Queues with their figures, agents and calls in progress, and the colour thresholds;
    the agents of one team (by default the user's own) or of all."""
    teams = TeamService(db.session)
    team = chosen_team(teams, request.args.get("team") or None)
    answer = seat().board(teams.extensions(team) if team is not None else None)
    answer["teams"] = [{"id": each.id, "name": each.name} for each in teams.list()]
    answer["team"] = {"id": team.id, "name": team.name} if team is not None else None
    return jsonify(answer)


@bp.post("/agents/<extension>/status")
@permission_required("agents.manage")
@operation(body=schemas.AgentStatusSchema, response=schemas.AgentSchema, errors=(409, 503),
           tag=TAG)
def agent_status(extension):
    """Change an agent's state (logged_out logs them out)."""
    data = _body()
    return jsonify(seat().set_status(extension, data.get("status"), data.get("reason", "")))


@bp.post("/calls/<call_uuid>/supervise")
@permission_required("supervise")
@operation(body=schemas.SuperviseSchema, response=schemas.SupervisingSchema,
           errors=(409, 503), tag=TAG)
def supervise(call_uuid):
    """Ring the supervisor's phone into the call: listen, whisper (coach) or barge."""
    return jsonify(seat().supervise(call_uuid, _body().get("mode")))


@bp.post("/calls/<call_uuid>/priority")
@permission_required("supervise")
@operation(body=schemas.CallerPrioritySchema, response=schemas.CallerPrioritizedSchema,
           errors=(409, 503), tag=TAG)
def caller_priority(call_uuid):
    """Change a waiting caller's priority (higher is served first)."""
    return jsonify(seat().set_priority(call_uuid, _body().get("priority")))


@bp.post("/calls/<call_uuid>/move")
@permission_required("supervise")
@operation(body=schemas.MoveCallerSchema, response=schemas.CallerPrioritizedSchema,
           errors=(409, 503), tag=TAG)
def move_caller(call_uuid):
    """Move a waiting caller to another queue, at its place in line."""
    return jsonify(seat().move(call_uuid, _body().get("queue")))


@bp.post("/calls/<call_uuid>/take-over")
@permission_required("supervise")
@operation(response=schemas.TakeOverSchema, errors=(409, 503), tag=TAG)
def take_over(call_uuid):
    """Take the call from its agent: the supervisor's phone rings, then has the caller and
    the agent goes to wrap-up."""
    return jsonify(seat().take_over(call_uuid))
