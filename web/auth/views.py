"""Session login and logout; loads the current user for every request."""

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for

from web.auth.services import UserService
from web.errors import AuthenticationRequired
from web.extensions import db

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.before_app_request
def load_current_user():
    """Set ``g.user`` from a Bearer token, else from the session cookie."""
    users = UserService(db.session)
    g.user = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        g.user = users.by_token(header[len("Bearer "):].strip())
        return
    user_id = session.get("user_id")
    if user_id is not None:
        g.user = users.get(user_id)


def _safe_next(target):
    # Only local paths: never bounce a fresh login to another site.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("calls.index")


@bp.route("/login", methods=("GET", "POST"))
def login():
    """Show the login form; on good credentials start a session."""
    next_url = request.values.get("next", "")
    if request.method == "POST":
        try:
            user = UserService(db.session).authenticate(
                request.form.get("username"), request.form.get("password"))
        except AuthenticationRequired as exc:
            flash(exc.message, "error")
            return render_template("auth/login.html", next_url=next_url,
                                   username=request.form.get("username", "")), 401
        session.clear()
        session["user_id"] = user.id
        return redirect(_safe_next(next_url))
    return render_template("auth/login.html", next_url=next_url, username="")


@bp.route("/logout", methods=("POST",))
def logout():
    """End the session."""
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
