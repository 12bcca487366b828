"""Parsing of the call list's query parameters (page and API share them)."""

import dataclasses
import datetime
import typing

from web.errors import InvalidFilter

UTC = datetime.timezone.utc
# past this, an offset asks for rows no database holds, and SQLite cannot even take it (64 bits)
MAX_OFFSET = 10**9


@dataclasses.dataclass
class CallFilters:
    """What to select from the call records, and which slice of the result."""

    date_from: typing.Optional[datetime.datetime] = None  # inclusive
    date_to: typing.Optional[datetime.datetime] = None  # exclusive
    caller: typing.Optional[str] = None
    queue: typing.Optional[str] = None
    agent: typing.Optional[str] = None
    limit: int = 50
    offset: int = 0

    def query_args(self):
        """The filters (not the paging) as query parameters, for links to other pages."""
        args = {}
        if self.date_from is not None:
            args["from"] = self.date_from.isoformat()
        if self.date_to is not None:
            args["to"] = self.date_to.isoformat()
        for name in ("caller", "queue", "agent"):
            if getattr(self, name):
                args[name] = getattr(self, name)
        return args


def parse_datetime(text, field, end_of_day=False, tz=UTC):
    """Parse ISO 8601 (date or date-time; naive means ``tz``); raise InvalidFilter naming ``field``."""
    text = text.strip()
    try:
        if len(text) == 10:
            day = datetime.date.fromisoformat(text)
            value = datetime.datetime.combine(day, datetime.time(), tzinfo=tz)
            # A bare "to" date includes that whole day.
            return value + datetime.timedelta(days=1) if end_of_day else value
        value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidFilter(f"{field}: {text!r} is not an ISO 8601 date or date-time",
                            field=field) from exc
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def _int(args, name, default, minimum, maximum=None):
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise InvalidFilter(f"{name}: {raw!r} is not a whole number", field=name) from exc
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise InvalidFilter(f"{name}: must be {bound}", field=name)
    return value


def _text(args, name, max_length=64):
    value = (args.get(name) or "").strip()
    if len(value) > max_length:
        raise InvalidFilter(f"{name}: longer than {max_length} characters", field=name)
    return value or None


def parse_filters(args, default_limit=50, max_limit=500, paging="offset", tz=UTC):
    """Build CallFilters from query ``args``; paging by ``limit``/``offset`` or by ``page``.

    Dates and date-times without an offset are read in ``tz`` (the display time zone).
    """
    filters = CallFilters(caller=_text(args, "caller"), queue=_text(args, "queue"),
                          agent=_text(args, "agent"))
    if args.get("from"):
        filters.date_from = parse_datetime(args["from"], "from", tz=tz)
    if args.get("to"):
        filters.date_to = parse_datetime(args["to"], "to", end_of_day=True, tz=tz)
    if filters.date_from and filters.date_to and filters.date_from >= filters.date_to:
        raise InvalidFilter("to: must be after from", field="to")
    if paging == "page":
        filters.limit = default_limit
        # a page past the last is the page's business (it shows the last one): no bound here,
        # only an offset the database can take
        filters.offset = min((_int(args, "page", 1, 1) - 1) * default_limit, MAX_OFFSET)
    else:
        filters.limit = _int(args, "limit", default_limit, 1, max_limit)
        filters.offset = _int(args, "offset", 0, 0, MAX_OFFSET)
    return filters
