"""The rules of a customer's data: every problem found at once, each with its field.

``CustomerRules.check(data, existing)`` reads what a form, the JSON API or an importer's row
gives and returns (clean values, errors); nothing is written. Collecting every error (not the
first) is what lets an import report a row's problems together.
"""

import dataclasses
import datetime
import re
import typing

import sqlalchemy as sa

from web.auth.models import User
from web.crm import fields as custom_fields
from web.crm.models import GENDERS, Customer
from web.crm.phones import InvalidPhone, parse_phone

DEFAULT_SOURCES = ("newspaper", "tv", "radio", "web", "114", "referral", "outdoor", "event",
                   "other")  # the seed documents' 客户来源 (consultation form's channel)
DEFAULT_LEVELS = ("normal", "silver", "gold", "vip")
TEXTS = {"province": 64, "city": 64, "district": 64, "street": 255, "company": 255}
FLAGS = ("consent_mail", "consent_gifts")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TAG_SPLIT = re.compile(r"[,，;；\n]")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
TAG_MAX = 64


@dataclasses.dataclass
class Clean:
    """Checked values: plain columns, and the phones, tags and custom values when given."""

    columns: dict
    phones: typing.Optional[list] = None  # [(ParsedPhone, label)]
    tags: typing.Optional[list] = None
    custom: typing.Optional[dict] = None


def search_text(name):
    """``name`` as ``crm_customers.name_search``: lowercased, then each pair of CJK letters
    and the last letter alone (" 王秀英 王秀 秀英 英 ").

    PostgreSQL's trigram index cannot find a fragment of one or two letters inside a word
    ("秀英" in "王秀英"); at the start of a word of its own (" 秀英 ") it can. Latin names need
    no pairs: three letters are found inside a word, fewer at the start of one.
    """
    text = " ".join((name or "").lower().split())
    words = [text]
    packed = text.replace(" ", "")
    if _CJK.search(packed):
        # every letter now starts a word (the last one alone), so one letter is found too
        pieces = [packed[i:i + 2] for i in range(len(packed) - 1)] + [packed[-1:]]
        words.extend(piece for piece in dict.fromkeys(pieces) if piece != text)
    return " " + " ".join(words) + " "


def _flag(value):
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "y", "是")
    return bool(value)


class CustomerRules:
    """Checks customer data against the settings (region, sources, levels) and the database."""

    def __init__(self, session, region, sources=DEFAULT_SOURCES, levels=DEFAULT_LEVELS):
        self.session = session
        self.region = region
        self.sources = tuple(sources)
        self.levels = tuple(levels)

    def check(self, data, existing=None):
        """(Clean, errors) of ``data``; ``existing`` (a Customer) when editing: fields left out
        keep their value."""
        errors = []
        clean = Clean(columns={})
        for name, value in data.items():
            checker = getattr(self, f"_check_{name}", None)
            if name in TEXTS:
                clean.columns[name] = self._text(name, value, TEXTS[name], errors)
            elif name in FLAGS:
                clean.columns[name] = _flag(value)
            elif checker is not None:
                checker(value, clean, errors, existing)
            else:
                errors.append((name, f"{name}: unknown field"))
        if existing is None and "name" not in data:
            errors.append(("name", "name: a name is required"))
        if existing is None or data.get("custom") is not None:
            self._check_custom_all(data.get("custom") or {}, clean, errors, existing)
        return clean, errors

    @staticmethod
    def _text(name, value, limit, errors):
        text = "" if value is None else str(value).strip()
        if len(text) > limit:
            errors.append((name, f"{name}: at most {limit} characters"))
        return text

    def _check_name(self, value, clean, errors, existing):
        name = " ".join(str(value or "").split())
        if not name:
            errors.append(("name", "name: a name is required"))
        elif len(name) > 128:
            errors.append(("name", "name: at most 128 characters"))
        clean.columns["name"] = name
        clean.columns["name_search"] = search_text(name)

    def _check_gender(self, value, clean, errors, existing):
        gender = str(value or "").strip().lower()
        gender = {"男": "male", "女": "female", "m": "male", "f": "female"}.get(gender, gender)
        if gender not in GENDERS:
            errors.append(("gender", f"gender: one of {', '.join(g for g in GENDERS if g)}"))
        clean.columns["gender"] = gender

    def _check_birthday(self, value, clean, errors, existing):
        if value in (None, ""):
            clean.columns["birthday"] = None
            return
        try:
            day = (value if isinstance(value, datetime.date)
                   else datetime.date.fromisoformat(str(value).strip()))
        except ValueError:
            errors.append(("birthday", f"birthday: {value!r} is not a date (YYYY-MM-DD)"))
            return
        if day > datetime.date.today():
            errors.append(("birthday", "birthday: the date is in the future"))
        clean.columns["birthday"] = day

    def _check_email(self, value, clean, errors, existing):
        email = str(value or "").strip()
        if email and (len(email) > 255 or not _EMAIL.match(email)):
            errors.append(("email", f"email: {email!r} is not an e-mail address"))
        clean.columns["email"] = email

    def _check_card_number(self, value, clean, errors, existing):
        card = str(value or "").strip().upper() or None
        if card is not None:
            if len(card) > 64:
                errors.append(("card_number", "card_number: at most 64 characters"))
            holder = self.session.execute(sa.select(Customer.id).where(
                Customer.card_number == card)).scalar_one_or_none()
            if holder is not None and (existing is None or holder != existing.id):
                errors.append(("card_number", f"card_number: {card} is customer {holder}'s"))
        clean.columns["card_number"] = card

    def _choice(self, name, value, allowed, clean, errors):
        text = str(value or "").strip()
        if text and text not in allowed:
            errors.append((name, f"{name}: {text!r} is not one of {', '.join(allowed)}"))
        clean.columns[name] = text

    def _check_source(self, value, clean, errors, existing):
        self._choice("source", str(value or "").strip().lower(), self.sources, clean, errors)

    def _check_level(self, value, clean, errors, existing):
        self._choice("level", value, self.levels, clean, errors)

    def _check_owner_id(self, value, clean, errors, existing):
        if value in (None, ""):
            clean.columns["owner_id"] = None
            return
        try:
            owner_id = int(value)
        except (TypeError, ValueError):
            errors.append(("owner_id", "owner_id: a user id is needed"))
            return
        if self.session.get(User, owner_id) is None:
            errors.append(("owner_id", f"owner_id: no user {owner_id}"))
        clean.columns["owner_id"] = owner_id

    def _check_owner(self, value, clean, errors, existing):
        """An owner given by user name (an import's column)."""
        name = str(value or "").strip()
        user = None
        if name:
            user = self.session.execute(
                sa.select(User).where(User.username == name)).scalar_one_or_none()
        if name and user is None:
            errors.append(("owner", f"owner: no user {name!r}"))
        clean.columns["owner_id"] = user.id if user is not None else None

    def _check_phones(self, value, clean, errors, existing):
        items = value if isinstance(value, list) else [value]
        phones, seen = [], set()
        for index, item in enumerate(items):
            raw, label = (item.get("number"), item.get("label", "")) if isinstance(item, dict) \
                else (item, "")
            if raw in (None, ""):
                continue
            try:
                parsed = parse_phone(str(raw), self.region, field=f"phones.{index}")
            except InvalidPhone as exc:
                errors.append((exc.field, exc.message))
                continue
            if parsed.e164 not in seen:
                seen.add(parsed.e164)
                phones.append((parsed, str(label or "").strip()[:32]))
        clean.phones = phones

    def _check_tags(self, value, clean, errors, existing):
        items = value if isinstance(value, list) else _TAG_SPLIT.split(str(value or ""))
        tags = []
        for item in items:
            tag = str(item).strip()
            if len(tag) > TAG_MAX:
                errors.append(("tags", f"tags: {tag[:20]}... is longer than {TAG_MAX}"))
            elif tag and tag not in tags:
                tags.append(tag)
        clean.tags = tags

    def _check_custom(self, value, clean, errors, existing):
        if value is not None and not isinstance(value, dict):
            errors.append(("custom", "custom: an object of field key: value"))

    def _check_custom_all(self, given, clean, errors, existing):
        if not isinstance(given, dict):
            return
        definitions = {row.key: row for row in custom_fields.FieldDefinitions(
            self.session).active()}
        for key in given:
            if key not in definitions:
                errors.append((f"custom.{key}", f"custom.{key}: no such custom field"))
        values = dict(existing.custom or {}) if existing is not None else {}
        values.update(given)
        checked = {}
        for key, definition in definitions.items():
            try:
                value = custom_fields.check_value(definition, values.get(key))
            except custom_fields.InvalidValue as exc:
                errors.append((exc.field, exc.message))
                continue
            if value is not None:
                checked[key] = value
        clean.custom = checked
