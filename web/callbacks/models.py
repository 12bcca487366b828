"""Callback requests (遇忙回拨), their attempts, and the engines' callback events they are built from.

``callback_events`` holds every callback event once per (engine, seq), as ``call_events`` does
for calls; ``callback_requests`` and ``callback_attempts`` are folded from them
(web.callbacks.fold), so a redelivered or late batch gives the same rows.
"""

import json

import sqlalchemy as sa

from fs_cc.callbacks import AttemptOutcome, CallbackState
from web.extensions import db
from web.types import UTCDateTime, iso, utcnow

# the longest texts the events may carry into these columns (web.facts checks them on arrival)
TEXT_LIMITS = {"callback_id": 64, "number": 64, "caller_number": 64}


def _enum(cls, name):
    return sa.Enum(cls, name=name, native_enum=False, length=16,
                   values_callable=lambda members: [member.value for member in members])


class CallbackEventFact(db.Model):
    """One callback event as the engine encoded it (``fs_cc.events.encode``), stored once."""

    __tablename__ = "callback_events"
    __table_args__ = (sa.UniqueConstraint("engine", "seq", name="uq_callback_events_engine_seq"),)

    id = sa.Column(sa.Integer, primary_key=True)
    engine = sa.Column(sa.String(64), nullable=False)
    seq = sa.Column(sa.BigInteger, nullable=False)
    callback_id = sa.Column(sa.String(64), nullable=False, index=True)
    type = sa.Column(sa.String(64), nullable=False)  # e.g. "callback.attempted"
    ts = sa.Column(UTCDateTime(), nullable=False)
    payload = sa.Column(sa.Text, nullable=False)

    def __repr__(self):
        return f"<CallbackEventFact {self.engine}#{self.seq} {self.type} {self.callback_id}>"


class CallbackRequest(db.Model):
    """A callback request as its events tell it: where it waits, its state, the last word."""

    __tablename__ = "callback_requests"

    id = sa.Column(sa.String(64), primary_key=True)  # the engine's callback id
    queue = sa.Column(sa.String(64), nullable=False, index=True)
    number = sa.Column(sa.String(64), nullable=False)
    caller_number = sa.Column(sa.String(64), nullable=False, default="")
    call_uuid = sa.Column(sa.String(64), nullable=False, default="")  # the call that asked
    since = sa.Column(UTCDateTime(), nullable=False)  # the caller's place in line
    priority = sa.Column(sa.Integer, nullable=False, default=0)
    skills_json = sa.Column("skills", sa.Text, nullable=False, default="{}")
    state = sa.Column(_enum(CallbackState, "callback_state"), nullable=False, index=True)
    attempts = sa.Column(sa.Integer, nullable=False, default=0)  # customer calls made
    not_before = sa.Column(UTCDateTime(), nullable=True)  # next try (a retry, a reschedule)
    reason = sa.Column(sa.Text, nullable=True)  # why it failed, who cancelled it
    agent = sa.Column(sa.String(32), nullable=True)  # who took the last attempt
    result_call_uuid = sa.Column(sa.String(64), nullable=True)  # the connected call
    engine = sa.Column(sa.String(64), nullable=False)  # the engine of its latest event
    requested_at = sa.Column(UTCDateTime(), nullable=False, index=True)
    finished_at = sa.Column(UTCDateTime(), nullable=True)
    updated_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)
    attempt_rows = db.relationship("CallbackAttempt", order_by="CallbackAttempt.number",
                                   cascade="all, delete-orphan", lazy="selectin")

    @property
    def skills(self):
        """{skill: minimum level} the request asks for."""
        return json.loads(self.skills_json or "{}")

    @property
    def last_word(self):
        """What the page says happened last: why it ended, or how the last attempt went."""
        if self.reason:
            return self.reason
        if self.state is CallbackState.COMPLETED:
            return f"connected to agent {self.agent}"
        last = self.attempt_rows[-1] if self.attempt_rows else None
        if last is None:
            return ""
        if self.state is CallbackState.IN_PROGRESS and last.ended_at is None:
            return f"agent {last.agent} calling"
        return last.summary

    def to_dict(self):
        """The JSON shape of /api/callbacks (times ISO 8601 UTC), attempts included."""
        return {"id": self.id, "queue": self.queue, "number": self.number,
                "caller_number": self.caller_number, "call_uuid": self.call_uuid,
                "since": iso(self.since), "priority": self.priority, "skills": self.skills,
                "state": self.state.value, "attempts": self.attempts,
                "not_before": iso(self.not_before), "reason": self.reason, "agent": self.agent,
                "result_call_uuid": self.result_call_uuid, "engine": self.engine,
                "requested_at": iso(self.requested_at), "finished_at": iso(self.finished_at),
                "attempt_list": [attempt.to_dict() for attempt in self.attempt_rows]}

    def __repr__(self):
        return f"<CallbackRequest {self.id} {self.queue} {self.state.value}>"


class CallbackAttempt(db.Model):
    """One attempt: when, which agent, how it ended and FreeSWITCH's cause."""

    __tablename__ = "callback_attempts"
    __table_args__ = (sa.UniqueConstraint("callback_id", "number",
                                          name="uq_callback_attempts_callback_id"),)

    id = sa.Column(sa.Integer, primary_key=True)
    callback_id = sa.Column(sa.String(64), sa.ForeignKey("callback_requests.id",
                                                         ondelete="CASCADE"), nullable=False)
    number = sa.Column(sa.Integer, nullable=False)  # 1, 2... in the order they began
    agent = sa.Column(sa.String(32), nullable=False)
    call_uuid = sa.Column(sa.String(64), nullable=False)
    started_at = sa.Column(UTCDateTime(), nullable=False)
    ended_at = sa.Column(UTCDateTime(), nullable=True)  # None while it runs
    outcome = sa.Column(_enum(AttemptOutcome, "callback_attempt_outcome"), nullable=True)
    cause = sa.Column(sa.Text, nullable=True)
    retry_at = sa.Column(UTCDateTime(), nullable=True)

    @property
    def summary(self):
        """How it went in a few words: "busy (USER_BUSY)", "in progress", the interruption."""
        if self.outcome is None:
            return self.cause or "in progress"
        return f"{self.outcome.value} ({self.cause})" if self.cause else self.outcome.value

    def to_dict(self):
        """The attempt as JSON."""
        return {"number": self.number, "agent": self.agent, "call_uuid": self.call_uuid,
                "started_at": iso(self.started_at), "ended_at": iso(self.ended_at),
                "outcome": None if self.outcome is None else self.outcome.value,
                "cause": self.cause, "retry_at": iso(self.retry_at)}
