"""The customer page's attachments: upload (a form with CSRF), download, remove; and what the
JSON API shares with the pages: the service, reading the upload, sending a file.

Uploading needs ``crm.edit``, listing and downloading ``crm.view``, removing ``crm.manage``.
Settings (app config): ``CRM_ATTACHMENT_MAX_MB`` (20), the largest file taken;
``CRM_ATTACHMENT_KEEP_DAYS`` (30), how long a removed attachment's file stays.
A file goes back as a download (``Content-Disposition: attachment``), with ``nosniff`` and a
sandboxing Content-Security-Policy, so whatever it holds (HTML, a script) never runs in the
browser as one of our pages.
"""

from flask import Blueprint, current_app, flash, redirect, request, send_file, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from web.crm.attachments import (DEFAULT_MAX_MB, FOLDER, AttachmentService, AttachmentStore,
                                 too_large)
from web.crm.errors import CrmError
from web.crm.wiring import EDIT, MANAGE, VIEW, actor, customer_service
from web.auth.decorators import permission_required

bp = Blueprint("crm_attachments", __name__, url_prefix="/crm")
FIELD = "file"
FORM_OVERHEAD = 64 * 1024  # the multipart headers and the other fields around the file
DOWNLOAD_HEADERS = {"X-Content-Type-Options": "nosniff",
                    "Content-Security-Policy": "sandbox; default-src 'none'",
                    "Cache-Control": "private, no-store"}


def max_bytes():
    """The largest attachment taken, in bytes (CRM_ATTACHMENT_MAX_MB)."""
    return int(float(current_app.config.get("CRM_ATTACHMENT_MAX_MB", DEFAULT_MAX_MB))
               * 1048576)


def attachment_service():
    """An AttachmentService on the request's session, storing under the var dir."""
    root = current_app.extensions["fs_cc_settings"].var_dir / FOLDER
    return AttachmentService(customer_service(), AttachmentStore(root), max_bytes())


def uploaded_file():
    """The request's upload in the form field ``file``; CrmError naming ``file`` otherwise."""
    limit = max_bytes()
    if request.content_length is not None and request.content_length > limit + FORM_OVERHEAD:
        raise too_large(limit)
    request.max_content_length = limit + FORM_OVERHEAD  # a body sent without its length
    try:
        upload = request.files.get(FIELD)
    except RequestEntityTooLarge:
        raise too_large(limit) from None
    if upload is None or not upload.filename:
        raise CrmError(f"{FIELD}: choose a file to upload (multipart/form-data, field {FIELD})",
                       field=FIELD)
    return upload


def upload_from_request(customer_id):
    """Store the request's upload on the customer; returns the row."""
    upload = uploaded_file()
    return attachment_service().upload(customer_id, upload.stream, upload.filename,
                                       upload.mimetype, by=actor())


def send_attachment(customer_id, attachment_id):
    """The attachment's bytes as a download under its uploaded name."""
    service = attachment_service()
    row = service.get(customer_id, attachment_id)
    response = send_file(service.file_of(row), mimetype=row.content_type, as_attachment=True,
                         download_name=row.filename, etag=row.sha256, conditional=True)
    response.headers.update(DOWNLOAD_HEADERS)
    return response


def _act(customer_id, action, verb):
    # ``action`` returns the attachment; the outcome is flashed on the customer's page
    try:
        row = action()
    except CrmError as exc:
        flash(f"Not {verb}: {exc.message}", "error")
    else:
        flash(f"{row.filename} {verb}.", "ok")
    return redirect(url_for("crm.detail", customer_id=customer_id) + "#attachments")


@bp.post("/customers/<int:customer_id>/attachments")
@permission_required(EDIT)
def upload(customer_id):
    """Attach the chosen file to the customer."""
    return _act(customer_id, lambda: upload_from_request(customer_id), "attached")


@bp.get("/customers/<int:customer_id>/attachments/<int:attachment_id>")
@permission_required(VIEW)
def download(customer_id, attachment_id):
    """Download one of the customer's attachments."""
    return send_attachment(customer_id, attachment_id)


@bp.post("/customers/<int:customer_id>/attachments/<int:attachment_id>/delete")
@permission_required(MANAGE)
def delete(customer_id, attachment_id):
    """Remove an attachment (kept in the history; the file stays)."""
    return _act(customer_id, lambda: attachment_service().delete(
        customer_id, attachment_id, by=actor()), "removed")


@bp.app_template_global("customer_attachments")
def customer_attachments(customer_id):
    """The customer's attachments, for the customer page's partial (crm/_attachments.html)."""
    return attachment_service().list(customer_id)


@bp.app_template_global("attachment_max_mb")
def attachment_max_mb():
    """The largest attachment taken, in MB, as the upload form says it."""
    return f"{max_bytes() / 1048576:g}"
