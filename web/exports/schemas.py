"""The exports API's shapes (web.api.openapi checks requests against them)."""

from marshmallow import Schema, fields, validate

from web.exports.models import FORMATS, ExportStatus

WHEN = "ISO 8601 date-time (UTC)"


class ExportCreateSchema(Schema):
    """An export to run: its kind, format and parameters."""

    kind = fields.String(required=True, metadata={
        "description": "what to export: crm.customers (the customer search)"})
    format = fields.String(required=True, validate=validate.OneOf(FORMATS))
    parameters = fields.Dict(keys=fields.String(), values=fields.Raw(), metadata={
        "description": "the kind's parameters; for crm.customers the search's filters (q, "
                       "source, owner_id, level, tag, created_from, created_to, deleted, "
                       "sort, custom: a list of key=value)"})


class ExportJobSchema(Schema):
    """An export job: what was asked, how far the worker got, when its file expires."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    username = fields.String(required=True, allow_none=True)
    parameters = fields.Dict(required=True, metadata={
        "description": "filters: as given; options: e.g. full_phones"})
    format = fields.String(required=True, metadata={"enum": list(FORMATS)})
    status = fields.String(required=True, metadata={
        "enum": [status.value for status in ExportStatus]})
    total = fields.Integer(required=True, allow_none=True, metadata={
        "description": "rows expected (null: not known before the end)"})
    done_rows = fields.Integer(required=True, metadata={"description": "rows written so far"})
    file_size = fields.Integer(required=True, allow_none=True, metadata={"description": "bytes"})
    error = fields.String(required=True, allow_none=True)
    created_at = fields.String(required=True, metadata={"description": WHEN})
    started_at = fields.String(required=True, allow_none=True)
    finished_at = fields.String(required=True, allow_none=True)
    expires_at = fields.String(required=True, allow_none=True, metadata={
        "description": "when the file is deleted"})
    download_url = fields.String(required=True, allow_none=True, metadata={
        "description": "the file, once done and until it expires"})


class ExportListSchema(Schema):
    """The caller's exports, newest first."""

    exports = fields.List(fields.Nested(ExportJobSchema), required=True)
