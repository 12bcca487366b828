"""The CRM import's JSON API under ``/api/crm/imports`` (``crm.manage``).

``POST`` takes a multipart form (``file``; ``mapping``, a JSON list with a target per column,
guessed from the headers when left out; ``policy``: skip, update or create) and answers 202 with
the queued job; ``GET .../ID`` its progress and counters, ``GET .../ID/errors`` its rows'
problems.
"""

import json

from flask import Blueprint, jsonify, request
from marshmallow import Schema, fields

from web.api.openapi import operation
from web.auth.decorators import permission_required
from web.crm.errors import CrmError
from web.crm.import_tasks import dispatch, import_jobs as jobs
from web.crm.imports import guess_mapping
from web.crm.wiring import MANAGE, actor, definitions

bp = Blueprint("crm_import_api", __name__, url_prefix="/api/crm/imports")
TAG = "crm"


class ImportSchema(Schema):
    """A customer import: its file, mapping, policy, status and counters."""

    id = fields.Integer(required=True)
    username = fields.String(allow_none=True)
    filename = fields.String(required=True)
    format = fields.String(required=True, metadata={"description": "csv or xlsx"})
    encoding = fields.String(allow_none=True, metadata={"description": "of a CSV file"})
    mapping = fields.List(fields.String(), metadata={
        "description": "the customer field of each column ('' ignores it; custom.KEY)"})
    policy = fields.String(metadata={"description": "skip, update or create"})
    status = fields.String(metadata={"description": "queued, running, done, failed"})
    total_rows = fields.Integer()
    processed = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    skipped = fields.Integer()
    failed = fields.Integer()
    message = fields.String(allow_none=True)
    created_at = fields.String()
    started_at = fields.String(allow_none=True)
    finished_at = fields.String(allow_none=True)


class ImportProblemSchema(Schema):
    """One row's problem or skip."""

    row = fields.Integer(required=True, metadata={"description": "as a spreadsheet numbers it"})
    column = fields.String(required=True, metadata={"description": "the file's header"})
    kind = fields.String(required=True, metadata={"description": "error or skipped"})
    reason = fields.String(required=True)


class ImportProblemListSchema(Schema):
    """The problems of an import, by row."""

    problems = fields.List(fields.Nested(ImportProblemSchema))


@bp.post("")
@permission_required(MANAGE)
@operation(response=ImportSchema, status=202, errors=(409,), tag=TAG)
def create():
    """Upload a file (multipart: file, mapping, policy) and queue its import; 202."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise CrmError("file: a .csv or .xlsx file is required", field="file")
    service = jobs()
    token = service.store_upload(upload.filename, upload.stream)
    header, _, _ = service.preview(token)
    fields_now = definitions().active()
    if request.form.get("mapping"):
        try:
            mapping = json.loads(request.form["mapping"])
        except ValueError:
            raise CrmError("mapping: a JSON list of field names", field="mapping") from None
        if not isinstance(mapping, list):
            raise CrmError("mapping: a JSON list of field names", field="mapping")
    else:
        mapping = guess_mapping(header, fields_now)
    job = service.start(token, upload.filename, mapping, request.form.get("policy", "skip"),
                        actor(), fields_now)
    dispatch(job.id)
    return jsonify(service.get(job.id).to_dict()), 202


@bp.get("/<int:import_id>")
@permission_required(MANAGE)
@operation(response=ImportSchema, tag=TAG)
def status(import_id):
    """An import's status, progress and counters."""
    return jsonify(jobs().get(import_id).to_dict())


@bp.get("/<int:import_id>/errors")
@permission_required(MANAGE)
@operation(response=ImportProblemListSchema, tag=TAG)
def problems(import_id):
    """Every problem of an import's rows: row number, column, kind, reason."""
    jobs().get(import_id)
    return jsonify(problems=[row.to_dict() for row in jobs().problems(import_id)])
