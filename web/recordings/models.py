"""One row per recording the engine started (or failed to start), keyed by its path."""

import enum

import sqlalchemy as sa

from web.extensions import db
from web.types import UTCDateTime


class RecordingStatus(enum.Enum):
    """Where a recording is in its life."""

    RECORDING = "recording"  # started; the switch has not said it stopped
    STORED = "stored"  # stopped, and the worker found the file (size and checksum known)
    EMPTY = "empty"  # stopped with nothing in it: the switch discarded the file
    MISSING = "missing"  # stopped, but no file where the switch wrote it (storage not shared?)
    FAILED = "failed"  # the switch refused to start it
    DELETED = "deleted"  # removed after the retention period


class Recording(db.Model):
    """A call's recording: where, how long, how big, its SHA-256, and what went wrong if anything."""

    __tablename__ = "recordings"

    id = sa.Column(sa.Integer, primary_key=True)
    path = sa.Column(sa.String(512), nullable=False, unique=True)
    call_uuid = sa.Column(sa.String(64), nullable=False, index=True)
    engine = sa.Column(sa.String(64), nullable=False)
    mode = sa.Column(sa.String(16), nullable=False, default="mixed")
    queue = sa.Column(sa.String(64), nullable=True)
    agent = sa.Column(sa.String(32), nullable=True)
    status = sa.Column(
        sa.Enum(RecordingStatus, name="recording_status", native_enum=False, length=16,
                values_callable=lambda statuses: [status.value for status in statuses]),
        nullable=False, default=RecordingStatus.RECORDING)
    started_at = sa.Column(UTCDateTime(), nullable=False, index=True)
    stopped_at = sa.Column(UTCDateTime(), nullable=True)
    duration_ms = sa.Column(sa.Integer, nullable=True)
    size_bytes = sa.Column(sa.BigInteger, nullable=True)
    sha256 = sa.Column(sa.String(64), nullable=True)
    completion_cause = sa.Column(sa.String(64), nullable=True)
    problem = sa.Column(sa.Text, nullable=True)
    deleted_at = sa.Column(UTCDateTime(), nullable=True)

    def to_dict(self):
        """JSON-safe view."""
        iso = lambda value: value.isoformat() if value is not None else None  # noqa: E731
        return {"path": self.path, "call_uuid": self.call_uuid, "mode": self.mode,
                "queue": self.queue, "agent": self.agent, "status": self.status.value,
                "started_at": iso(self.started_at), "stopped_at": iso(self.stopped_at),
                "duration_ms": self.duration_ms, "size_bytes": self.size_bytes,
                "sha256": self.sha256, "completion_cause": self.completion_cause,
                "problem": self.problem, "deleted_at": iso(self.deleted_at)}

    def __repr__(self):
        return f"<Recording {self.path} {self.status.value}>"
