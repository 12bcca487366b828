"""What every fact is (the stamp, the errors, the registry), their one JSON text, the sequencer."""

import dataclasses
import datetime
import itertools
import json
import typing

from fs_cc import codec
# the states, their moves and the check live in fs_cc.states; facts and readers import them here
from fs_cc.states import (CALL_TRANSITIONS, AgentState, CallState, EventError,  # noqa: F401
                          HangupSide, InvalidCallTransition, OfferFailure, QueueOutcome,
                          TransferKind, call_state_after, check_call_transition)


# Celery task names, shared by the engine (which sends) and the worker (which registers).
TASK_RECORD_CALL = "fs_cc.record_call"
TASK_STORE_EVENTS = "fs_cc.store_events"


def utcnow():
    """The current time as an aware UTC datetime."""
    return datetime.datetime.now(datetime.timezone.utc)


# -- the errors -------------------------------------------------------------------------------

class MalformedEvent(EventError):
    """A text that is not a JSON object with a string ``"type"``."""

    def __init__(self, text, reason):
        self.text = text
        self.reason = reason
        super().__init__(f"malformed event ({reason}): {text[:80]!r}")


class UnknownEventType(EventError):
    """A ``"type"`` that names no event."""

    def __init__(self, event_type):
        self.event_type = event_type
        super().__init__(f"unknown event type {event_type!r}")


class EventFieldError(EventError, codec.FieldError):
    """A field of an event is unknown, missing or holds a wrong value (``kind``: its type)."""

    @property
    def event_type(self):
        """The type of the event at fault, e.g. "call.queued"."""
        return self.kind


class UnknownField(EventFieldError, codec.UnknownField):
    """The encoded event has a field its type does not define."""


class MissingField(EventFieldError, codec.MissingField):
    """The encoded event lacks a field its type requires."""


# -- the events -------------------------------------------------------------------------------

EVENT_TYPES = {}  # "call.started" -> CallStarted


def _event(name, state=None):
    """Make a frozen, slotted, keyword-only dataclass of the class and register it as ``name``."""

    def register(cls):
        cls = dataclasses.dataclass(frozen=True, slots=True, kw_only=True)(cls)
        cls.TYPE = name
        cls.CALL_STATE = state  # the state the event moves its call to; None: leaves it alone
        EVENT_TYPES[name] = cls
        return cls

    return register


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """What every fact carries: the engine that saw it, its sequence there, and when (UTC)."""

    TYPE: typing.ClassVar[str] = ""
    CALL_STATE: typing.ClassVar[typing.Optional[CallState]] = None

    engine: str
    seq: int
    ts: datetime.datetime

    def __post_init__(self):
        if not isinstance(self.ts, datetime.datetime) or self.ts.utcoffset() is None:
            raise EventFieldError(self.TYPE or type(self).__name__, "ts",
                                  f"needs an aware datetime, got {self.ts!r}")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CallEvent(Event):
    """A fact about one call, named by the UUID of its first (caller's) channel."""

    call_uuid: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AgentEvent(Event):
    """A fact about one agent, named by its extension."""

    agent: str


# -- the JSON encoding ------------------------------------------------------------------------

def to_dict(event):
    """A JSON-safe dict of the event with its ``"type"`` (enums as values, times ISO 8601)."""
    return codec.to_dict(event)


def encode(event):
    """The one JSON text of an event: compact, keys sorted, UTF-8 (see codec.dumps)."""
    return codec.encode(event)


def decode(text):
    """The event a JSON text from :func:`encode` holds; EventError says what is wrong."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise MalformedEvent(str(text), f"not JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise MalformedEvent(str(text), 'not an object with a string "type"')
    return from_dict(data)


def from_dict(data):
    """The event a dict from :func:`to_dict` describes: no unknown, missing or mistyped field."""
    name = data.get("type")
    cls = EVENT_TYPES.get(name)
    if cls is None:
        raise UnknownEventType(name)
    try:
        return codec.from_dict(cls, data)
    except codec.FieldError as exc:  # the codec's generic error, told as an event's
        raise _FIELD_ERRORS.get(type(exc), EventFieldError)(name, exc.field, exc.message) from None


_FIELD_ERRORS = {codec.UnknownField: UnknownField, codec.MissingField: MissingField}


# -- stamping ---------------------------------------------------------------------------------

class EventSequencer:
    """Builds an engine's events, stamping each with the engine id, the next seq and the time.

    ``start`` is the last seq the engine used before (from its durable outbox), so that a
    restarted engine never reuses a number: the worker stores facts idempotently by (engine, seq).
    """

    def __init__(self, engine, start=0, clock=utcnow):
        self.engine = engine
        self._clock = clock
        # next() on itertools.count is atomic under the GIL and between greenlet switches
        self._counter = itertools.count(start + 1)

    def next_seq(self):
        """Take the next sequence number."""
        return next(self._counter)

    def make(self, event_class, **fields):
        """A new ``event_class`` event with ``fields``, stamped by this engine."""
        return event_class(engine=self.engine, seq=self.next_seq(), ts=self._clock(), **fields)
