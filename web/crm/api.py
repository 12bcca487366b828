"""The CRM's JSON API under ``/api/crm``: customers, their phones, notes and timeline, the search,
the caller lookup and the custom fields.

Reading needs ``crm.view``; creating and editing customers, phones and notes ``crm.edit``;
deleting, restoring, merging and defining custom fields ``crm.manage``. Errors answer
``{"error": ..., "field": ...}`` (a customer's data with every problem in ``errors``).
"""

from flask import Blueprint, jsonify, request

from web.api.openapi import operation
from web.audit import actions as audit_actions
from web.audit.services import AuditLog
from web.auth.decorators import permission_required
from web.crm import schemas
from web.crm.errors import CrmError
from web.crm.history import customer_for_number, timeline
from web.crm.masking import masked_lookup, phone_visibility
from web.crm.merge import merge_customers
from web.crm.wiring import (EDIT, MANAGE, VIEW, actor, api_custom_pairs, customer_search,
                            customer_service, definitions, parse_query, region)
from web.extensions import db

bp = Blueprint("crm_api", __name__, url_prefix="/api/crm")
TAG = "crm"


def _body():
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise CrmError("the body must be a JSON object", field=None)
    return data


@bp.get("/customers")
@permission_required(VIEW)
@operation(query=schemas.CustomerQuerySchema, response=schemas.CustomerPageSchema, tag=TAG)
def search():
    """Search customers: the box ``q`` and filters, paged and sorted."""
    query = parse_query(request.args, api_custom_pairs(request.args), default_limit=20)
    page = customer_search().search(query)
    shown = phone_visibility()
    return jsonify(customers=[shown.customer(row) for row in page.rows], total=page.total,
                   total_exact=page.exact, limit=query.limit, offset=query.offset)


@bp.post("/customers")
@permission_required(EDIT)
@operation(body=schemas.CustomerCreateSchema, response=schemas.CustomerSchema, status=201,
           errors=((400, schemas.CustomerErrorSchema),), tag=TAG)
def create():
    """Create a customer; 201 with the record."""
    customer = customer_service().save(_body(), by=actor())
    return jsonify(phone_visibility().customer(customer)), 201


@bp.get("/customers/<int:customer_id>")
@permission_required(VIEW)
@operation(response=schemas.CustomerSchema, tag=TAG)
def one(customer_id):
    """One customer (a deleted one too: see ``deleted_at``)."""
    return jsonify(phone_visibility().customer(customer_service().get(customer_id)))


@bp.patch("/customers/<int:customer_id>")
@permission_required(EDIT)
@operation(body=schemas.CustomerEditSchema, response=schemas.CustomerSchema,
           errors=((400, schemas.CustomerErrorSchema), 409), tag=TAG)
def edit(customer_id):
    """Change fields of a customer; each change goes to its history."""
    customer = customer_service().save(_body(), customer_id, by=actor())
    return jsonify(phone_visibility().customer(customer))


@bp.delete("/customers/<int:customer_id>")
@permission_required(MANAGE)
@operation(response=schemas.CustomerSchema, errors=(409,), tag=TAG)
def delete(customer_id):
    """Put a customer in the bin (restorable)."""
    return jsonify(phone_visibility().customer(customer_service().delete(customer_id,
                                                                          by=actor())))


@bp.post("/customers/<int:customer_id>/restore")
@permission_required(MANAGE)
@operation(response=schemas.CustomerSchema, errors=(409,), tag=TAG)
def restore(customer_id):
    """Take a customer out of the bin."""
    return jsonify(phone_visibility().customer(customer_service().restore(customer_id,
                                                                           by=actor())))


@bp.post("/customers/<int:customer_id>/merge")
@permission_required(MANAGE)
@operation(body=schemas.MergeSchema, response=schemas.CustomerSchema, errors=(409,), tag=TAG)
def merge(customer_id):
    """Merge the duplicate ``source_id`` into this customer, choosing field by field."""
    body = _body()
    kept = merge_customers(customer_service(), customer_id, body["source_id"],
                           body.get("choose"), by=actor())
    return jsonify(phone_visibility().customer(kept))


@bp.get("/customers/<int:customer_id>/phones")
@permission_required(VIEW)
@operation(response=schemas.PhoneListSchema, tag=TAG)
def phones(customer_id):
    """A customer's numbers."""
    return jsonify(phones=phone_visibility().phones(customer_service().get(customer_id)))


@bp.post("/customers/<int:customer_id>/phones")
@permission_required(EDIT)
@operation(body=schemas.PhoneCreateSchema, response=schemas.PhoneSchema, status=201,
           errors=(409,), tag=TAG)
def add_phone(customer_id):
    """Give a customer one more number (any common format); 201."""
    body = _body()
    service = customer_service()
    phone = service.add_phone(customer_id, body["number"], body.get("label", ""), by=actor())
    shown = phone_visibility().phones(service.get(customer_id))
    return jsonify(next(item for item in shown if item["id"] == phone.id)), 201


@bp.delete("/customers/<int:customer_id>/phones/<int:phone_id>")
@permission_required(EDIT)
@operation(response=schemas.PhoneListSchema, errors=(409,), tag=TAG)
def remove_phone(customer_id, phone_id):
    """Remove one of a customer's numbers; the numbers left."""
    service = customer_service()
    service.remove_phone(customer_id, phone_id, by=actor())
    return jsonify(phones=phone_visibility().phones(service.get(customer_id)))


@bp.get("/customers/<int:customer_id>/notes")
@permission_required(VIEW)
@operation(response=schemas.NoteListSchema, tag=TAG)
def notes(customer_id):
    """A customer's notes, newest first."""
    service = customer_service()
    customer = service.get(customer_id)
    return jsonify(notes=phone_visibility().notes(customer, service.notes(customer_id)))


@bp.post("/customers/<int:customer_id>/notes")
@permission_required(EDIT)
@operation(body=schemas.NoteCreateSchema, response=schemas.NoteSchema, status=201,
           errors=(409,), tag=TAG)
def add_note(customer_id):
    """Write a note on a customer; 201."""
    note = customer_service().add_note(customer_id, _body()["text"], by=actor())
    return jsonify(note.to_dict()), 201


@bp.get("/customers/<int:customer_id>/history")
@permission_required(VIEW)
@operation(response=schemas.TimelineSchema, tag=TAG)
def history(customer_id):
    """The contact history: calls, callbacks, notes and changes, newest first."""
    customer = customer_service().get(customer_id)
    items = phone_visibility().timeline(customer, timeline(db.session, customer, region()))
    return jsonify(customer_id=customer.id, items=[item.to_dict() for item in items])


@bp.get("/lookup")
@permission_required(VIEW)
@operation(query=schemas.LookupQuerySchema, response=schemas.LookupSchema, tag=TAG)
def lookup():
    """The screen pop: who calls from ``number``, with their last contacts; 404 if nobody."""
    found = customer_for_number(db.session, request.args["number"], region())
    if found is None:
        raise CrmError(f"number: no customer has {request.args['number']!r}", field="number",
                       status=404)
    return jsonify(masked_lookup(found, phone_visibility()))


@bp.get("/fields")
@permission_required(VIEW)
@operation(response=schemas.CustomFieldListSchema, tag=TAG)
def custom_fields():
    """Every custom field, retired ones too."""
    return jsonify(fields=[row.to_dict() for row in definitions().all()])


@bp.post("/fields")
@permission_required(MANAGE)
@operation(body=schemas.CustomFieldCreateSchema, response=schemas.CustomFieldSchema,
           status=201, errors=(409,), tag=TAG)
def define_field():
    """Define a custom field; 201."""
    row = definitions().define(_body())
    _audit_field(row, "defined")
    return jsonify(row.to_dict()), 201


@bp.patch("/fields/<key>")
@permission_required(MANAGE)
@operation(body=schemas.CustomFieldEditSchema, response=schemas.CustomFieldSchema, tag=TAG)
def edit_field(key):
    """Change a custom field's label, required flag, choices, order or active flag."""
    row = definitions().update(key, _body())
    _audit_field(row, "changed")
    return jsonify(row.to_dict())


def _audit_field(row, what):
    AuditLog(db.session).record(audit_actions.CUSTOM_FIELD_CHANGED, target=row.key,
                                detail={"what": what, **row.to_dict()})
