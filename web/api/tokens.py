"""API token pages: a user's own tokens (/account/tokens) and every user's (/admin/tokens).

A new token's secret is shown once, in the answer to the form that created it (never in a
flash message: those travel in the session cookie), with ``Cache-Control: no-store``. Only a
logged-in session manages tokens: a token cannot mint or revoke tokens, so a leaked one cannot
outlive its own revocation.
"""

from flask import Blueprint, flash, g, make_response, redirect, render_template, request, url_for

from web.auth import tokens
from web.auth.decorators import login_required, permission_required
from web.errors import Forbidden, WebError

bp = Blueprint("tokens", __name__)

EXPIRY_CHOICES = (("30", "30 days"), ("90", "90 days"), ("365", "a year"), ("7", "7 days"),
                  ("", "never"))


def _session_only():
    if g.get("api_token") is not None:
        raise Forbidden("API tokens are managed from a logged-in session, not with a token",
                        field="Authorization")


def _page(service, error=None, status=200, created=None, values=None):
    rows = service.of_user(g.user)
    response = make_response(render_template(
        "tokens/index.html", tokens=rows, moment=service.clock(), error=error,
        created=created, values=values or {"expires_days": EXPIRY_CHOICES[0][0]},
        expiry_choices=EXPIRY_CHOICES, max_days=tokens.MAX_DAYS), status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/account/tokens")
@login_required
def index():
    """The user's own tokens and the form to create one."""
    _session_only()
    return _page(tokens.token_service())


@bp.post("/account/tokens")
@login_required
def create():
    """Create a token of the user; the page shows its secret this once."""
    _session_only()
    service = tokens.token_service()
    values = {"name": request.form.get("name", ""),
              "expires_days": request.form.get("expires_days", "")}
    try:
        token, secret = service.create(g.user, values["name"], values["expires_days"],
                                       by=g.user)
    except WebError as exc:
        return _page(service, exc, exc.status, values=values)
    return _page(service, created={"token": token, "secret": secret})


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id):
    """Revoke one of the user's own tokens."""
    _session_only()
    service = tokens.token_service()
    token = service.revoke(service.get(token_id, owner=g.user), by=g.user)
    flash(f"API token {token.name!r} revoked: it opens nothing from now on.", "info")
    return redirect(url_for("tokens.index"))


@bp.get("/admin/tokens")
@permission_required("users.manage")
def admin_index():
    """Every user's tokens, newest first, with their state and last use."""
    _session_only()
    service = tokens.token_service()
    return render_template("tokens/admin.html", tokens=service.every(),
                           moment=service.clock())


@bp.post("/admin/tokens/<int:token_id>/revoke")
@permission_required("users.manage")
def admin_revoke(token_id):
    """Revoke any user's token."""
    _session_only()
    service = tokens.token_service()
    token = service.revoke(service.get(token_id), by=g.user)
    flash(f"API token {token.name!r} of {token.user.username} revoked.", "info")
    return redirect(url_for("tokens.admin_index"))
