"""Callbacks when all agents are busy (遇忙回拨): their states, how an attempt ends, the retry policy.

A caller who would rather not wait leaves a number; the request keeps the caller's place (the
original queue time, priority and skills) and an agent of the queue calls back: the agent's phone
rings first, then the customer's. Engine, worker and web share this module. Pure: no I/O.
"""

import dataclasses
import enum
import re
import typing

from fs_cc.errors import ConfigError, FsCcError


class CallbackState(enum.Enum):
    """Where a callback request is."""

    PENDING = "pending"  # in line, or waiting for its time (a retry, a reschedule)
    IN_PROGRESS = "in_progress"  # an attempt runs: the agent's or the customer's phone rings
    COMPLETED = "completed"  # the customer and an agent were connected
    FAILED = "failed"  # every attempt failed (or it could not be tried): ``reason`` says why
    CANCELLED = "cancelled"  # a supervisor cancelled it


S = CallbackState
TRANSITIONS = {
    # rescheduled while pending; dispatched to an agent; cancelled; failed (its queue went away)
    S.PENDING: frozenset({S.PENDING, S.IN_PROGRESS, S.CANCELLED, S.FAILED}),
    # back in line (agent missed, retry later); connected; no attempts left
    S.IN_PROGRESS: frozenset({S.PENDING, S.COMPLETED, S.FAILED}),
    S.COMPLETED: frozenset(),
    # a supervisor may try a failed or cancelled callback again (rescheduled: pending)
    S.FAILED: frozenset({S.PENDING}),
    S.CANCELLED: frozenset({S.PENDING}),
}
del S
OPEN_STATES = frozenset({CallbackState.PENDING, CallbackState.IN_PROGRESS})


class CallbackError(FsCcError):
    """Base of the errors about callbacks; ``field`` names what is at fault."""

    field = None


class InvalidCallbackTransition(CallbackError):
    """A callback may not move from its state to the one asked."""

    field = "state"

    def __init__(self, callback_id, current, target):
        self.callback_id = callback_id
        self.current = current
        self.target = target
        super().__init__(f"callback {callback_id} is {current.value}; it cannot become "
                         f"{target.value}")


class InvalidNumber(CallbackError):
    """A number to call back that is not one (``field``: where it came from)."""

    def __init__(self, value, reason, field="number"):
        self.value = value
        self.reason = reason
        self.field = field
        super().__init__(f"{field}: {value!r} is not a number to call back: {reason}")


def check_transition(callback_id, current, target):
    """Raise InvalidCallbackTransition unless ``current`` -> ``target`` is allowed."""
    if target not in TRANSITIONS[current]:
        raise InvalidCallbackTransition(callback_id, current, target)


def may_move(current, target):
    """Whether a callback in ``current`` may move to ``target``."""
    return target in TRANSITIONS[current]


class AttemptOutcome(enum.Enum):
    """How one attempt ended, on the agent's side (rung first) or on the customer's."""

    CONNECTED = "connected"  # customer answered and was bridged to the agent
    NO_ANSWER = "no_answer"  # the customer did not answer
    BUSY = "busy"  # the customer's line was busy
    FAILED = "failed"  # the customer's call failed otherwise (network, number, bridge)
    AGENT_NO_ANSWER = "agent_no_answer"  # the agent did not answer: back in line at its place
    AGENT_FAILED = "agent_failed"  # the agent's phone failed, or the agent hung up first

    @property
    def customer_side(self):
        """Whether the customer was called (and the attempt counts towards the policy)."""
        return self not in (AttemptOutcome.AGENT_NO_ANSWER, AttemptOutcome.AGENT_FAILED)

    @classmethod
    def of_customer(cls, cause):
        """The outcome a failed customer call's FreeSWITCH cause means ("USER_BUSY", "-ERR ...")."""
        return _CUSTOMER_OUTCOMES.get(bare_cause(cause), cls.FAILED)


_CUSTOMER_OUTCOMES = {
    "NO_ANSWER": AttemptOutcome.NO_ANSWER,
    "NO_USER_RESPONSE": AttemptOutcome.NO_ANSWER,
    "ALLOTTED_TIMEOUT": AttemptOutcome.NO_ANSWER,
    "ORIGINATOR_CANCEL": AttemptOutcome.NO_ANSWER,  # our originate timeout gave up ringing
    "USER_BUSY": AttemptOutcome.BUSY,
}
# causes that another try cannot change: the number is wrong, so the request fails at once
FINAL_CAUSES = frozenset({"UNALLOCATED_NUMBER", "INVALID_NUMBER_FORMAT", "NUMBER_CHANGED",
                          "NO_ROUTE_DESTINATION", "INCOMPATIBLE_DESTINATION"})


def bare_cause(cause):
    """A hangup cause without the "-ERR " a failed originate answers with, upper case."""
    text = (cause or "").strip().upper()
    return text[4:].strip() if text.startswith("-ERR") else text


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How often and when a customer who did not answer is called again.

    ``max_attempts`` counts calls to the customer, the first included; ``delays`` are the seconds
    before the 2nd, 3rd... call (the last one repeats). An agent who does not answer costs no
    attempt: the request goes back in line at once, at its place.
    """

    max_attempts: int = 3
    delays: typing.Tuple[float, ...] = (120.0, 600.0)

    def __post_init__(self):
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int) \
                or self.max_attempts < 1:
            raise ConfigError(f"callback_max_attempts must be a whole number of at least 1, "
                              f"not {self.max_attempts!r}")
        if not self.delays or any(delay < 0 for delay in self.delays):
            raise ConfigError(f"callback_retry_delays must be seconds, none negative, not "
                              f"{self.delays!r}")

    @classmethod
    def parse(cls, max_attempts, delays):
        """A policy from settings: ``delays`` as "120,600" or a list of seconds."""
        if isinstance(delays, str):
            try:
                delays = [float(part) for part in delays.split(",") if part.strip()]
            except ValueError:
                raise ConfigError(f"callback_retry_delays must be seconds separated by commas, "
                                  f"not {delays!r}") from None
        return cls(max_attempts, tuple(float(delay) for delay in delays))

    def retry_delay(self, outcome, cause, attempts):
        """Seconds until the next call after ``attempts`` customer calls ended so; None: give up."""
        if not outcome.customer_side:
            return 0.0
        if outcome is AttemptOutcome.CONNECTED or bare_cause(cause) in FINAL_CAUSES:
            return None
        if attempts >= self.max_attempts:
            return None
        return self.delays[min(attempts, len(self.delays)) - 1]


NUMBER_RE = re.compile(r"^\+?[0-9]+$")
MIN_DIGITS = 3
MAX_DIGITS = 20


def normalize_number(value, field="number", min_digits=MIN_DIGITS, max_digits=MAX_DIGITS):
    """The number to call back as digits (an optional leading +); InvalidNumber names ``field``.

    Spaces, dashes, dots and brackets people write are dropped; anything else is refused, so a
    dial string never gets a character FreeSWITCH would read as syntax.
    """
    if not isinstance(value, str):
        raise InvalidNumber(value, "needs a text of digits", field)
    text = re.sub(r"[\s().-]", "", value)
    if not NUMBER_RE.match(text):
        raise InvalidNumber(value, "only digits and a leading + are allowed", field)
    digits = len(text.lstrip("+"))
    if not min_digits <= digits <= max_digits:
        raise InvalidNumber(value, f"needs {min_digits} to {max_digits} digits, has {digits}",
                            field)
    return text


def is_callable_number(value):
    """Whether a caller id is a number one can call back (not empty, anonymous or all zeros)."""
    try:
        number = normalize_number(value or "")
    except InvalidNumber:
        return False
    return number.strip("+0") != ""
