"""Server-side login sessions: the signed cookie carries a random id, the database says if it holds.

A session ends when its user logs out, when their password changes (``revoke_user_sessions``),
after ``SESSION_IDLE_TIMEOUT`` seconds without a request, or ``SESSION_MAX_AGE`` seconds after
the login, whichever comes first. Only a hash of the id is stored, so a copy of the database
opens no session.
"""

import datetime
import hashlib
import logging
import secrets

import sqlalchemy as sa
from flask import current_app, has_request_context, request, session

from web.auth.models import User
from web.extensions import db
from web.types import UTCDateTime, utcnow

logger = logging.getLogger(__name__)

SESSION_KEY = "sid"  # the key of the session id in Flask's signed cookie
# last_seen_at is written at most this often: a page polling every few seconds would
# otherwise write on every request
TOUCH_INTERVAL = datetime.timedelta(seconds=60)


class UserSession(db.Model):
    """One login of one user in one browser, until revoked or timed out."""

    __tablename__ = "user_sessions"
    __table_args__ = (sa.Index("ix_user_sessions_user_id_revoked_at", "user_id", "revoked_at"),)

    id_hash = sa.Column(sa.String(64), primary_key=True)  # SHA-256 of the cookie's id
    user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                        nullable=False)
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
    last_seen_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
    revoked_at = sa.Column(UTCDateTime(), nullable=True)
    client_addr = sa.Column(sa.String(64), nullable=True)
    user_agent = sa.Column(sa.String(255), nullable=True)

    def __repr__(self):
        return f"<UserSession of user {self.user_id} since {self.created_at}>"


def now():
    """The app's clock (``FS_CC_CLOCK`` in the config, a callable; tests move it), in UTC."""
    return current_app.config.get("FS_CC_CLOCK", utcnow)()


def _hash(session_id):
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def start_session(user):
    """Open a session for ``user`` in this request's cookie (which is cleared first)."""
    session_id = secrets.token_urlsafe(32)
    moment = now()
    db.session.add(UserSession(
        id_hash=_hash(session_id), user_id=user.id, created_at=moment, last_seen_at=moment,
        client_addr=request.remote_addr,
        user_agent=(request.user_agent.string or "")[:255] or None))
    db.session.commit()
    session.clear()
    session[SESSION_KEY] = session_id
    return session_id


def _expired(row, moment):
    idle = datetime.timedelta(seconds=current_app.config["SESSION_IDLE_TIMEOUT"])
    absolute = datetime.timedelta(seconds=current_app.config["SESSION_MAX_AGE"])
    if moment - row.last_seen_at > idle:
        return "idle"
    if moment - row.created_at > absolute:
        return "absolute"
    return None


def current_session():
    """The live UserSession this request's cookie names, or None (and the cookie is cleared).

    Marks it seen; a session past its idle or absolute timeout is revoked here.
    """
    session_id = session.get(SESSION_KEY)
    if not isinstance(session_id, str):
        return None
    row = db.session.get(UserSession, _hash(session_id))
    moment = now()
    if row is None or row.revoked_at is not None:
        session.clear()
        return None
    reason = _expired(row, moment)
    if reason is not None:
        logger.info("session of user %s timed out (%s) from %s", row.user_id, reason,
                    request.remote_addr)
        row.revoked_at = moment
        db.session.commit()
        session.clear()
        return None
    if moment - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = moment
        db.session.commit()
    return row


def current_session_hash():
    """The stored key of the session this request's cookie names, or None."""
    session_id = session.get(SESSION_KEY)
    return _hash(session_id) if isinstance(session_id, str) else None


def session_still_live(id_hash):
    """Whether the session stored under ``id_hash`` is still good: not revoked (logout, a
    password change), not past its timeouts, its user still active. Touches nothing."""
    row = db.session.get(UserSession, id_hash) if id_hash else None
    if row is None or row.revoked_at is not None or _expired(row, now()) is not None:
        return False
    user = db.session.get(User, row.user_id)
    return user is not None and user.active


def end_current_session():
    """Revoke the session this request's cookie names (logout) and clear the cookie."""
    session_id = session.get(SESSION_KEY)
    if isinstance(session_id, str):
        db.session.execute(
            sa.update(UserSession)
            .where(UserSession.id_hash == _hash(session_id), UserSession.revoked_at.is_(None))
            .values(revoked_at=now()))
        db.session.commit()
    session.clear()


def revoke_user_sessions(user, except_current=False, commit=True):
    """Revoke every live session of ``user``; returns how many.

    ``except_current``: keep the session of the request being served (a user who changes
    their own password stays logged in here and is logged out everywhere else).
    ``commit=False`` leaves the change in the caller's transaction.
    """
    query = sa.update(UserSession).where(UserSession.user_id == user.id,
                                         UserSession.revoked_at.is_(None))
    session_id = session.get(SESSION_KEY) if except_current and has_request_context() else None
    if isinstance(session_id, str):
        query = query.where(UserSession.id_hash != _hash(session_id))
    revoked = db.session.execute(query.values(revoked_at=now())).rowcount
    if commit:
        db.session.commit()
    logger.info("revoked %s session(s) of user %s", revoked, user.username)
    return revoked
