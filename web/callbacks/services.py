"""Callback rules on the web side: the rows folded from the events, the list, cancel, reschedule.

The engines own the requests; the database shows them as their events tell (web.callbacks.fold).
Cancelling or rescheduling asks the engine (commands in); the event it answers with is stored at
once through the worker's own path (web.facts), so the page shows the change without waiting
for the worker, and the worker's copy of the same event is a duplicate.
"""

import dataclasses
import json
import logging
import typing

import sqlalchemy as sa

from fs_cc import events
from fs_cc.callbacks import OPEN_STATES, CallbackState
from fs_cc.control import ControlRefused, ControlUnavailable, commands
from web.callbacks.fold import NoRequest, fold
from web.calls.filters import _int, _text  # the call list's parameter readers
from web.callbacks.models import CallbackAttempt, CallbackEventFact, CallbackRequest
from web.errors import InvalidFilter, WebError
from web.sql import escape_like

logger = logging.getLogger(__name__)

CANCELLABLE = (CallbackState.PENDING,)
RESCHEDULABLE = (CallbackState.PENDING, CallbackState.FAILED, CallbackState.CANCELLED)


class NoSuchCallback(WebError):
    """No callback request has this id."""

    status = 404

    def __init__(self, callback_id):
        super().__init__(f"no callback {callback_id!r}", field="id")
        self.callback_id = callback_id


class CallbackConflict(WebError):
    """The request's state (or the engine) does not allow the change now."""

    status = 409


class EngineUnavailable(WebError):
    """The engine that holds callbacks did not answer; nothing was changed."""

    status = 503


# -- the rows, folded from the events ---------------------------------------------------------

class CallbackProjection:
    """Rebuilds callback_requests and callback_attempts from callback_events, on one session."""

    def __init__(self, session):
        self.session = session

    def rebuild(self, callback_ids):
        """Fold each callback's stored events into its rows (uncommitted); how many rebuilt."""
        rebuilt = 0
        for callback_id in sorted(callback_ids):
            self._lock(callback_id)
            try:
                folded = fold(self._events(callback_id))
            except NoRequest:
                # its request is in a batch still on its way: that batch folds it
                logger.info("callback %s: events stored before its request; not folded yet",
                            callback_id)
                continue
            self._write(folded)
            rebuilt += 1
        return rebuilt

    def _lock(self, callback_id):
        # two workers folding one callback at once: the second waits and reads the first's
        # events (SQLite's write lock, taken by the facts' INSERT, already serializes them)
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                                 {"key": f"fs_cc.callback:{callback_id}"})

    def _events(self, callback_id):
        found = []
        rows = self.session.execute(
            sa.select(CallbackEventFact.engine, CallbackEventFact.seq, CallbackEventFact.payload)
            .where(CallbackEventFact.callback_id == callback_id)).all()
        for row in rows:
            try:
                found.append(events.decode(row.payload))
            except events.EventError as exc:
                logger.error("callback %s: stored event %s#%s unreadable: %s", callback_id,
                             row.engine, row.seq, exc)
        return found

    def _write(self, folded):
        row = self.session.get(CallbackRequest, folded.id)
        if row is None:
            row = CallbackRequest(id=folded.id)
            self.session.add(row)
        for name in ("queue", "number", "caller_number", "call_uuid", "since", "priority",
                     "state", "attempts", "not_before", "reason", "agent", "result_call_uuid",
                     "engine", "requested_at", "finished_at"):
            setattr(row, name, getattr(folded, name))
        row.skills_json = json.dumps(folded.skills, sort_keys=True)
        existing = {attempt.number: attempt for attempt in row.attempt_rows}
        for attempt in folded.attempt_list:
            target = existing.pop(attempt.number, None)
            if target is None:
                target = CallbackAttempt(number=attempt.number)
                row.attempt_rows.append(target)
            for name in ("agent", "call_uuid", "started_at", "ended_at", "outcome", "cause",
                         "retry_at"):
                setattr(target, name, getattr(attempt, name))
        for stale in existing.values():
            row.attempt_rows.remove(stale)


# -- the list ---------------------------------------------------------------------------------

@dataclasses.dataclass
class CallbackFilters:
    """Which requests to list (states, queue, the number) and which slice."""

    states: typing.Tuple[CallbackState, ...] = ()
    queue: typing.Optional[str] = None
    number: typing.Optional[str] = None
    limit: int = 50
    offset: int = 0


def parse_filters(args, default_limit=50, max_limit=500):
    """CallbackFilters from query ``args``: state (comma-separated, or "open"), queue, number,
    limit, offset; InvalidFilter names the parameter at fault."""
    states = []
    for name in filter(None, (part.strip() for part in (args.get("state") or "").split(","))):
        if name == "open":
            states.extend(sorted(OPEN_STATES, key=lambda state: state.value))
            continue
        try:
            states.append(CallbackState(name))
        except ValueError:
            known = ", ".join(["open"] + [state.value for state in CallbackState])
            raise InvalidFilter(f"state: {name!r} is not one of {known}", field="state") from None
    return CallbackFilters(tuple(dict.fromkeys(states)), _text(args, "queue"),
                           _text(args, "number"),
                           _int(args, "limit", default_limit, 1, max_limit),
                           _int(args, "offset", 0, 0))


class CallbackQueries:
    """Reads the callback requests."""

    def __init__(self, session):
        self.session = session

    def get(self, callback_id):
        """One request (NoSuchCallback)."""
        row = self.session.get(CallbackRequest, callback_id)
        if row is None:
            raise NoSuchCallback(callback_id)
        return row

    def search(self, filters):
        """(rows, total) matching ``filters``: open ones first by their place, then newest."""
        query = sa.select(CallbackRequest)
        if filters.states:
            query = query.where(CallbackRequest.state.in_(filters.states))
        if filters.queue:
            query = query.where(CallbackRequest.queue == filters.queue)
        if filters.number:
            query = query.where(CallbackRequest.number.like(
                f"%{escape_like(filters.number)}%", escape="\\"))
        total = self.session.execute(
            sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
        is_open = sa.case((CallbackRequest.state.in_(OPEN_STATES), 0), else_=1)
        rows = self.session.execute(
            query.order_by(is_open, sa.case((is_open == 0, CallbackRequest.since)),
                           CallbackRequest.requested_at.desc())
            .limit(filters.limit).offset(filters.offset)).scalars().all()
        return rows, total

    def open_requests(self):
        """Every pending or in-progress request, by its place (what the beat task re-sends)."""
        return self.session.execute(
            sa.select(CallbackRequest).where(CallbackRequest.state.in_(OPEN_STATES))
            .order_by(CallbackRequest.since)).scalars().all()

    def queue_names(self):
        """The queues callbacks were asked for (the page's filter)."""
        return self.session.execute(
            sa.select(CallbackRequest.queue).distinct().order_by(CallbackRequest.queue)
        ).scalars().all()


def queue_command(row, command_class=commands.QueueCallback, **fields):
    """The command (callback.queue by default) that hands the stored request to an engine."""
    values = {"callback_id": row.id, "queue": row.queue, "number": row.number,
              "since": row.since, "priority": row.priority, "skills": row.skills,
              "call_uuid": row.call_uuid, "attempts": row.attempts,
              "not_before": row.not_before}
    values.update(fields)
    return command_class(**values)


# -- what the web states itself ----------------------------------------------------------------

# the source ("engine") of the facts the web states itself: engine ids are "<host>-<hex>"
WEB_SOURCE = "web"
SEQ_TRIES = 5


class CallbackFailures:
    """States that a request failed when no engine can say so (its queue no longer exists).

    The failure is a ``CallbackFailed`` fact of the source ``web``, stored and folded like the
    engines' facts (``store_facts(events)`` returns web.facts' StoreResult), so rebuilding the
    request from its events keeps it failed. Its seq is the source's next one; two workers that
    take the same seq at once both try, one is stored, the other takes the next.
    """

    def __init__(self, session, store_facts, clock=events.utcnow):
        self.session = session
        self.store_facts = store_facts
        self.clock = clock

    def fail(self, row, reason):
        """Mark ``row`` failed with ``reason``; the event stored."""
        for _ in range(SEQ_TRIES):
            event = events.CallbackFailed(engine=WEB_SOURCE, seq=self._last_seq() + 1,
                                          ts=self.clock(), callback_id=row.id, reason=reason,
                                          attempts=row.attempts)
            if self.store_facts([event]).stored:
                logger.info("callback %s: failed: %s", event.callback_id, reason)
                return event
        raise CallbackConflict(f"callback {row.id}: no free seq for the web's fact after "
                               f"{SEQ_TRIES} tries", field="seq")

    def _last_seq(self):
        return self.session.execute(
            sa.select(sa.func.max(CallbackEventFact.seq))
            .where(CallbackEventFact.engine == WEB_SOURCE)).scalar() or 0


# -- what supervisors change ------------------------------------------------------------------

class CallbackActions:
    """Cancel and reschedule through the engine; ``store_events(facts)`` keeps its answer."""

    def __init__(self, session, control, store_events):
        self.queries = CallbackQueries(session)
        self.control = control
        self.store_events = store_events

    def cancel(self, callback_id, by):
        """Cancel a pending request; returns its row after the change."""
        row = self.queries.get(callback_id)
        if row.state not in CANCELLABLE:
            raise CallbackConflict(f"callback {callback_id} is {row.state.value}: only a pending "
                                   "callback can be cancelled", field="state")
        self._send(commands.CancelCallback(callback_id=callback_id, by=by))
        return self.queries.get(callback_id)

    def reschedule(self, callback_id, not_before, by):
        """Try a pending, failed or cancelled request again from ``not_before`` (aware)."""
        row = self.queries.get(callback_id)
        if row.state not in RESCHEDULABLE:
            raise CallbackConflict(f"callback {callback_id} is {row.state.value}: it cannot be "
                                   "rescheduled", field="state")
        # a failed or cancelled one gets its attempts again; a pending one keeps its count
        attempts = row.attempts if row.state is CallbackState.PENDING else 0
        self._send(queue_command(row, commands.RescheduleCallback, attempts=attempts,
                                 not_before=not_before, by=by))
        return self.queries.get(callback_id)

    def _send(self, command):
        try:
            answer = self.control.execute(command)
        except ControlUnavailable as exc:
            logger.warning("callback %s: %s not sent: %s", command.callback_id, command.TYPE,
                           exc.reason)
            raise EngineUnavailable("the engine did not answer; nothing was changed, try again",
                                    field=None) from exc
        except ControlRefused as exc:
            raise CallbackConflict(f"the engine refused: {exc.error}", field=exc.field or "id",
                                   status=exc.status if exc.status in (404, 409) else 409) from exc
        event = answer.get("event") if isinstance(answer, dict) else None
        if event is not None:
            self.store_events([event])
        return answer
