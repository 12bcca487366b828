"""The "My exports" page: the user's export jobs with their progress (refreshed from the
JSON API by exports.js) and a download link when done; the form that asks for one."""

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from web.auth.decorators import login_required
from web.exports.api import bp as api_bp
from web.exports.api import download_response, job_json, start
from web.exports.kinds import load_kinds
from web.exports.wiring import export_service

bp = Blueprint("exports", __name__, url_prefix="/exports")
FORM_FIELDS = ("kind", "format", "csrf_token")


@bp.get("")
@login_required
def index():
    """The user's exports, newest first."""
    jobs = [job_json(job) for job in export_service().of_user(g.user)]
    return render_template("exports/index.html", jobs=jobs)


@bp.post("")
@login_required
def create():
    """Ask for an export of ``kind`` in ``format``; the other fields are its parameters."""
    parameters = {name: value for name, value in request.form.items()
                  if name not in FORM_FIELDS}
    job = start(request.form.get("kind", ""), parameters, request.form.get("format", ""))
    flash(f"Export {job.id} asked for: it is listed below while the worker writes it.", "ok")
    return redirect(url_for("exports.index"))


@bp.get("/<int:job_id>/file")
@login_required
def download(job_id):
    """Download an export's file (its owner or an administrator)."""
    return download_response(job_id)


def register(app):
    """Register the exports' page and API blueprints, and load the export kinds."""
    load_kinds()
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
