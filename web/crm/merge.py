"""Merging a duplicate customer into another, field by field, losing nothing.

The kept record takes, for each field, its own value or the duplicate's (``choose``; a field
the kept record leaves empty takes the duplicate's unless told otherwise). Phones, tags and
notes are joined; the duplicate's history moves over, so the kept record's history tells both
stories. The duplicate stays, deleted, with ``merged_into_id`` saying where it went.
"""

import sqlalchemy as sa

from web.audit import actions as audit_actions
from web.audit.services import AuditLog
from web.crm.attachments import move_attachments
from web.crm.errors import Conflict, CrmError
from web.crm.models import CUSTOMER_FIELDS, CustomerNote, CustomerPhone, HistoryEntry
from web.crm.rules import search_text
from web.types import utcnow

SIDES = ("target", "source")


def merge_plan(target, source):
    """{field: (kept value, duplicate's value)} of the fields where the two differ."""
    plan = {}
    for name in CUSTOMER_FIELDS:
        mine, theirs = getattr(target, name), getattr(source, name)
        if mine != theirs:
            plan[name] = (mine, theirs)
    for key in sorted(set(target.custom or {}) | set(source.custom or {})):
        mine, theirs = (target.custom or {}).get(key), (source.custom or {}).get(key)
        if mine != theirs:
            plan[f"custom.{key}"] = (mine, theirs)
    return plan


def _side(choose, name, mine, theirs):
    side = choose.get(name)
    if side is None:
        return "source" if mine in (None, "", False) and theirs not in (None, "") else "target"
    if side not in SIDES:
        raise CrmError(f"choose.{name}: target or source", field=f"choose.{name}")
    return side


def merge_customers(service, target_id, source_id, choose=None, by=None):
    """Merge customer ``source_id`` into ``target_id`` (CustomerService ``service``); commits.

    ``choose`` maps a field (or ``custom.<key>``) to "target" or "source". Returns the kept
    customer.
    """
    choose = dict(choose or {})
    if target_id == source_id:
        raise CrmError("source_id: a customer cannot be merged into itself", field="source_id")
    target, source = service.get(target_id), service.get(source_id)
    for customer, field in ((target, "customer_id"), (source, "source_id")):
        if customer.deleted:
            raise Conflict(f"{field}: customer {customer.id} is deleted", field=field)
    plan = merge_plan(target, source)
    unknown = sorted(set(choose) - set(plan) - set(CUSTOMER_FIELDS)
                     - {f"custom.{key}" for key in (target.custom or {})})
    if unknown:
        raise CrmError(f"choose.{unknown[0]}: no such field differs", field=f"choose.{unknown[0]}")
    session = service.session
    _move_history_and_notes(session, source, target)
    move_attachments(service, source, target, by)
    custom = dict(target.custom or {})
    for name, (mine, theirs) in plan.items():
        if _side(choose, name, mine, theirs) != "source":
            continue
        if name.startswith("custom."):
            custom[name[len("custom."):]] = theirs
            continue
        if name == "card_number":
            source.card_number = None  # unique: free it before the kept record takes it
            session.flush()
        service.log(target, "merged", by, name, mine, theirs)
        setattr(target, name, theirs)
        if name == "name":
            target.name_search = search_text(theirs)
    if custom != (target.custom or {}):
        service.set_custom(target, custom, by)
    _join_phones_and_tags(service, source, target, by)
    source.deleted_at, source.deleted_by = utcnow(), by
    source.merged_into_id = target.id
    service.log(target, "merged", by, "merged_from", None, f"#{source.id} {source.name}")
    service.log(source, "merged_into", by, "merged_into_id", None, target.id)
    AuditLog(session).add(audit_actions.CUSTOMERS_MERGED, target=target.id,
                          detail={"source": source.id, "chosen": sorted(
                              name for name, side in choose.items() if side == "source")})
    target.updated_at = utcnow()
    session.commit()
    return target


def _move_history_and_notes(session, source, target):
    for model in (HistoryEntry, CustomerNote):
        session.execute(sa.update(model).where(model.customer_id == source.id)
                        .values(customer_id=target.id))


def _join_phones_and_tags(service, source, target, by):
    have = {phone.e164 for phone in target.phones}
    for phone in list(source.phones):
        source.phones.remove(phone)
        if phone.e164 in have:
            continue
        moved = CustomerPhone(e164=phone.e164, digits=phone.digits, kind=phone.kind,
                              label=phone.label, position=len(target.phones))
        target.phones.append(moved)
        have.add(phone.e164)
        service.log(target, "phone_added", by, "phones", None, phone.e164)
    tags = sorted(set(target.tags) | set(source.tags))
    service.set_tags(target, tags, by)
