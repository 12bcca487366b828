"""The export jobs: what was asked, by whom, how far the worker got, where the file is."""

import enum

import sqlalchemy as sa

from web.auth.models import User
from web.extensions import db
from web.types import UTCDateTime, iso, utcnow

FORMATS = ("csv", "xlsx")


class ExportStatus(enum.Enum):
    """Where a job is: queued -> running -> done or failed (a failed one may be queued again)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ExportJob(db.Model):
    """One export: its kind (``crm.customers``), parameters, format, progress and file."""

    __tablename__ = "export_jobs"

    id = sa.Column(sa.Integer, primary_key=True)
    kind = sa.Column(sa.String(64), nullable=False)
    user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
                        nullable=True, index=True)
    username = sa.Column(sa.String(64), nullable=True)
    parameters = sa.Column(sa.JSON, nullable=False, default=dict)
    format = sa.Column(sa.String(8), nullable=False)
    status = sa.Column(sa.Enum(ExportStatus, name="export_status", native_enum=False,
                               values_callable=lambda e: [m.value for m in e], length=16),
                       nullable=False, default=ExportStatus.QUEUED)
    total = sa.Column(sa.Integer, nullable=True)  # rows expected, when known beforehand
    done_rows = sa.Column(sa.Integer, nullable=False, default=0)
    file_path = sa.Column(sa.String(512), nullable=True)  # relative to the exports folder
    file_size = sa.Column(sa.Integer, nullable=True)
    error = sa.Column(sa.Text, nullable=True)
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow, index=True)
    started_at = sa.Column(UTCDateTime(), nullable=True)
    finished_at = sa.Column(UTCDateTime(), nullable=True)
    expires_at = sa.Column(UTCDateTime(), nullable=True, index=True)

    user = db.relationship(User, lazy="joined")

    @property
    def filename(self):
        """The name a download is saved under."""
        return f"{self.kind.replace('.', '-')}-{self.id}.{self.format}"

    def to_dict(self):
        """The JSON shape of /api/exports/ID."""
        return {"id": self.id, "kind": self.kind, "username": self.username,
                "parameters": dict(self.parameters or {}), "format": self.format,
                "status": self.status.value, "total": self.total, "done_rows": self.done_rows,
                "file_size": self.file_size, "error": self.error,
                "created_at": iso(self.created_at), "started_at": iso(self.started_at),
                "finished_at": iso(self.finished_at), "expires_at": iso(self.expires_at)}
