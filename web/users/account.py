"""The logged-in user's own account: changing their password (the current one asked first)."""

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from web.auth.decorators import login_required
from web.errors import WebError
from web.users.views import account_service

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.get("/password")
@login_required
def password():
    """The form: current password, new password, the new one again."""
    return render_template("users/password.html", error=None,
                           min_length=account_service().policy.min_length)


@bp.post("/password")
@login_required
def change_password():
    """Change the password, or show the form again with the field at fault."""
    service = account_service()
    try:
        service.change_own_password(g.user, request.form.get("current_password", ""),
                                    request.form.get("password", ""),
                                    request.form.get("confirm", ""))
    except WebError as exc:
        return render_template("users/password.html", error=exc,
                               min_length=service.policy.min_length), exc.status
    flash("Your password is changed.", "info")
    return redirect(url_for("account.password"))


@bp.app_context_processor
def _permissions_of_the_user():
    # the navigation shows what the user may open; each route checks again
    user = g.get("user")
    return {"may": (lambda name: user is not None and user.can(name))}
