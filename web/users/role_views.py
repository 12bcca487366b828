"""The roles admin pages (permission ``roles.manage``): built-in roles shown, custom ones edited."""

from flask import Blueprint, flash, redirect, render_template, request, url_for

from web.auth.decorators import permission_required
from web.auth.permissions import IMPLIES, PERMISSIONS
from web.errors import WebError
from web.users import forms
from web.users.views import role_service

bp = Blueprint("roles", __name__, url_prefix="/admin/roles")

MANAGE = "roles.manage"


def _form(role, values, error=None, status=200):
    holders = role_service().users_of(role) if role is not None else 0
    return render_template("roles/form.html", role=role, values=values, error=error,
                           permissions=PERMISSIONS, implies=IMPLIES, holders=holders), status


@bp.get("")
@permission_required(MANAGE)
def index():
    """Every role with its permissions and how many users hold it."""
    service = role_service()
    roles = service.list()
    return render_template("roles/index.html", roles=roles, permissions=PERMISSIONS,
                           holders={role.id: service.users_of(role) for role in roles})


@bp.get("/new")
@permission_required(MANAGE)
def new():
    """An empty role form: a name, a description, a box for each permission."""
    return _form(None, {"permissions": []})


@bp.post("/new")
@permission_required(MANAGE)
def create():
    """Create the role, or show the form again with the field at fault."""
    data = forms.role_data(request.form)
    try:
        role = role_service().create(data)
    except WebError as exc:
        return _form(None, data, exc, exc.status)
    flash(f"Role {role.name} created.", "info")
    return redirect(url_for("roles.index"))


@bp.get("/<int:role_id>")
@permission_required(MANAGE)
def edit(role_id):
    """One role's form (read-only for a built-in role)."""
    role = role_service().get(role_id)
    return _form(role, {"name": role.name, "description": role.description,
                        "permissions": sorted(role.granted)})


@bp.post("/<int:role_id>")
@permission_required(MANAGE)
def update(role_id):
    """Save the role, or show the form again with the field at fault."""
    service = role_service()
    role = service.get(role_id)
    data = forms.role_data(request.form)
    try:
        service.update(role, data)
    except WebError as exc:
        return _form(service.get(role_id), data, exc, exc.status)
    flash(f"Role {role.name} saved.", "info")
    return redirect(url_for("roles.index"))


@bp.post("/<int:role_id>/delete")
@permission_required(MANAGE)
def delete(role_id):
    """Delete a custom role no one holds."""
    service = role_service()
    role = service.get(role_id)
    name = role.name
    try:
        service.delete(role)
    except WebError as exc:
        return _form(service.get(role_id), {"name": role.name, "description": role.description,
                                            "permissions": sorted(role.granted)},
                     exc, exc.status)
    flash(f"Role {name} deleted.", "info")
    return redirect(url_for("roles.index"))
