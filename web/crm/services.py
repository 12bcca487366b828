"""Creating, editing, deleting and restoring customers, their phones and notes.

Every change writes its HistoryEntry rows (who, when, field, old, new) in the same transaction
as the change. ``save`` is the one way in for a customer's data: the pages, the JSON API and an
importer call it (an importer with ``commit=False`` to commit a batch at once).
"""

import datetime

import sqlalchemy as sa

from web.audit import actions as audit_actions
from web.audit.services import AuditLog
from web.crm import fields as custom_fields
from web.crm.errors import Conflict, CrmError, InvalidCustomer, NotFound
from web.crm.models import (CUSTOMER_FIELDS, Customer, CustomerNote, CustomerPhone,
                            CustomerTag, CustomValue, HistoryEntry)
from web.crm.phones import InvalidPhone, parse_phone
from web.crm.rules import CustomerRules
from web.types import utcnow

NOTE_MAX = 10000


def shown(value):
    """A value as the history keeps it: text, or None for nothing."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


class CustomerService:
    """Customers on one session; ``rules`` (CustomerRules) checks their data."""

    def __init__(self, session, rules: CustomerRules):
        self.session = session
        self.rules = rules

    # reading

    def get(self, customer_id, include_deleted=True):
        """The customer ``customer_id``; NotFound otherwise (or when deleted and not wanted)."""
        customer = self.session.get(Customer, customer_id)
        if customer is None or (customer.deleted and not include_deleted):
            raise NotFound(f"no customer {customer_id}", field="customer_id")
        return customer

    def changes(self, customer_id, limit=200):
        """The record's history entries, newest first."""
        return self.session.execute(
            sa.select(HistoryEntry).where(HistoryEntry.customer_id == customer_id)
            .order_by(HistoryEntry.at.desc(), HistoryEntry.id.desc()).limit(limit)
        ).scalars().all()

    # writing

    def log(self, customer, action, by, field=None, old=None, new=None):
        """Add one history entry to the session."""
        self.session.add(HistoryEntry(customer_id=customer.id, at=utcnow(), username=by,
                                      action=action, field=field, old_value=shown(old),
                                      new_value=shown(new)))

    def save(self, data, customer_id=None, by=None, commit=True):
        """Create (no ``customer_id``) or update a customer from ``data``; return it.

        InvalidCustomer lists every problem as (field, message); nothing is written then.
        Fields left out of an update keep their values; ``phones`` and ``tags`` given are
        the whole new list.
        """
        existing = self.get(customer_id) if customer_id is not None else None
        if existing is not None and existing.deleted:
            raise Conflict(f"customer {customer_id} is deleted: restore it first",
                           field="customer_id")
        clean, errors = self.rules.check(data, existing)
        if errors:
            raise InvalidCustomer(errors)
        customer = existing or Customer(created_by=by, custom={})
        if existing is None:
            self.session.add(customer)
            self.session.flush()
            self.log(customer, "created", by)
        for name, value in clean.columns.items():
            old = getattr(customer, name)
            if old != value:
                if name != "name_search":
                    if existing is not None:
                        self.log(customer, "updated", by, name, old, value)
                    elif value not in (None, "", False):
                        self.log(customer, "created", by, name, None, value)
                setattr(customer, name, value)
        if clean.phones is not None:
            self._set_phones(customer, clean.phones, by)
        action = "updated" if existing is not None else "created"
        if clean.tags is not None:
            self.set_tags(customer, clean.tags, by, action)
        if clean.custom is not None:
            self.set_custom(customer, clean.custom, by, action)
        customer.updated_at = utcnow()
        self.session.flush()
        if commit:
            self.session.commit()
        return customer

    def _set_phones(self, customer, phones, by):
        wanted = {parsed.e164: (parsed, label) for parsed, label in phones}
        for phone in list(customer.phones):
            if phone.e164 not in wanted:
                customer.phones.remove(phone)
                self.log(customer, "phone_removed", by, "phones", phone.e164, None)
        have = {phone.e164: phone for phone in customer.phones}
        for position, (e164, (parsed, label)) in enumerate(wanted.items()):
            phone = have.get(e164)
            if phone is None:
                phone = CustomerPhone(e164=e164, digits=parsed.digits, kind=parsed.kind)
                customer.phones.append(phone)
                self.log(customer, "phone_added", by, "phones", None, e164)
            phone.label, phone.position = label, position

    def set_tags(self, customer, tags, by, action="updated"):
        """Make ``tags`` the customer's tags, with one history entry when they change."""
        old = customer.tags
        if sorted(tags) == old:
            return
        customer.tag_rows = [row for row in customer.tag_rows if row.tag in tags] + [
            CustomerTag(tag=tag) for tag in tags if tag not in old]
        self.log(customer, action, by, "tags", old, sorted(tags))

    def set_custom(self, customer, values, by, action="updated"):
        """Store checked custom ``values`` in the JSON column and the indexed value rows."""
        old = dict(customer.custom or {})
        for key in sorted(set(old) | set(values)):
            if old.get(key) != values.get(key):
                self.log(customer, action, by, f"custom.{key}", old.get(key),
                         values.get(key))
        customer.custom = dict(values)
        self.session.execute(sa.delete(CustomValue).where(
            CustomValue.customer_id == customer.id))
        for definition in custom_fields.FieldDefinitions(self.session).active():
            for columns in custom_fields.indexed_values(definition, values.get(definition.key)):
                self.session.add(CustomValue(customer_id=customer.id, field_id=definition.id,
                                             **columns))

    def delete(self, customer_id, by):
        """Put the customer in the bin (kept, restorable, out of searches); commits."""
        customer = self.get(customer_id)
        if customer.deleted:
            raise Conflict(f"customer {customer_id} is deleted already", field="customer_id")
        customer.deleted_at, customer.deleted_by = utcnow(), by
        self.log(customer, "deleted", by)
        AuditLog(self.session).add(audit_actions.CUSTOMER_DELETED, target=customer.id,
                                   detail={"name": customer.name})
        self.session.commit()
        return customer

    def restore(self, customer_id, by):
        """Take a deleted customer out of the bin; a merged one stays merged; commits."""
        customer = self.get(customer_id)
        if not customer.deleted:
            raise Conflict(f"customer {customer_id} is not deleted", field="customer_id")
        if customer.merged_into_id is not None:
            raise Conflict(f"customer {customer_id} was merged into customer "
                           f"{customer.merged_into_id}", field="customer_id")
        customer.deleted_at, customer.deleted_by = None, None
        self.log(customer, "restored", by)
        AuditLog(self.session).add(audit_actions.CUSTOMER_RESTORED, target=customer.id,
                                   detail={"name": customer.name})
        self.session.commit()
        return customer

    def add_phone(self, customer_id, raw, label="", by=None):
        """Give the customer one more number; commits; returns the phone."""
        customer = self._live(customer_id)
        try:
            parsed = parse_phone(raw, self.rules.region, field="number")
        except InvalidPhone as exc:
            raise CrmError(exc.message, field=exc.field) from None
        if any(phone.e164 == parsed.e164 for phone in customer.phones):
            raise Conflict(f"number: {parsed.e164} is this customer's already", field="number")
        phone = CustomerPhone(e164=parsed.e164, digits=parsed.digits, kind=parsed.kind,
                              label=str(label or "")[:32], position=len(customer.phones))
        customer.phones.append(phone)
        self.log(customer, "phone_added", by, "phones", None, parsed.e164)
        self.session.commit()
        return phone

    def remove_phone(self, customer_id, phone_id, by=None):
        """Remove one number of the customer; commits."""
        customer = self._live(customer_id)
        phone = next((p for p in customer.phones if p.id == phone_id), None)
        if phone is None:
            raise NotFound(f"customer {customer_id} has no phone {phone_id}", field="phone_id")
        customer.phones.remove(phone)
        self.log(customer, "phone_removed", by, "phones", phone.e164, None)
        self.session.commit()

    def add_note(self, customer_id, text, by=None):
        """Write a note on the customer; commits; returns it."""
        customer = self._live(customer_id)
        text = str(text or "").strip()
        if not text:
            raise CrmError("text: the note is empty", field="text")
        if len(text) > NOTE_MAX:
            raise CrmError(f"text: at most {NOTE_MAX} characters", field="text")
        note = CustomerNote(customer_id=customer.id, at=utcnow(), author=by, text=text)
        self.session.add(note)
        self.session.commit()
        return note

    def notes(self, customer_id):
        """The customer's notes, newest first."""
        return self.session.execute(
            sa.select(CustomerNote).where(CustomerNote.customer_id == customer_id)
            .order_by(CustomerNote.at.desc(), CustomerNote.id.desc())).scalars().all()

    def _live(self, customer_id):
        customer = self.get(customer_id)
        if customer.deleted:
            raise Conflict(f"customer {customer_id} is deleted: restore it first",
                           field="customer_id")
        return customer


def form_values(customer):
    """The plain values of a customer's own fields, as a merge or a form compares them."""
    return {name: getattr(customer, name) for name in CUSTOMER_FIELDS}
