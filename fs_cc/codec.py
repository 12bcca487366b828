"""Frozen dataclasses to JSON-safe dicts and back, strictly: how events and commands are encoded.

A type the codec carries is a dataclass with a ``TYPE`` class attribute (its name on the wire,
written as ``"type"``). Reading is strict: a field the type does not define, a required field that
is absent and a value of the wrong type are each refused with an error naming the type and the
field. Enums travel as their values, datetimes as ISO 8601 with an offset, mappings as objects.
Pure: no I/O.
"""

import collections.abc
import dataclasses
import datetime
import enum
import json
import types
import typing

from fs_cc.errors import FsCcError

try:
    import orjson
except ImportError:  # the text is the same without it, written by json alone (slower)
    orjson = None


class FieldError(FsCcError):
    """A field of an encoded value is unknown, missing or holds a wrong value."""

    problem = "invalid"

    def __init__(self, kind, field, message=""):
        self.kind = kind
        self.field = field
        self.message = message or self.problem
        super().__init__(f"{kind}: field {field!r}: {self.message}")


class UnknownField(FieldError):
    """The encoded value has a field its type does not define."""

    problem = "unknown field"


class MissingField(FieldError):
    """The encoded value lacks a field its type requires."""

    problem = "missing field"


_FIELD_NAMES = {}  # dataclass -> its field names (dataclasses.fields is slow on a hot path)
_AS_IS = frozenset({str, int, float, bool, type(None)})
_DATETIME = datetime.datetime
_UTC = datetime.timezone.utc


def field_names(cls):
    """The names of a dataclass's fields, in order (cached per class)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(field.name for field in dataclasses.fields(cls))
    return names


def to_dict(value):
    """A JSON-safe dict of a dataclass with its ``"type"`` (enums as values, times ISO 8601)."""
    return _to_dict(value, False)


def encode(value):
    """The JSON text of a dataclass: :func:`dumps` of its :func:`to_dict`."""
    return _dumps(_to_dict(value, True), _ALIKE_OR_UTC)


def _to_dict(value, utc_as_is):
    # utc_as_is: a UTC time stays a datetime, for orjson to write (datetime.isoformat costs
    # 12k instructions, in printf; orjson writes a UTC time as isoformat does, tested)
    out = {"type": value.TYPE}
    for name in field_names(type(value)):
        item = getattr(value, name)
        kind = type(item)
        if kind in _AS_IS:
            out[name] = item
        elif kind is _DATETIME:  # every event's stamp: a plain datetime is never an enum
            out[name] = item if utc_as_is and item.tzinfo is _UTC else item.isoformat()
        else:
            out[name] = plain(item)
    return out


def plain(value):
    """``value`` as JSON can hold it: an enum's value, an ISO 8601 time, a mapping as a dict."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, collections.abc.Mapping):  # typing.Mapping's check is much slower
        return dict(value)
    return value


# -- the JSON text ------------------------------------------------------------------------------

# json.dumps with options would build a new encoder each time; what reaches ``default`` is a
# UTC datetime that encode left for orjson
_JSON = json.JSONEncoder(separators=(",", ":"), sort_keys=True, ensure_ascii=False,
                         default=datetime.datetime.isoformat)
# for a text with a lone surrogate, which has no UTF-8 form: every non-ASCII character escaped
_JSON_ASCII = json.JSONEncoder(separators=(",", ":"), sort_keys=True,
                               default=datetime.datetime.isoformat)
# the types orjson writes exactly as json does (a float it may write otherwise: 1e-05, NaN)
_ALIKE = frozenset({str, int, bool, type(None)})
_ALIKE_OR_UTC = _ALIKE | {_DATETIME}
_STR = frozenset({str})


def dumps(data):
    """The JSON text of a JSON-safe dict: compact, keys sorted, UTF-8 (RFC 8259) as it is.

    Always the text ``json.dumps(data, separators=(",", ":"), sort_keys=True,
    ensure_ascii=False)`` gives, byte for byte (json then escapes only the quote, the backslash
    and the control characters, as orjson does). orjson writes it (eight times faster) when
    every value is a str, an int, a bool, None or a dict of them; json writes it otherwise:
    floats, ints past 64 bits, keys that are not str. A text holding a lone surrogate (which
    orjson refuses) is written with every non-ASCII character escaped, so that it has a UTF-8
    form. Texts written ASCII-only by earlier versions decode to the same values.
    """
    return _dumps(data, _ALIKE)


def _dumps(data, alike):
    if orjson is not None and _alike(data, alike):
        try:
            return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()
        except TypeError:
            pass  # a lone surrogate, or a value orjson does not take: json tells which
    text = _JSON.encode(data)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return _JSON_ASCII.encode(data)
    return text


def _alike(data, alike):
    # keys of str itself: json sorts keys with their own comparison, orjson by their UTF-8
    if not _STR.issuperset(map(type, data)):
        return False
    if alike.issuperset(map(type, data.values())):
        return True  # the usual case, told in one call; a nested dict needs the loop
    for item in data.values():
        kind = type(item)
        if kind not in alike and not (kind is dict and _alike(item, alike)):
            return False
    return True


def from_dict(cls, data):
    """The ``cls`` a dict from :func:`to_dict` describes; FieldError names a bad field.

    The ``"type"`` key is the caller's business (it chose ``cls`` by it) and is skipped here.
    """
    kind = getattr(cls, "TYPE", "") or cls.__name__
    fields = {field.name: field for field in dataclasses.fields(cls)}
    for key in data:
        if key != "type" and key not in fields:
            raise UnknownField(kind, key)
    field_hints = hints(cls)
    kwargs = {}
    for field in fields.values():
        if field.name not in data:
            # a field added later with a default still reads what older senders wrote
            if (field.default is dataclasses.MISSING
                    and field.default_factory is dataclasses.MISSING):
                raise MissingField(kind, field.name)
            continue
        kwargs[field.name] = parse(kind, field.name, field_hints[field.name], data[field.name])
    return cls(**kwargs)


_HINTS = {}


def hints(cls):
    """The resolved type hints of ``cls`` (cached: they never change)."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def parse(kind, field, hint, value):
    """``value`` read from JSON as the type ``hint`` of ``field`` of ``kind``."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):  # Optional[X], X | None
        if value is None and type(None) in args:
            return None
        hint = next(arg for arg in args if arg is not type(None))
        args = typing.get_args(hint)
    origin = typing.get_origin(hint) or hint
    if isinstance(origin, type) and issubclass(origin, enum.Enum):
        try:
            return origin(value)
        except ValueError:
            names = ", ".join(str(member.value) for member in origin)
            raise FieldError(kind, field, f"{value!r} is not one of {names}") from None
    if origin is datetime.datetime:
        return parse_time(kind, field, value)
    if origin is collections.abc.Mapping or origin is dict:
        if not isinstance(value, dict):
            raise FieldError(kind, field, f"needs an object, got {value!r}")
        key_type, value_type = args
        return {parse(kind, f"{field}.{key}", key_type, key):
                parse(kind, f"{field}.{key}", value_type, item)
                for key, item in value.items()}
    if origin is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)  # JSON writes 3.0 as 3
    # bool is an int in Python, never on the wire
    if not isinstance(value, origin) or (origin is int and isinstance(value, bool)):
        raise FieldError(kind, field,
                         f"needs {origin.__name__}, got {type(value).__name__} {value!r}")
    return value


def parse_time(kind, field, value):
    """An aware datetime from an ISO 8601 text with a UTC offset."""
    if not isinstance(value, str):
        raise FieldError(kind, field, f"needs an ISO 8601 text, got {value!r}")
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise FieldError(kind, field, f"{value!r} is not ISO 8601") from None
    if moment.utcoffset() is None:
        raise FieldError(kind, field, f"{value!r} has no UTC offset")
    return moment
