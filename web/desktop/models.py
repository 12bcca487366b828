"""What the desktop keeps: the disposition filed for a call, and what an agent is still typing."""

import sqlalchemy as sa

from web.extensions import db
from web.types import UTCDateTime, iso, utcnow


class CallDisposition(db.Model):
    """How an agent filed a call in wrap-up: the disposition, notes, the customer it concerned."""

    __tablename__ = "call_dispositions"
    __table_args__ = (sa.UniqueConstraint("call_uuid", "agent",
                                          name="uq_call_dispositions_call_agent"),
                      sa.Index("ix_call_dispositions_customer", "customer_id"))

    id = sa.Column(sa.Integer, primary_key=True)
    call_uuid = sa.Column(sa.String(64), nullable=False)
    agent = sa.Column(sa.String(32), nullable=False)  # the extension that served the call
    username = sa.Column(sa.String(64), nullable=True)
    queue = sa.Column(sa.String(64), nullable=True)
    disposition = sa.Column(sa.String(64), nullable=False)
    notes = sa.Column(sa.Text, nullable=False, default="", server_default="")
    customer_id = sa.Column(sa.Integer, sa.ForeignKey("crm_customers.id", ondelete="SET NULL"),
                            nullable=True)
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    def to_dict(self):
        """The JSON shape of the API."""
        return {"call_uuid": self.call_uuid, "agent": self.agent, "username": self.username,
                "queue": self.queue, "disposition": self.disposition, "notes": self.notes,
                "customer_id": self.customer_id, "created_at": iso(self.created_at),
                "updated_at": iso(self.updated_at)}


class DesktopDraft(db.Model):
    """What an agent has typed in a call's wrap-up form so far (gone once the call is filed)."""

    __tablename__ = "desktop_drafts"
    __table_args__ = (sa.UniqueConstraint("user_id", "call_uuid",
                                          name="uq_desktop_drafts_user_call"),)

    id = sa.Column(sa.Integer, primary_key=True)
    user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                        nullable=False)
    call_uuid = sa.Column(sa.String(64), nullable=False)
    disposition = sa.Column(sa.String(64), nullable=False, default="", server_default="")
    notes = sa.Column(sa.Text, nullable=False, default="", server_default="")
    customer_id = sa.Column(sa.Integer, nullable=True)
    updated_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    def to_dict(self):
        """The JSON shape of the API."""
        return {"call_uuid": self.call_uuid, "disposition": self.disposition,
                "notes": self.notes, "customer_id": self.customer_id,
                "updated_at": iso(self.updated_at)}
