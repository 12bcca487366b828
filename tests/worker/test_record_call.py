"""fs_cc.record_call: stores each call once, updates it, survives a busy database, drops junk."""

import logging
import threading

import pytest
import sqlalchemy as sa

from tests.web.support import count_rows, record_payload
from web.calls.models import CallRecord
from web.calls.services import CallRecordService, parse_record
from web.retry import retry_delay
from web.extensions import db


def stored(app, uuid):
    """The stored record of ``uuid`` as a dict."""
    with app.app_context():
        return CallRecordService(db.session).by_uuid(uuid).to_dict()


def test_given_a_new_record_when_the_task_runs_then_one_row_with_every_field(app, record_call):
    payload = record_payload(ivr_path=["欢迎", "销售"])

    result = record_call.apply(args=[payload]).get()

    assert result == {"stored": True, "uuid": payload["uuid"], "created": True}
    assert stored(app, payload["uuid"]) == payload


def test_given_the_same_uuid_twice_when_the_task_runs_then_one_row_updated(app, record_call):
    first = record_payload(hangup_cause=None, ended_at=None, talk_seconds=0.0)
    second = dict(first, hangup_cause="NORMAL_CLEARING", ended_at=record_payload()["ended_at"],
                  talk_seconds=60.0)

    record_call.apply(args=[first]).get()
    result = record_call.apply(args=[second]).get()

    assert result["created"] is False
    assert count_rows(app) == 1
    assert stored(app, first["uuid"])["hangup_cause"] == "NORMAL_CLEARING"
    assert stored(app, first["uuid"])["talk_seconds"] == 60.0


def test_given_another_worker_inserted_the_uuid_first_when_storing_then_it_updates_that_row(app):
    payload = record_payload(queue="sales")
    with app.app_context():
        racing = CallRecordService(db.session)
        original = racing.by_uuid

        # The other worker's insert lands between our look-up (None) and our insert.
        def look_up_then_lose_the_race(uuid):
            found = original(uuid)
            if found is None:
                with db.engine.begin() as other:
                    other.execute(sa.insert(CallRecord.__table__).values(
                        **{**parse_record(dict(payload, queue="support")), "ivr_path": "[]",
                           "created_at": found_time(), "updated_at": found_time()}))
                racing.by_uuid = original
            return found

        racing.by_uuid = look_up_then_lose_the_race
        _, created = racing.store(parse_record(payload))
        db.session.remove()

    assert created is False
    assert count_rows(app, payload["uuid"]) == 1
    assert stored(app, payload["uuid"])["queue"] == "sales"


def found_time():
    """Now, for rows written behind the service's back."""
    from web.types import utcnow

    return utcnow()


@pytest.mark.parametrize("change, field", [
    ({"uuid": None}, "uuid"), ({"uuid": ""}, "uuid"), ({"started_at": "yesterday"}, "started_at"),
    ({"ended_at": "2026-02-30T10:00:00"}, "ended_at"), ({"ivr_path": "welcome"}, "ivr_path"),
    ({"hangup_side": "nobody"}, "hangup_side"), ({"wait_seconds": "long"}, "wait_seconds"),
    ({"started_at": None}, "started_at")])
def test_given_a_bad_payload_when_the_task_runs_then_logged_with_the_field_and_not_retried(
        app, record_call, caplog, change, field):
    payload = dict(record_payload(), **change)

    with caplog.at_level(logging.ERROR, logger="web.calls.tasks"):
        result = record_call.apply(args=[payload])

    assert result.state == "SUCCESS"
    assert result.get()["stored"] is False and result.get()["field"] == field
    assert f"field {field}" in caplog.text
    assert count_rows(app) == 0


class DatabaseLock:
    """Holds a real exclusive lock on the call records from another connection."""

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
            cursor.execute("LOCK TABLE call_records IN ACCESS EXCLUSIVE MODE")

    def release(self):
        """Let the task through."""
        if self.connection is not None:
            self.connection.driver_connection.rollback()
            self.connection.close()
            self.connection = None


def test_given_a_busy_database_when_the_task_runs_then_it_retries_until_stored(
        app, dialect, record_call, caplog):
    payload = record_payload()
    lock = DatabaseLock(app, dialect)
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
        with caplog.at_level(logging.WARNING, logger="web.calls.tasks"):
            result = record_call.apply(args=[payload])
    finally:
        lock.release()
        with app.app_context():
            sa.event.remove(db.engine, "handle_error", count_failure)

    assert released.is_set()
    assert result.get() == {"stored": True, "uuid": payload["uuid"], "created": True}
    assert caplog.text.count("database unavailable") == 3
    assert count_rows(app, payload["uuid"]) == 1


def test_given_the_task_options_then_late_ack_requeue_on_worker_loss_and_no_retry_cap(
        record_call):
    assert record_call.name == "fs_cc.record_call"
    assert record_call.acks_late is True
    assert record_call.reject_on_worker_lost is True
    assert record_call.max_retries is None


def test_given_more_retries_then_the_delay_grows_up_to_the_cap():
    delays = [retry_delay(n, base=1.0, cap=300.0) for n in range(12)]

    assert 0.5 <= delays[0] <= 1.0
    assert 4.0 <= delays[3] <= 8.0
    assert all(150.0 <= delay <= 300.0 for delay in delays[9:])
    assert 150.0 <= retry_delay(10_000, base=1.0, cap=300.0) <= 300.0


def test_given_a_database_not_yet_migrated_then_waited_for_but_a_bad_query_is_not(tmp_path):
    """A record reaching a database whose tables `fs-cc db upgrade` is still creating is retried
    (never dropped); a query the server refuses for its own sake is a bug, raised at once."""
    from tests.web.support import PG_URL, create_pg_database, drop_pg_database
    from web.retry import database_unreachable

    name = create_pg_database()  # empty: no tables yet
    engine = sa.create_engine(PG_URL.format(name=name))
    try:
        with engine.connect() as connection:
            with pytest.raises(sa.exc.ProgrammingError) as missing:
                connection.execute(sa.text("SELECT uuid FROM call_records"))
            connection.rollback()
            with pytest.raises(sa.exc.ProgrammingError) as bad:
                connection.execute(sa.text("SELEC uuid FROM call_records"))
    finally:
        engine.dispose()
        drop_pg_database(name)
    assert database_unreachable(missing.value) is True
    assert database_unreachable(bad.value) is False
