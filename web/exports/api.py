"""The exports' JSON API under ``/api/exports``: ask for an export, follow it, fetch its file.

Any logged-in user may call it; each kind needs its own permission (``crm.customers``:
``crm.export``). A job is its owner's (an administrator, ``users.manage``, sees every one).
"""

from flask import Blueprint, g, jsonify, request, send_file, url_for

from web.api.openapi import operation
from web.auth.decorators import login_required
from web.errors import WebError
from web.exports import schemas
from web.exports.models import ExportStatus
from web.exports.wiring import export_service, hand_off

bp = Blueprint("exports_api", __name__, url_prefix="/api/exports")
TAG = "exports"


def job_json(job):
    """The job's JSON with its download link (when there is a file)."""
    data = job.to_dict()
    ready = job.status is ExportStatus.DONE and bool(job.file_path)
    data["download_url"] = (url_for("exports_api.download", job_id=job.id) if ready else None)
    return data


def start(kind, parameters, fmt):
    """Create the job for the request's user and hand it to the worker."""
    job = export_service().create(kind, parameters, fmt, g.user)
    hand_off(job.id)
    return job


def download_response(job_id):
    """The file of export ``job_id`` as an attachment (owner or administrator; audited)."""
    path, job = export_service().file_for(job_id, g.user)
    return send_file(path, as_attachment=True, download_name=job.filename)


@bp.get("")
@login_required
@operation(response=schemas.ExportListSchema, tag=TAG)
def listing():
    """The caller's exports, newest first."""
    return jsonify(exports=[job_json(job) for job in export_service().of_user(g.user)])


@bp.post("")
@login_required
@operation(body=schemas.ExportCreateSchema, response=schemas.ExportJobSchema, status=202,
           tag=TAG)
def create():
    """Ask the worker for an export; 202 with the queued job (follow it at its id)."""
    body = request.get_json()
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise WebError("parameters: an object", field="parameters")
    return jsonify(job_json(start(body["kind"], parameters, body["format"]))), 202


@bp.get("/<int:job_id>")
@login_required
@operation(response=schemas.ExportJobSchema, tag=TAG)
def one(job_id):
    """An export's status and progress, and its download link once done."""
    return jsonify(job_json(export_service().get(job_id, g.user)))


@bp.get("/<int:job_id>/file")
@login_required
@operation(content_type="application/octet-stream", errors=(409,), tag=TAG,
           response_description="The file (CSV, UTF-8 with BOM, or XLSX)")
def download(job_id):
    """Download a done export's file (409 while running, failed or expired)."""
    return download_response(job_id)
