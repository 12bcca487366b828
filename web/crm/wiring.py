"""The CRM's services built on the request's session and the app's settings; the search's
query string read the same way for the pages and the JSON API.

Settings (app config, each with a default): ``CRM_DEFAULT_REGION`` (the region a number
without a country code belongs to, "CN"), ``CRM_SOURCES`` (the source channels),
``CRM_LEVELS`` (the customer levels), ``CRM_PER_PAGE``.
"""

from flask import current_app, g

from web.calls.filters import parse_datetime
from web.crm.errors import CrmError
from web.crm.fields import FieldDefinitions
from web.crm.phones import DEFAULT_REGION
from web.crm.rules import DEFAULT_LEVELS, DEFAULT_SOURCES, CustomerRules
from web.crm.search import DELETED, CustomerQuery, CustomerSearch, custom_filter
from web.crm.services import CustomerService
from web.extensions import db
from web.timezone import display_timezone

VIEW = "crm.view"
EDIT = "crm.edit"
MANAGE = "crm.manage"
MAX_LIMIT = 200


def region():
    """The default region of phone numbers."""
    return current_app.config.get("CRM_DEFAULT_REGION", DEFAULT_REGION)


def sources():
    """The configured source channels."""
    return tuple(current_app.config.get("CRM_SOURCES", DEFAULT_SOURCES))


def levels():
    """The configured customer levels."""
    return tuple(current_app.config.get("CRM_LEVELS", DEFAULT_LEVELS))


def customer_service():
    """A CustomerService on the request's session."""
    return CustomerService(db.session, CustomerRules(db.session, region(), sources(), levels()))


def customer_search():
    """A CustomerSearch on the request's session."""
    return CustomerSearch(db.session, region())


def definitions():
    """The custom field definitions on the request's session."""
    return FieldDefinitions(db.session)


def actor():
    """The user name changes are written under."""
    user = g.get("user")
    return user.username if user is not None else None


def _whole(text, name, low=0):
    try:
        value = int(str(text).strip())
    except ValueError:
        raise CrmError(f"{name}: a whole number is needed", field=name) from None
    if value < low:
        raise CrmError(f"{name}: at least {low}", field=name)
    return value


def parse_query(args, custom_pairs, default_limit):
    """CustomerQuery from a query string ``args``; ``custom_pairs`` are (key, text) filters.

    CrmError names the parameter at fault.
    """
    tz = display_timezone()
    query = CustomerQuery(text=args.get("q", "").strip(), limit=default_limit)
    for name in ("source", "level", "tag"):
        setattr(query, name, args.get(name, "").strip() or None)
    if args.get("owner_id"):
        query.owner_id = _whole(args["owner_id"], "owner_id", 1)
    if args.get("created_from"):
        query.created_from = parse_datetime(args["created_from"], "created_from", tz=tz)
    if args.get("created_to"):
        query.created_to = parse_datetime(args["created_to"], "created_to", end_of_day=True,
                                           tz=tz)
    if args.get("deleted"):
        if args["deleted"] not in DELETED:
            raise CrmError(f"deleted: one of {', '.join(DELETED)}", field="deleted")
        query.deleted = args["deleted"]
    if args.get("sort"):
        query.sort = args["sort"]
    if args.get("limit"):
        query.limit = min(_whole(args["limit"], "limit", 1), MAX_LIMIT)
    if args.get("offset"):
        query.offset = _whole(args["offset"], "offset")
    known = {row.key: row for row in definitions().active()}
    for key, text, field in custom_pairs:
        if not str(text).strip():
            continue
        if key not in known:
            raise CrmError(f"{field}: no custom field {key!r}", field=field)
        query.custom.append(custom_filter(known[key], text, field))
    return query


def api_custom_pairs(args):
    """The API's ``custom=key=value`` parameters as (key, value, field)."""
    pairs = []
    for item in args.getlist("custom"):
        key, sep, value = item.partition("=")
        if not sep:
            raise CrmError("custom: key=value or key=low..high", field="custom")
        pairs.append((key.strip(), value, "custom"))
    return pairs


def page_custom_pairs(args):
    """The page's ``cf_<key>`` boxes as (key, value, field)."""
    return [(name[3:], value, name) for name, value in args.items() if name.startswith("cf_")]
