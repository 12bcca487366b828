"""Recording rules: a row from the engine's recording events, the file checked, retention applied.

The engine reports what the switch said (started, refused, stopped with its length, size and
completion cause); the worker looks at the file itself where the switch wrote it (the recordings
folder is shared by the switch and the worker, or on the same host) and stores its real size and
SHA-256. Applying the same events again gives the same row: a redelivered batch changes nothing.
"""

import datetime
import hashlib
import logging
import os

import sqlalchemy as sa

from fs_cc import events
from web.audit import AuditLog, actions
from web.recordings.models import Recording, RecordingStatus
from web.types import utcnow

logger = logging.getLogger(__name__)

RETENTION_ACTOR = "retention"  # who the audit log says deleted expired recordings

RECORDING_EVENTS = (events.RecordingStarted, events.RecordingStopped, events.RecordingFailed)
CHUNK_BYTES = 1 << 20


def sha256_of(path):
    """(size, SHA-256 hex) of a file."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


class RecordingService:
    """Keeps the recordings table on one database session (the caller commits)."""

    def __init__(self, session):
        self.session = session

    def apply(self, facts):
        """Apply the recording events among ``facts``; how many rows they touched."""
        touched = 0
        for event in facts:
            if isinstance(event, RECORDING_EVENTS):
                self._apply(event)
                touched += 1
        return touched

    def _row(self, event):
        row = self.session.execute(
            sa.select(Recording).where(Recording.path == event.path)).scalar_one_or_none()
        if row is None:
            row = Recording(path=event.path, call_uuid=event.call_uuid, engine=event.engine,
                            started_at=event.ts, status=RecordingStatus.RECORDING)
            self.session.add(row)
        return row

    def _apply(self, event):
        row = self._row(event)
        if row.status is RecordingStatus.DELETED:
            return  # a late redelivery of a recording already past its retention
        if isinstance(event, events.RecordingStarted):
            row.mode, row.queue, row.agent, row.started_at = (event.mode, event.queue,
                                                              event.agent, event.ts)
        elif isinstance(event, events.RecordingFailed):
            row.status, row.problem, row.stopped_at = RecordingStatus.FAILED, event.reason, event.ts
            logger.error("recording %s of call %s did not start: %s", event.path,
                         event.call_uuid, event.reason)
        else:
            self._stopped(row, event)

    def _stopped(self, row, event):
        row.stopped_at, row.duration_ms, row.completion_cause = (event.ts, event.duration_ms,
                                                                 event.cause or None)
        row.size_bytes = event.size
        if event.discarded or event.cause == "empty-file":
            row.status = RecordingStatus.EMPTY
            row.problem = f"the switch discarded it ({event.cause or 'nothing recorded'})"
            logger.warning("recording %s of call %s is empty: %s", row.path, row.call_uuid,
                           row.problem)
            return
        try:
            row.size_bytes, row.sha256 = sha256_of(row.path)
        except OSError as exc:
            row.status = RecordingStatus.MISSING
            row.problem = (f"no readable file where the switch wrote it ({exc.strerror}): is the"
                           " recordings folder shared with the worker?")
            logger.error("recording %s of call %s: %s", row.path, row.call_uuid, row.problem)
            return
        row.status, row.problem = RecordingStatus.STORED, None

    def purge(self, retention_days, now=None):
        """Delete the files of recordings started more than ``retention_days`` ago; their paths.

        Each removal is logged; the row stays (status deleted) so reports still count the call.
        """
        now = now or utcnow()
        cutoff = now - datetime.timedelta(days=retention_days)
        rows = self.session.execute(
            sa.select(Recording).where(Recording.started_at < cutoff,
                                       Recording.status != RecordingStatus.DELETED)
            .order_by(Recording.started_at)).scalars().all()
        removed = []
        for row in rows:
            try:
                os.remove(row.path)
                logger.info("retention: removed %s (call %s, recorded %s)", row.path,
                            row.call_uuid, row.started_at.date().isoformat())
                removed.append(row.path)
            except FileNotFoundError:
                logger.info("retention: %s (call %s) was already gone", row.path, row.call_uuid)
            except OSError as exc:
                logger.error("retention: cannot remove %s: %s", row.path, exc.strerror)
                continue  # kept: tried again next time
            row.status, row.deleted_at = RecordingStatus.DELETED, now
        if removed:  # a deletion: in the audit log, by the worker's retention
            AuditLog(self.session, actor=RETENTION_ACTOR).add(
                actions.DATA_DELETED, target=f"{len(removed)} recording(s)",
                detail={"reason": f"older than {retention_days} days", "paths": removed[:100]})
        self.session.commit()
        return removed

    def of_call(self, call_uuid):
        """The recordings of one call, oldest first."""
        return self.session.execute(
            sa.select(Recording).where(Recording.call_uuid == call_uuid)
            .order_by(Recording.started_at)).scalars().all()
