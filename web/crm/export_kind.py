"""The ``crm.customers`` export: every customer a search finds (the page's filters and
order, every page, not capped), with the columns a manager works with.

The filters are the search page's names (``q``, ``source``, ``owner_id``, ``level``,
``tag``, ``created_from``, ``created_to``, ``deleted``, ``sort``, ``cf_<key>``) or the API's
``custom`` list (``key=value``). Phones are written in full only when the job's creator held
``crm.phones`` (web.crm.masking).
"""

from werkzeug.datastructures import MultiDict

from web.crm.errors import CrmError
from web.crm.masking import PERMISSION as FULL_PHONES, mask_number
from web.crm.wiring import (api_custom_pairs, customer_search, definitions, page_custom_pairs,
                            parse_query)
from web.exports.kinds import ExportRows, export_kind
from web.timezone import display_timezone

KIND = "crm.customers"
PERMISSION = "crm.export"
FILTERS = ("q", "source", "owner_id", "level", "tag", "created_from", "created_to", "deleted",
           "sort")
BATCH = 1000
COLUMNS = ("id", "name", "phones", "card number", "gender", "birthday", "province", "city",
           "district", "street", "e-mail", "company", "source", "consent to mailings",
           "consent to gifts", "level", "tags", "owner")


def _args(filters):
    args = MultiDict()
    for name, value in filters.items():
        if name == "custom":
            for item in value:
                args.add("custom", item)
        else:
            args.add(name, value)
    return args


def _query(filters, limit):
    args = _args(filters)
    query = parse_query(args, page_custom_pairs(args) + api_custom_pairs(args), limit)
    query.limit, query.offset = limit, 0
    return query


def prepare(parameters, user):
    """The filters to keep (checked by running the query's parser) and whether phones are
    written in full; CrmError names a filter it does not take."""
    filters = {}
    for name, value in parameters.items():
        if name == "custom":
            items = value if isinstance(value, list) else [value]
            filters["custom"] = [str(item) for item in items if str(item).strip()]
        elif name in FILTERS or name.startswith("cf_"):
            if value not in (None, ""):
                filters[name] = str(value)
        elif name not in ("limit", "offset", "csrf_token"):
            raise CrmError(f"{name}: not a filter of the customer search", field=name)
    _query(filters, 1)
    return filters, {"full_phones": user.can(FULL_PHONES)}


def _cell(value):
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _time(value):
    return "" if value is None else value.astimezone(display_timezone()).strftime(
        "%Y-%m-%d %H:%M:%S")


def _row(customer, keys, full_phones):
    phones = [phone.digits if full_phones else mask_number(phone.digits)
              for phone in customer.phones]
    custom = customer.custom or {}
    return [customer.id, customer.name, "; ".join(phones), customer.card_number or "",
            customer.gender, customer.birthday, customer.province, customer.city,
            customer.district, customer.street, customer.email, customer.company,
            customer.source, customer.consent_mail, customer.consent_gifts, customer.level,
            ", ".join(customer.tags), customer.owner.username if customer.owner else "",
            *[_cell(custom.get(key)) for key in keys],
            _time(customer.created_at), _time(customer.updated_at)]


@export_kind(KIND, PERMISSION, prepare)
def customers(session, context):
    """The customers of the search ``context.parameters``, a batch of BATCH at a time."""
    fields = [(row.key, row.label) for row in definitions().active()]
    keys = [key for key, _ in fields]
    full = bool(context.options.get("full_phones"))
    search = customer_search()
    ids = search.matching_ids(_query(context.parameters, BATCH))
    header = [*COLUMNS, *[label for _, label in fields], "created", "updated"]

    def rows():
        for start in range(0, len(ids), BATCH):
            # plain values first: the runner's progress commits expire the ORM rows
            batch = [_row(customer, keys, full)
                     for customer in search.customers(ids[start:start + BATCH])]
            yield from batch

    return ExportRows(header, rows(), len(ids))
