"""API tokens: named, per user, shown once, stored hashed, with an optional expiry.

A token acts with its user's permissions, whatever they are at the time of the request (the
role decides, as for a session). Creating and revoking are audited in the same transaction.
A request's Bearer token is checked by ``TokenService.authenticate``: unknown, revoked,
expired, or its user disabled, it is refused with the reason (``TokenRefused``, a 401 whose
message names the problem). The time of a token's last use is written at most once a minute,
so a script polling every second does not write on every request. A password change keeps a
user's tokens (they serve integrations: revoke them on the tokens page); disabling the user
stops every one of them.

The embedded default's demo token (``keep_demo_token``) is the same on every start: its secret
is kept in a file of var/ that only the service's user may read.
"""

import datetime
import logging
import os
import secrets

import sqlalchemy as sa
from flask import g, request

from web.audit import AuditLog, actions
from web.auth import sessions
from web.auth.models import ApiToken, hash_token
from web.errors import AuthenticationRequired, WebError
from web.extensions import db
from web.types import utcnow

logger = logging.getLogger(__name__)

SECRET_PREFIX = "fscc_"  # marks our tokens, for secret scanners and for people
SHOWN_PREFIX = len(SECRET_PREFIX) + 7  # what lists show of a secret, to tell tokens apart
MAX_NAME = 64
MAX_DAYS = 3650
TOUCH_INTERVAL = datetime.timedelta(seconds=60)
DEMO_TOKEN_NAME = "fs-cc up demo"
DEMO_TOKEN_FILE = "demo_token"


class TokenRefused(AuthenticationRequired):
    """A Bearer token that opens nothing; ``reason`` is unknown, revoked, expired or
    user_disabled, and the message says which (``field`` names the header at fault)."""

    def __init__(self, message, reason):
        super().__init__(message, field="Authorization")
        self.reason = reason


class TokenError(WebError):
    """A token could not be created or found; ``field`` names the value at fault."""

    status = 400


class TokenNotFound(TokenError):
    """No token with that id (or not one of the user's own)."""

    status = 404


def new_secret():
    """A fresh token secret: the prefix and 256 random bits."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _name(value):
    name = (value or "").strip() if isinstance(value, str) else value
    if not name:
        raise TokenError("name: required (say what the token is for, e.g. \"CRM sync\")",
                         field="name")
    if not isinstance(name, str) or len(name) > MAX_NAME:
        raise TokenError(f"name: up to {MAX_NAME} characters", field="name")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7f for ch in name):
        raise TokenError("name: no control characters", field="name")
    return name


def _days(value):
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise TokenError(f"expires_days: {value!r} is not a whole number of days",
                         field="expires_days") from None
    if not 1 <= days <= MAX_DAYS:
        raise TokenError(f"expires_days: from 1 to {MAX_DAYS}, or empty for no expiry",
                         field="expires_days")
    return days


def _iso(moment):
    return moment.replace(microsecond=0).isoformat()


class TokenService:
    """Creates, lists, revokes and checks API tokens on one database session.

    ``audit`` is the AuditLog that creations and revocations are written to; ``clock`` gives
    the current time (the app's, so that tests can move it).
    """

    def __init__(self, session, audit, clock=utcnow):
        self.session = session
        self.audit = audit
        self.clock = clock

    def create(self, user, name, expires_days=None, by=None, secret=None):
        """Give ``user`` a new token; returns (ApiToken, secret) — the secret is shown once.

        ``by`` is who acts (the user themself, an admin; None for a command). Refused, with
        the field named: an empty or long name, one the user's active tokens already use
        (409), an expiry outside 1 to MAX_DAYS days.
        """
        name = _name(name)
        days = _days(expires_days)
        moment = self.clock()
        if any(token.name == name and token.state(moment) == "active"
               for token in self.of_user(user)):
            raise TokenError(f"name: you already have an active token called {name!r}",
                             field="name", status=409)
        secret = secret or new_secret()
        actor = by.username if by is not None else self.audit.actor
        token = ApiToken(user_id=user.id, user=user, name=name, token_hash=hash_token(secret),
                         prefix=secret[:SHOWN_PREFIX] if secret.startswith(SECRET_PREFIX)
                         else None,
                         created_at=moment, created_by=actor,
                         expires_at=moment + datetime.timedelta(days=days) if days else None)
        self.session.add(token)
        self.session.flush()
        self.audit.add(actions.TOKEN_CREATED, target=f"{user.username}: {name}", user=by,
                       detail={"token_id": token.id, "owner": user.username, "name": name,
                               "expires_at": _iso(token.expires_at) if days else None})
        self.session.commit()
        logger.info("API token %s %r created for %s by %s", token.id, name, user.username,
                    actor)
        return token, secret

    def of_user(self, user):
        """Every token of ``user``, revoked and expired ones too, newest first."""
        return self.session.execute(
            sa.select(ApiToken).where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).scalars().all()

    def every(self):
        """Every token of every user, newest first."""
        return self.session.execute(
            sa.select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        ).scalars().all()

    def get(self, token_id, owner=None):
        """The token ``token_id`` (one of ``owner``'s when given); TokenNotFound otherwise."""
        token = self.session.get(ApiToken, token_id)
        if token is None or (owner is not None and token.user_id != owner.id):
            raise TokenNotFound(f"no API token with id {token_id}", field="token_id")
        return token

    def revoke(self, token, by=None):
        """Revoke ``token`` for good (again: nothing changes); returns it."""
        if token.revoked_at is not None:
            return token
        token.revoked_at = self.clock()
        token.revoked_by = by.username if by is not None else self.audit.actor
        self.audit.add(actions.TOKEN_REVOKED, target=f"{token.user.username}: {token.name}",
                       user=by, detail={"token_id": token.id, "owner": token.user.username,
                                        "name": token.name})
        self.session.commit()
        logger.info("API token %s %r of %s revoked by %s", token.id, token.name,
                    token.user.username, token.revoked_by)
        return token

    def by_secret(self, secret):
        """The token whose secret is ``secret`` (whatever its state), or None."""
        if not secret:
            return None
        return self.session.execute(
            sa.select(ApiToken).where(ApiToken.token_hash == hash_token(secret))
        ).scalar_one_or_none()

    def authenticate(self, secret, address=None):
        """The active token ``secret`` names, its use noted; TokenRefused saying why not."""
        token = self.by_secret(secret)
        if token is None:
            raise TokenRefused("API token not recognised (send Authorization: Bearer <token>, "
                               "a token from your account's API tokens page)", "unknown")
        moment = self.clock()
        state = token.state(moment)
        if state == "revoked":
            raise TokenRefused(f"API token {token.name!r} was revoked at "
                               f"{_iso(token.revoked_at)}", "revoked")
        if state == "expired":
            raise TokenRefused(f"API token {token.name!r} expired at {_iso(token.expires_at)}",
                               "expired")
        if not token.user.active:
            raise TokenRefused(f"API token {token.name!r} belongs to a disabled user",
                               "user_disabled")
        if token.last_used_at is None or moment - token.last_used_at >= TOUCH_INTERVAL:
            token.last_used_at = moment
            token.last_used_addr = address
            self.session.commit()
        return token


def token_still_valid(token_id):
    """Whether the API token ``token_id`` may still be used: not revoked or expired, its user
    active. Touches nothing (an open event stream asks it now and then)."""
    token = db.session.get(ApiToken, token_id)
    return (token is not None and token.state(sessions.now()) == "active"
            and token.user.active)


def token_service(actor=None):
    """A TokenService on the app's session, auditing to its log, on the app's clock."""
    return TokenService(db.session, AuditLog(db.session, actor), clock=sessions.now)


def bearer_user(secret):
    """The user a request's Bearer ``secret`` acts as, or None.

    Sets ``g.api_token`` to the token used, or ``g.auth_problem`` to the TokenRefused that
    web.auth.decorators answers instead of a plain "authentication required".
    """
    g.api_token = None
    try:
        token = token_service().authenticate(secret, request.remote_addr)
    except TokenRefused as exc:
        logger.info("API token refused from %s: %s", request.remote_addr, exc.reason)
        g.auth_problem = exc
        return None
    g.api_token = token
    return token.user


def keep_demo_token(service, user, path):
    """The secret of ``user``'s demo token, the same on every start of the embedded default.

    The secret lives in the file ``path`` (created 0600), its hash in the database as any
    token's. A new one is made when the file is missing (older demo tokens are revoked then);
    a file whose token the database does not hold (a new database) gives that token again.
    Returns None when the demo token was revoked or has expired: an admin who revoked it
    meant it, so no start brings it back (remove the file for a new one).
    """
    secret = _read_secret(path)
    token = service.by_secret(secret) if secret else None
    if token is not None:
        if token.user_id == user.id:
            return secret if token.state(service.clock()) == "active" else None
        secret = None  # another user's token: never hand it to this one
    moment = service.clock()
    for old in service.of_user(user):
        if old.name == DEMO_TOKEN_NAME and old.state(moment) == "active":
            service.revoke(old)
    if secret is None:
        secret = new_secret()
        _write_secret(path, secret)
    service.create(user, DEMO_TOKEN_NAME, secret=secret)
    return secret


def _read_secret(path):
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None


def _write_secret(path, secret):
    # written whole under another name, created 0600 (never readable by others, not even for
    # a moment), then moved over the old one
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
        out.write(secret + "\n")
    os.replace(draft, path)
