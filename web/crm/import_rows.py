"""One file row as customer data: cells through the mapping, errors named by the file's column.

The checks are the customer rules' own (web.crm.rules), with the two that read the database
for each row replaced by lookups the runner makes once per batch: a card number's holder
(found with the duplicates) and an owner's user id.
"""

import re

import sqlalchemy as sa

from web.auth.models import User
from web.crm import fields as custom_fields
from web.crm.imports import Formula
from web.crm.rules import CustomerRules

_PHONE_SPLIT = re.compile(r"[,，;；/、|\n]")


class ImportRules(CustomerRules):
    """CustomerRules for a batch: card holders are the runner's to judge; owners and custom
    field definitions read once, not for each row."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._users = None
        self._definitions = None

    def _check_custom_all(self, given, clean, errors, existing):
        if existing is not None or not isinstance(given, dict):
            return super()._check_custom_all(given, clean, errors, existing)
        if self._definitions is None:
            self._definitions = {row.key: row for row in
                                 custom_fields.FieldDefinitions(self.session).active()}
        errors.extend((f"custom.{key}", f"custom.{key}: no such custom field")
                      for key in given if key not in self._definitions)
        clean.custom = {}
        for key, definition in self._definitions.items():
            try:
                value = custom_fields.check_value(definition, given.get(key))
            except custom_fields.InvalidValue as exc:
                errors.append((exc.field, exc.message))
            else:
                if value is not None:
                    clean.custom[key] = value

    def _check_card_number(self, value, clean, errors, existing):
        # the holder of a card is a duplicate found per batch by web.crm.import_runner
        card = str(value or "").strip().upper() or None
        if card is not None and len(card) > 64:
            errors.append(("card_number", "card_number: at most 64 characters"))
        clean.columns["card_number"] = card

    def _check_owner(self, value, clean, errors, existing):
        if self._users is None:
            self._users = dict(self.session.execute(sa.select(User.username, User.id)).all())
        name = str(value or "").strip()
        if name and name not in self._users:
            errors.append(("owner", f"owner: no user {name!r}"))
        clean.columns["owner_id"] = self._users.get(name)


class RowReader:
    """Turns a row's cells into the data CustomerService takes, remembering each cell's column."""

    def __init__(self, header, mapping, region):
        self.header = [str(cell) or f"column {index + 1}" for index, cell in enumerate(header)]
        self.mapping = mapping
        self.region = region
        self.columns = {}
        for index, target in enumerate(mapping):
            if target:
                self.columns.setdefault(target, self.header[index])

    def read(self, cells):
        """(data, phone columns, cell errors as (column, reason)) of one row."""
        data, phone_columns, errors = {}, [], []
        for index, target in enumerate(self.mapping):
            if not target:
                continue
            cell = cells[index] if index < len(cells) else ""
            if isinstance(cell, Formula):
                errors.append((self.header[index], f"formula not allowed: {cell.text[:40]}"))
                continue
            text = str(cell).strip()
            if target == "phones":
                for number in _PHONE_SPLIT.split(text):
                    if number.strip():
                        data.setdefault("phones", []).append(number.strip())
                        phone_columns.append(self.header[index])
            elif target.startswith("custom."):
                data.setdefault("custom", {})[target[7:]] = text
            else:
                data[target] = text
        return data, phone_columns, errors

    def column_of(self, field, phone_columns, phone_offset=0):
        """The file column a rules error's ``field`` came from ("" when none did)."""
        if field.startswith("phones."):
            index = int(field.split(".")[1]) - phone_offset
            return phone_columns[index] if 0 <= index < len(phone_columns) else \
                self.columns.get("phones", "")
        if field == "owner_id":
            field = "owner"
        return self.columns.get(field, "")

    @staticmethod
    def keys(clean):
        """(E.164 numbers, card number) of checked values, what a duplicate is found by."""
        return ([parsed.e164 for parsed, _ in clean.phones or ()],
                clean.columns.get("card_number"))


def update_data(customer, data):
    """What an update of ``customer`` by a row writes: its non-empty values, phones and tags
    added to the customer's own (their labels kept), custom values merged."""
    out = {name: value for name, value in data.items()
           if name not in ("phones", "tags", "custom") and value != ""}
    if data.get("phones"):
        out["phones"] = [{"number": phone.e164, "label": phone.label}
                         for phone in customer.phones] + list(data["phones"])
    if data.get("tags"):
        out["tags"] = ", ".join(customer.tags + [data["tags"]])  # the rules split text
    custom = {key: value for key, value in (data.get("custom") or {}).items() if value != ""}
    if custom:
        out["custom"] = custom
    return out
