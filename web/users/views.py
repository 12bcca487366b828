"""The users admin pages (permission ``users.manage``): list, create, edit, disable, reset."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from web.audit import AuditLog
from web.auth.decorators import permission_required
from web.auth.passwords import policy_for
from web.catalog.notifier import EngineNotifier
from web.catalog.services import AgentService, QueueService
from web.errors import WebError
from web.extensions import db
from web.users import forms
from web.users.roles import RoleService
from web.users.services import AccountService

bp = Blueprint("users", __name__, url_prefix="/admin/users")

MANAGE = "users.manage"


def account_service(actor=None):
    """An AccountService on the app's session, its password policy and the catalog's agents.

    ``actor`` names who acts when there is no request (a command), for the audit log.
    """
    notify = EngineNotifier(current_app.extensions["fs_cc_control"])
    return AccountService(db.session, policy_for(current_app.config),
                          AgentService(db.session, notify, AuditLog(db.session, actor)),
                          AuditLog(db.session, actor))


def role_service(actor=None):
    """A RoleService on the app's session (``actor`` as for account_service)."""
    return RoleService(db.session, AuditLog(db.session, actor))


def _form(user, values, error=None, status=200):
    service = account_service()
    queues = QueueService(db.session, None).list()
    agent = service.agent_of(user) if user is not None else None
    return render_template("users/form.html", user=user, values=values, error=error,
                           roles=role_service().list(), queues=queues, agent=agent,
                           min_length=service.policy.min_length), status


def _values(user, agent):
    return {"display_name": user.display_name, "role": user.role.name,
            "extension": agent.extension if agent is not None else (user.extension or ""),
            "queues": list(agent.levels()) if agent is not None else [],
            "active": user.active}


@bp.get("")
@permission_required(MANAGE)
def index():
    """Every user with their role, extension and state."""
    service = account_service()
    return render_template("users/index.html", users=service.list())


@bp.get("/new")
@permission_required(MANAGE)
def new():
    """An empty user form."""
    return _form(None, {"role": "agent", "queues": []})


@bp.post("/new")
@permission_required(MANAGE)
def create():
    """Create the user, or show the form again with the field at fault."""
    data = forms.user_data(request.form, creating=True)
    try:
        user = account_service().create(data, request.form.get("password", ""))
    except WebError as exc:
        return _form(None, data, exc, exc.status)
    flash(f"User {user.username} created.", "info")
    return redirect(url_for("users.index"))


@bp.get("/<int:user_id>")
@permission_required(MANAGE)
def edit(user_id):
    """One user's form, with password reset and disable or enable."""
    service = account_service()
    user = service.get(user_id)
    return _form(user, _values(user, service.agent_of(user)))


@bp.post("/<int:user_id>")
@permission_required(MANAGE)
def update(user_id):
    """Save the user, or show the form again with the field at fault."""
    service = account_service()
    user = service.get(user_id)
    data = forms.user_data(request.form, creating=False)
    try:
        service.update(user, data)
    except WebError as exc:
        return _form(service.get(user_id), data, exc, exc.status)
    flash(f"User {user.username} saved.", "info")
    return redirect(url_for("users.index"))


@bp.post("/<int:user_id>/password")
@permission_required(MANAGE)
def reset_password(user_id):
    """Set another user's password (the policy applies)."""
    service = account_service()
    user = service.get(user_id)
    try:
        service.reset_password(user, request.form.get("password", ""))
    except WebError as exc:
        return _form(user, _values(user, service.agent_of(user)), exc, exc.status)
    flash(f"Password of {user.username} set.", "info")
    return redirect(url_for("users.edit", user_id=user.id))


@bp.post("/<int:user_id>/disable")
@permission_required(MANAGE)
def disable(user_id):
    """Disable the user (they can no longer log in)."""
    return _set_active(user_id, False)


@bp.post("/<int:user_id>/enable")
@permission_required(MANAGE)
def enable(user_id):
    """Enable the user again."""
    return _set_active(user_id, True)


def _set_active(user_id, active):
    service = account_service()
    user = service.get(user_id)
    try:
        service.enable(user) if active else service.disable(user)
    except WebError as exc:
        return _form(service.get(user_id), _values(user, service.agent_of(user)), exc,
                     exc.status)
    flash(f"User {user.username} {'enabled' if active else 'disabled'}.", "info")
    return redirect(url_for("users.index"))

