"""Folds a call's events into its record (``fs_cc.calls.CallRecord``), the one the calls page shows.

The events of one call are taken in (ts, engine, seq) order, whatever order they are given in,
and each changes the record so:

- ``CallStarted``: ``uuid``, ``caller_number``, ``did``; ``started_at`` is its ts (the first one
  counts: a call has one start).
- ``IvrNodeEntered``: its node is appended to ``ivr_path``.
- ``IvrInput``: ``"<node>:<input>"`` is appended when its result is ``"option"``, else
  ``"<node>:<result>"`` (``"menu:timeout"``, ``"menu:invalid"``), so the path reads as
  ``fs_cc.ivr.runner`` describes it: ``["welcome", "menu", "menu:1", "sales"]``.
- ``FlowStarted``: the first one gives ``flow`` and ``flow_version`` (the flow the number ran).
- ``CallQueued``: ``queue`` is the latest queue; ``queued_at`` the ts of the first one.
- ``QueueLeft``: names the ``queue`` when none is set yet (a queue refused at runtime, unknown or
  full, still names the queue on the record, with no ``queued_at``).
- ``AnsweredByAgent``: the first answer gives ``agent`` and ``answered_at`` (its ts).
- ``CallEnded``: ``ended_at`` (its ts), ``hangup_side`` and ``hangup_cause``; the first one counts
  (a restarted engine may end, as lost, a call whose own end arrived later).
- Every other event leaves the record alone.

``wait_seconds`` and ``talk_seconds`` follow from the times, as the record computes them. Pure: no
I/O; only the events module and the record.
"""

from fs_cc import events
from fs_cc.calls import CallRecord
from fs_cc.errors import FsCcError


class JournalError(FsCcError):
    """Base of the errors about folding events into a call record."""


class MixedCalls(JournalError):
    """The events given as one call's are of several calls."""

    def __init__(self, call_uuids):
        self.call_uuids = tuple(sorted(call_uuids))
        super().__init__(f"events of several calls given as one: {', '.join(self.call_uuids)}")


class NoCallStarted(JournalError):
    """A call's events hold no CallStarted (``call_uuid`` is None when there is no event at all)."""

    def __init__(self, call_uuid):
        self.call_uuid = call_uuid
        what = f"call {call_uuid}" if call_uuid else "no call event"
        super().__init__(f"{what}: no {events.CallStarted.TYPE} event to start its record from")


def event_order(event):
    """The key events of a call are folded in: (ts, engine, seq)."""
    return (event.ts, event.engine, event.seq)


def fold(call_events):
    """The CallRecord the events of ONE call describe (rules in the module docstring).

    Events that are not about a call (agent events) are left out. Raises MixedCalls when the
    events are of several calls, NoCallStarted when none starts the call.
    """
    ordered = sorted((event for event in call_events if isinstance(event, events.CallEvent)),
                     key=event_order)
    uuids = {event.call_uuid for event in ordered}
    if len(uuids) > 1:
        raise MixedCalls(uuids)
    start = next((event for event in ordered if isinstance(event, events.CallStarted)), None)
    if start is None:
        raise NoCallStarted(next(iter(uuids), None))
    record = CallRecord(uuid=start.call_uuid, caller_number=start.caller_number, did=start.did,
                        started_at=start.ts)
    for event in ordered:  # the first CallStarted built the record; a repeated one changes nothing
        apply = _RULES.get(type(event))
        if apply is not None:
            apply(record, event)
    return record


def by_call(any_events):
    """{call_uuid: [its events]} of the call events among ``any_events`` (agent events left out)."""
    calls = {}
    for event in any_events:
        if isinstance(event, events.CallEvent):
            calls.setdefault(event.call_uuid, []).append(event)
    return calls


def fold_many(any_events):
    """{call_uuid: CallRecord} for the calls of ``any_events`` (several calls, any order).

    Raises NoCallStarted for the first call (by uuid) whose start is missing; fold the groups of
    :func:`by_call` one by one to go on past such a call.
    """
    calls = by_call(any_events)
    return {uuid: fold(calls[uuid]) for uuid in sorted(calls)}


# -- the rules, one per event type that changes the record ------------------------------------

def _node_entered(record, event):
    record.ivr_path.append(event.node)


def _input(record, event):
    what = event.input if event.result == "option" else event.result
    record.ivr_path.append(f"{event.node}:{what}")


def _queued(record, event):
    record.queue = event.queue
    if record.queued_at is None:
        record.queued_at = event.ts


def _queue_left(record, event):
    if record.queue is None:
        record.queue = event.queue


def _answered(record, event):
    if record.answered_at is None:
        record.agent = event.agent
        record.answered_at = event.ts


def _ended(record, event):
    if record.ended_at is None:
        record.ended_at = event.ts
        record.hangup_side = event.side
        record.hangup_cause = event.cause


def _flow_started(record, event):
    if record.flow is None:
        record.flow = event.flow
        record.flow_version = event.version


_RULES = {
    events.FlowStarted: _flow_started,
    events.IvrNodeEntered: _node_entered,
    events.IvrInput: _input,
    events.CallQueued: _queued,
    events.QueueLeft: _queue_left,
    events.AnsweredByAgent: _answered,
    events.CallEnded: _ended,
}
