"""The stored call record, one row per call UUID."""

import json

import sqlalchemy as sa

from web.extensions import db
from web.types import UTCDateTime, utcnow


class CallRecord(db.Model):
    """A finished (or updated) call as the engine reported it."""

    __tablename__ = "call_records"
    __table_args__ = (
        sa.Index("ix_call_records_queue_started_at", "queue", "started_at"),
        sa.Index("ix_call_records_agent_started_at", "agent", "started_at"),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    uuid = sa.Column(sa.String(64), nullable=False, unique=True)
    caller_number = sa.Column(sa.String(64), nullable=False, default="", index=True)
    did = sa.Column(sa.String(64), nullable=False, default="")
    # JSON list of node names; JSON (not a joined string) so any name, even one holding ">", survives.
    ivr_path_json = sa.Column("ivr_path", sa.Text, nullable=False, default="[]")
    queue = sa.Column(sa.String(64), nullable=True)
    agent = sa.Column(sa.String(32), nullable=True)
    started_at = sa.Column(UTCDateTime(), nullable=False, index=True)
    queued_at = sa.Column(UTCDateTime(), nullable=True)
    answered_at = sa.Column(UTCDateTime(), nullable=True)
    ended_at = sa.Column(UTCDateTime(), nullable=True)
    hangup_cause = sa.Column(sa.String(64), nullable=True)
    hangup_side = sa.Column(sa.String(16), nullable=True)
    wait_seconds = sa.Column(sa.Float, nullable=False, default=0.0)
    talk_seconds = sa.Column(sa.Float, nullable=False, default=0.0)
    flow = sa.Column(sa.String(64), nullable=True)  # the IVR flow the call ran, and its version
    flow_version = sa.Column(sa.Integer, nullable=True)
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    @property
    def ivr_path(self):
        """The IVR nodes the caller went through, in order."""
        return json.loads(self.ivr_path_json or "[]")

    @ivr_path.setter
    def ivr_path(self, nodes):
        self.ivr_path_json = json.dumps(list(nodes or []), ensure_ascii=False)

    def to_dict(self):
        """JSON-safe dict in the engine's payload shape (ISO 8601 UTC times)."""
        def iso(value):
            return None if value is None else value.isoformat()

        return {
            "uuid": self.uuid,
            "caller_number": self.caller_number,
            "did": self.did,
            "ivr_path": self.ivr_path,
            "queue": self.queue,
            "agent": self.agent,
            "started_at": iso(self.started_at),
            "queued_at": iso(self.queued_at),
            "answered_at": iso(self.answered_at),
            "ended_at": iso(self.ended_at),
            "hangup_cause": self.hangup_cause,
            "hangup_side": self.hangup_side,
            "wait_seconds": self.wait_seconds,
            "talk_seconds": self.talk_seconds,
            "flow": self.flow,
            "flow_version": self.flow_version,
        }

    def __repr__(self):
        return f"<CallRecord {self.uuid}>"
