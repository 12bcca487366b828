"""Callbacks in the worker: events stored once and folded into requests, and the beat task that
hands open requests back to the engines (SQLite and PostgreSQL)."""

import datetime
import threading

import pytest
import sqlalchemy as sa

from fs_cc import events
from fs_cc.acd.callbacks import to_epoch
from fs_cc.callbacks import AttemptOutcome
from fs_cc.control import ControlServer
from tests.web.support import (BASE_TIME as T0, CALLBACK_NUMBER as NUMBER, CONTROL_SECRET,
                               CallbackEngine, CallbackFacts as Engine, EngineBackend, app_on,
                               closed_port, database_url_for, dispose)
from web.callbacks.models import CallbackEventFact, CallbackRequest
from web.callbacks.tasks import TASK_DISPATCH_PENDING, beat_schedule
from web.extensions import db
from web.worker import celery_init_app

def at(seconds):
    """T0 + ``seconds``."""
    return T0 + datetime.timedelta(seconds=seconds)


def busy_then_connected(engine):
    """Asked at 0; agent 1000 calls at 10, the customer is busy; agent 1001 at 140, connected."""
    return [
        engine.requested(),
        engine.at(10, events.CallbackDispatched, agent="1000", call_uuid="att-1",
                  leg_uuid="leg-1", attempt=1),
        engine.at(15, events.CallbackAttempted, agent="1000", call_uuid="att-1",
                  outcome=AttemptOutcome.BUSY, cause="USER_BUSY", attempts=1, retry_at=at(135)),
        engine.at(140, events.CallbackDispatched, agent="1001", call_uuid="att-2",
                  leg_uuid="leg-2", attempt=2),
        engine.at(150, events.CallbackAttempted, agent="1001", call_uuid="att-2",
                  outcome=AttemptOutcome.CONNECTED, cause="", attempts=2),
        engine.at(150, events.CallbackCompleted, agent="1001", call_uuid="att-2", attempts=2),
    ]


COMPLETED = {
    "id": "cb-1", "queue": "sales", "number": NUMBER, "caller_number": "02155550000",
    "call_uuid": "call-1", "since": at(-60).isoformat(), "priority": 2, "skills": {"fr": 3},
    "state": "completed", "attempts": 2, "not_before": None, "reason": None, "agent": "1001",
    "result_call_uuid": "att-2", "engine": "engine-a", "requested_at": at(0).isoformat(),
    "finished_at": at(150).isoformat(),
    "attempt_list": [
        {"number": 1, "agent": "1000", "call_uuid": "att-1", "started_at": at(10).isoformat(),
         "ended_at": at(15).isoformat(), "outcome": "busy", "cause": "USER_BUSY",
         "retry_at": at(135).isoformat()},
        {"number": 2, "agent": "1001", "call_uuid": "att-2", "started_at": at(140).isoformat(),
         "ended_at": at(150).isoformat(), "outcome": "connected", "cause": "",
         "retry_at": None}]}


@pytest.fixture
def store_events(app):
    """The fs_cc.store_events task of a Celery app built from ``app``."""
    celery_app = celery_init_app(app)
    yield celery_app.tasks[events.TASK_STORE_EVENTS]
    celery_app.close()


def request_of(app, callback_id="cb-1"):
    """The stored request as the API shows it, or None."""
    with app.app_context():
        row = db.session.get(CallbackRequest, callback_id)
        return None if row is None else row.to_dict()


# -- folding --------------------------------------------------------------------------------

def test_given_a_busy_customer_then_a_connected_call_when_stored_then_completed_with_attempts(
        app, store_events):
    result = store_events.apply(args=[busy_then_connected(Engine())]).get()

    assert result["stored"] == 6 and result["duplicates"] == 0
    assert request_of(app) == COMPLETED


def test_given_each_event_delivered_alone_in_reverse_order_then_the_same_request(
        app, store_events):
    for entry in reversed(busy_then_connected(Engine())):
        store_events.apply(args=[[entry]]).get()

    assert request_of(app) == COMPLETED


def test_given_a_batch_delivered_twice_then_each_event_stored_once_and_the_same_request(
        app, store_events):
    batch = busy_then_connected(Engine())
    store_events.apply(args=[batch]).get()

    again = store_events.apply(args=[batch]).get()

    assert (again["stored"], again["duplicates"]) == (0, 6)
    assert request_of(app) == COMPLETED
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(
            CallbackEventFact)).scalar_one() == 6


def test_given_events_before_their_request_when_stored_then_folded_once_the_request_arrives(
        app, store_events):
    batch = busy_then_connected(Engine())
    store_events.apply(args=[batch[1:3]]).get()
    assert request_of(app) is None  # nothing to show without the request

    store_events.apply(args=[batch[:1]]).get()

    request = request_of(app)
    assert (request["state"], request["attempts"], request["not_before"]) == (
        "pending", 1, at(135).isoformat())
    assert [(a["outcome"], a["cause"]) for a in request["attempt_list"]] == [("busy",
                                                                              "USER_BUSY")]


def test_given_a_customer_who_never_answers_when_attempts_run_out_then_failed_with_the_cause(
        app, store_events):
    engine = Engine()
    batch = [engine.requested()]
    for n, start in enumerate((10, 100, 200), start=1):
        batch += [engine.at(start, events.CallbackDispatched, agent="1000", call_uuid=f"att-{n}",
                            leg_uuid=f"leg-{n}", attempt=n),
                  engine.at(start + 45, events.CallbackAttempted, agent="1000",
                            call_uuid=f"att-{n}", outcome=AttemptOutcome.NO_ANSWER,
                            cause="NO_ANSWER", attempts=n,
                            retry_at=None if n == 3 else at(start + 50))]
    batch.append(engine.at(245, events.CallbackFailed, reason="NO_ANSWER", attempts=3))

    store_events.apply(args=[batch]).get()

    request = request_of(app)
    assert (request["state"], request["reason"], request["attempts"]) == ("failed", "NO_ANSWER",
                                                                          3)
    assert (request["finished_at"], request["not_before"]) == (at(245).isoformat(), None)
    assert [a["outcome"] for a in request["attempt_list"]] == ["no_answer"] * 3


def test_given_an_agent_who_misses_then_the_attempt_costs_nothing_and_the_request_waits(
        app, store_events):
    engine = Engine()
    store_events.apply(args=[[
        engine.requested(),
        engine.at(10, events.CallbackDispatched, agent="1000", call_uuid="att-1",
                  leg_uuid="leg-1", attempt=1),
        engine.at(30, events.CallbackAttempted, agent="1000", call_uuid="att-1",
                  outcome=AttemptOutcome.AGENT_NO_ANSWER, cause="NO_ANSWER", attempts=0)]]).get()

    request = request_of(app)
    assert (request["state"], request["attempts"], request["not_before"]) == ("pending", 0, None)
    assert request["attempt_list"][0]["outcome"] == "agent_no_answer"


def test_given_an_attempt_running_when_an_engine_takes_the_request_over_then_it_is_interrupted(
        app, store_events):
    engine = Engine()
    store_events.apply(args=[[
        engine.requested(),
        engine.at(10, events.CallbackDispatched, agent="1000", call_uuid="att-1",
                  leg_uuid="leg-1", attempt=1)]]).get()
    assert request_of(app)["state"] == "in_progress"

    # the engine died during the attempt; restarted, it took the re-sent request back
    store_events.apply(args=[[engine.at(40, events.CallbackQueued, queue="sales")]]).get()

    request = request_of(app)
    assert (request["state"], request["attempts"]) == ("pending", 0)
    attempt, = request["attempt_list"]
    assert (attempt["ended_at"], attempt["outcome"]) == (at(40).isoformat(), None)
    assert "engine" in attempt["cause"]


def test_given_a_request_waiting_for_its_retry_when_taken_over_then_its_next_try_is_kept(
        app, store_events):
    engine = Engine()
    batch = busy_then_connected(engine)[:3]  # busy at 15, next call not before 135
    batch.append(engine.at(60, events.CallbackQueued, queue="sales"))

    store_events.apply(args=[batch]).get()

    request = request_of(app)
    assert (request["state"], request["not_before"]) == ("pending", at(135).isoformat())


def test_given_a_late_attempt_after_completion_when_stored_then_left_out(app, store_events,
                                                                       caplog):
    engine = Engine()
    batch = busy_then_connected(engine)
    batch.append(engine.at(200, events.CallbackAttempted, agent="1002", call_uuid="att-9",
                           outcome=AttemptOutcome.NO_ANSWER, cause="NO_ANSWER", attempts=3))

    store_events.apply(args=[batch]).get()

    assert request_of(app) == COMPLETED
    assert "would move it from completed to pending" in caplog.text


def test_given_a_failed_request_when_rescheduled_then_pending_from_then_with_fresh_attempts(
        app, store_events):
    engine = Engine()
    store_events.apply(args=[[
        engine.requested(),
        engine.at(5, events.CallbackFailed, reason="unknown queue sales", attempts=1),
        engine.at(60, events.CallbackRescheduled, not_before=at(3600), by="lead",
                  attempts=0)]]).get()

    request = request_of(app)
    assert (request["state"], request["not_before"], request["attempts"]) == (
        "pending", at(3600).isoformat(), 0)
    assert (request["reason"], request["finished_at"]) == (None, None)


def test_given_two_workers_storing_halves_at_once_then_the_request_has_every_event(
        app, dialect, store_events):
    batch = busy_then_connected(Engine())
    halves = [batch[0::2], batch[1::2]]
    errors = []

    def store(half):
        try:
            store_events.apply(args=[half]).get()
        except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
            errors.append(exc)

    threads = [threading.Thread(target=store, args=(half,)) for half in halves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert request_of(app) == COMPLETED


# -- the beat task --------------------------------------------------------------------------

@pytest.fixture
def make_engine():
    """make_engine(queues) -> CallbackEngine behind the real control server (``.backend``,
    ``.port``); stopped after."""
    made = []

    def make(queues=("sales", "support")):
        engine = CallbackEngine(queues)
        engine.backend = EngineBackend(callbacks=engine)
        server = ControlServer(engine.backend, host="127.0.0.1", port=0, secret=CONTROL_SECRET)
        server.start()
        engine.port = server.address[1]
        made.append((engine, server))
        return engine

    yield make
    for engine, server in made:
        server.stop(timeout=1)
        engine.stop()


@pytest.fixture
def make_app(tmp_path, migrated_databases, dialect):  # noqa: F811
    """make_app(control_port) -> an app of ``dialect`` whose engine control is on that port."""
    made = []

    def make(control_port):
        app = app_on(tmp_path, database_url_for(migrated_databases, dialect),
                     control_port=control_port)
        made.append(app)
        return app

    yield make
    for app in made:
        dispose(app)


@pytest.fixture
def worker_of():
    """worker_of(app) -> its Celery app; closed after."""
    made = []

    def make(app):
        celery_app = celery_init_app(app)
        made.append(celery_app)
        return celery_app

    yield make
    for celery_app in made:
        celery_app.close()


def open_and_finished(engine, now):
    """cb-1 waits for a retry an hour away; cb-2's attempt runs; cb-3 completed; cb-4 cancelled."""
    future = now + datetime.timedelta(hours=1)
    batch = [engine.requested(callback_id=cb, since=now - datetime.timedelta(seconds=s),
                       priority=p, skills=skills)
             for cb, s, p, skills in (("cb-1", 300, 2, {"fr": 3}), ("cb-2", 200, 0, {}),
                                      ("cb-3", 100, 0, {}), ("cb-4", 50, 0, {}))]
    batch += [
        engine.at(10, events.CallbackDispatched, "cb-1", agent="1000", call_uuid="att-1",
                  leg_uuid="leg-1", attempt=1),
        engine.at(15, events.CallbackAttempted, "cb-1", agent="1000", call_uuid="att-1",
                  outcome=AttemptOutcome.BUSY, cause="USER_BUSY", attempts=1, retry_at=future),
        engine.at(20, events.CallbackDispatched, "cb-2", agent="1001", call_uuid="att-2",
                  leg_uuid="leg-2", attempt=1),
        engine.at(20, events.CallbackDispatched, "cb-3", agent="1002", call_uuid="att-3",
                  leg_uuid="leg-3", attempt=1),
        engine.at(25, events.CallbackAttempted, "cb-3", agent="1002", call_uuid="att-3",
                  outcome=AttemptOutcome.CONNECTED, cause="", attempts=1),
        engine.at(25, events.CallbackCompleted, "cb-3", agent="1002", call_uuid="att-3",
                  attempts=1),
        engine.at(30, events.CallbackCancelled, "cb-4", by="lead"),
    ]
    return batch, future


def test_given_open_requests_when_the_beat_runs_then_each_goes_back_with_its_place_and_attempts(
        make_engine, make_app, worker_of):
    engine = make_engine()
    app = make_app(engine.port)
    tasks = worker_of(app).tasks
    now = events.utcnow().replace(microsecond=0)
    batch, future = open_and_finished(Engine("engine-old"), now)
    tasks[events.TASK_STORE_EVENTS].apply(args=[batch]).get()

    result = tasks[TASK_DISPATCH_PENDING].apply().get()

    assert result == {"sent": 2, "taken": 2, "refused": 0, "failed": 0, "unavailable": False}
    sent = {command.callback_id: command for command in engine.backend.received}
    assert sorted(sent) == ["cb-1", "cb-2"]  # the open ones only
    assert (sent["cb-1"].TYPE, sent["cb-1"].queue, sent["cb-1"].number) == (
        "callback.queue", "sales", NUMBER)
    assert (sent["cb-1"].since, sent["cb-1"].priority, dict(sent["cb-1"].skills)) == (
        now - datetime.timedelta(seconds=300), 2, {"fr": 3})
    assert (sent["cb-1"].attempts, sent["cb-1"].not_before, sent["cb-1"].call_uuid) == (
        1, future, "call-1")
    assert (sent["cb-2"].attempts, sent["cb-2"].not_before) == (0, None)
    # the engine holds both: cb-2 in line at the caller's place, cb-1 until its next try
    held = engine.desk.requests
    assert held["cb-1"].not_before == to_epoch(future) and held["cb-1"].attempts == 1
    assert engine.acd.store.waiting_callers("sales") == ["cb-2"]
    assert engine.acd.callers["cb-2"].since == to_epoch(now - datetime.timedelta(seconds=200))

    tasks[events.TASK_STORE_EVENTS].apply(args=[engine.batch()]).get()  # its callback.queued
    assert [request_of(app, cb)["state"] for cb in ("cb-1", "cb-2", "cb-3", "cb-4")] == [
        "pending", "pending", "completed", "cancelled"]
    assert request_of(app, "cb-1")["not_before"] == future.isoformat()
    assert request_of(app, "cb-1")["engine"] == "engine-a"

    again = tasks[TASK_DISPATCH_PENDING].apply().get()
    assert (again["sent"], again["taken"]) == (2, 0)  # held already: ignored
    assert engine.batch() == []


def test_given_a_request_whose_queue_is_gone_when_the_beat_runs_then_failed_with_the_reason(
        make_engine, make_app, worker_of):
    engine = make_engine(queues=("support",))  # sales was removed from the catalog
    app = make_app(engine.port)
    tasks = worker_of(app).tasks
    old = Engine("engine-old")
    tasks[events.TASK_STORE_EVENTS].apply(args=[[
        old.requested(callback_id="cb-1"), old.requested(callback_id="cb-2"),
        old.requested(callback_id="cb-3", queue="support")]]).get()

    result = tasks[TASK_DISPATCH_PENDING].apply().get()

    assert result == {"sent": 1, "taken": 1, "refused": 0, "failed": 2, "unavailable": False}
    for callback_id in ("cb-1", "cb-2"):
        request = request_of(app, callback_id)
        assert (request["state"], request["reason"]) == ("failed", "unknown queue sales")
        assert request["finished_at"] is not None
    assert request_of(app, "cb-3")["state"] == "pending"
    with app.app_context():
        stated = db.session.execute(
            sa.select(CallbackEventFact.callback_id, CallbackEventFact.seq)
            .where(CallbackEventFact.engine == "web").order_by(CallbackEventFact.seq)).all()
    assert [tuple(row) for row in stated] == [("cb-1", 1), ("cb-2", 2)]

    # the failure is a fact: a redelivered batch folds the request again, still failed
    tasks[events.TASK_STORE_EVENTS].apply(args=[[Engine("engine-old").requested()]]).get()
    assert request_of(app, "cb-1")["state"] == "failed"
    assert tasks[TASK_DISPATCH_PENDING].apply().get()["failed"] == 0


def test_given_the_engine_down_when_the_beat_runs_then_nothing_changes_and_the_next_run_retries(
        make_app, worker_of, caplog):
    app = make_app(closed_port())
    tasks = worker_of(app).tasks
    tasks[events.TASK_STORE_EVENTS].apply(args=[[Engine().requested()]]).get()

    result = tasks[TASK_DISPATCH_PENDING].apply().get()

    assert result == {"sent": 0, "taken": 0, "refused": 0, "failed": 0, "unavailable": True}
    assert request_of(app)["state"] == "pending"
    assert "next run tries again" in caplog.text


def test_given_the_settings_then_the_beat_runs_the_task_every_resend_interval(make_app,
                                                                              worker_of):
    app = make_app(closed_port())
    app.extensions["fs_cc_settings"].callback_resend_seconds = 7.5
    celery_app = worker_of(app)

    entry = celery_app.conf.beat_schedule["dispatch-callbacks"]

    assert (entry["task"], entry["schedule"]) == (TASK_DISPATCH_PENDING, 7.5)
    assert entry == beat_schedule(app.extensions["fs_cc_settings"])["dispatch-callbacks"]
    assert TASK_DISPATCH_PENDING in celery_app.tasks
