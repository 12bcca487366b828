"""Folds one callback's events into its request and attempts, as ``fs_cc.journal`` does for calls.

The events are taken in (ts, engine, seq) order whatever order they arrived in; each moves the
request along the state machine of fs_cc.callbacks (a move it forbids, such as a late attempt
after the request completed, is logged and left out). Pure: no database.

- ``CallbackRequested`` starts it (pending): queue, number, since, priority, skills.
- ``CallbackQueued`` (an engine took it over after a restart): pending again, its next try
  kept; an attempt left open by the engine that stopped is closed as interrupted.
- ``CallbackDispatched`` opens an attempt (in progress); ``CallbackAttempted`` closes it with its
  outcome and cause, and the request is pending again until ``retry_at``.
- ``CallbackCompleted``, ``CallbackFailed``, ``CallbackCancelled`` end it;
  ``CallbackRescheduled`` makes it pending from ``not_before`` with the attempts it gives.
"""

import dataclasses
import datetime
import logging
import typing

from fs_cc import events
from fs_cc.callbacks import AttemptOutcome, CallbackState, may_move

logger = logging.getLogger(__name__)


class NoRequest(Exception):
    """A callback's events hold no CallbackRequested (it is in a batch still on its way)."""

    def __init__(self, callback_id):
        self.callback_id = callback_id
        super().__init__(f"callback {callback_id}: no {events.CallbackRequested.TYPE} event")


@dataclasses.dataclass
class Attempt:
    """One attempt as folded."""

    number: int
    agent: str
    call_uuid: str
    started_at: datetime.datetime
    ended_at: typing.Optional[datetime.datetime] = None
    outcome: typing.Optional[AttemptOutcome] = None
    cause: typing.Optional[str] = None
    retry_at: typing.Optional[datetime.datetime] = None


@dataclasses.dataclass
class Folded:
    """A callback request as its events tell it (the columns of web.callbacks.models)."""

    id: str
    queue: str
    number: str
    caller_number: str
    call_uuid: str
    since: datetime.datetime
    priority: int
    skills: dict
    requested_at: datetime.datetime
    engine: str
    state: CallbackState = CallbackState.PENDING
    attempts: int = 0
    not_before: typing.Optional[datetime.datetime] = None
    reason: typing.Optional[str] = None
    agent: typing.Optional[str] = None
    result_call_uuid: typing.Optional[str] = None
    finished_at: typing.Optional[datetime.datetime] = None
    attempt_list: typing.List[Attempt] = dataclasses.field(default_factory=list)

    def attempt(self, call_uuid):
        """The attempt on ``call_uuid``, or None."""
        return next((a for a in self.attempt_list if a.call_uuid == call_uuid), None)


def order(event):
    """The key a callback's events are folded in."""
    return (event.ts, event.engine, event.seq)


def fold(callback_events):
    """The Folded request of ONE callback's events (NoRequest without its CallbackRequested)."""
    ordered = sorted(callback_events, key=order)
    start = next((e for e in ordered if isinstance(e, events.CallbackRequested)), None)
    if start is None:
        raise NoRequest(ordered[0].callback_id if ordered else None)
    request = Folded(start.callback_id, start.queue, start.number, start.caller_number,
                     start.call_uuid, start.since, start.priority, dict(start.skills), start.ts,
                     start.engine)
    for event in ordered:
        apply = _RULES.get(type(event))
        if apply is None:
            continue
        target = target_state(event)
        if target is not None and not may_move(request.state, target):
            logger.warning("callback %s: %s (%s#%s) would move it from %s to %s; left out",
                           request.id, event.TYPE, event.engine, event.seq,
                           request.state.value, target.value)
            continue
        apply(request, event)
        if target is not None:
            request.state = target
        request.engine = event.engine
    return request


def _requested(request, event):
    pass  # the start made the request


INTERRUPTED = "interrupted: the engine stopped during the attempt"


def _queued(request, event):
    # an engine took the re-sent request back after a restart. It holds it until the
    # not_before the worker sent, which is the one folded so far: kept. An attempt that was
    # running when the old engine died ended with it.
    for attempt in request.attempt_list:
        if attempt.ended_at is None:
            attempt.ended_at, attempt.cause = event.ts, INTERRUPTED


def _dispatched(request, event):
    request.not_before = None
    request.agent = event.agent
    if request.attempt(event.call_uuid) is None:
        request.attempt_list.append(Attempt(len(request.attempt_list) + 1, event.agent,
                                            event.call_uuid, event.ts))


def _attempted(request, event):
    attempt = request.attempt(event.call_uuid)
    if attempt is None:  # its dispatch is lost: the attempt still counts, from its end
        attempt = Attempt(len(request.attempt_list) + 1, event.agent, event.call_uuid, event.ts)
        request.attempt_list.append(attempt)
    attempt.ended_at, attempt.outcome, attempt.cause = event.ts, event.outcome, event.cause
    attempt.retry_at = event.retry_at
    request.attempts = event.attempts
    request.not_before = event.retry_at


def _completed(request, event):
    request.agent, request.result_call_uuid = event.agent, event.call_uuid
    request.attempts, request.finished_at, request.not_before = event.attempts, event.ts, None


def _failed(request, event):
    request.reason, request.attempts = event.reason, event.attempts
    request.finished_at, request.not_before = event.ts, None


def _cancelled(request, event):
    request.reason = f"cancelled by {event.by}" if event.by else "cancelled"
    request.finished_at, request.not_before = event.ts, None


def _rescheduled(request, event):
    request.not_before, request.attempts = event.not_before, event.attempts
    request.reason = request.finished_at = None


def target_state(event):
    """The state an event moves its request to (None: leaves it alone)."""
    if isinstance(event, events.CallbackAttempted):
        # connected: the CallbackCompleted that follows ends it; else it waits again
        return None if event.outcome is AttemptOutcome.CONNECTED else CallbackState.PENDING
    return _TARGETS.get(type(event))


S = CallbackState
_TARGETS = {events.CallbackQueued: S.PENDING, events.CallbackDispatched: S.IN_PROGRESS,
            events.CallbackCompleted: S.COMPLETED, events.CallbackFailed: S.FAILED,
            events.CallbackCancelled: S.CANCELLED, events.CallbackRescheduled: S.PENDING}
del S
_RULES = {
    events.CallbackRequested: _requested,
    events.CallbackQueued: _queued,
    events.CallbackDispatched: _dispatched,
    events.CallbackAttempted: _attempted,
    events.CallbackCompleted: _completed,
    events.CallbackFailed: _failed,
    events.CallbackCancelled: _cancelled,
    events.CallbackRescheduled: _rescheduled,
}
