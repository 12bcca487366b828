"""Files attached to a customer (a contract's scan, a complaint's photo): stored, listed, removed.

The bytes go to a folder of their own under var (``crm-attachments``, 0700), each file 0600 and
named by us (32 random hex digits), never by the uploader: a name like ``../../etc/passwd`` is
only the name shown and offered on download. The row keeps the name as uploaded, the type, the
size and the SHA-256. Uploading and removing each write the record's history (crm_history) in
the same transaction; removing is soft (``deleted_at``): the file stays for
``CRM_ATTACHMENT_KEEP_DAYS`` (30) so that a mistake can be undone, then the worker deletes it
(``purge``; the row and the history stay). A merge moves the duplicate's attachments to the
kept customer (``move_attachments``).
"""

import hashlib
import os
import pathlib
import re
import secrets
import unicodedata

import sqlalchemy as sa
from flask import has_request_context, url_for

from web.crm.errors import Conflict, CrmError, NotFound
from web.crm.history import TimelineItem, timeline_source
from web.extensions import db
from web.types import UTCDateTime, iso, utcnow

FOLDER = "crm-attachments"  # under the var dir
DEFAULT_MAX_MB = 20  # CRM_ATTACHMENT_MAX_MB
DEFAULT_KEEP_DAYS = 30  # CRM_ATTACHMENT_KEEP_DAYS: a removed attachment's file, then deleted
OCTET_STREAM = "application/octet-stream"
FILENAME_MAX = 255
CHUNK_BYTES = 1 << 16
_STORED_NAME = re.compile(r"^[0-9a-f]{32}$")
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


class CustomerAttachment(db.Model):
    """A file attached to a customer: its name as uploaded, where we keep it, size, SHA-256."""

    __tablename__ = "crm_attachments"

    id = sa.Column(sa.Integer, primary_key=True)
    customer_id = sa.Column(sa.Integer, sa.ForeignKey("crm_customers.id", ondelete="CASCADE"),
                            nullable=False, index=True)
    filename = sa.Column(sa.String(FILENAME_MAX), nullable=False)  # as uploaded (shown)
    stored_name = sa.Column(sa.String(64), nullable=False, unique=True)  # ours, in FOLDER
    content_type = sa.Column(sa.String(128), nullable=False, default=OCTET_STREAM)
    size_bytes = sa.Column(sa.BigInteger, nullable=False)
    sha256 = sa.Column(sa.String(64), nullable=False)
    uploaded_by = sa.Column(sa.String(64), nullable=True)
    uploaded_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
    deleted_at = sa.Column(UTCDateTime(), nullable=True)
    deleted_by = sa.Column(sa.String(64), nullable=True)

    def to_dict(self):
        """The attachment as JSON (``url`` downloads it, within a request)."""
        url = None
        if has_request_context():
            url = url_for("crm_attachments_api.download", customer_id=self.customer_id,
                          attachment_id=self.id)
        return {"id": self.id, "customer_id": self.customer_id, "filename": self.filename,
                "content_type": self.content_type, "size_bytes": self.size_bytes,
                "sha256": self.sha256, "uploaded_by": self.uploaded_by,
                "uploaded_at": iso(self.uploaded_at), "deleted_at": iso(self.deleted_at),
                "deleted_by": self.deleted_by, "url": url}


def shown_filename(raw):
    """The uploaded name as we keep it: its last path part, without control characters."""
    name = re.split(r"[\\/]", str(raw or ""))[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if name in ("", ".", ".."):
        return "attachment"
    if len(name) > FILENAME_MAX:  # keep the extension, which tells what opens it
        stem, dot, ext = name.rpartition(".")
        ext = ext[:16] if dot else ""
        name = (stem if dot else name)[:FILENAME_MAX - len(ext) - 1] + (f".{ext}" if ext else "")
    return name


def clean_content_type(raw):
    """The uploader's media type without parameters, or application/octet-stream."""
    value = str(raw or "").split(";")[0].strip().lower()
    return value if _CONTENT_TYPE.match(value) and len(value) <= 128 else OCTET_STREAM


class AttachmentStore:
    """The folder of the attachments' bytes: made 0700, each file written 0600 under our name."""

    def __init__(self, root):
        self.root = pathlib.Path(root)

    def write(self, stream, max_bytes):
        """Copy ``stream`` into a new file; (stored name, size, SHA-256).

        CrmError on ``file`` past ``max_bytes`` (nothing is left behind then).
        """
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)  # whatever umask made it, or whoever loosened it
        stored = secrets.token_hex(16)
        path = self.root / stored
        # O_EXCL|O_NOFOLLOW: never through a link, never over a file; 0600 whatever the umask
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        digest, size = hashlib.sha256(), 0
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in iter(lambda: stream.read(CHUNK_BYTES), b""):
                    size += len(chunk)
                    if size > max_bytes:
                        raise too_large(max_bytes)
                    digest.update(chunk)
                    out.write(chunk)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return stored, size, digest.hexdigest()

    def path(self, stored_name):
        """Where the file ``stored_name`` is (only a name we make is accepted)."""
        if not _STORED_NAME.match(stored_name or ""):
            raise NotFound("the attachment's file is not ours", field="attachment_id")
        return self.root / stored_name

    def remove(self, stored_name):
        """Remove a file whose row was never committed."""
        self.path(stored_name).unlink(missing_ok=True)


def too_large(max_bytes):
    """The error of an upload past the limit, naming the ``file`` field and the setting."""
    return CrmError(f"file: larger than the limit of {max_bytes / 1048576:g} MB "
                    "(CRM_ATTACHMENT_MAX_MB)", field="file")


class AttachmentService:
    """A customer's attachments; ``customers`` (CustomerService) finds them and writes history."""

    def __init__(self, customers, store, max_bytes):
        self.customers = customers
        self.session = customers.session
        self.store = store
        self.max_bytes = max_bytes

    def upload(self, customer_id, stream, filename, content_type, by=None):
        """Attach the bytes of ``stream`` to the customer; commits; returns the row."""
        customer = self.customers.get(customer_id)
        if customer.deleted:
            raise Conflict(f"customer {customer_id} is deleted: restore it first",
                           field="customer_id")
        stored, size, digest = self.store.write(stream, self.max_bytes)
        try:
            if size == 0:
                raise CrmError("file: the file is empty", field="file")
            row = CustomerAttachment(customer_id=customer.id, filename=shown_filename(filename),
                                     stored_name=stored, size_bytes=size, sha256=digest,
                                     content_type=clean_content_type(content_type),
                                     uploaded_by=by, uploaded_at=utcnow())
            self.session.add(row)
            self.customers.log(customer, "attachment_added", by, "attachments", None,
                               row.filename)
            self.session.commit()
        except BaseException:
            self.session.rollback()
            self.store.remove(stored)
            raise
        return row

    def list(self, customer_id):
        """The customer's attachments not removed, newest first."""
        self.customers.get(customer_id)
        return self.session.execute(
            sa.select(CustomerAttachment).where(CustomerAttachment.customer_id == customer_id,
                                                CustomerAttachment.deleted_at.is_(None))
            .order_by(CustomerAttachment.uploaded_at.desc(), CustomerAttachment.id.desc())
        ).scalars().all()

    def get(self, customer_id, attachment_id):
        """The customer's attachment ``attachment_id``; NotFound when not theirs or removed."""
        row = self.session.get(CustomerAttachment, attachment_id)
        if row is None or row.customer_id != customer_id or row.deleted_at is not None:
            raise NotFound(f"customer {customer_id} has no attachment {attachment_id}",
                           field="attachment_id")
        return row

    def file_of(self, row):
        """The path of the attachment's bytes; NotFound when the file is gone."""
        path = self.store.path(row.stored_name)
        if not path.is_file():
            raise NotFound(f"the file of attachment {row.id} is missing", field="attachment_id")
        return path

    def purge(self, removed_before):
        """Delete the files of attachments removed before ``removed_before``; how many went.

        Only the bytes go: the row (name, size, SHA-256, who removed it) and the history stay.
        A file already gone is skipped, so a run interrupted half way is simply run again.
        """
        names = self.session.execute(
            sa.select(CustomerAttachment.stored_name)
            .where(CustomerAttachment.deleted_at.is_not(None),
                   CustomerAttachment.deleted_at < removed_before)).scalars().all()
        gone = 0
        for name in names:
            path = self.store.path(name)
            if path.is_file():
                path.unlink()
                gone += 1
        return gone

    def delete(self, customer_id, attachment_id, by=None):
        """Remove the attachment (soft: the row and the file stay); commits; returns it."""
        row = self.get(customer_id, attachment_id)
        row.deleted_at, row.deleted_by = utcnow(), by
        self.customers.log(self.customers.get(customer_id), "attachment_deleted", by,
                           "attachments", row.filename, None)
        self.session.commit()
        return row


def move_attachments(service, source, target, by):
    """Give ``target`` the attachments of the duplicate ``source`` (a merge; no commit)."""
    names = service.session.execute(
        sa.select(CustomerAttachment.filename).where(
            CustomerAttachment.customer_id == source.id, CustomerAttachment.deleted_at.is_(None))
        .order_by(CustomerAttachment.id)).scalars().all()
    service.session.execute(sa.update(CustomerAttachment).where(
        CustomerAttachment.customer_id == source.id).values(customer_id=target.id))
    if names:
        service.log(target, "merged", by, "attachments", None, names)


def _size_text(size):
    if size < 1024:
        return f"{size} B"
    if size < 1 << 20:
        return f"{size / 1024:.1f} kB"
    return f"{size / (1 << 20):.1f} MB"


@timeline_source
def attachments(session, context):
    """Files attached to the customer (removed ones show as the record's changes)."""
    rows = session.execute(
        sa.select(CustomerAttachment).where(
            CustomerAttachment.customer_id == context.customer.id,
            CustomerAttachment.deleted_at.is_(None))
        .order_by(CustomerAttachment.uploaded_at.desc()).limit(context.limit)).scalars().all()
    return [TimelineItem(row.uploaded_at, "attachment",
                         f"attachment {row.filename} ({_size_text(row.size_bytes)}) by "
                         f"{row.uploaded_by or 'someone'}", row.to_dict()) for row in rows]
