"""The states of calls and agents, and the allowed moves of a call, shared by every fact.

Pure: enums, the transition table in one place, and the check events apply (fs_cc.events
re-exports all of it, so ``from fs_cc.events import CallState`` keeps working).
"""

import enum

from fs_cc.errors import FsCcError


class HangupSide(enum.Enum):
    """Which party ended the call (the values fs_cc.calls.HangupSide stores today)."""

    CALLER = "caller"
    AGENT = "agent"
    SYSTEM = "system"


class AgentState(enum.Enum):
    """An agent's status: the one enum of it (fs_cc.acd.agents.AgentStatus is this class).

    NOT_READY carries a reason code beside it (break, lunch, ``no-answer``...). The value
    ``"break"`` of earlier versions reads as NOT_READY (stored agents, events, the API), and
    ``AgentState.BREAK`` is another name of NOT_READY.
    """

    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RESERVED = "reserved"  # picked for a caller, its phone rings
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"  # after-call work: available again after the queue's wrap-up time
    NOT_READY = "not_ready"  # logged in, taking no calls, for a reason code
    BREAK = "not_ready"  # the name of NOT_READY before reason codes

    @classmethod
    def _missing_(cls, value):
        if value == LEGACY_BREAK:
            return cls.NOT_READY
        return None

    @classmethod
    def parse(cls, value):
        """An AgentState from itself, its value ("available"), its name or the old "break"."""
        if isinstance(value, cls):
            return value
        text = str(value).strip()
        if text.lower() == LEGACY_BREAK:
            return cls.NOT_READY
        for state in cls:
            if text.lower() == state.value or text.upper() == state.name:
                return state
        raise InvalidStatus(value)


LEGACY_BREAK = "break"  # the stored value of NOT_READY before reason codes, and its default reason
NO_ANSWER_REASON = "no-answer"  # the reason code the ACD gives after max_no_answer missed offers
DEFAULT_NOT_READY_REASONS = ("break", "meeting", "training", "lunch", NO_ANSWER_REASON)

A = AgentState
AGENT_TRANSITIONS = {
    A.LOGGED_OUT: frozenset({A.AVAILABLE, A.NOT_READY}),
    A.AVAILABLE: frozenset({A.RESERVED, A.NOT_READY, A.LOGGED_OUT}),
    # the ACD owns a reserved agent until the offer ends: answered (ON_CALL) or not (AVAILABLE);
    # the agent may still leave (the offer is cancelled), and missed offers make it NOT_READY
    A.RESERVED: frozenset({A.AVAILABLE, A.ON_CALL, A.NOT_READY, A.LOGGED_OUT}),
    # at the end of the call: wrap-up, available, or what the agent asked for during the call
    A.ON_CALL: frozenset({A.WRAP_UP, A.AVAILABLE, A.NOT_READY, A.LOGGED_OUT}),
    A.WRAP_UP: frozenset({A.AVAILABLE, A.NOT_READY, A.LOGGED_OUT}),
    # NOT_READY -> NOT_READY changes the reason code (from break to lunch)
    A.NOT_READY: frozenset({A.AVAILABLE, A.NOT_READY, A.LOGGED_OUT}),
}
ACD_OWNED = frozenset({A.RESERVED, A.ON_CALL})  # states only the ACD moves an agent to
del A


def agent_allowed_from(target):
    """The states from which an agent may move to ``target``."""
    return {source for source, targets in AGENT_TRANSITIONS.items() if target in targets}


def check_agent_transition(extension, current, target):
    """Raise InvalidTransition unless agent ``extension`` may go from ``current`` to ``target``."""
    if target not in AGENT_TRANSITIONS[current]:
        raise InvalidTransition(extension, current, target)


class InvalidStatus(FsCcError, ValueError):
    """A text that names no agent status."""

    def __init__(self, value):
        self.value = value
        self.field = "status"
        names = ", ".join(s.value for s in AgentState)
        super().__init__(f"{value!r} is not an agent status ({names})")


class InvalidTransition(FsCcError, ValueError):
    """An agent may not move from its current status to the one asked."""

    def __init__(self, extension, current, target, why=""):
        self.extension = extension
        self.current = current
        self.target = target
        self.field = "status"
        more = f": {why}" if why else ""
        super().__init__(f"agent {extension} cannot go from {current.value} to {target.value}"
                         f"{more}")


class InvalidReason(FsCcError, ValueError):
    """A not-ready reason code that is not among the configured ones."""

    def __init__(self, reason, known):
        self.reason = reason
        self.known = tuple(known)
        self.field = "reason"
        super().__init__(f"{reason!r} is not a not-ready reason ({', '.join(self.known)})")


class OfferFailure(enum.Enum):
    """Why ringing an agent did not connect them."""

    NO_ANSWER = "no_answer"
    BUSY = "busy"
    REJECTED = "rejected"
    UNREGISTERED = "unregistered"
    FAILED = "failed"
    CANCELLED = "cancelled"  # the ACD stopped ringing: another agent answered, the caller left

    @classmethod
    def from_hangup_cause(cls, cause):
        """The failure a FreeSWITCH hangup cause means ("USER_BUSY", "-ERR NO_ANSWER", None)."""
        text = (cause or "").strip().upper()
        if text.startswith("-ERR"):  # a failed originate answers "-ERR CAUSE"
            text = text[4:].strip()
        return _OFFER_FAILURES.get(text, cls.FAILED)


_OFFER_FAILURES = {
    "NO_ANSWER": OfferFailure.NO_ANSWER,
    "NO_USER_RESPONSE": OfferFailure.NO_ANSWER,
    "ORIGINATOR_CANCEL": OfferFailure.NO_ANSWER,  # we gave up ringing (our originate timeout)
    "USER_BUSY": OfferFailure.BUSY,
    "CALL_REJECTED": OfferFailure.REJECTED,
    "USER_NOT_REGISTERED": OfferFailure.UNREGISTERED,
    "SUBSCRIBER_ABSENT": OfferFailure.UNREGISTERED,
}


class TransferKind(enum.Enum):
    """Where a call is transferred to."""

    AGENT = "agent"
    QUEUE = "queue"
    IVR = "ivr"
    NUMBER = "number"  # outside the call center


class QueueOutcome(enum.Enum):
    """How a caller's time in a queue ended (the IVR's queue node goes on from it)."""

    ANSWERED = "answered"  # an agent took the call
    TIMEOUT = "timeout"  # waited the queue's (or the node's) longest wait
    EXIT_KEY = "exit_key"  # the caller pressed the key that leaves the queue
    FULL = "full"  # the queue had its most callers already
    NO_AGENTS = "no_agents"  # nobody is logged in to serve it
    CLOSED = "closed"  # outside its opening hours, or closed by an admin: nobody waits
    UNKNOWN_QUEUE = "unknown_queue"  # the queue was removed after the flow was loaded
    HUNG_UP = "hung_up"  # the caller hung up while waiting
    TRANSFERRED = "transferred"  # taken out of line by a command (another queue, the IVR)


class CallState(enum.Enum):
    """Where a call is, as its events tell it."""

    RINGING = "ringing"  # started, not yet in a flow, a queue or with an agent
    IVR = "ivr"
    QUEUED = "queued"
    OFFERING = "offering"  # an agent's phone rings for it
    CONNECTED = "connected"
    HELD = "held"
    ENDED = "ended"


C = CallState
CALL_TRANSITIONS = {
    C.RINGING: frozenset({C.IVR, C.QUEUED, C.OFFERING, C.ENDED}),
    C.IVR: frozenset({C.IVR, C.QUEUED, C.OFFERING, C.ENDED}),
    # overflow to another queue, or out to the IVR (leave a message, ask for a callback)
    C.QUEUED: frozenset({C.QUEUED, C.IVR, C.OFFERING, C.ENDED}),
    # several agents may ring at once; an unanswered offer puts the caller back to waiting
    C.OFFERING: frozenset({C.OFFERING, C.QUEUED, C.CONNECTED, C.ENDED}),
    # transfers: the event after CallTransferred (queued, IVR entered, offered) moves the call
    C.CONNECTED: frozenset({C.HELD, C.QUEUED, C.IVR, C.OFFERING, C.ENDED}),
    C.HELD: frozenset({C.CONNECTED, C.QUEUED, C.IVR, C.OFFERING, C.ENDED}),
    C.ENDED: frozenset(),
}
del C


class EventError(FsCcError):
    """Base of the errors about events and the states they move calls to."""


class InvalidCallTransition(EventError):
    """A call may not move from its current state to the one an event implies."""

    def __init__(self, call_uuid, current, target, event_type=None):
        self.call_uuid = call_uuid
        self.current = current
        self.target = target
        self.event_type = event_type
        were = current.value if current else "nothing"
        by = f" on {event_type}" if event_type else ""
        super().__init__(f"call {call_uuid} cannot go from {were} to {target.value}{by}")


def check_call_transition(call_uuid, current, target, event_type=None):
    """Raise InvalidCallTransition unless a call may go from ``current`` (None: new) to ``target``."""
    allowed = {CallState.RINGING} if current is None else CALL_TRANSITIONS[current]
    if target not in allowed:
        raise InvalidCallTransition(call_uuid, current, target, event_type)


def call_state_after(current, event):
    """The state a call in ``current`` (None: not yet started) is in after ``event``.

    Events that leave the state alone (recording, transfer) are accepted in any state, even
    after the end: a recording stops when the channel hangs up.
    """
    target = event.CALL_STATE
    if target is None:
        return current
    check_call_transition(event.call_uuid, current, target, event.TYPE)
    return target
