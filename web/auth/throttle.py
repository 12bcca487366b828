"""Login throttling: per account and per client address, a growing delay, then a lockout.

The counters live in the database, so every web process sees the same ones. A blocked login is
refused before any password is hashed (``check`` raises LoginThrottled, the view answers 429
with Retry-After): a flood of guesses costs the server a row read each, and nobody's worker
sleeps, so guessers cannot slow the login page for everyone else.

Past ``free`` failures within ``window`` seconds, each failure blocks the key for
``delay_base * 2**k`` seconds (k counting from 0), never more than ``lockout``; at ``lockout_at``
failures the key is blocked for ``lockout`` seconds. A key with no failure for ``window``
seconds starts again from zero; a good login clears its account's counter (not its address's:
an attacker's own account must not wash the address they guess from).
"""

import dataclasses
import datetime
import logging
import math

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from web.auth.sessions import now
from web.errors import WebError
from web.extensions import db
from web.types import UTCDateTime

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Policy:
    """How many failures one key may have, and how long it is blocked after."""

    free: int
    lockout_at: int
    lockout: float  # seconds
    delay_base: float = 1.0  # seconds
    window: float = 900.0  # seconds without a failure that forget the earlier ones

    def blocked_for(self, failures):
        """Seconds a key with ``failures`` recent failures is blocked (0: not blocked)."""
        if failures >= self.lockout_at:
            return self.lockout
        if failures <= self.free:
            return 0.0
        return min(self.delay_base * 2 ** (failures - self.free - 1), self.lockout)


class LoginThrottled(WebError):
    """Too many failed logins for an account or from an address; retry after ``retry_after``."""

    status = 429

    def __init__(self, message, retry_after, field=None, locked=False):
        super().__init__(message, field=field)
        self.retry_after = retry_after
        self.locked = locked


class LoginAttempt(db.Model):
    """The recent failed logins of one key: ``account:<name>`` or ``address:<ip>``."""

    __tablename__ = "login_throttle"

    key = sa.Column(sa.String(128), primary_key=True)
    failures = sa.Column(sa.Integer, nullable=False, default=0)
    last_failure_at = sa.Column(UTCDateTime(), nullable=False, index=True)
    blocked_until = sa.Column(UTCDateTime(), nullable=True)


def policies():
    """The (account, address) policies from the app's config."""
    config = current_app.config
    lockout = float(config["LOGIN_LOCKOUT_SECONDS"])
    account = Policy(free=config["LOGIN_ACCOUNT_FREE_FAILURES"],
                     lockout_at=config["LOGIN_ACCOUNT_LOCKOUT_FAILURES"], lockout=lockout,
                     window=lockout)
    address = Policy(free=config["LOGIN_ADDRESS_FREE_FAILURES"],
                     lockout_at=config["LOGIN_ADDRESS_LOCKOUT_FAILURES"], lockout=lockout,
                     window=lockout)
    return account, address


def _keys(username, address):
    name = (username or "").strip().lower()[:100]
    return f"account:{name}", f"address:{address or 'unknown'}"


def check(username, address):
    """Raise LoginThrottled when the account or the address may not try a login yet."""
    moment = now()
    account_key, address_key = _keys(username, address)
    rows = db.session.execute(
        sa.select(LoginAttempt).where(LoginAttempt.key.in_((account_key, address_key)))
    ).scalars().all()
    policy_of = dict(zip((account_key, address_key), policies()))
    for row in sorted(rows, key=lambda row: row.key):  # account: before address:
        if row.blocked_until is not None and row.blocked_until > moment:
            seconds = max(1, math.ceil((row.blocked_until - moment).total_seconds()))
            what = "this account" if row.key == account_key else "your address"
            raise LoginThrottled(
                f"Too many failed logins for {what}; try again in {seconds} s.",
                retry_after=seconds, field="username" if row.key == account_key else None,
                locked=row.failures >= policy_of[row.key].lockout_at)


def record_failure(username, address):
    """Count a failed login against the account and the address; returns their failures."""
    moment = now()
    counts = []
    for key, policy in zip(_keys(username, address), policies()):
        counts.append(_count(key, policy, moment))
    db.session.commit()
    _forget_old(moment)
    return tuple(counts)


def _count(key, policy, moment):
    row = db.session.get(LoginAttempt, key, with_for_update=True)
    if row is None:
        try:
            with db.session.begin_nested():
                row = LoginAttempt(key=key, failures=0, last_failure_at=moment)
                db.session.add(row)
        except IntegrityError:  # another process counted the first failure at once
            row = db.session.get(LoginAttempt, key, with_for_update=True)
    if moment - row.last_failure_at > datetime.timedelta(seconds=policy.window):
        row.failures = 0
    row.failures += 1
    row.last_failure_at = moment
    blocked = policy.blocked_for(row.failures)
    row.blocked_until = moment + datetime.timedelta(seconds=blocked) if blocked else None
    if blocked:
        logger.warning("login key %s blocked for %.0f s after %s failures", key, blocked,
                       row.failures)
    return row.failures


def record_success(username):
    """A good login: forget the account's failures."""
    account_key, _ = _keys(username, None)
    db.session.execute(sa.delete(LoginAttempt).where(LoginAttempt.key == account_key))
    db.session.commit()


def _forget_old(moment):
    # rows for made-up user names would pile up otherwise
    _, address_policy = policies()
    horizon = moment - datetime.timedelta(seconds=address_policy.window)
    db.session.execute(sa.delete(LoginAttempt).where(
        LoginAttempt.last_failure_at < horizon,
        sa.or_(LoginAttempt.blocked_until.is_(None), LoginAttempt.blocked_until < moment)))
    db.session.commit()
