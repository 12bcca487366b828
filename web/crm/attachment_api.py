"""The JSON API of a customer's attachments, under ``/api/crm/customers/ID/attachments``.

Listing and downloading need ``crm.view``, uploading ``crm.edit`` (multipart/form-data, the
file in the field ``file``), removing ``crm.manage`` (soft: the history keeps it). A file past
``CRM_ATTACHMENT_MAX_MB`` answers 400 naming ``file``.
"""

from flask import Blueprint, jsonify
from marshmallow import Schema, fields

from web.api.openapi import operation
from web.auth.decorators import permission_required
from web.crm.attachment_views import attachment_service, send_attachment, upload_from_request
from web.crm.wiring import EDIT, MANAGE, VIEW, actor

bp = Blueprint("crm_attachments_api", __name__, url_prefix="/api/crm")
TAG = "crm"
WHEN = "ISO 8601 date-time (UTC)"


class CustomerAttachmentSchema(Schema):
    """A file attached to a customer."""

    id = fields.Integer(required=True)
    customer_id = fields.Integer(required=True)
    filename = fields.String(required=True, metadata={"description": "the name as uploaded"})
    content_type = fields.String(required=True)
    size_bytes = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    uploaded_by = fields.String(required=True, allow_none=True)
    uploaded_at = fields.String(required=True, metadata={"description": WHEN})
    deleted_at = fields.String(required=True, allow_none=True, metadata={"description": WHEN})
    deleted_by = fields.String(required=True, allow_none=True)
    url = fields.String(required=True, allow_none=True, metadata={
        "description": "where to download it"})


class CustomerAttachmentListSchema(Schema):
    """A customer's attachments, newest first."""

    attachments = fields.List(fields.Nested(CustomerAttachmentSchema), required=True)


@bp.get("/customers/<int:customer_id>/attachments")
@permission_required(VIEW)
@operation(response=CustomerAttachmentListSchema, tag=TAG)
def attachments(customer_id):
    """A customer's attachments (removed ones left out), newest first."""
    return jsonify(attachments=[row.to_dict() for row in attachment_service().list(customer_id)])


@bp.post("/customers/<int:customer_id>/attachments")
@permission_required(EDIT)
@operation(response=CustomerAttachmentSchema, status=201, errors=(409,), tag=TAG)
def upload(customer_id):
    """Attach a file to a customer; 201.

    The body is multipart/form-data with the file in the field ``file``; its name and type
    are kept as sent (the name's folders dropped). 400 naming ``file`` when it is missing,
    empty or larger than ``CRM_ATTACHMENT_MAX_MB``.
    """
    return jsonify(upload_from_request(customer_id).to_dict()), 201


@bp.get("/customers/<int:customer_id>/attachments/<int:attachment_id>")
@permission_required(VIEW)
@operation(content_type="application/octet-stream",
           response_description="The file, as a download under its uploaded name", tag=TAG)
def download(customer_id, attachment_id):
    """Download an attachment (``Content-Disposition: attachment``, never shown inline)."""
    return send_attachment(customer_id, attachment_id)


@bp.delete("/customers/<int:customer_id>/attachments/<int:attachment_id>")
@permission_required(MANAGE)
@operation(response=CustomerAttachmentSchema, tag=TAG)
def delete(customer_id, attachment_id):
    """Remove an attachment (soft: the file and the row stay, the history says who)."""
    row = attachment_service().delete(customer_id, attachment_id, by=actor())
    return jsonify(row.to_dict())
