"""The teams admin pages (/teams, permission teams.manage): list, create, edit, members."""

from flask import Blueprint, flash, redirect, render_template, request, url_for

from web.auth.decorators import permission_required
from web.errors import WebError
from web.teams.api import MANAGE, team_service
from web.teams.services import SUPERVISING
from web.users.views import account_service

bp = Blueprint("teams", __name__, url_prefix="/teams", template_folder="templates")


def _values(team):
    return {"name": team.name, "description": team.description,
            "supervisors": [user.username for user in team.supervisors],
            "members": [user.username for user in team.members]}


def _form_values():
    return {"name": request.form.get("name", ""),
            "description": request.form.get("description", ""),
            "supervisors": request.form.getlist("supervisors"),
            "members": request.form.getlist("members")}


def _form(team, values, error=None, status=200):
    users = [user for user in account_service().list() if user.active]
    elsewhere = {}
    for other in team_service().list():
        if team is None or other.id != team.id:
            for user in other.members:
                elsewhere[user.username] = other.name
    return render_template("teams/form.html", team=team, values=values, error=error,
                           users=users, elsewhere=elsewhere,
                           leaders=[user for user in users if user.can(SUPERVISING)]), status


@bp.get("")
@permission_required(MANAGE)
def index():
    """Every team with its supervisors and members."""
    return render_template("teams/index.html", teams=team_service().list())


@bp.get("/new")
@permission_required(MANAGE)
def new():
    """An empty team form."""
    return _form(None, {"supervisors": [], "members": []})


@bp.post("/new")
@permission_required(MANAGE)
def create():
    """Create the team, or show the form again with the field at fault."""
    values = _form_values()
    try:
        team = team_service().create(**values)
    except WebError as exc:
        return _form(None, values, exc, exc.status)
    flash(f"Team {team.name} created.", "info")
    return redirect(url_for("teams.index"))


@bp.get("/<int:team_id>")
@permission_required(MANAGE)
def edit(team_id):
    """One team's form: name, description, supervisors, members."""
    team = team_service().get(team_id)
    return _form(team, _values(team))


@bp.post("/<int:team_id>")
@permission_required(MANAGE)
def update(team_id):
    """Save the team, or show the form again with the field at fault."""
    service = team_service()
    values = _form_values()
    try:
        team = service.update(service.get(team_id), values)
    except WebError as exc:
        return _form(service.get(team_id), values, exc, exc.status)
    flash(f"Team {team.name} saved.", "info")
    return redirect(url_for("teams.index"))


@bp.post("/<int:team_id>/delete")
@permission_required(MANAGE)
def delete(team_id):
    """Remove the team."""
    service = team_service()
    team = service.get(team_id)
    name = team.name
    service.delete(team)
    flash(f"Team {name} removed.", "info")
    return redirect(url_for("teams.index"))
