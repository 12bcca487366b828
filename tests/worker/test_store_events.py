"""fs_cc.store_events: each fact stored once, ended calls folded into their record, junk skipped."""

import datetime
import itertools
import logging
import threading

import pytest
import sqlalchemy as sa

from fs_cc import events
from fs_cc.events import HangupSide
from tests.web.support import count_rows
from web.calls.services import CallRecordService
from web.extensions import db
from web.facts.models import AgentChangeKind, AgentStateChange, CallEventFact
from web.worker import celery_init_app

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def store_events(app):
    """The fs_cc.store_events task of a Celery app built from ``app``."""
    celery_app = celery_init_app(app)
    yield celery_app.tasks[events.TASK_STORE_EVENTS]
    celery_app.close()


def iso(seconds):
    """T0 + ``seconds`` as the stored record's ISO text."""
    return (T0 + datetime.timedelta(seconds=seconds)).isoformat()


class Engine:
    """Stamps events as one engine does: its id, its next seq, a time T0 + seconds."""

    def __init__(self, name="engine-a"):
        self.name = name
        self._seq = itertools.count(1)

    def at(self, seconds, event_class, **fields):
        """An ``event_class`` event at T0 + ``seconds``, as ``events.to_dict`` sends it."""
        return events.to_dict(event_class(engine=self.name, seq=next(self._seq),
                                          ts=T0 + datetime.timedelta(seconds=seconds), **fields))


def sales_call(engine, uuid="call-1"):
    """welcome, menu, key 1, queue sales, agent 1000 answers and hangs up after 60 s."""
    call = {"call_uuid": uuid}
    return [
        engine.at(0, events.CallStarted, **call, did="+3222001100", caller_number="+32475000111"),
        engine.at(0.5, events.IvrNodeEntered, **call, flow="main", node="welcome"),
        engine.at(3, events.IvrNodeEntered, **call, flow="main", node="menu"),
        engine.at(6, events.IvrInput, **call, flow="main", node="menu", input="1",
                  result="option"),
        engine.at(6, events.IvrNodeEntered, **call, flow="main", node="sales"),
        engine.at(6.5, events.CallQueued, **call, queue="sales", priority=0, skills={},
                  position=1),
        engine.at(8, events.OfferedToAgent, **call, agent="1000", leg_uuid="leg-1",
                  queue="sales"),
        engine.at(11.5, events.AnsweredByAgent, **call, agent="1000", leg_uuid="leg-1"),
        engine.at(71.5, events.CallEnded, **call, side=HangupSide.AGENT,
                  cause="NORMAL_CLEARING"),
    ]


def sales_record(uuid="call-1"):
    """The record of :func:`sales_call` as the calls page and API show it."""
    return {"uuid": uuid, "caller_number": "+32475000111", "did": "+3222001100",
            "ivr_path": ["welcome", "menu", "menu:1", "sales"], "queue": "sales",
            "agent": "1000", "started_at": iso(0), "queued_at": iso(6.5),
            "answered_at": iso(11.5), "ended_at": iso(71.5), "hangup_cause": "NORMAL_CLEARING",
            "hangup_side": "agent", "wait_seconds": 5.0, "talk_seconds": 60.0, "flow": None,
            "flow_version": None}


def stored_record(app, uuid):
    """The stored call record of ``uuid`` as a dict, or None."""
    with app.app_context():
        row = CallRecordService(db.session).by_uuid(uuid)
        return None if row is None else row.to_dict()


def stored_events(app, uuid="call-1"):
    """(engine, seq, type) of the stored events of ``uuid``, in seq order."""
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            sa.select(CallEventFact.engine, CallEventFact.seq, CallEventFact.type)
            .where(CallEventFact.call_uuid == uuid)
            .order_by(CallEventFact.engine, CallEventFact.seq))]


def test_given_a_whole_call_when_stored_then_its_events_and_the_record_the_calls_page_shows(
        app, store_events):
    batch = sales_call(Engine())

    result = store_events.apply(args=[batch]).get()

    assert result == {"stored": 9, "duplicates": 0, "rejected": 0, "records": 1}
    assert stored_record(app, "call-1") == sales_record()
    assert [event_type for _, _, event_type in stored_events(app)] == [
        entry["type"] for entry in batch]
    with app.app_context():
        row = db.session.execute(
            sa.select(CallEventFact).where(CallEventFact.seq == 6)).scalar_one()
        assert (row.ts, events.decode(row.payload)) == (
            T0 + datetime.timedelta(seconds=6.5), events.from_dict(batch[5]))


def test_given_the_same_batch_twice_when_stored_then_each_event_and_the_record_once(
        app, store_events):
    batch = sales_call(Engine())

    store_events.apply(args=[batch]).get()
    again = store_events.apply(args=[batch + batch[:2]]).get()

    assert again == {"stored": 0, "duplicates": 11, "rejected": 0, "records": 1}
    assert len(stored_events(app)) == 9
    assert count_rows(app) == 1
    assert stored_record(app, "call-1") == sales_record()


def test_given_a_duplicate_inside_one_batch_when_stored_then_once(app, store_events):
    batch = sales_call(Engine())

    result = store_events.apply(args=[batch[:3] + batch[:3]]).get()

    assert (result["stored"], result["duplicates"]) == (3, 3)
    assert [seq for _, seq, _ in stored_events(app)] == [1, 2, 3]


def test_given_two_batches_in_reverse_order_when_stored_then_the_right_record(app, store_events):
    batch = sales_call(Engine())
    first_half, second_half = batch[:4], batch[4:]

    early = store_events.apply(args=[second_half]).get()  # holds the end, not the start
    assert (early["records"], stored_record(app, "call-1")) == (0, None)
    late = store_events.apply(args=[first_half]).get()

    assert late["records"] == 1
    assert stored_record(app, "call-1") == sales_record()


def test_given_a_call_not_ended_when_stored_then_no_record_until_its_end_arrives(
        app, store_events):
    batch = sales_call(Engine())

    before = store_events.apply(args=[batch[:-1]]).get()
    assert (before["stored"], before["records"]) == (8, 0)
    assert count_rows(app) == 0
    after = store_events.apply(args=[batch[-1:]]).get()

    assert (after["stored"], after["records"]) == (1, 1)
    assert stored_record(app, "call-1") == sales_record()


def test_given_a_call_adopted_by_another_engine_when_stored_then_folded_across_engines(
        app, store_events):
    first, second = Engine("engine-z"), Engine("engine-a")
    call = {"call_uuid": "call-7"}
    store_events.apply(args=[[
        first.at(0, events.CallStarted, **call, did="100", caller_number="200"),
        first.at(1, events.IvrNodeEntered, **call, flow="main", node="welcome"),
        first.at(2, events.CallQueued, **call, queue="sales", priority=0, skills={}, position=1),
    ]]).get()

    result = store_events.apply(args=[[
        second.at(30, events.CallAdopted, **call, previous_engine="engine-z", queue="sales"),
        second.at(40, events.AnsweredByAgent, **call, agent="1002", leg_uuid="leg-9"),
        second.at(100, events.CallEnded, **call, side=HangupSide.CALLER, cause="NORMAL_CLEARING"),
    ]]).get()

    assert result["records"] == 1
    record = stored_record(app, "call-7")
    assert (record["ivr_path"], record["queue"], record["agent"], record["hangup_side"]) == (
        ["welcome"], "sales", "1002", "caller")
    assert (record["wait_seconds"], record["talk_seconds"]) == (38.0, 60.0)


@pytest.mark.parametrize("spoil, field", [
    (lambda entry: dict(entry, side="nobody"), "side"),
    (lambda entry: {key: value for key, value in entry.items() if key != "cause"}, "cause"),
    (lambda entry: dict(entry, seq="nine"), "seq"),
    (lambda entry: dict(entry, ts="2026-03-02T08:01:11"), "ts"),
    (lambda entry: dict(entry, colour="red"), "colour"),
    (lambda entry: dict(entry, type="call.teleported"), "type"),
    (lambda entry: dict(entry, call_uuid="x" * 65), "call_uuid"),
    (lambda entry: "call.ended", "entry"),
])
def test_given_a_bad_entry_when_stored_then_logged_with_its_field_and_the_rest_stored(
        app, store_events, caplog, spoil, field):
    batch = sales_call(Engine())
    batch[-1] = spoil(batch[-1])

    with caplog.at_level(logging.ERROR, logger="web.facts.services"):
        result = store_events.apply(args=[batch])

    assert result.state == "SUCCESS"
    assert result.get() == {"stored": 8, "duplicates": 0, "rejected": 1, "records": 0}
    assert "event 8 of the batch" in caplog.text and f"field {field}:" in caplog.text
    assert [seq for _, seq, _ in stored_events(app)] == list(range(1, 9))
    assert count_rows(app) == 0


def test_given_agent_events_when_stored_twice_then_one_state_change_row_each(app, store_events):
    engine = Engine("engine-b")
    batch = [
        engine.at(0, events.AgentLoggedIn, agent="1000", queue="sales"),
        engine.at(0.1, events.AgentStatusChanged, agent="1000", old=events.AgentState.LOGGED_OUT,
                  new=events.AgentState.AVAILABLE, reason="login"),
        engine.at(50, events.AgentStatusChanged, agent="1000", old=events.AgentState.AVAILABLE,
                  new=events.AgentState.NOT_READY, reason="lunch"),
        engine.at(60, events.AgentLoggedOut, agent="1000", queue="sales"),
    ]

    first = store_events.apply(args=[batch]).get()
    second = store_events.apply(args=[batch]).get()

    assert first == {"stored": 4, "duplicates": 0, "rejected": 0, "records": 0}
    assert (second["stored"], second["duplicates"]) == (0, 4)
    with app.app_context():
        rows = db.session.execute(sa.select(AgentStateChange).order_by(AgentStateChange.seq))
        stored = [(r.engine, r.seq, r.agent, r.kind, r.old, r.new, r.queue, r.reason, r.ts)
                  for r in rows.scalars()]
    assert stored == [
        ("engine-b", 1, "1000", AgentChangeKind.LOGIN, None, None, "sales", None, T0),
        ("engine-b", 2, "1000", AgentChangeKind.STATUS, "logged_out", "available", None,
         "login", T0 + datetime.timedelta(seconds=0.1)),
        ("engine-b", 3, "1000", AgentChangeKind.STATUS, "available", "not_ready", None, "lunch",
         T0 + datetime.timedelta(seconds=50)),
        ("engine-b", 4, "1000", AgentChangeKind.LOGOUT, None, None, "sales", None,
         T0 + datetime.timedelta(seconds=60)),
    ]


def test_given_the_same_seq_from_two_engines_when_stored_then_both_kept(app, store_events):
    one = sales_call(Engine("engine-a"), uuid="call-1")
    other = sales_call(Engine("engine-b"), uuid="call-2")

    result = store_events.apply(args=[one + other]).get()

    assert (result["stored"], result["records"]) == (18, 2)
    assert stored_record(app, "call-2") == sales_record("call-2")


class TableLock:
    """Holds a real exclusive lock on the call events from another connection."""

    def __init__(self, app, dialect):
        self.app = app
        self.dialect = dialect
        self.connection = None

    def take(self):
        """Lock so that every statement of the task fails as if the database were down."""
        with self.app.app_context():
            self.connection = db.engine.raw_connection()
        cursor = self.connection.cursor()
        if self.dialect == "sqlite":
            self.connection.driver_connection.isolation_level = None
            cursor.execute("BEGIN EXCLUSIVE")
        else:
            cursor.execute("LOCK TABLE call_events IN ACCESS EXCLUSIVE MODE")

    def release(self):
        """Let the task through."""
        if self.connection is not None:
            self.connection.driver_connection.rollback()
            self.connection.close()
            self.connection = None


def test_given_a_busy_database_when_the_task_runs_then_it_retries_until_stored(
        app, dialect, store_events, caplog):
    batch = sales_call(Engine())
    lock = TableLock(app, dialect)
    failures = []
    released = threading.Event()

    def count_failure(context):
        failures.append(context.original_exception)
        if len(failures) == 3:
            lock.release()
            released.set()

    with app.app_context():
        sa.event.listen(db.engine, "handle_error", count_failure)
    lock.take()
    try:
        with caplog.at_level(logging.WARNING, logger="web.facts.tasks"):
            result = store_events.apply(args=[batch])
    finally:
        lock.release()
        with app.app_context():
            sa.event.remove(db.engine, "handle_error", count_failure)

    assert released.is_set()
    assert result.get() == {"stored": 9, "duplicates": 0, "rejected": 0, "records": 1}
    assert caplog.text.count("database unavailable") == 3
    assert len(stored_events(app)) == 9
    assert stored_record(app, "call-1") == sales_record()


def test_given_the_task_options_then_late_ack_requeue_on_worker_loss_and_no_retry_cap(
        app, store_events):
    assert store_events.name == "fs_cc.store_events"
    assert store_events.acks_late is True
    assert store_events.reject_on_worker_lost is True
    assert store_events.max_retries is None
    assert "fs_cc.record_call" in store_events.app.tasks  # old spools still drain
