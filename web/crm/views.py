"""The CRM pages: the customer list with its search, a customer's record and timeline, the forms
(CSRF, per-field errors), merging a duplicate, and the custom fields' admin page."""

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from web.audit import actions as audit_actions
from web.audit.services import AuditLog
from web.auth.decorators import permission_required
from web.auth.models import User
from web.crm import forms
from web.crm.errors import CrmError
from web.crm.fields import KINDS
from web.crm.history import timeline
from web.crm.masking import phone_visibility
from web.crm.merge import merge_customers, merge_plan
from web.crm.search import SORTS
from web.crm.wiring import (EDIT, MANAGE, VIEW, actor, customer_search, customer_service,
                            definitions, levels, page_custom_pairs, parse_query, region,
                            sources)
from web.errors import WebError
from web.extensions import db
from web.params import check_query

bp = Blueprint("crm", __name__, url_prefix="/crm")
LIST_PARAMS = ("q", "source", "owner_id", "level", "tag", "created_from", "created_to",
               "deleted", "sort", "limit", "offset")


def _choices():
    users = db.session.query(User).filter(User.active.is_(True)).order_by(User.username).all()
    return {"sources": sources(), "levels": levels(), "users": users, "sorts": tuple(SORTS),
            "kinds": KINDS}


@bp.get("/customers")
@permission_required(VIEW)
def index():
    """Customers matching the box and the filters, a page at a time."""
    fields = definitions().active()
    per_page = current_app.config.get("CRM_PER_PAGE", 25)
    error, page, query = None, None, None
    try:
        check_query(LIST_PARAMS + tuple(f"cf_{row.key}" for row in fields))
        query = parse_query(request.args, page_custom_pairs(request.args), per_page)
        page = customer_search().search(query)
    except WebError as exc:  # CrmError, or InvalidFilter of a date or a parameter
        error = exc
    return render_template("crm/index.html", page=page, query=query, args=request.args,
                           fields=fields, error=error, may_edit=g.user.can(EDIT),
                           shown=phone_visibility().phones,
                           box_names=["q", "created_from", "created_to"]
                           + [f"cf_{row.key}" for row in fields],
                           **_choices()), (400 if error else 200)


def _form(customer, values, error=None, status=200):
    return render_template("crm/form.html", customer=customer, values=values, error=error,
                           fields=definitions().active(), **_choices()), status


@bp.get("/customers/new")
@permission_required(EDIT)
def new():
    """An empty customer form."""
    return _form(None, {"phones": request.args.get("number", "")})


@bp.post("/customers/new")
@permission_required(EDIT)
def create():
    """Create the customer, or show the form again with each field's error."""
    fields = definitions().active()
    try:
        customer = customer_service().save(forms.customer_data(request.form, fields),
                                           by=actor())
    except CrmError as exc:
        return _form(None, forms.submitted_values(request.form, fields), exc, exc.status)
    flash(f"Customer {customer.name} created.", "ok")
    return redirect(url_for("crm.detail", customer_id=customer.id))


@bp.get("/customers/<int:customer_id>")
@permission_required(VIEW)
def detail(customer_id):
    """A customer's fields, phones and timeline."""
    service = customer_service()
    customer = service.get(customer_id)
    visibility = phone_visibility()
    return render_template("crm/detail.html", customer=customer, fields=definitions().active(),
                           items=visibility.timeline(customer, timeline(db.session, customer,
                                                                        region())),
                           shown=visibility.phones,
                           may_edit=g.user.can(EDIT), may_manage=g.user.can(MANAGE),
                           may_dial=g.user.can("desktop.use") and bool(g.user.extension))


@bp.get("/customers/<int:customer_id>/edit")
@permission_required(EDIT)
def edit(customer_id):
    """The customer's form."""
    customer = customer_service().get(customer_id)
    values = forms.customer_values(customer, definitions().active())
    values["phones"] = phone_visibility().phone_lines(customer)
    return _form(customer, values)


@bp.post("/customers/<int:customer_id>/edit")
@permission_required(EDIT)
def update(customer_id):
    """Save the customer, or show the form again with each field's error."""
    service = customer_service()
    fields = definitions().active()
    data = forms.customer_data(request.form, fields)
    # a masked line (138****8000) stands for the stored number it masks
    data["phones"] = phone_visibility().unmask_lines(service.get(customer_id), data["phones"])
    try:
        customer = service.save(data, customer_id, by=actor())
    except CrmError as exc:
        return _form(service.get(customer_id), forms.submitted_values(request.form, fields),
                     exc, exc.status)
    flash(f"Customer {customer.name} saved.", "ok")
    return redirect(url_for("crm.detail", customer_id=customer.id))


def _act(customer_id, action, done):
    try:
        action()
    except CrmError as exc:
        flash(f"Not done: {exc.message}", "error")
    else:
        flash(done, "ok")
    return redirect(url_for("crm.detail", customer_id=customer_id))


@bp.post("/customers/<int:customer_id>/notes")
@permission_required(EDIT)
def add_note(customer_id):
    """Write a note on the customer."""
    return _act(customer_id, lambda: customer_service().add_note(
        customer_id, request.form.get("text"), by=actor()), "Note written.")


@bp.post("/customers/<int:customer_id>/phones")
@permission_required(EDIT)
def add_phone(customer_id):
    """Add a number to the customer."""
    return _act(customer_id, lambda: customer_service().add_phone(
        customer_id, request.form.get("number"), request.form.get("label", ""), by=actor()),
        "Number added.")


@bp.post("/customers/<int:customer_id>/phones/<int:phone_id>/delete")
@permission_required(EDIT)
def remove_phone(customer_id, phone_id):
    """Remove one of the customer's numbers."""
    return _act(customer_id, lambda: customer_service().remove_phone(
        customer_id, phone_id, by=actor()), "Number removed.")


@bp.post("/customers/<int:customer_id>/delete")
@permission_required(MANAGE)
def delete(customer_id):
    """Put the customer in the bin."""
    return _act(customer_id, lambda: customer_service().delete(customer_id, by=actor()),
                "Customer deleted (it can be restored).")


@bp.post("/customers/<int:customer_id>/restore")
@permission_required(MANAGE)
def restore(customer_id):
    """Take the customer out of the bin."""
    return _act(customer_id, lambda: customer_service().restore(customer_id, by=actor()),
                "Customer restored.")


@bp.get("/customers/<int:customer_id>/merge")
@permission_required(MANAGE)
def merge_form(customer_id):
    """Choose a duplicate (``source_id``) and, field by field, whose value stays."""
    service = customer_service()
    target, source, plan, error = service.get(customer_id), None, {}, None
    source_id = request.args.get("source_id", "")
    if source_id:
        try:
            if not source_id.isdigit():
                raise CrmError("source_id: a customer number", field="source_id")
            source = service.get(int(source_id))
            plan = merge_plan(target, source)
        except CrmError as exc:
            error = exc
    return render_template("crm/merge.html", target=target, source=source, plan=plan,
                           error=error), (400 if error else 200)


@bp.post("/customers/<int:customer_id>/merge")
@permission_required(MANAGE)
def merge(customer_id):
    """Merge the duplicate in with the choices made."""
    choose = {name[len("choose-"):]: value for name, value in request.form.items()
              if name.startswith("choose-")}
    source_id = request.form.get("source_id", "")
    try:
        if not source_id.isdigit():
            raise CrmError("source_id: choose the duplicate by its number", field="source_id")
        merge_customers(customer_service(), customer_id, int(source_id), choose, by=actor())
    except CrmError as exc:
        flash(f"Not merged: {exc.message}", "error")
        return redirect(url_for("crm.merge_form", customer_id=customer_id,
                                source_id=source_id))
    flash(f"Customer {source_id} merged into this one.", "ok")
    return redirect(url_for("crm.detail", customer_id=customer_id))


@bp.get("/fields")
@permission_required(MANAGE)
def fields_page():
    """The custom fields, and a form to define one."""
    return _fields_page()


def _fields_page(error=None, values=None, status=200):
    return render_template("crm/fields.html", rows=definitions().all(), kinds=KINDS,
                           error=error, values=values or {"active": True}), status


@bp.post("/fields")
@permission_required(MANAGE)
def define_field():
    """Define a custom field, or show the form again with the field at fault."""
    try:
        row = definitions().define(forms.field_data(request.form))
    except CrmError as exc:
        db.session.rollback()
        return _fields_page(exc, request.form, exc.status)
    AuditLog(db.session).record(audit_actions.CUSTOM_FIELD_CHANGED, target=row.key,
                                detail={"what": "defined", **row.to_dict()})
    flash(f"Field {row.label} defined.", "ok")
    return redirect(url_for("crm.fields_page"))


@bp.post("/fields/<key>")
@permission_required(MANAGE)
def update_field(key):
    """Change a custom field (label, required, choices, order, active)."""
    data = forms.field_data(request.form)
    data.pop("key")
    data.pop("kind")
    try:
        row = definitions().update(key, data)
    except CrmError as exc:
        db.session.rollback()
        return _fields_page(exc, None, exc.status)
    AuditLog(db.session).record(audit_actions.CUSTOM_FIELD_CHANGED, target=row.key,
                                detail={"what": "changed", **row.to_dict()})
    flash(f"Field {row.label} saved.", "ok")
    return redirect(url_for("crm.fields_page"))
