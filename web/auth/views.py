"""Session login and logout; loads the current user for every request.

A login is throttled (web.auth.throttle) before its password is checked, opens a server-side
session (web.auth.sessions) and is logged and audited with the client's address, as is each
refusal.
"""

import logging
import urllib.parse

from flask import (Blueprint, flash, g, make_response, redirect, render_template, request,
                   url_for)

from web import audit
from web.audit import actions
from web.auth import sessions, throttle, tokens
from web.auth.services import UserService
from web.errors import AuthenticationRequired
from web.extensions import db

logger = logging.getLogger(__name__)

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.before_app_request
def load_current_user():
    """Set ``g.user`` from a Bearer token, else from the session the cookie names."""
    users = UserService(db.session)
    g.user = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        g.user = tokens.bearer_user(header[len("Bearer "):].strip())
        return
    live = sessions.current_session()
    if live is not None:
        g.user = users.get(live.user_id)


def safe_next(target):
    """``target`` when it is a path on this site, else the calls page.

    Browsers drop tabs and newlines from a URL and read a backslash as a slash, so
    ``/\\t/evil.example`` or ``/\\evil.example`` would leave the site: any control character,
    space or backslash, raw or percent-encoded, refuses the target outright.
    """
    default = url_for("calls.index")
    if not target or not target.startswith("/"):
        return default
    for text in (target, urllib.parse.unquote(target)):
        if text.startswith("//") or any(ch == "\\" or ord(ch) < 0x21 or ord(ch) == 0x7f
                                        for ch in text):
            return default
    parts = urllib.parse.urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def _login_form(status, next_url, username="", headers=None):
    response = make_response(render_template("auth/login.html", next_url=next_url,
                                             username=username), status)
    response.headers.update(headers or {})
    return response


@bp.route("/login", methods=("GET", "POST"))
def login():
    """Show the login form; on good credentials start a session."""
    next_url = request.values.get("next", "")
    if request.method == "GET":
        return _login_form(200, next_url)
    username = (request.form.get("username") or "").strip()
    address = request.remote_addr
    try:
        throttle.check(username, address)
    except throttle.LoginThrottled as exc:
        logger.warning("login of %r from %s refused before its password was checked: %s",
                       username, address, exc.message)
        audit.record(actions.LOGIN_FAILED, username=username[:64] or None, detail={
            "reason": "locked" if exc.locked else "throttled", "retry_after": exc.retry_after})
        flash(exc.message, "error")
        return _login_form(429, next_url, username, {"Retry-After": str(exc.retry_after)})
    try:
        user = UserService(db.session).authenticate(username, request.form.get("password"))
    except AuthenticationRequired as exc:
        failures = throttle.record_failure(username, address)
        logger.warning("failed login of %r from %s (%s for the account, %s from the address)",
                       username, address, *failures)
        audit.record(actions.LOGIN_FAILED, username=username[:64] or None,
                     detail={"reason": "bad_credentials"})
        flash(exc.message, "error")
        return _login_form(401, next_url, username)
    throttle.record_success(username)
    sessions.start_session(user)
    logger.info("login of %s from %s", user.username, address)
    audit.record(actions.LOGIN, user=user)
    return redirect(safe_next(next_url))


@bp.route("/logout", methods=("POST",))
def logout():
    """End the session, here and in the database (a saved copy of the cookie opens nothing)."""
    user = g.user
    sessions.end_current_session()
    if user is not None:
        logger.info("logout of %s from %s", user.username, request.remote_addr)
        audit.record(actions.LOGOUT, user=user)
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
