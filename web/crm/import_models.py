"""The tables of customer imports: the jobs, their per-row problems and the mapping templates.

A job row is the import's durable state: the stored file, the column mapping, the duplicate
policy and the counters. ``batches_done`` is written in the same transaction as each batch's
customers, so a task that died mid-import continues after the last batch that committed.
"""

import enum

import sqlalchemy as sa

from web.extensions import db
from web.types import UTCDateTime, iso, utcnow


class ImportStatus(str, enum.Enum):
    """Where an import is: queued (stored, waiting for the worker), running, done, failed."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class DuplicatePolicy(str, enum.Enum):
    """What a row whose phone or card number a customer has already becomes."""

    SKIP = "skip"  # left out, reported as skipped
    UPDATE = "update"  # the existing customer gets the row's non-empty values
    CREATE = "create"  # a new customer anyway (a taken card number is then a row error)


class CustomerImport(db.Model):
    """One uploaded file being imported into the CRM."""

    __tablename__ = "crm_imports"

    id = sa.Column(sa.Integer, primary_key=True)
    username = sa.Column(sa.String(64), nullable=True)
    filename = sa.Column(sa.String(255), nullable=False)
    stored_path = sa.Column(sa.String(255), nullable=False)  # relative to the var dir
    format = sa.Column(sa.String(8), nullable=False)  # csv, xlsx
    encoding = sa.Column(sa.String(16), nullable=True)  # of a CSV file
    mapping = sa.Column(sa.JSON, nullable=False, default=list)  # a target per column
    policy = sa.Column(sa.String(8), nullable=False, default=DuplicatePolicy.SKIP.value)
    status = sa.Column(sa.String(8), nullable=False, default=ImportStatus.QUEUED.value,
                       index=True)
    total_rows = sa.Column(sa.Integer, nullable=False, default=0)
    batches_done = sa.Column(sa.Integer, nullable=False, default=0)
    processed = sa.Column(sa.Integer, nullable=False, default=0)
    created = sa.Column(sa.Integer, nullable=False, default=0)
    updated = sa.Column(sa.Integer, nullable=False, default=0)
    skipped = sa.Column(sa.Integer, nullable=False, default=0)
    failed = sa.Column(sa.Integer, nullable=False, default=0)
    message = sa.Column(sa.Text, nullable=True)  # why the job or a batch failed
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
    started_at = sa.Column(UTCDateTime(), nullable=True)
    finished_at = sa.Column(UTCDateTime(), nullable=True)
    # bumped by every write of the row: a second run of the same job (a hand-off sent again by
    # the sweep while the first still runs) fails its next commit instead of importing twice
    revision = sa.Column(sa.Integer, nullable=False, default=0)

    __mapper_args__ = {"version_id_col": revision}

    def to_dict(self):
        """The JSON shape of /api/crm/imports/ID."""
        return {"id": self.id, "username": self.username, "filename": self.filename,
                "format": self.format, "encoding": self.encoding, "mapping": self.mapping,
                "policy": self.policy, "status": self.status, "total_rows": self.total_rows,
                "processed": self.processed, "created": self.created,
                "updated": self.updated, "skipped": self.skipped, "failed": self.failed,
                "message": self.message, "created_at": iso(self.created_at),
                "started_at": iso(self.started_at), "finished_at": iso(self.finished_at)}


class ImportProblem(db.Model):
    """One row's problem (``error``: not imported) or skip (``skipped``: a duplicate)."""

    __tablename__ = "crm_import_errors"
    __table_args__ = (sa.Index("ix_crm_import_errors_import_row", "import_id", "row_number"),)

    id = sa.Column(sa.Integer, primary_key=True)
    import_id = sa.Column(sa.Integer, sa.ForeignKey("crm_imports.id", ondelete="CASCADE"),
                          nullable=False)
    row_number = sa.Column(sa.Integer, nullable=False)  # as a spreadsheet numbers it
    column = sa.Column(sa.String(128), nullable=False, default="")  # the file's header
    kind = sa.Column(sa.String(8), nullable=False, default="error")  # error, skipped
    reason = sa.Column(sa.Text, nullable=False)

    def to_dict(self):
        """The problem as JSON."""
        return {"row": self.row_number, "column": self.column, "kind": self.kind,
                "reason": self.reason}


class ImportTemplate(db.Model):
    """A saved column mapping: file header -> customer field, reused by name."""

    __tablename__ = "crm_import_templates"
    __table_args__ = (sa.UniqueConstraint("owner", "name",
                                          name="uq_crm_import_templates_owner_name"),)

    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(64), nullable=False)
    owner = sa.Column(sa.String(64), nullable=False)
    mapping = sa.Column(sa.JSON, nullable=False, default=dict)  # {header: target}
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
