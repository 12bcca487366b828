"""The CRM's tables: customers, their phones, tags, custom fields, notes and change history.

Custom field values live twice, on purpose: ``crm_customers.custom`` (JSON) is what a record
shows and an export writes, read with the row; ``crm_custom_values`` holds one typed row per
value (one per chosen option of a multi-choice) with indexes on (field, value), so a filter is
the same indexed query on SQLite and PostgreSQL instead of each dialect's JSON operators and an
expression index per field created at run time. web.crm.services writes both in one transaction.
"""

import sqlalchemy as sa

from web.auth.models import User
from web.extensions import db
from web.types import UTCDateTime, iso, utcnow

GENDERS = ("", "male", "female", "other")
# the fields a merge chooses one by one, and the form edits (custom fields and tags apart)
CUSTOMER_FIELDS = ("name", "gender", "birthday", "province", "city", "district", "street",
                   "email", "company", "card_number", "source", "consent_mail",
                   "consent_gifts", "level", "owner_id")


class Customer(db.Model):
    """A customer: who they are, how they came, what they agreed to, who looks after them."""

    __tablename__ = "crm_customers"
    __table_args__ = (
        # trigram GIN on PostgreSQL (the migration creates pg_trgm); a plain index on SQLite
        sa.Index("ix_crm_customers_name_search", "name_search", postgresql_using="gin",
                 postgresql_ops={"name_search": "gin_trgm_ops"}),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(128), nullable=False, default="")
    # the name lowercased plus each pair of its letters as words: " 王秀英 王秀 秀英 ", so a
    # two-character fragment is a whole word that PostgreSQL's trigram index finds
    name_search = sa.Column(sa.String(600), nullable=False, default="")
    gender = sa.Column(sa.String(8), nullable=False, default="")
    birthday = sa.Column(sa.Date, nullable=True)
    province = sa.Column(sa.String(64), nullable=False, default="")
    city = sa.Column(sa.String(64), nullable=False, default="")
    district = sa.Column(sa.String(64), nullable=False, default="")
    street = sa.Column(sa.String(255), nullable=False, default="")
    email = sa.Column(sa.String(255), nullable=False, default="")
    company = sa.Column(sa.String(255), nullable=False, default="")
    card_number = sa.Column(sa.String(64), nullable=True, unique=True)  # NULL when none
    source = sa.Column(sa.String(32), nullable=False, default="", index=True)
    consent_mail = sa.Column(sa.Boolean, nullable=False, default=False)
    consent_gifts = sa.Column(sa.Boolean, nullable=False, default=False)
    level = sa.Column(sa.String(32), nullable=False, default="", index=True)
    owner_id = sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
                         nullable=True, index=True)
    custom = sa.Column(sa.JSON, nullable=False, default=dict)  # {field key: value}
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow, index=True)
    created_by = sa.Column(sa.String(64), nullable=True)
    updated_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)
    deleted_at = sa.Column(UTCDateTime(), nullable=True)
    deleted_by = sa.Column(sa.String(64), nullable=True)
    merged_into_id = sa.Column(sa.Integer, sa.ForeignKey("crm_customers.id"), nullable=True)

    owner = db.relationship(User, lazy="joined")
    phones = db.relationship("CustomerPhone", order_by="CustomerPhone.position",
                             cascade="all, delete-orphan", lazy="selectin",
                             back_populates="customer")
    tag_rows = db.relationship("CustomerTag", cascade="all, delete-orphan", lazy="selectin",
                               order_by="CustomerTag.tag")

    @property
    def tags(self):
        """The tags, sorted."""
        return [row.tag for row in self.tag_rows]

    @property
    def deleted(self):
        """Whether the record is in the bin (soft deleted, or merged into another)."""
        return self.deleted_at is not None

    def to_dict(self):
        """The JSON shape of /api/crm/customers."""
        return {"id": self.id, "name": self.name, "gender": self.gender,
                "birthday": iso(self.birthday), "province": self.province, "city": self.city,
                "district": self.district, "street": self.street, "email": self.email,
                "company": self.company, "card_number": self.card_number,
                "source": self.source, "consent_mail": self.consent_mail,
                "consent_gifts": self.consent_gifts, "level": self.level,
                "owner_id": self.owner_id,
                "owner": self.owner.username if self.owner is not None else None,
                "tags": self.tags, "custom": dict(self.custom or {}),
                "phones": [phone.to_dict() for phone in self.phones],
                "created_at": iso(self.created_at), "created_by": self.created_by,
                "updated_at": iso(self.updated_at), "deleted_at": iso(self.deleted_at),
                "merged_into_id": self.merged_into_id}

    def __repr__(self):
        return f"<Customer {self.id} {self.name}>"


class CustomerPhone(db.Model):
    """One number of a customer, in E.164 and as dialled at home (web.crm.phones)."""

    __tablename__ = "crm_phones"
    __table_args__ = (
        sa.UniqueConstraint("customer_id", "e164", name="uq_crm_phones_customer_id_e164"),
        # any fragment of a number: trigram GIN on PostgreSQL, a plain index on SQLite
        sa.Index("ix_crm_phones_digits", "digits", postgresql_using="gin",
                 postgresql_ops={"digits": "gin_trgm_ops"}),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    customer_id = sa.Column(sa.Integer, sa.ForeignKey("crm_customers.id", ondelete="CASCADE"),
                            nullable=False, index=True)
    e164 = sa.Column(sa.String(20), nullable=False, index=True)
    digits = sa.Column(sa.String(24), nullable=False)
    kind = sa.Column(sa.String(16), nullable=False, default="other")
    label = sa.Column(sa.String(32), nullable=False, default="")
    position = sa.Column(sa.Integer, nullable=False, default=0)
    customer = db.relationship("Customer", back_populates="phones")

    def to_dict(self):
        """The phone as JSON."""
        return {"id": self.id, "e164": self.e164, "digits": self.digits, "kind": self.kind,
                "label": self.label}


class CustomerTag(db.Model):
    """One tag of a customer."""

    __tablename__ = "crm_customer_tags"
    __table_args__ = (sa.Index("ix_crm_customer_tags_tag", "tag", "customer_id"),)

    customer_id = sa.Column(sa.Integer, sa.ForeignKey("crm_customers.id", ondelete="CASCADE"),
                            primary_key=True)
    tag = sa.Column(sa.String(64), primary_key=True)


class CustomField(db.Model):
    """A field an admin added to every customer (web.crm.fields checks its values)."""

    __tablename__ = "crm_custom_fields"

    id = sa.Column(sa.Integer, primary_key=True)
    key = sa.Column(sa.String(64), nullable=False, unique=True)
    label = sa.Column(sa.String(128), nullable=False)
    kind = sa.Column(sa.String(16), nullable=False)  # web.crm.fields.KINDS
    required = sa.Column(sa.Boolean, nullable=False, default=False)
    choices = sa.Column(sa.JSON, nullable=False, default=list)
    position = sa.Column(sa.Integer, nullable=False, default=0)
    active = sa.Column(sa.Boolean, nullable=False, default=True)
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)

    def to_dict(self):
        """The definition as JSON."""
        return {"id": self.id, "key": self.key, "label": self.label, "kind": self.kind,
                "required": self.required, "choices": list(self.choices or []),
                "position": self.position, "active": self.active}


class CustomValue(db.Model):
    """One typed, indexed value of a custom field (one per option of a multi-choice)."""

    __tablename__ = "crm_custom_values"
    __table_args__ = (
        sa.Index("ix_crm_custom_values_field_text", "field_id", "text_value"),
        sa.Index("ix_crm_custom_values_field_number", "field_id", "number_value"),
        sa.Index("ix_crm_custom_values_field_date", "field_id", "date_value"),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    customer_id = sa.Column(sa.Integer, sa.ForeignKey("crm_customers.id", ondelete="CASCADE"),
                            nullable=False, index=True)
    field_id = sa.Column(sa.Integer, sa.ForeignKey("crm_custom_fields.id", ondelete="CASCADE"),
                         nullable=False)
    text_value = sa.Column(sa.String(255), nullable=True)
    number_value = sa.Column(sa.Float, nullable=True)
    date_value = sa.Column(sa.Date, nullable=True)


class CustomerNote(db.Model):
    """A note an agent wrote on a customer."""

    __tablename__ = "crm_notes"

    id = sa.Column(sa.Integer, primary_key=True)
    customer_id = sa.Column(sa.Integer, sa.ForeignKey("crm_customers.id", ondelete="CASCADE"),
                            nullable=False, index=True)
    at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
    author = sa.Column(sa.String(64), nullable=True)
    text = sa.Column(sa.Text, nullable=False)

    def to_dict(self):
        """The note as JSON."""
        return {"id": self.id, "customer_id": self.customer_id, "at": iso(self.at),
                "author": self.author, "text": self.text}


class HistoryEntry(db.Model):
    """One change of a customer record: who, when, which field, old and new value."""

    __tablename__ = "crm_history"
    __table_args__ = (sa.Index("ix_crm_history_customer_at", "customer_id", "at"),)

    id = sa.Column(sa.Integer, primary_key=True)
    customer_id = sa.Column(sa.Integer, sa.ForeignKey("crm_customers.id", ondelete="CASCADE"),
                            nullable=False)
    at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
    username = sa.Column(sa.String(64), nullable=True)
    action = sa.Column(sa.String(32), nullable=False)  # created, updated, deleted, merged...
    field = sa.Column(sa.String(64), nullable=True)
    old_value = sa.Column(sa.Text, nullable=True)
    new_value = sa.Column(sa.Text, nullable=True)

    def to_dict(self):
        """The entry as JSON."""
        return {"id": self.id, "customer_id": self.customer_id, "at": iso(self.at),
                "username": self.username, "action": self.action, "field": self.field,
                "old": self.old_value, "new": self.new_value}
