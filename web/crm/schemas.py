"""The CRM API's shapes as marshmallow schemas (web.api.openapi checks requests against them).

They check names and types; web.crm.rules keeps the value rules (a valid phone, a known
source, a custom field's choices) so each rule lives in one place.
"""

from marshmallow import Schema, fields, validate

from web.api.schemas import ErrorSchema, PagingQuerySchema
from web.crm.fields import KINDS
from web.crm.search import DELETED, SORTS

WHEN = "ISO 8601 date-time (UTC)"


def _text(description, **kwargs):
    return fields.String(metadata={"description": description}, **kwargs)


class FieldProblemSchema(Schema):
    """One problem of a customer's data."""

    field = fields.String(required=True, allow_none=True)
    error = fields.String(required=True)


class CustomerErrorSchema(ErrorSchema):
    """A refused customer: the first problem, and every problem in ``errors``."""

    errors = fields.List(fields.Nested(FieldProblemSchema), metadata={
        "description": "every field at fault (an import reports them per row)"})


class _CustomerFieldsSchema(Schema):
    name = _text("the customer's name (Chinese or Latin)")
    gender = _text("male, female, other or empty (男 and 女 are read too)")
    birthday = fields.String(allow_none=True, metadata={"description": "YYYY-MM-DD"})
    province = _text("address: province")
    city = _text("address: city")
    district = _text("address: district")
    street = _text("address: street and number")
    email = _text("e-mail address")
    company = _text("company")
    card_number = fields.String(allow_none=True, metadata={
        "description": "card or membership number, unique when given"})
    source = _text("source channel: one of the configured sources (newspaper, tv, radio, "
                   "web, 114, referral, outdoor, event, other by default)")
    consent_mail = fields.Boolean(metadata={"description": "agreed to receive mailings"})
    consent_gifts = fields.Boolean(metadata={"description": "agreed to receive gifts"})
    level = _text("customer level: one of the configured levels")
    owner_id = fields.Integer(allow_none=True, metadata={"description": "the owner agent's "
                                                                       "user id"})
    phones = fields.List(fields.Raw(), metadata={
        "description": "every number: text in any common format, or {number, label}; the "
                       "whole list (numbers left out are removed)"})
    tags = fields.List(fields.String(), metadata={"description": "the whole list of tags"})
    custom = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), metadata={
        "description": "custom field key: value (text, number, YYYY-MM-DD, a choice, or a "
                       "list of choices)"})


class CustomerCreateSchema(_CustomerFieldsSchema):
    """A new customer: a name, and any other field."""

    name = _text("the customer's name (Chinese or Latin)", required=True)


class CustomerEditSchema(_CustomerFieldsSchema):
    """Fields to change; those left out keep their values."""


class PhoneSchema(Schema):
    """One number of a customer."""

    id = fields.Integer(required=True)
    e164 = _text("the number in E.164", required=True)
    digits = _text("the number as dialled at home (trunk 0 of landlines kept)", required=True)
    kind = _text("mobile, landline or other", required=True)
    label = _text("a label (home, office...)", required=True)
    masked = fields.Boolean(metadata={
        "description": "true: e164 and digits are masked (138****8000), as for a user "
                       "without crm.phones who is not in a call with the customer"})


class CustomerSchema(Schema):
    """A customer record."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    gender = fields.String(required=True)
    birthday = fields.String(required=True, allow_none=True)
    province = fields.String(required=True)
    city = fields.String(required=True)
    district = fields.String(required=True)
    street = fields.String(required=True)
    email = fields.String(required=True)
    company = fields.String(required=True)
    card_number = fields.String(required=True, allow_none=True)
    source = fields.String(required=True)
    consent_mail = fields.Boolean(required=True)
    consent_gifts = fields.Boolean(required=True)
    level = fields.String(required=True)
    owner_id = fields.Integer(required=True, allow_none=True)
    owner = fields.String(required=True, allow_none=True, metadata={"description": "user name"})
    tags = fields.List(fields.String(), required=True)
    custom = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True)
    phones = fields.List(fields.Nested(PhoneSchema), required=True)
    created_at = fields.String(required=True, metadata={"description": WHEN})
    created_by = fields.String(required=True, allow_none=True)
    updated_at = fields.String(required=True, metadata={"description": WHEN})
    deleted_at = fields.String(required=True, allow_none=True, metadata={
        "description": "when it went to the bin (null: live)"})
    merged_into_id = fields.Integer(required=True, allow_none=True, metadata={
        "description": "the customer it was merged into"})


class CustomerQuerySchema(PagingQuerySchema):
    """The search: one box and filters."""

    q = _text("name (fragments, Chinese too), any piece of any phone number in any format, "
              "card number or tag")
    source = _text("source channel")
    owner_id = fields.Integer(metadata={"description": "owner's user id"})
    level = _text("level")
    tag = _text("has this tag")
    created_from = _text("created at or after: ISO 8601 date or date-time")
    created_to = _text("created before (a bare date includes the whole day)")
    custom = _text("key=value, or key=low..high for a number or date field; repeat it for "
                   "several fields")
    deleted = fields.String(validate=validate.OneOf(DELETED), metadata={
        "description": "no (default), only (the bin) or all"})
    sort = fields.String(validate=validate.OneOf(tuple(SORTS)), metadata={
        "description": "order (default -created_at, newest first)"})


class CustomerPageSchema(Schema):
    """One page of customers."""

    customers = fields.List(fields.Nested(CustomerSchema), required=True)
    total = fields.Integer(required=True, metadata={"description": "how many match (capped)"})
    total_exact = fields.Boolean(required=True, metadata={
        "description": "false: at least total match"})
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)


class PhoneCreateSchema(Schema):
    """A number to add."""

    number = _text("in any common format", required=True)
    label = _text("home, office...")


class PhoneListSchema(Schema):
    """A customer's numbers."""

    phones = fields.List(fields.Nested(PhoneSchema), required=True)


class NoteCreateSchema(Schema):
    """A note to write."""

    text = _text("the note", required=True)


class NoteSchema(Schema):
    """A note on a customer."""

    id = fields.Integer(required=True)
    customer_id = fields.Integer(required=True)
    at = fields.String(required=True, metadata={"description": WHEN})
    author = fields.String(required=True, allow_none=True)
    text = fields.String(required=True)


class NoteListSchema(Schema):
    """A customer's notes, newest first."""

    notes = fields.List(fields.Nested(NoteSchema), required=True)


class TimelineItemSchema(Schema):
    """A contact or change of the customer's timeline."""

    at = fields.String(required=True, metadata={"description": WHEN})
    kind = fields.String(required=True, metadata={"description": "call, callback, note, "
                                                                 "change"})
    title = fields.String(required=True)
    detail = fields.Dict(required=True, metadata={"description": "depends on kind"})


class TimelineSchema(Schema):
    """A customer's contact history, newest first."""

    customer_id = fields.Integer(required=True)
    items = fields.List(fields.Nested(TimelineItemSchema), required=True)


class LookupQuerySchema(Schema):
    """The caller's number."""

    number = _text("in any common format", required=True)


class LookupSchema(Schema):
    """The screen pop: the caller's customer and last contacts."""

    number = fields.String(required=True, metadata={"description": "E.164"})
    customer = fields.Nested(CustomerSchema, required=True)
    contacts = fields.List(fields.Nested(TimelineItemSchema), required=True)
    other_customer_ids = fields.List(fields.Integer(), required=True, metadata={
        "description": "other customers with this number"})


class MergeSchema(Schema):
    """Which duplicate to merge in, and whose value to keep field by field."""

    source_id = fields.Integer(required=True, metadata={"description": "the duplicate"})
    choose = fields.Dict(keys=fields.String(), values=fields.String(
        validate=validate.OneOf(("target", "source"))), metadata={
        "description": "field (or custom.key): target (keep) or source (take the "
                       "duplicate's); unnamed fields keep the kept record's value unless it "
                       "is empty"})


class CustomFieldSchema(Schema):
    """A custom field definition."""

    id = fields.Integer(required=True)
    key = fields.String(required=True)
    label = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": list(KINDS)})
    required = fields.Boolean(required=True)
    choices = fields.List(fields.String(), required=True)
    position = fields.Integer(required=True)
    active = fields.Boolean(required=True)


class CustomFieldCreateSchema(Schema):
    """A new custom field."""

    key = _text("lowercase letters, digits and _", required=True)
    label = _text("what forms show", required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    required = fields.Boolean()
    choices = fields.List(fields.String())
    position = fields.Integer()
    active = fields.Boolean()


class CustomFieldEditSchema(Schema):
    """Changes of a custom field (its key and kind stay)."""

    label = fields.String()
    required = fields.Boolean()
    choices = fields.List(fields.String())
    position = fields.Integer()
    active = fields.Boolean()


class CustomFieldListSchema(Schema):
    """Every custom field."""

    fields_ = fields.List(fields.Nested(CustomFieldSchema), required=True, data_key="fields")
