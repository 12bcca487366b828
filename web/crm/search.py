"""Finding customers: one box (name, any piece of any phone number, card number, tag) and filters.

What the box holds is read several ways, each answered by one index: a name fragment by the
trigram index on ``name_search`` (web.crm.rules.search_text), a number fragment by the trigram
index on the phones' ``digits`` and a whole number by ``e164`` (joined with UNION into one
``IN``, a semi-join of index scans), a card or tag by equality. On SQLite the same LIKE queries
are correct, scanned.
Totals are counted up to ``COUNT_CAP`` ("1000+" past it): an exact count of a common surname
over a million rows would cost more than the page it heads.
"""

import dataclasses
import datetime
import re
import typing

import sqlalchemy as sa

from web.crm.errors import CrmError
from web.crm.models import Customer, CustomerPhone, CustomerTag, CustomValue
from web.crm.phones import fragment_digits, looks_like_phone, try_parse
from web.sql import escape_like

COUNT_CAP = 1000
BROAD = 2000  # phones holding a number fragment past which it is tested customer by customer
SORTS = {
    "-created_at": (Customer.created_at.desc(), Customer.id.desc()),
    "created_at": (Customer.created_at.asc(), Customer.id.asc()),
    "-updated_at": (Customer.updated_at.desc(), Customer.id.desc()),
    "name": (Customer.name.asc(), Customer.id.asc()),
    "-name": (Customer.name.desc(), Customer.id.desc()),
}
SORT_KEYS = {"-created_at": ("created_at", True), "created_at": ("created_at", False),
             "-updated_at": ("updated_at", True), "name": ("name", False),
             "-name": ("name", True)}  # SORTS, for the pages search() sorts itself
DELETED = ("no", "only", "all")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_RANGE = ".."


@dataclasses.dataclass
class CustomFilter:
    """One custom field's filter: a value it equals, or a range of numbers or dates."""

    definition: typing.Any
    equals: typing.Any = None
    low: typing.Any = None
    high: typing.Any = None


@dataclasses.dataclass
class CustomerQuery:
    """What to find, in which order, which page."""

    text: str = ""
    source: typing.Optional[str] = None
    owner_id: typing.Optional[int] = None
    level: typing.Optional[str] = None
    tag: typing.Optional[str] = None
    created_from: typing.Optional[datetime.datetime] = None  # inclusive
    created_to: typing.Optional[datetime.datetime] = None  # exclusive
    custom: list = dataclasses.field(default_factory=list)
    deleted: str = "no"
    sort: str = "-created_at"
    limit: int = 20
    offset: int = 0


@dataclasses.dataclass
class SearchPage:
    """One page of customers and how many matched (``exact`` False: at least ``total``)."""

    rows: list
    total: int
    exact: bool


def custom_filter(definition, text, field):
    """A CustomFilter from ``text``: ``value``, or ``low..high`` for a number or date field."""
    text = str(text).strip()
    if definition.kind in ("number", "date") and _RANGE in text:
        low, _, high = text.partition(_RANGE)
        return CustomFilter(definition, low=_typed(definition, low, field),
                            high=_typed(definition, high, field))
    return CustomFilter(definition, equals=_typed(definition, text, field))


def _typed(definition, text, field):
    text = text.strip()
    if not text:
        return None
    if definition.kind == "number":
        try:
            return float(text)
        except ValueError:
            raise CrmError(f"{field}: {text!r} is not a number", field=field) from None
    if definition.kind == "date":
        try:
            return datetime.date.fromisoformat(text)
        except ValueError:
            raise CrmError(f"{field}: {text!r} is not a date (YYYY-MM-DD)",
                           field=field) from None
    if definition.kind in ("choice", "multi_choice") and text not in definition.choices:
        raise CrmError(f"{field}: {text!r} is not one of {', '.join(definition.choices)}",
                       field=field)
    return text


class CustomerSearch:
    """Runs CustomerQuery on one session; ``region`` reads phone numbers typed in the box."""

    def __init__(self, session, region):
        self.session = session
        self.region = region
        self.fuzzy = session.get_bind().dialect.name == "postgresql"
        self._broad = False  # set by a search whose number fragment matched past COUNT_CAP
        self._few = None  # the ids of every match, when the box found them by number or card

    def search(self, query):
        """The page of customers matching ``query``: a SearchPage."""
        if query.sort not in SORTS:
            raise CrmError(f"sort: one of {', '.join(SORTS)}", field="sort")
        self._broad, self._few = False, None
        conditions = self._conditions(query)
        if self._few is not None:
            return self._page_of_few(query, conditions)
        rows = self.session.execute(
            sa.select(Customer).where(*conditions).order_by(*SORTS[query.sort])
            .limit(query.limit).offset(query.offset)).scalars().all()
        if self._broad and len(conditions) == 2:
            # the box alone, and its probe already found more customers than are counted
            return SearchPage(rows, COUNT_CAP, False)
        capped = sa.select(Customer.id).where(*conditions).limit(COUNT_CAP + 1).subquery()
        total = self.session.execute(sa.select(sa.func.count()).select_from(capped)).scalar_one()
        return SearchPage(rows, min(total, COUNT_CAP), total <= COUNT_CAP)

    def matching_ids(self, query):
        """The ids of every customer matching ``query``, in its order, not capped: what an
        export walks (a batch of customers read by id at a time, no OFFSET that grows)."""
        if query.sort not in SORTS:
            raise CrmError(f"sort: one of {', '.join(SORTS)}", field="sort")
        self._broad, self._few = False, None
        conditions = self._conditions(query)
        return self.session.execute(sa.select(Customer.id).where(*conditions)
                                    .order_by(*SORTS[query.sort])).scalars().all()

    def customers(self, ids):
        """The customers with these ids, in the order given (each once, those still there)."""
        found = {row.id: row for row in self.session.execute(
            sa.select(Customer).where(Customer.id.in_(list(ids)))).scalars()}
        return [found[i] for i in ids if i in found]

    def _page_of_few(self, query, conditions):
        """The page when the box matched customers known by id (fewer than BROAD): their sort
        keys are read by primary key and sorted here, so no plan walks an index of a million
        rows looking for them."""
        name, descending = SORT_KEYS[query.sort]
        keyed = self.session.execute(sa.select(Customer.id, getattr(Customer, name))
                                     .where(*conditions)).all()
        keyed.sort(key=lambda row: (row[1], row[0]), reverse=descending)
        page_ids = [row[0] for row in keyed[query.offset:query.offset + query.limit]]
        total = len(keyed)
        return SearchPage(self.customers(page_ids), min(total, COUNT_CAP), total <= COUNT_CAP)

    def _conditions(self, query):
        conditions = [{"no": Customer.deleted_at.is_(None),
                       "only": Customer.deleted_at.is_not(None),
                       "all": sa.true()}[query.deleted]]
        text = " ".join((query.text or "").split())
        if text:
            conditions.append(self._text_condition(text))
        for name in ("source", "owner_id", "level"):
            value = getattr(query, name)
            if value not in (None, ""):
                conditions.append(getattr(Customer, name) == value)
        if query.tag:
            conditions.append(Customer.id.in_(
                sa.select(CustomerTag.customer_id).where(CustomerTag.tag == query.tag)))
        if query.created_from is not None:
            conditions.append(Customer.created_at >= query.created_from)
        if query.created_to is not None:
            conditions.append(Customer.created_at < query.created_to)
        conditions.extend(self._custom(item) for item in query.custom)
        return conditions

    def _text_condition(self, text):
        """One OR of what the box may mean; each part answered by one index.

        The name is a condition on the customer row itself, so PostgreSQL may either read the
        trigram index (a rare name) or walk ``created_at`` backwards until a page is full (a
        common surname); the card and the tag are looked up first and only join the OR when
        they exist, which keeps that choice open.
        """
        parts, ids = [], set(self.session.execute(sa.select(Customer.id).where(
            Customer.card_number == text.upper())).scalars())
        if self.session.execute(sa.select(CustomerTag.tag).where(CustomerTag.tag == text)
                                .limit(1)).first() is not None:
            parts.append(Customer.id.in_(
                sa.select(CustomerTag.customer_id).where(CustomerTag.tag == text)))
        if looks_like_phone(text):
            # digits and separators only: no name is written so, and a LIKE on names OR-ed
            # with the phones would cost a scan of every customer
            parts.extend(self._phone_conditions(text, ids))
        else:
            parts.extend(self._name_conditions(text, ids))
        if not parts:
            self._few = ids  # every match is known by id: search() sorts them itself
        if ids:  # the ids themselves: the planner's guess of how many a LIKE finds is poor
            parts.append(Customer.id.in_(sorted(ids)))
        return sa.or_(*parts) if parts else sa.false()

    def _phone_conditions(self, text, ids):
        """A whole number by ``e164``; a fragment inside ``digits``, read one of two ways.

        A fragment few numbers hold ("0013800") is best found by the trigram index: the probe
        reads the customers' ids (up to BROAD phones) and the page is those ids, sorted. One
        that tens of thousands hold ("1380") would make that sort fetch every one of them;
        past BROAD phones the fragment becomes a test on each customer, made while the
        customers are walked in the page's order until the page is full. A scalar subquery, because
        PostgreSQL would turn an EXISTS back into the join it is meant to avoid. The ids found
        are added to ``ids``; the conditions returned are the rest.
        """
        conditions = []
        parsed = try_parse(text, self.region)
        if parsed is not None:
            ids.update(self.session.execute(sa.select(CustomerPhone.customer_id).where(
                CustomerPhone.e164 == parsed.e164)).scalars())
        digits = fragment_digits(text, self.region)
        if len(digits) >= 3:
            holds = CustomerPhone.digits.like(f"%{digits}%")
            rows = self.session.execute(sa.select(CustomerPhone.customer_id).where(
                holds).limit(BROAD)).scalars().all()
            if len(rows) < BROAD:  # every phone holding it was read
                ids.update(rows)
            else:
                self._broad = parsed is None and len(set(rows)) > COUNT_CAP
                conditions.append(sa.select(sa.func.count()).where(
                    CustomerPhone.customer_id == Customer.id, holds).scalar_subquery() > 0)
        return conditions

    def _name_conditions(self, text, ids):
        """Conditions for a name; the ids of a rare one's customers go to ``ids``."""
        text = text.lower()
        if _CJK.search(text):
            text = text.replace(" ", "")  # 王 秀英 is 王秀英
        pattern = escape_like(text)
        if len(text) < 3:
            # a short fragment is found where a word starts: the surname, the given name
            like = f"% {pattern}%"
        else:
            like = f"%{pattern}%"
        holds = Customer.name_search.like(like, escape="\\")
        conditions = []
        # a rare name is read by id, as a rare number is (the planner's guess of how many a
        # LIKE finds is poor); a common one stays a condition the page's order can walk
        rows = self.session.execute(sa.select(Customer.id).where(holds).limit(
            BROAD)).scalars().all()
        if len(rows) < BROAD:
            ids.update(rows)
        else:
            conditions.append(holds)
        if self.fuzzy and len(text) >= 4 and not _CJK.search(text):
            # a misspelt Latin name: pg_trgm's similarity (the % operator, threshold 0.3)
            conditions.append(Customer.name_search.op("%")(text))
        return conditions

    @staticmethod
    def _custom(item):
        column = {"number": CustomValue.number_value,
                  "date": CustomValue.date_value}.get(item.definition.kind,
                                                      CustomValue.text_value)
        where = [CustomValue.field_id == item.definition.id]
        if item.equals is not None:
            where.append(column == item.equals)
        if item.low is not None:
            where.append(column >= item.low)
        if item.high is not None:
            where.append(column <= item.high)
        return Customer.id.in_(sa.select(CustomValue.customer_id).where(*where))
