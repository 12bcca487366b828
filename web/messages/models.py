"""The rows of IVR messages: voice messages (voicemail and record nodes), SMS, survey answers.

Each row is keyed by what its event names once (the message's path, the SMS request id, the
engine and sequence of the survey answer), so a redelivered batch adds nothing.
"""

import enum

import sqlalchemy as sa

from web.extensions import db
from web.types import UTCDateTime, iso, utcnow


def _enum(cls, name):
    return sa.Enum(cls, name=name, native_enum=False, length=16,
                   values_callable=lambda members: [member.value for member in members])


class MessageKind(enum.Enum):
    """Which node left the message."""

    VOICEMAIL = "voicemail"  # into a queue's or agent's box, its owner told by e-mail
    RECORDING = "recording"  # a record node's message, kept with the call


class SendStatus(enum.Enum):
    """Where sending something (an SMS, a voicemail notice) stands."""

    QUEUED = "queued"  # not sent yet (a failed try keeps it queued with its reason until the last)
    SENT = "sent"  # the gateway or the SMTP server took it
    LOGGED = "logged"  # the log gateway wrote it to the worker's log: NOT delivered to anyone
    FAILED = "failed"  # given up: the reason says why
    SKIPPED = "skipped"  # nothing to do (a voicemail box without an e-mail address)


FINAL = (SendStatus.SENT, SendStatus.LOGGED, SendStatus.FAILED, SendStatus.SKIPPED)


class VoiceMessage(db.Model):
    """A message a caller left: where the file is, how long, and for voicemail its notice."""

    __tablename__ = "voice_messages"

    id = sa.Column(sa.Integer, primary_key=True)
    path = sa.Column(sa.String(512), nullable=False, unique=True)
    kind = sa.Column(_enum(MessageKind, "message_kind"), nullable=False)
    box = sa.Column(sa.String(80), nullable=True, index=True)  # "queue:support", "agent:1001"
    call_uuid = sa.Column(sa.String(64), nullable=False, index=True)
    engine = sa.Column(sa.String(64), nullable=False)
    flow = sa.Column(sa.String(64), nullable=False, default="")
    node = sa.Column(sa.String(64), nullable=False, default="")
    caller_number = sa.Column(sa.String(64), nullable=False, default="")
    left_at = sa.Column(UTCDateTime(), nullable=False, index=True)
    duration_ms = sa.Column(sa.Integer, nullable=True)
    size_bytes = sa.Column(sa.BigInteger, nullable=True)
    cause = sa.Column(sa.String(16), nullable=False, default="")  # terminator, silence, hangup...
    email_to = sa.Column(sa.String(255), nullable=True)  # the node's own recipient
    notice_status = sa.Column(_enum(SendStatus, "notice_status"), nullable=True)  # voicemail only
    notice_attempts = sa.Column(sa.Integer, nullable=False, default=0)
    notice_error = sa.Column(sa.Text, nullable=True)
    notified_at = sa.Column(UTCDateTime(), nullable=True)
    notice_next_at = sa.Column(UTCDateTime(), nullable=True)  # when the notice is tried next

    def to_dict(self):
        """JSON-safe view."""
        return {"id": self.id, "path": self.path, "kind": self.kind.value, "box": self.box,
                "call_uuid": self.call_uuid, "flow": self.flow, "node": self.node,
                "caller_number": self.caller_number, "left_at": iso(self.left_at),
                "duration_ms": self.duration_ms, "size_bytes": self.size_bytes,
                "cause": self.cause, "email_to": self.email_to,
                "notice_status": self.notice_status.value if self.notice_status else None,
                "notice_attempts": self.notice_attempts, "notice_error": self.notice_error,
                "notified_at": iso(self.notified_at), "notice_next_at": iso(self.notice_next_at)}


class SmsRequest(db.Model):
    """A text a flow asked to send, and how sending it went."""

    __tablename__ = "sms_requests"

    id = sa.Column(sa.String(64), primary_key=True)  # the node's request id
    call_uuid = sa.Column(sa.String(64), nullable=False, index=True)
    engine = sa.Column(sa.String(64), nullable=False)
    flow = sa.Column(sa.String(64), nullable=False, default="")
    node = sa.Column(sa.String(64), nullable=False, default="")
    number = sa.Column(sa.String(32), nullable=False)
    text = sa.Column(sa.Text, nullable=False)
    status = sa.Column(_enum(SendStatus, "sms_status"), nullable=False, index=True,
                       default=SendStatus.QUEUED)
    attempts = sa.Column(sa.Integer, nullable=False, default=0)
    last_error = sa.Column(sa.Text, nullable=True)  # why the last try failed
    gateway = sa.Column(sa.String(32), nullable=True)  # which gateway took it
    requested_at = sa.Column(UTCDateTime(), nullable=False, index=True)
    next_attempt_at = sa.Column(UTCDateTime(), nullable=True)
    sent_at = sa.Column(UTCDateTime(), nullable=True)
    updated_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    def to_dict(self):
        """JSON-safe view."""
        return {"id": self.id, "call_uuid": self.call_uuid, "flow": self.flow, "node": self.node,
                "number": self.number, "text": self.text, "status": self.status.value,
                "attempts": self.attempts, "last_error": self.last_error,
                "gateway": self.gateway, "requested_at": iso(self.requested_at),
                "next_attempt_at": iso(self.next_attempt_at), "sent_at": iso(self.sent_at)}


class SurveyAnswer(db.Model):
    """A caller's rating of a call (1-5; NULL: no valid key), against the agent who answered."""

    __tablename__ = "survey_answers"
    __table_args__ = (sa.UniqueConstraint("engine", "seq", name="uq_survey_answers_engine_seq"),)

    id = sa.Column(sa.Integer, primary_key=True)
    engine = sa.Column(sa.String(64), nullable=False)
    seq = sa.Column(sa.BigInteger, nullable=False)
    call_uuid = sa.Column(sa.String(64), nullable=False, index=True)
    flow = sa.Column(sa.String(64), nullable=False, default="")
    node = sa.Column(sa.String(64), nullable=False, default="")
    score = sa.Column(sa.Integer, nullable=True)
    agent = sa.Column(sa.String(32), nullable=True, index=True)
    queue = sa.Column(sa.String(64), nullable=True)
    answered_at = sa.Column(UTCDateTime(), nullable=False, index=True)

    def to_dict(self):
        """JSON-safe view."""
        return {"call_uuid": self.call_uuid, "flow": self.flow, "node": self.node,
                "score": self.score, "agent": self.agent, "queue": self.queue,
                "answered_at": iso(self.answered_at)}
