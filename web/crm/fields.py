"""Custom fields: their definitions, and the checking of the values a customer gives them.

A value is checked the same way from a form (text typed in a box), the JSON API (typed JSON)
and an importer (a spreadsheet cell), so ``check_value`` takes either and returns the stored
JSON form: text, a number, an ISO date, a choice, or a list of choices.
"""

import datetime
import re

import sqlalchemy as sa

from web.crm.errors import Conflict, CrmError, NotFound
from web.crm.models import CustomField

KINDS = ("text", "number", "date", "choice", "multi_choice")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
TEXT_MAX = 255
_SPLIT = re.compile(r"[,，;；\n]")  # a multi-choice typed in one cell (Chinese commas too)


class InvalidValue(CrmError):
    """A custom field's value does not fit its definition."""


def check_value(definition, raw):
    """The stored form of ``raw`` for ``definition``; None when empty and allowed.

    InvalidValue names ``custom.<key>``: required and empty, not a number or date, not one of
    the choices.
    """
    field = f"custom.{definition.key}"
    if _empty(raw):
        if definition.required:
            raise InvalidValue(f"{field}: {definition.label} is required", field=field)
        return None
    checker = _CHECKERS[definition.kind]
    return checker(definition, raw, field)


def _empty(raw):
    return raw is None or (isinstance(raw, str) and not raw.strip()) or raw == []


def _text(definition, raw, field):
    text = str(raw).strip()
    if len(text) > TEXT_MAX:
        raise InvalidValue(f"{field}: at most {TEXT_MAX} characters", field=field)
    return text


def _number(definition, raw, field):
    if isinstance(raw, bool):
        raise InvalidValue(f"{field}: a number is needed", field=field)
    if isinstance(raw, (int, float)):
        return raw
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise InvalidValue(f"{field}: {raw!r} is not a number", field=field) from None
    return int(value) if value.is_integer() else value


def _date(definition, raw, field):
    try:
        return datetime.date.fromisoformat(str(raw).strip()[:10]).isoformat()
    except ValueError:
        raise InvalidValue(f"{field}: {raw!r} is not a date (YYYY-MM-DD)", field=field) from None


def _choice(definition, raw, field):
    text = str(raw).strip()
    if text not in definition.choices:
        raise InvalidValue(f"{field}: {text!r} is not one of "
                           f"{', '.join(definition.choices)}", field=field)
    return text


def _multi(definition, raw, field):
    items = raw if isinstance(raw, list) else _SPLIT.split(str(raw))
    chosen = []
    for item in items:
        text = str(item).strip()
        if text and text not in chosen:
            chosen.append(_choice(definition, text, field))
    if not chosen and definition.required:
        raise InvalidValue(f"{field}: {definition.label} is required", field=field)
    return chosen or None


_CHECKERS = {"text": _text, "number": _number, "date": _date, "choice": _choice,
             "multi_choice": _multi}


def indexed_values(definition, value):
    """The crm_custom_values columns of a stored ``value``: one dict per row."""
    if value is None:
        return []
    if definition.kind == "number":
        return [{"number_value": float(value)}]
    if definition.kind == "date":
        return [{"date_value": datetime.date.fromisoformat(value)}]
    if definition.kind == "multi_choice":
        return [{"text_value": item} for item in value]
    return [{"text_value": str(value)[:TEXT_MAX]}]


def form_text(definition, value):
    """What a form's box shows for a stored value."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(value)
    return str(value)


class FieldDefinitions:
    """Reads and changes the custom field definitions on one session."""

    def __init__(self, session):
        self.session = session

    def active(self):
        """The fields customers have now, in their order."""
        return self.session.execute(
            sa.select(CustomField).where(CustomField.active.is_(True))
            .order_by(CustomField.position, CustomField.id)).scalars().all()

    def all(self):
        """Every field, retired ones too."""
        return self.session.execute(
            sa.select(CustomField).order_by(CustomField.position, CustomField.id)
        ).scalars().all()

    def by_key(self, key):
        """The field called ``key``; NotFound otherwise."""
        row = self.session.execute(
            sa.select(CustomField).where(CustomField.key == key)).scalar_one_or_none()
        if row is None:
            raise NotFound(f"custom field {key!r} is not defined", field="key")
        return row

    def define(self, data):
        """Create a field from {key, label, kind, required?, choices?, position?}; commits."""
        key = str(data.get("key") or "").strip()
        if not KEY_RE.match(key):
            raise CrmError("key: lowercase letters, digits and _, starting with a letter",
                           field="key")
        if self.session.execute(sa.select(CustomField.id).where(CustomField.key == key)).first():
            raise Conflict(f"key: a custom field {key!r} exists already", field="key")
        row = CustomField(key=key)
        self._apply(row, data)
        self.session.add(row)
        self.session.commit()
        return row

    def update(self, key, data):
        """Change a field's label, required flag, choices, position or active flag; commits."""
        row = self.by_key(key)
        if "kind" in data and data["kind"] != row.kind:
            raise CrmError("kind: a field's kind cannot change (define a new field)",
                           field="kind")
        self._apply(row, {"kind": row.kind, **{k: getattr(row, k) for k in (
            "label", "required", "choices", "position", "active")}, **data})
        self.session.commit()
        return row

    @staticmethod
    def _apply(row, data):
        label = str(data.get("label") or "").strip()
        if not label or len(label) > 128:
            raise CrmError("label: a label of 1 to 128 characters is required", field="label")
        kind = data.get("kind")
        if kind not in KINDS:
            raise CrmError(f"kind: one of {', '.join(KINDS)}", field="kind")
        choices = data.get("choices") or []
        if isinstance(choices, str):
            choices = _SPLIT.split(choices)
        choices = [str(choice).strip() for choice in choices if str(choice).strip()]
        if kind in ("choice", "multi_choice") and not choices:
            raise CrmError("choices: a choice field needs at least one choice",
                           field="choices")
        if len(set(choices)) != len(choices):
            raise CrmError("choices: each choice once", field="choices")
        row.label, row.kind, row.choices = label, kind, choices
        row.required = bool(data.get("required"))
        try:
            row.position = int(data.get("position") or 0)
        except (TypeError, ValueError):
            raise CrmError("position: a whole number", field="position") from None
        row.active = bool(data.get("active", True))
