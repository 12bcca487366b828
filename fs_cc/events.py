"""The facts of a call and an agent, defined once for engine, worker and web, encoded one way.

Every event is a frozen dataclass stamped with the engine that saw it, that engine's sequence
number and an aware UTC time. Order events by (engine, seq), never by ``ts``: FreeSWITCH's clock
ticks in 20 ms steps and two engines' clocks disagree. Pure: no I/O, no gevent, nothing of web.
"""

import dataclasses
import datetime
import itertools
import json
import types
import typing

from fs_cc import codec
from fs_cc.callbacks import AttemptOutcome
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


@_event("call.started", CallState.RINGING)
class CallStarted(CallEvent):
    """A call reached the engine."""

    did: str
    caller_number: str
    caller_name: str = ""


@_event("call.ivr_node_entered", CallState.IVR)
class IvrNodeEntered(CallEvent):
    """The call's IVR flow entered a node."""

    flow: str
    node: str


@_event("call.ivr_node_left", CallState.IVR)
class IvrNodeLeft(CallEvent):
    """The call's IVR flow left a node, with what the caller keyed and where it led."""

    flow: str
    node: str
    input: typing.Optional[str]
    outcome: str


@_event("call.ivr_input", CallState.IVR)
class IvrInput(CallEvent):
    """One attempt at a menu or collect node: the keys read (None: none) and what they meant.

    ``result`` is ``"option"`` (the keys lead somewhere), ``"invalid"`` or ``"timeout"``.
    """

    flow: str
    node: str
    input: typing.Optional[str]
    result: str


@_event("call.queued", CallState.QUEUED)
class CallQueued(CallEvent):
    """The call waits in a queue; ``skills`` maps skill name to the minimum level asked."""

    queue: str
    priority: int
    skills: typing.Mapping[str, int]
    position: int

    def __post_init__(self):
        Event.__post_init__(self)
        object.__setattr__(self, "skills", types.MappingProxyType(dict(self.skills)))


@_event("call.queue_left")
class QueueLeft(CallEvent):
    """The caller's time in ``queue`` ended, and how; waited ``waited`` seconds in line."""

    queue: str
    outcome: QueueOutcome
    waited: float = 0.0
    position: typing.Optional[int] = None  # its place in line then (None: being offered)


@_event("call.priority_changed")
class CallPriorityChanged(CallEvent):
    """A waiting caller's priority in ``queue`` changed (the router looks again)."""

    queue: str
    priority: int


@_event("call.adopted")
class CallAdopted(CallEvent):
    """A restarted engine took back a call FreeSWITCH kept while the engine was down."""

    previous_engine: str
    queue: typing.Optional[str] = None


@_event("call.offered", CallState.OFFERING)
class OfferedToAgent(CallEvent):
    """An agent's phone rings for the call on leg ``leg_uuid``."""

    agent: str
    leg_uuid: str
    queue: typing.Optional[str]


@_event("call.offer_failed", CallState.QUEUED)
class OfferFailed(CallEvent):
    """Ringing an agent did not connect them; ``hangup_cause`` is FreeSWITCH's own word."""

    agent: str
    leg_uuid: str
    cause: OfferFailure
    hangup_cause: str = ""


@_event("call.answered", CallState.CONNECTED)
class AnsweredByAgent(CallEvent):
    """The agent answered and is bridged to the caller."""

    agent: str
    leg_uuid: str


@_event("call.transferred")
class CallTransferred(CallEvent):
    """The call was sent elsewhere (by an agent, or by the system when ``by_agent`` is None)."""

    target_kind: TransferKind
    target: str
    by_agent: typing.Optional[str]


@_event("call.held", CallState.HELD)
class CallHeld(CallEvent):
    """The caller was put on hold."""

    by_agent: typing.Optional[str] = None


@_event("call.unheld", CallState.CONNECTED)
class CallUnheld(CallEvent):
    """The caller was taken off hold."""

    by_agent: typing.Optional[str] = None


@_event("call.consult_started")
class ConsultStarted(CallEvent):
    """The agent put the caller aside to call a second party (leg ``leg_uuid``) first."""

    target_kind: TransferKind
    target: str
    leg_uuid: str
    by_agent: typing.Optional[str] = None


@_event("call.consult_ended")
class ConsultEnded(CallEvent):
    """A consult ended: ``completed`` (the caller went to that party), ``cancelled``, ``failed``
    (not answered) or ``ended`` (a hangup meanwhile)."""

    leg_uuid: str
    outcome: str
    cause: str = ""
    by_agent: typing.Optional[str] = None


@_event("call.conference_started")
class ConferenceStarted(CallEvent):
    """The caller, the agent's leg and a third party's leg were joined in conference ``room``."""

    room: str
    agent_leg: str
    party_leg: str
    by_agent: typing.Optional[str] = None


@_event("call.muted")
class CallMuted(CallEvent):
    """The agent's microphone was muted towards the call (its leg ``leg_uuid``)."""

    leg_uuid: str
    by_agent: typing.Optional[str] = None


@_event("call.unmuted")
class CallUnmuted(CallEvent):
    """The agent is heard on the call again."""

    leg_uuid: str
    by_agent: typing.Optional[str] = None


@_event("call.recording_started")
class RecordingStarted(CallEvent):
    """The call is being recorded to ``path`` (``mode`` mixed or stereo, for a queue's agent)."""

    path: str
    mode: str = "mixed"
    queue: typing.Optional[str] = None
    agent: typing.Optional[str] = None


@_event("call.recording_stopped")
class RecordingStopped(CallEvent):
    """The recording to ``path`` stopped: its length and size as the switch wrote it.

    ``cause`` is FreeSWITCH's Record-Completion-Cause (``success-silence``, ``empty-file``...);
    ``discarded`` is true when the switch threw the file away (too short, nothing heard).
    """

    path: str
    duration_ms: typing.Optional[int] = None
    size: typing.Optional[int] = None
    cause: str = ""
    discarded: bool = False


@_event("call.recording_failed")
class RecordingFailed(CallEvent):
    """The switch refused to record the call to ``path``; ``reason`` is its answer."""

    path: str
    reason: str


@_event("call.ended", CallState.ENDED)
class CallEnded(CallEvent):
    """The call is over: who hung up and FreeSWITCH's hangup cause."""

    side: HangupSide
    cause: str


@_event("agent.status_changed")
class AgentStatusChanged(AgentEvent):
    """An agent moved from one status to another, and why."""

    old: AgentState
    new: AgentState
    reason: str


@_event("agent.logged_in")
class AgentLoggedIn(AgentEvent):
    """An agent logged in to a queue."""

    queue: str


@_event("agent.logged_out")
class AgentLoggedOut(AgentEvent):
    """An agent logged out of a queue."""

    queue: str


# -- queues ---------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class QueueEvent(Event):
    """A fact about one queue, named by its name."""

    queue: str


@_event("queue.figures")
class QueueFiguresChanged(QueueEvent):
    """A queue's live figures changed (fs_cc.acd.figures defines each): now and today."""

    waiting: int
    longest_wait: float
    agents: typing.Mapping[str, int]  # agent state -> agents of the queue in it
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    overflowed: int
    answered_in_service_level: int
    service_level: typing.Optional[float] = None
    asa: typing.Optional[float] = None
    aht: typing.Optional[float] = None
    # the callers who finished waiting in the last 30 minutes (a sliding window)
    answered_30m: int = 0
    abandoned_30m: int = 0
    service_level_30m: typing.Optional[float] = None

    def __post_init__(self):
        Event.__post_init__(self)
        object.__setattr__(self, "agents", types.MappingProxyType(dict(self.agents)))


# -- callbacks (遇忙回拨: fs_cc.callbacks; stored by web.callbacks) ------------------------------

@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CallbackEvent(Event):
    """A fact about one callback request, named by its id."""

    callback_id: str


@_event("callback.requested")
class CallbackRequested(CallbackEvent):
    """Call ``number`` back from ``queue``; ``since`` keeps the place of caller ``call_uuid``."""

    queue: str
    number: str
    since: datetime.datetime
    priority: int
    skills: typing.Mapping[str, int]
    call_uuid: str
    caller_number: str = ""

    def __post_init__(self):
        Event.__post_init__(self)
        object.__setattr__(self, "skills", types.MappingProxyType(dict(self.skills)))


@_event("callback.queued")
class CallbackQueued(CallbackEvent):
    """An engine took a request it did not hold (re-sent after a restart): in line there."""

    queue: str


@_event("callback.dispatched")
class CallbackDispatched(CallbackEvent):
    """An attempt began: ``agent`` rings on ``leg_uuid``; the customer's call is ``call_uuid``."""

    agent: str
    call_uuid: str
    leg_uuid: str
    attempt: int  # the customer calls made before, plus one


@_event("callback.attempted")
class CallbackAttempted(CallbackEvent):
    """An attempt ended so; ``attempts`` customer calls made; the next not before ``retry_at``."""

    agent: str
    call_uuid: str
    outcome: AttemptOutcome
    cause: str
    attempts: int
    retry_at: typing.Optional[datetime.datetime] = None


@_event("callback.completed")
class CallbackCompleted(CallbackEvent):
    """The customer and ``agent`` were connected on call ``call_uuid``."""

    agent: str
    call_uuid: str
    attempts: int


@_event("callback.failed")
class CallbackFailed(CallbackEvent):
    """The request gave up: the last cause, or why it could not be tried."""

    reason: str
    attempts: int


@_event("callback.cancelled")
class CallbackCancelled(CallbackEvent):
    """A supervisor (``by``) cancelled the request."""

    by: str


@_event("callback.rescheduled")
class CallbackRescheduled(CallbackEvent):
    """``by`` set when it is tried next (place kept); ``attempts`` counted from now on."""

    not_before: datetime.datetime
    by: str
    attempts: int


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


# -- IVR messages: recordings, voicemail, SMS, surveys (fs_cc.ivr.nodes_record, nodes_sms,
# nodes_survey; stored by web.messages) ---------------------------------------------------------

@_event("call.message_recorded")
class MessageRecorded(CallEvent):
    """A record node recorded the caller to ``path`` (``duration_ms``, ``size`` when known).

    ``cause`` says how it ended: ``terminator`` (the caller's key), ``silence``, ``max_time`` or
    ``hangup`` (the caller hung up while recording: the partial message is kept).
    """

    flow: str
    node: str
    path: str
    duration_ms: typing.Optional[int] = None
    size: typing.Optional[int] = None
    cause: str = ""


@_event("call.voicemail_left")
class VoicemailLeft(CallEvent):
    """The caller left a message in ``box`` (``queue:NAME`` or ``agent:EXT``) at ``path``.

    ``email`` is the node's own recipient (None: the box's owner's or the deployment's).
    """

    flow: str
    node: str
    box: str
    path: str
    duration_ms: typing.Optional[int] = None
    size: typing.Optional[int] = None
    caller_number: str = ""
    email: typing.Optional[str] = None


@_event("call.sms_requested")
class SmsRequested(CallEvent):
    """Send ``text`` to ``number``; ``request_id`` names the request once, whatever retries."""

    flow: str
    node: str
    request_id: str
    number: str
    text: str


@_event("call.survey_answered")
class SurveyAnswered(CallEvent):
    """The caller rated the call ``score`` (1-5; None: no valid key); ``agent`` who answered it."""

    flow: str
    node: str
    score: typing.Optional[int]
    agent: typing.Optional[str] = None
    queue: typing.Optional[str] = None


# -- IVR flow versions (fs_cc.ivr.versions) ---------------------------------------------------

@_event("call.flow_started")
class FlowStarted(CallEvent):
    """The call began to run an IVR flow: which flow, at which version (None: not yet numbered,
    the ``sha256`` of its YAML text names it then), so its record says what the caller heard."""

    flow: str
    sha256: str
    version: typing.Optional[int] = None


@_event("flow.version_loaded")
class FlowVersionLoaded(Event):
    """The engine took a flow's YAML text into use (started, reloaded, or a file changed on
    disk); the worker keeps the text as a new version when its sha256 is not the current one."""

    flow: str
    sha256: str
    text: str
    path: str = ""
    version: typing.Optional[int] = None  # the stored version of this text, when known


@_event("call.ivr_lookup", CallState.IVR)
class IvrLookup(CallEvent):
    """A lookup node asked data source ``source``: ``result`` is found, not_found, failed or
    hung_up (the caller left while it waited), after ``elapsed_ms``."""

    flow: str
    node: str
    source: str
    result: str
    elapsed_ms: int
