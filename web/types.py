"""Column types shared by the models."""

import datetime

from sqlalchemy.types import DateTime, TypeDecorator


class UTCDateTime(TypeDecorator):
    """Stores datetimes as naive UTC on every dialect and hands them back aware (UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=datetime.timezone.utc)
        return value.astimezone(datetime.timezone.utc)


def utcnow():
    """The current time, aware, in UTC."""
    return datetime.datetime.now(datetime.timezone.utc)


def iso(value):
    """A datetime as ISO 8601 (the JSON shape of every time), None as None."""
    return None if value is None else value.isoformat()
