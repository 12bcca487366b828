"""The facts of a call and an agent, defined once for engine, worker and web, encoded one way.

Every event is a frozen dataclass stamped with the engine that saw it, that engine's sequence
number and an aware UTC time. Order events by (engine, seq), never by ``ts``: FreeSWITCH's clock
ticks in 20 ms steps and two engines' clocks disagree. Pure: no I/O, no gevent, nothing of web.

A package: the stamp, the errors and the encoding in ``base``, the facts by subject in
``calls``, ``agents``, ``callbacks`` and ``ivr``; every name is imported from here.
"""

from fs_cc.callbacks import AttemptOutcome  # noqa: F401 - a callback attempt's outcome, read here
from fs_cc.events.base import (  # noqa: F401
    AgentEvent, AgentState, CALL_TRANSITIONS, CallEvent, CallState, EVENT_TYPES, Event,
    EventError, EventFieldError, EventSequencer, HangupSide, InvalidCallTransition,
    MalformedEvent, MissingField, OfferFailure, QueueOutcome, TASK_RECORD_CALL,
    TASK_STORE_EVENTS, TransferKind, UnknownEventType, UnknownField, call_state_after,
    check_call_transition, decode, encode, from_dict, to_dict, utcnow)
from fs_cc.events.calls import (  # noqa: F401
    AnsweredByAgent, CallAdopted, CallEnded, CallHeld, CallMuted, CallPriorityChanged,
    CallQueued, CallStarted, CallTransferred, CallUnheld, CallUnmuted, ConferenceStarted,
    ConsultEnded, ConsultStarted, IvrInput, IvrNodeEntered, IvrNodeLeft, OfferFailed,
    OfferedToAgent, QueueLeft, RecordingFailed, RecordingStarted, RecordingStopped)
from fs_cc.events.agents import (  # noqa: F401
    AgentLoggedIn, AgentLoggedOut, AgentStatusChanged, QueueEvent, QueueFiguresChanged)
from fs_cc.events.callbacks import (  # noqa: F401
    CallbackAttempted, CallbackCancelled, CallbackCompleted, CallbackDispatched, CallbackEvent,
    CallbackFailed, CallbackQueued, CallbackRequested, CallbackRescheduled)
from fs_cc.events.ivr import (  # noqa: F401
    FlowStarted, FlowVersionLoaded, IvrLookup, MessageRecorded, SmsRequested, SurveyAnswered,
    VoicemailLeft)
