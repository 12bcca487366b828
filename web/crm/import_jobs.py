"""Import jobs: an uploaded file kept under the var dir, the job started from it, templates.

An upload is stored at once (``crm_imports/<token>.<format>``) and read back for the preview;
starting it writes the job row (queued) and hands its id to the worker. The file stays until
the job is deleted with its folder, so a retried task reads the same bytes.
"""

import datetime
import pathlib
import re
import secrets

import sqlalchemy as sa

from web.audit import actions as audit_actions
from web.audit.services import AuditLog
from web.crm.errors import CrmError, NotFound
from web.crm.import_models import CustomerImport, DuplicatePolicy, ImportProblem, ImportTemplate
from web.crm.imports import check_mapping, detect_format, preview

FOLDER = "crm_imports"
MAX_BYTES = 100 * 1024 * 1024
STALE_QUEUED_SECONDS = 600  # a job queued this long: its hand-off to the worker may be lost
UNSTARTED_UPLOAD_SECONDS = 86400  # an upload no job was started from is removed after a day
KEEP_FINISHED_DAYS = 7  # CRM_IMPORT_KEEP_DAYS: a finished job's file is kept this long
_TOKEN = re.compile(r"^[0-9a-f]{32}\.(csv|xlsx)$")


class ImportJobs:
    """Uploads, jobs and mapping templates on one session; files under ``var_dir``."""

    def __init__(self, session, var_dir):
        self.session = session
        self.folder = pathlib.Path(var_dir) / FOLDER

    def store_upload(self, filename, stream):
        """Keep an uploaded file; its token (``<hex>.<format>``). ImportFileError when unreadable."""
        format = detect_format(filename or "")
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # customers' data
        token = f"{secrets.token_hex(16)}.{format}"
        data = stream.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise CrmError(f"file: larger than {MAX_BYTES // (1024 * 1024)} MB", field="file")
        path = self.folder / token
        path.touch(mode=0o600)
        path.write_bytes(data)
        try:
            preview(path, format, limit=1)
        except CrmError:
            path.unlink()
            raise
        return token

    def path_of(self, token):
        """The stored file of an upload token; CrmError for a token that is not one."""
        if not _TOKEN.match(token or "") or not (self.folder / token).exists():
            raise CrmError("upload: no such uploaded file (upload it again)", field="upload")
        return self.folder / token

    def preview(self, token):
        """(header, first rows, encoding) of an uploaded file."""
        return preview(self.path_of(token), token.rsplit(".", 1)[1])

    def start(self, token, filename, mapping, policy, username, definitions):
        """Write the job (queued) for an upload and its mapping; commits; returns it."""
        header, _, encoding = self.preview(token)
        mapping = check_mapping(list(mapping), header, definitions)
        if policy not in {item.value for item in DuplicatePolicy}:
            raise CrmError("policy: one of skip, update, create", field="policy")
        job = CustomerImport(username=username, filename=str(filename or token)[:255],
                             stored_path=f"{FOLDER}/{token}", format=token.rsplit(".", 1)[1],
                             encoding=encoding, mapping=mapping, policy=policy)
        self.session.add(job)
        self.session.flush()
        AuditLog(self.session).add(audit_actions.CUSTOMERS_IMPORTED, target=job.id,
                                   detail={"filename": job.filename, "policy": policy})
        self.session.commit()
        return job

    def get(self, job_id):
        """The job ``job_id``; NotFound otherwise."""
        job = self.session.get(CustomerImport, job_id)
        if job is None:
            raise NotFound(f"no import {job_id}", field="import_id")
        return job

    def sweep(self, now=None, keep_days=KEEP_FINISHED_DAYS):
        """The beat's tidy-up: (ids of jobs queued for longer than STALE_QUEUED_SECONDS, to
        hand to the worker again, files removed). Removed: uploads no job was started from,
        after UNSTARTED_UPLOAD_SECONDS, and the files of jobs finished ``keep_days`` ago (their
        counts and problems stay)."""
        now = now or datetime.datetime.now(datetime.timezone.utc)
        stale = self.session.execute(sa.select(CustomerImport.id).where(
            CustomerImport.status == "queued",
            CustomerImport.created_at < now - datetime.timedelta(
                seconds=STALE_QUEUED_SECONDS))).scalars().all()
        finished_before = now - datetime.timedelta(days=keep_days)
        kept, expired = set(), set()
        for path, status, finished in self.session.execute(sa.select(
                CustomerImport.stored_path, CustomerImport.status, CustomerImport.finished_at)):
            name = pathlib.PurePosixPath(path).name
            done = status in ("done", "failed") and finished is not None
            (expired if done and finished < finished_before else kept).add(name)
        removed = 0
        if self.folder.is_dir():
            oldest = now.timestamp() - UNSTARTED_UPLOAD_SECONDS
            for path in self.folder.iterdir():
                unstarted = path.name not in kept and path.name not in expired
                if path.name in expired or (unstarted and path.stat().st_mtime < oldest):
                    path.unlink(missing_ok=True)
                    removed += 1
        return list(stale), removed

    def recent(self, limit=20):
        """The latest jobs, newest first."""
        return self.session.execute(sa.select(CustomerImport).order_by(
            CustomerImport.id.desc()).limit(limit)).scalars().all()

    def problems(self, job_id, limit=None):
        """The job's problems by row number."""
        query = sa.select(ImportProblem).where(ImportProblem.import_id == job_id).order_by(
            ImportProblem.row_number, ImportProblem.id)
        if limit is not None:
            query = query.limit(limit)
        return self.session.execute(query).scalars().all()

    def save_template(self, name, owner, header, mapping):
        """Keep ``mapping`` as template ``name`` of ``owner`` (replacing one so named)."""
        name = str(name or "").strip()
        if not name or len(name) > 64:
            raise CrmError("template: a name of 1 to 64 characters", field="template")
        by_header = {str(cell): target for cell, target in zip(header, mapping) if target}
        row = self.session.execute(sa.select(ImportTemplate).where(
            ImportTemplate.owner == owner, ImportTemplate.name == name)).scalar_one_or_none()
        if row is None:
            row = ImportTemplate(name=name, owner=owner)
            self.session.add(row)
        row.mapping = by_header
        self.session.commit()
        return row

    def templates(self, owner):
        """The owner's templates by name."""
        return self.session.execute(sa.select(ImportTemplate).where(
            ImportTemplate.owner == owner).order_by(ImportTemplate.name)).scalars().all()

    def template(self, template_id, owner):
        """One of the owner's templates, or None."""
        row = self.session.get(ImportTemplate, template_id)
        return row if row is not None and row.owner == owner else None
