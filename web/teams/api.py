"""/api/teams: teams, their supervisors and members (permission teams.manage)."""

from flask import Blueprint, jsonify, request

from web.api.openapi import operation
from web.auth.decorators import permission_required
from web.extensions import db
from web.teams import schemas
from web.teams.services import TeamService

MANAGE = "teams.manage"
TAG = "teams"

bp = Blueprint("teams_api", __name__, url_prefix="/api/teams")


def team_service():
    """A TeamService on the app's session."""
    return TeamService(db.session)


@bp.get("")
@permission_required(MANAGE)
@operation(response=schemas.TeamListSchema, tag=TAG)
def teams():
    """Every team with its supervisors and members."""
    return jsonify(teams=[team.to_dict() for team in team_service().list()])


@bp.post("")
@permission_required(MANAGE)
@operation(body=schemas.TeamCreateSchema, response=schemas.TeamSchema, status=201,
           errors=(409,), tag=TAG)
def create_team():
    """Create a team; 409 when the name is taken or a member is in another team."""
    data = request.get_json()
    team = team_service().create(data["name"], data.get("description", ""),
                                 data["supervisors"], data.get("members", []))
    return jsonify(team.to_dict()), 201


@bp.get("/<int:team_id>")
@permission_required(MANAGE)
@operation(response=schemas.TeamSchema, tag=TAG)
def team(team_id):
    """One team."""
    return jsonify(team_service().get(team_id).to_dict())


@bp.patch("/<int:team_id>")
@permission_required(MANAGE)
@operation(body=schemas.TeamChangeSchema, response=schemas.TeamSchema, errors=(409,), tag=TAG)
def update_team(team_id):
    """Change a team's name, description, supervisors or members (a list replaces the team's)."""
    service = team_service()
    return jsonify(service.update(service.get(team_id), request.get_json()).to_dict())


@bp.delete("/<int:team_id>")
@permission_required(MANAGE)
@operation(response=schemas.TeamDeletedSchema, tag=TAG)
def delete_team(team_id):
    """Remove a team; its members then belong to no team, its notices go with it."""
    service = team_service()
    service.delete(service.get(team_id))
    return jsonify(id=team_id, deleted=True)
