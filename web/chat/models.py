"""A message from a user to a user (read receipts in ``read_at``); a notice to a team or to
everyone, with an optional expiry, and each user's acknowledgement of it."""

import sqlalchemy as sa
from sqlalchemy import orm

from web.auth.models import User
from web.extensions import db
from web.types import UTCDateTime, iso, utcnow


def _person(user):
    return None if user is None else {"username": user.username,
                                      "display_name": user.display_name or user.username}


class ChatMessage(db.Model):
    """One message; the live stream goes by its id, so nothing is lost across reconnects."""

    __tablename__ = "chat_messages"
    __table_args__ = (sa.Index("ix_chat_messages_recipient_id_id", "recipient_id", "id"),
                      sa.Index("ix_chat_messages_sender_id_id", "sender_id", "id"))

    id = sa.Column(sa.Integer, primary_key=True)
    sender_id = sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                          nullable=False)
    recipient_id = sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                             nullable=False)
    body = sa.Column(sa.Text, nullable=False)
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
    read_at = sa.Column(UTCDateTime(), nullable=True)

    sender = orm.relationship(User, foreign_keys=[sender_id], lazy="joined")
    recipient = orm.relationship(User, foreign_keys=[recipient_id], lazy="joined")

    def to_dict(self):
        """The JSON shape of /api/messages and of the stream's ``message`` frames."""
        return {"id": self.id, "from": _person(self.sender), "to": _person(self.recipient),
                "body": self.body, "created_at": iso(self.created_at),
                "read_at": iso(self.read_at)}


class Notice(db.Model):
    """A notice of a supervisor to a team (``team_id``), or of an admin to everyone (NULL)."""

    __tablename__ = "chat_notices"

    id = sa.Column(sa.Integer, primary_key=True)
    author_id = sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
                          nullable=True)
    team_id = sa.Column(sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE"),
                        nullable=True, index=True)
    title = sa.Column(sa.String(200), nullable=False)
    body = sa.Column(sa.Text, nullable=False, default="", server_default="")
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
    expires_at = sa.Column(UTCDateTime(), nullable=True)

    author = orm.relationship(User, lazy="joined")
    team = orm.relationship("Team", lazy="joined")

    def to_dict(self, acked_at=None):
        """The JSON shape of /api/notices; ``acked_at``: when the asking user acknowledged it."""
        return {"id": self.id, "title": self.title, "body": self.body,
                "author": _person(self.author),
                "team": self.team.name if self.team is not None else None,
                "created_at": iso(self.created_at), "expires_at": iso(self.expires_at),
                "acked_at": iso(acked_at)}


class NoticeAck(db.Model):
    """A user has read a notice (it leaves their banner)."""

    __tablename__ = "chat_notice_acks"

    notice_id = sa.Column(sa.Integer, sa.ForeignKey("chat_notices.id", ondelete="CASCADE"),
                          primary_key=True)
    user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                        primary_key=True)
    acked_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
