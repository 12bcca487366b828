"""The import pages under ``/crm/imports`` (``crm.manage``): upload a CSV or XLSX file, map
its columns on a preview of the first rows (templates kept by name), choose what a duplicate
becomes, start; then the job's page with its progress bar and its rows' problems, and the
problems as a CSV file."""

from flask import (Blueprint, Response, flash, redirect, render_template,
                   request, url_for)

from web.auth.decorators import permission_required
from web.crm.errors import CrmError
from web.crm.import_models import DuplicatePolicy
from web.crm.import_tasks import dispatch, import_jobs as jobs
from web.crm.imports import TARGETS, guess_mapping, problems_csv
from web.crm.wiring import MANAGE, actor, definitions

bp = Blueprint("crm_imports", __name__, url_prefix="/crm/imports")
SHOWN_PROBLEMS = 500
POLICIES = tuple(item.value for item in DuplicatePolicy)


def targets():
    """(value, label) of every field a column can feed, custom fields included."""
    return [("", "(ignore)")] + [(name, name) for name in TARGETS] + [
        (f"custom.{row.key}", f"{row.label} (custom)") for row in definitions().active()]


@bp.get("")
@permission_required(MANAGE)
def index():
    """The upload form and the latest imports."""
    return render_template("crm/import_upload.html", jobs=jobs().recent())


@bp.post("")
@permission_required(MANAGE)
def upload():
    """Keep the uploaded file and show its preview for mapping."""
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise CrmError("file: choose a .csv or .xlsx file", field="file")
        token = jobs().store_upload(upload.filename, upload.stream)
    except CrmError as exc:
        return render_template("crm/import_upload.html", jobs=jobs().recent(),
                               error=exc), exc.status
    return redirect(url_for("crm_imports.mapping", token=token, name=upload.filename))


def _mapping_page(token, mapping=None, error=None, status=200):
    header, rows, encoding = jobs().preview(token)
    templates = jobs().templates(actor())
    template = None
    if request.args.get("template", "").isdigit():
        template = jobs().template(int(request.args["template"]), actor())
    if mapping is None:
        mapping = guess_mapping(header, definitions().active(),
                                template.mapping if template is not None else None)
    return render_template("crm/import_mapping.html", token=token, header=header, rows=rows,
                           encoding=encoding, mapping=mapping, targets=targets(),
                           policies=POLICIES, templates=templates, template=template,
                           name=request.values.get("name", token), error=error,
                           policy=request.values.get("policy", "skip")), status


@bp.get("/new/<token>")
@permission_required(MANAGE)
def mapping(token):
    """The first rows of the file with a field chosen for each column."""
    return _mapping_page(token)


@bp.post("/new/<token>")
@permission_required(MANAGE)
def start(token):
    """Save the mapping as a template, or start the import and go to its page."""
    header, _, _ = jobs().preview(token)
    mapping = [request.form.get(f"column_{index}", "") for index in range(len(header))]
    try:
        if request.form.get("action") == "save_template":
            row = jobs().save_template(request.form.get("template_name"), actor(), header,
                                       mapping)
            flash(f"Template {row.name} saved.", "ok")
            return _mapping_page(token, mapping)
        job = jobs().start(token, request.form.get("name"), mapping,
                           request.form.get("policy", "skip"), actor(), definitions().active())
    except CrmError as exc:
        return _mapping_page(token, mapping, exc, exc.status)
    dispatch(job.id)
    return redirect(url_for("crm_imports.job", job_id=job.id))


@bp.get("/<int:job_id>")
@permission_required(MANAGE)
def job(job_id):
    """The job's progress and its rows' problems."""
    row = jobs().get(job_id)
    return render_template("crm/import_job.html", job=row,
                           problems=jobs().problems(job_id, SHOWN_PROBLEMS),
                           shown=SHOWN_PROBLEMS)


@bp.get("/<int:job_id>/errors.csv")
@permission_required(MANAGE)
def errors_csv(job_id):
    """Every problem of the job as a CSV file: row, column, kind, reason."""
    jobs().get(job_id)
    return Response(problems_csv(jobs().problems(job_id)),
                    content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="import_{job_id}_errors.csv"'})
