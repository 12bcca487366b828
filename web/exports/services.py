"""Export jobs: created in a request (permission checked, audited), run by the worker, the
file kept for ``keep_hours`` and then purged.

The worker writes the file under a temporary name and renames it when complete, so a
download never reads half a file; progress (rows written) is committed every
``PROGRESS_EVERY`` rows, between rows, so a kind must hand over plain values, not ORM rows
that a commit would expire.
"""

import datetime
import logging
import os
import secrets

import sqlalchemy as sa

from web.audit import actions as audit_actions
from web.audit.services import AuditLog
from web.errors import Forbidden, WebError
from web.exports.kinds import ExportContext, kind_named
from web.exports.models import FORMATS, ExportJob, ExportStatus
from web.exports.writers import WRITERS
from web.types import utcnow

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 500
DEFAULT_KEEP_HOURS = 24
STALE_QUEUED = datetime.timedelta(minutes=10)  # a queued job this old lost its hand-off
ADMIN = "users.manage"  # who may read anyone's exports besides their owner


class ExportNotFound(WebError):
    """No export job has this id."""

    status = 404


class ExportNotReady(WebError):
    """The job has no file to download (not done yet, failed or expired)."""

    status = 409


class ExportService:
    """Export jobs on one session; files under ``folder``; ``clock`` gives the time."""

    def __init__(self, session, folder, keep_hours=DEFAULT_KEEP_HOURS, clock=utcnow,
                 config=None):
        self.session = session
        self.folder = folder
        self.keep = datetime.timedelta(hours=float(keep_hours))
        self.clock = clock
        self.config = config or {}

    def create(self, kind_name, parameters, fmt, user):
        """A queued job of ``kind_name`` for ``user`` (audited, committed); the caller hands
        its id to the worker. Refused: an unknown kind or format, a missing permission, or
        parameters the kind does not take (each error names its field)."""
        kind = kind_named(kind_name)
        if fmt not in FORMATS:
            raise WebError(f"format: one of {', '.join(FORMATS)}", field="format")
        if not user.can(kind.permission):
            raise Forbidden(f"role {user.role.name} may not do this: it needs the permission "
                            f"{kind.permission}", field="permission")
        filters, options = kind.prepare(dict(parameters or {}), user)
        job = ExportJob(kind=kind.name, user_id=user.id, username=user.username,
                        parameters={"filters": filters, "options": options}, format=fmt,
                        status=ExportStatus.QUEUED, done_rows=0, created_at=self.clock())
        self.session.add(job)
        self.session.flush()
        AuditLog(self.session).add(audit_actions.EXPORT_REQUESTED, target=job.id, user=user,
                                   detail={"kind": kind.name, "format": fmt,
                                           "filters": filters, "options": options})
        self.session.commit()
        return job

    def get(self, job_id, user):
        """Job ``job_id`` if ``user`` owns it or is an administrator."""
        job = self.session.get(ExportJob, job_id)
        if job is None:
            raise ExportNotFound(f"id: no export {job_id}", field="id")
        if job.user_id != user.id and not user.can(ADMIN):
            raise Forbidden("this export is another user's", field="id")
        return job

    def of_user(self, user, limit=50):
        """``user``'s jobs, newest first."""
        return self.session.execute(
            sa.select(ExportJob).where(ExportJob.user_id == user.id)
            .order_by(ExportJob.created_at.desc(), ExportJob.id.desc()).limit(limit)
        ).scalars().all()

    def file_for(self, job_id, user):
        """(path, job) of a done job's file, audited; ExportNotReady when there is none."""
        job = self.get(job_id, user)
        if job.status is not ExportStatus.DONE or not job.file_path:
            state = "expired" if job.status is ExportStatus.DONE else job.status.value
            raise ExportNotReady(f"id: export {job.id} has no file ({state})", field="id")
        path = self.folder / job.file_path
        if not path.is_file():
            raise ExportNotReady(f"id: export {job.id}'s file is gone", field="id")
        AuditLog(self.session).record(audit_actions.EXPORT_DOWNLOADED, target=job.id,
                                      user=user, detail={"kind": job.kind,
                                                         "format": job.format,
                                                         "rows": job.done_rows})
        return path, job

    def run(self, job_id):
        """Write job ``job_id``'s file (the worker's part); a done job is left alone.

        Returns the job's status. A kind that fails marks the job failed with its error.
        """
        job = self.session.get(ExportJob, job_id)
        if job is None:
            logger.error("export %s: no such job", job_id)
            return None
        if job.status in (ExportStatus.DONE, ExportStatus.FAILED):
            return job.status
        job.status, job.started_at, job.done_rows, job.error = (
            ExportStatus.RUNNING, self.clock(), 0, None)
        self.session.commit()
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{job.id}-{secrets.token_hex(8)}.{job.format}"
        partial = self.folder / (name + ".part")
        try:
            written = self._write(job, partial)
        except sa.exc.DBAPIError:
            partial.unlink(missing_ok=True)  # the task retries the whole job
            raise
        except Exception as exc:  # any kind's failure ends its job, logged, not the worker
            logger.exception("export %s (%s) failed", job.id, job.kind)
            self.session.rollback()
            partial.unlink(missing_ok=True)
            job = self.session.get(ExportJob, job_id)
            job.status, job.error = ExportStatus.FAILED, f"{type(exc).__name__}: {exc}"
            job.finished_at = self.clock()
            job.expires_at = job.finished_at + self.keep
            self.session.commit()
            return job.status
        os.replace(partial, self.folder / name)
        job.status, job.file_path, job.done_rows = ExportStatus.DONE, name, written
        job.file_size = (self.folder / name).stat().st_size
        job.finished_at = self.clock()
        job.expires_at = job.finished_at + self.keep
        if job.total is None or job.total != written:
            job.total = written
        self.session.commit()
        logger.info("export %s (%s, %s): %d rows, %d bytes", job.id, job.kind, job.format,
                    written, job.file_size)
        return job.status

    def _write(self, job, path):
        kind = kind_named(job.kind)
        parameters = dict(job.parameters or {})
        context = ExportContext(parameters.get("filters") or {},
                                parameters.get("options") or {}, self.config)
        output = kind.produce(self.session, context)
        job.total = output.total
        self.session.commit()
        writer = WRITERS[job.format](path)
        written = 0
        try:
            writer.write(output.header)
            for row in output.rows:
                writer.write(row)
                written += 1
                if written % PROGRESS_EVERY == 0:
                    job.done_rows = written
                    self.session.commit()
        finally:
            writer.close()
        return written

    def purge(self):
        """Delete the files of expired jobs; returns (jobs purged, ids of stale queued jobs
        to hand to the worker again)."""
        now = self.clock()
        expired = self.session.execute(sa.select(ExportJob).where(
            ExportJob.expires_at < now, ExportJob.file_path.is_not(None))).scalars().all()
        for job in expired:
            (self.folder / job.file_path).unlink(missing_ok=True)
            job.file_path = None
        stale = self.session.execute(sa.select(ExportJob.id).where(
            ExportJob.status == ExportStatus.QUEUED,
            ExportJob.created_at < now - STALE_QUEUED)).scalars().all()
        self.session.commit()
        return len(expired), list(stale)
