"""The audit log's table: who did what, when, from where. Rows are written once, never changed."""

import sqlalchemy as sa

from web.extensions import db
from web.types import UTCDateTime, utcnow


class AuditEntry(db.Model):
    """One audited action; ``username`` is kept as written, so it outlives a renamed account."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_user_id_at", "user_id", "at"),)

    id = sa.Column(sa.Integer, primary_key=True)
    at = sa.Column(UTCDateTime(), nullable=False, default=utcnow, index=True)
    user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
                        nullable=True)
    username = sa.Column(sa.String(64), nullable=True)
    action = sa.Column(sa.String(64), nullable=False, index=True)
    target = sa.Column(sa.String(255), nullable=True)
    detail = sa.Column(sa.JSON, nullable=True)
    client_addr = sa.Column(sa.String(64), nullable=True)

    def to_dict(self):
        """The JSON shape of one entry (also the columns of the CSV export)."""
        return {"id": self.id, "at": self.at.isoformat(), "username": self.username,
                "action": self.action, "target": self.target, "detail": self.detail,
                "client_addr": self.client_addr}

    def __repr__(self):
        return f"<AuditEntry {self.id} {self.action} by {self.username}>"


class AuditEntryImmutable(Exception):
    """Something tried to change or delete a written audit entry."""

    def __init__(self, entry_id, operation):
        super().__init__(f"audit entry {entry_id} cannot be {operation}: the log is append-only")
        self.entry_id = entry_id
        self.operation = operation


@sa.event.listens_for(AuditEntry, "before_update")
def _refuse_update(mapper, connection, entry):
    raise AuditEntryImmutable(entry.id, "changed")


@sa.event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(mapper, connection, entry):
    raise AuditEntryImmutable(entry.id, "deleted")
