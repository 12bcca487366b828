"""Writing and searching the audit log.

``AuditLog(session).add(...)`` puts an entry in the caller's transaction, so an audited change
and its entry commit (or roll back) together; ``record`` is the one-call form that commits.
Who and from where come from the request when there is one: ``g.user`` and
``request.remote_addr`` (which is the client's address behind a proxy only when the app is
configured with ProxyFix).
"""

import csv
import dataclasses
import datetime
import io
import json
import logging
import typing

import sqlalchemy as sa
from flask import g, has_request_context, request

from web.audit.actions import ACTIONS
from web.audit.models import AuditEntry
from web.extensions import db
from web.sql import escape_like

logger = logging.getLogger(__name__)

CSV_COLUMNS = ("id", "at", "username", "action", "target", "detail", "client_addr")


class UnknownAuditAction(LookupError):
    """``record`` was given an action name that web.audit.actions does not define."""

    def __init__(self, action):
        super().__init__(f"unknown audit action {action!r} (see web.audit.actions)")
        self.action = action


@dataclasses.dataclass
class AuditFilters:
    """What to select from the audit log, and which slice of the result."""

    username: typing.Optional[str] = None
    action: typing.Optional[str] = None
    date_from: typing.Optional[datetime.datetime] = None  # inclusive
    date_to: typing.Optional[datetime.datetime] = None  # exclusive
    text: typing.Optional[str] = None
    limit: int = 100
    offset: int = 0


class AuditLog:
    """Appends to and searches the audit log on one database session.

    ``actor`` names who acts when an entry has no user and there is no request (a command).
    """

    def __init__(self, session, actor=None):
        self.session = session
        self.actor = actor

    def _who(self, user, username):
        if user is None and username is None:
            if has_request_context():
                user = g.get("user")
            else:
                username = self.actor
        if username is None and user is not None:
            username = user.username
        return (user.id if user is not None else None), username

    def add(self, action, *, target=None, detail=None, user=None, username=None):
        """Add an entry to the session's transaction (the caller commits); returns it."""
        if action not in ACTIONS:
            raise UnknownAuditAction(action)
        user_id, username = self._who(user, username)
        client = request.remote_addr if has_request_context() else None
        entry = AuditEntry(action=action, target=None if target is None else str(target)[:255],
                           detail=detail, user_id=user_id,
                           username=None if username is None else str(username)[:64],
                           client_addr=client)
        self.session.add(entry)
        logger.info("audit %s by %s from %s: %s", action, username, client, target)
        return entry

    def record(self, action, **fields):
        """Add an entry and commit it at once."""
        entry = self.add(action, **fields)
        self.session.commit()
        return entry

    def search(self, filters):
        """Entries matching ``filters``, newest first, one page; returns (rows, total)."""
        query = self._query(filters)
        total = self.session.execute(
            sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
        rows = self.session.execute(
            query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(filters.limit).offset(filters.offset)).scalars().all()
        return rows, total

    def export_csv(self, filters):
        """Every entry matching ``filters`` (no paging), newest first, as CSV text."""
        rows = self.session.execute(
            self._query(filters).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        ).scalars().all()
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            values = row.to_dict()
            values["detail"] = "" if row.detail is None else json.dumps(row.detail,
                                                                        ensure_ascii=False)
            writer.writerow([_cell(values[column]) for column in CSV_COLUMNS])
        return out.getvalue(), len(rows)

    def usernames(self):
        """Distinct user names in the log, for the search form."""
        return [name for (name,) in self.session.execute(
            sa.select(AuditEntry.username).where(AuditEntry.username.is_not(None))
            .distinct().order_by(AuditEntry.username))]

    @staticmethod
    def _query(filters):
        query = sa.select(AuditEntry)
        if filters.username:
            query = query.where(AuditEntry.username == filters.username)
        if filters.action:
            query = query.where(AuditEntry.action == filters.action)
        if filters.date_from is not None:
            query = query.where(AuditEntry.at >= filters.date_from)
        if filters.date_to is not None:
            query = query.where(AuditEntry.at < filters.date_to)
        if filters.text:
            pattern = "%" + escape_like(filters.text.lower()) + "%"
            query = query.where(sa.or_(
                sa.func.lower(AuditEntry.target).like(pattern, escape="\\"),
                sa.func.lower(AuditEntry.username).like(pattern, escape="\\"),
                sa.func.lower(AuditEntry.client_addr).like(pattern, escape="\\"),
                sa.func.lower(sa.cast(AuditEntry.detail, sa.Text)).like(pattern, escape="\\")))
        return query


def _cell(value):
    # a spreadsheet runs a cell that starts with = + - @ as a formula: user names, targets and
    # details come from users, so such a cell is quoted
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def record(action: str, *, target: typing.Optional[str] = None,
           detail: typing.Optional[dict] = None, user=None,
           username: typing.Optional[str] = None):
    """Write one audit entry now on the app's session, and commit it.

    Who: ``user`` (else ``g.user`` in a request); ``username`` names a failed login's account.
    """
    return AuditLog(db.session).record(action, target=target, detail=detail, user=user,
                                       username=username)
