"""Fact rules: reading an engine's batch of events, storing each once, folding ended calls.

An event is stored once by (engine, seq), whatever the number of deliveries. A call gets its
record (``web.calls``) once its ``CallEnded`` is stored, folded by ``fs_cc.journal`` from every
stored event of that call, from any engine and any batch, so events arriving out of order or
late still give the right record: each batch that touches a call folds it again.
"""

import dataclasses
import logging

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from fs_cc import events, journal
from web.callbacks.models import TEXT_LIMITS as CALLBACK_TEXT_LIMITS, CallbackEventFact
from web.callbacks.services import CallbackProjection
from web.calls.services import CallRecordService, parse_record
from web.errors import InvalidRecord, WebError
from web.facts.models import AgentChangeKind, AgentStateChange, CallEventFact
from web.messages.services import MessageService
from web.ivr.services import FlowVersionRecorder
from web.recordings.services import RecordingService

logger = logging.getLogger(__name__)

# Rows per INSERT and ids per IN (...): far below SQLite's oldest limit of 999 parameters.
CHUNK = 100
MAX_SEQ = 2 ** 63 - 1  # BIGINT
_TEXT_LIMITS = {"engine": 64, "call_uuid": 64, "agent": 32, "queue": 64, **CALLBACK_TEXT_LIMITS}
_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


class InvalidFact(WebError):
    """An event that decodes but cannot be stored (a value too long for its column)."""

    status = 400


@dataclasses.dataclass
class Rejected:
    """An entry of a batch that is not stored: where it was, the field at fault and why."""

    index: int
    field: str
    message: str


def parse_batch(batch):
    """The events of a batch of ``events.to_dict`` dicts, and the entries rejected (logged)."""
    if not isinstance(batch, list):
        logger.error("event batch rejected: field batch: expected a list, got %s",
                     type(batch).__name__)
        return [], [Rejected(0, "batch", "expected a list")]
    parsed, rejected = [], []
    for index, entry in enumerate(batch):
        try:
            event = _parse_entry(entry)
        except (events.EventError, InvalidFact) as exc:
            field, message = _fault(exc)
            where = _where(entry)
            logger.error("event %d of the batch%s rejected: field %s: %s", index, where, field,
                         message)
            rejected.append(Rejected(index, field, message))
            continue
        parsed.append(event)
    return parsed, rejected


def _parse_entry(entry):
    if not isinstance(entry, dict):
        raise InvalidFact(f"expected an object, got {type(entry).__name__}", field="entry")
    event = events.from_dict(entry)
    for field, limit in _TEXT_LIMITS.items():
        value = getattr(event, field, None)
        if isinstance(value, str) and len(value) > limit:
            raise InvalidFact(f"longer than {limit} characters", field=field)
    if not 0 <= event.seq <= MAX_SEQ:
        raise InvalidFact(f"{event.seq} is outside 0..{MAX_SEQ}", field="seq")
    if isinstance(event, events.AgentEvent) and type(event) not in _AGENT_KINDS:
        raise InvalidFact(f"no fact table for {event.TYPE}", field="type")
    return event


def _fault(exc):
    """(field, message) of a rejected entry's error."""
    if isinstance(exc, events.EventFieldError):
        return exc.field, exc.message
    if isinstance(exc, events.UnknownEventType):
        return "type", str(exc)
    if isinstance(exc, InvalidFact):
        return exc.field, exc.message
    return "entry", str(exc)


def _where(entry):
    if not isinstance(entry, dict):
        return ""
    names = ("engine", "seq", "call_uuid", "agent")
    known = [f"{name}={entry[name]!r}" for name in names if name in entry]
    return f" ({', '.join(known)})" if known else ""


@dataclasses.dataclass
class StoreResult:
    """What storing a batch did: new facts, facts already stored, entries refused, records."""

    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    records: int = 0

    def to_dict(self):
        """The task's result."""
        return dataclasses.asdict(self)


class FactService:
    """Stores facts and folds ended calls into their records, on one database session."""

    def __init__(self, session, records=None, senders=None):
        self.session = session
        self.records = records if records is not None else CallRecordService(session)
        self.senders = senders  # web.messages: who sends new SMS and voicemail notices

    def store(self, facts):
        """Insert the facts not stored yet, commit, then (re)build the records of ended calls."""
        call_rows = [_call_row(event) for event in facts if isinstance(event, events.CallEvent)]
        agent_rows = [_agent_row(event) for event in facts if isinstance(event, events.AgentEvent)]
        stored = self._insert_new(CallEventFact.__table__, call_rows)
        stored += self._insert_new(AgentStateChange.__table__, agent_rows)
        # callback events: their own fact table, folded into the requests in the same commit
        callback_rows = [_callback_row(event) for event in facts
                         if isinstance(event, events.CallbackEvent)]
        stored += self._insert_new(CallbackEventFact.__table__, callback_rows)
        CallbackProjection(self.session).rebuild({row["callback_id"] for row in callback_rows})
        RecordingService(self.session).apply(facts)  # the recordings table, in the same commit
        messages = MessageService(self.session, self.senders)
        messages.apply(facts)  # voicemail, SMS, surveys: in the same commit too
        self.session.commit()
        messages.dispatch()
        # flow texts the engines took into use: new ones become versions (their own commits)
        FlowVersionRecorder(self.session).apply(facts)
        result = StoreResult(stored=stored, duplicates=len(call_rows) + len(agent_rows)
                             + len(callback_rows) - stored)
        # a redelivered batch folds its calls again: the first delivery may have died before
        result.records = self.rebuild_records({row["call_uuid"] for row in call_rows})
        return result

    def _insert_new(self, table, rows):
        """INSERT ... ON CONFLICT (engine, seq) DO NOTHING; the number of rows inserted."""
        if not rows:
            return 0
        dialect = self.session.get_bind().dialect.name
        insert = _INSERTS.get(dialect)
        if insert is None:
            raise NotImplementedError(f"storing facts on {dialect} (only SQLite and PostgreSQL)")
        inserted = 0
        for start in range(0, len(rows), CHUNK):
            statement = (insert(table).values(rows[start:start + CHUNK])
                         .on_conflict_do_nothing(index_elements=["engine", "seq"])
                         .returning(table.c.id))
            inserted += len(self.session.execute(statement).all())
        return inserted

    def ended_calls(self, call_uuids):
        """Those of ``call_uuids`` whose CallEnded is stored."""
        ended = set()
        for chunk in _chunks(sorted(call_uuids)):
            ended.update(self.session.execute(
                sa.select(CallEventFact.call_uuid).distinct()
                .where(CallEventFact.call_uuid.in_(chunk),
                       CallEventFact.type == events.CallEnded.TYPE)).scalars())
        return ended

    def events_of(self, call_uuids):
        """Every stored event of ``call_uuids`` (from any engine), decoded; undecodable logged."""
        found = []
        for chunk in _chunks(sorted(call_uuids)):
            rows = self.session.execute(
                sa.select(CallEventFact.engine, CallEventFact.seq, CallEventFact.call_uuid,
                          CallEventFact.payload)
                .where(CallEventFact.call_uuid.in_(chunk))).all()
            for row in rows:
                try:
                    found.append(events.decode(row.payload))
                except events.EventError as exc:
                    # stored by an older worker, or the event's type changed since
                    logger.error("call %s: stored event %s#%s unreadable: %s", row.call_uuid,
                                 row.engine, row.seq, exc)
        return found

    def rebuild_records(self, call_uuids):
        """Fold and store the record of each ended call among ``call_uuids``; how many stored."""
        ended = self.ended_calls(call_uuids)
        stored = 0
        for uuid, call_events in sorted(journal.by_call(self.events_of(ended)).items()):
            try:
                values = parse_record(journal.fold(call_events).to_dict())
                values = FlowVersionRecorder(self.session).fill_version(values, call_events)
            except journal.NoCallStarted:
                # its start is in a batch still on its way: that batch will fold the call
                logger.info("call %s: ended but its start is not stored yet; no record", uuid)
                continue
            except InvalidRecord as exc:
                logger.error("call %s: folded record rejected: field %s: %s", uuid, exc.field,
                             exc.message)
                continue
            self.records.store(values)
            stored += 1
        return stored


def _chunks(items):
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def _call_row(event):
    return {"engine": event.engine, "seq": event.seq, "call_uuid": event.call_uuid,
            "type": event.TYPE, "ts": event.ts, "payload": events.encode(event)}


def _callback_row(event):
    return {"engine": event.engine, "seq": event.seq, "callback_id": event.callback_id,
            "type": event.TYPE, "ts": event.ts, "payload": events.encode(event)}


def _agent_row(event):
    row = {"engine": event.engine, "seq": event.seq, "agent": event.agent,
           "kind": _AGENT_KINDS[type(event)], "old": None, "new": None, "queue": None,
           "reason": None, "ts": event.ts}
    if isinstance(event, events.AgentStatusChanged):
        row.update(old=event.old.value, new=event.new.value, reason=event.reason)
    else:
        row["queue"] = event.queue
    return row


_AGENT_KINDS = {
    events.AgentStatusChanged: AgentChangeKind.STATUS,
    events.AgentLoggedIn: AgentChangeKind.LOGIN,
    events.AgentLoggedOut: AgentChangeKind.LOGOUT,
}
