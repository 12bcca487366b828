"""The facts of a callback request (遇忙回拨: fs_cc.callbacks; stored by web.callbacks)."""

import dataclasses
import datetime
import types
import typing

from fs_cc.callbacks import AttemptOutcome
from fs_cc.events.base import Event, _event

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
