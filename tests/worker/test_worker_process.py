"""A real `celery worker` process fed by name from a separate Celery client, as the engine does."""

import os
import re
import sys
import time

import celery
import pytest

import web

from tests.web.support import (PG_URL, count_rows, create_pg_database, drop_pg_database,
                               TEST_SECRET_KEY, make_app, postgres_available, record_payload,
                               run_pg_admin)
from web import db_upgrade
from web.calls.services import CallRecordService
from web.extensions import db

WORKER_OPTIONS = ["--pool=solo", "--concurrency=1", "--without-gossip", "--without-mingle",
                  "--without-heartbeat", "--loglevel=INFO"]


def wait_for(condition, timeout, what):
    """Poll ``condition`` until it is true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class WorkerProcess:
    """A worker subprocess configured only through the environment, like `fs-cc worker`."""

    def __init__(self, tmp_path, database_url, command, redis_url=None, **settings):
        self.log_path = tmp_path / "worker.log"
        env = dict(os.environ, FS_CC_VAR_DIR=str(tmp_path / "var"),
                   FS_CC_DATABASE_URL=database_url, FS_CC_SECRET_KEY=TEST_SECRET_KEY, **settings)
        env.pop("FS_CC_BROKER_URL", None)
        env.pop("REDIS_URL", None)
        if redis_url is None:
            self.broker_url = env["FS_CC_BROKER_URL"] = (
                f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}")
        else:
            # production's path: the broker is Redis because REDIS_URL is set, nothing else
            self.broker_url = env["REDIS_URL"] = redis_url
        # The repository on the path: an editable install made before web/ existed misses it.
        repo_root = os.path.dirname(os.path.dirname(os.path.abspath(web.__file__)))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [repo_root, env.get("PYTHONPATH")]))
        env.pop("FS_CC_CONFIG", None)
        self.command = command
        self.env = env
        self.cwd = tmp_path
        self.process = None

    def start(self):
        """Start the worker and wait until it is ready to consume."""
        import subprocess

        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(self.command, env=self.env, cwd=self.cwd,
                                            stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: "ready." in self.log() or self.process.poll() is not None, 60,
                 "the worker to be ready")
        assert self.process.poll() is None, self.log()

    def log(self):
        """What the worker wrote so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self):
        """Warm shutdown, or kill when it does not stop."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except Exception:  # noqa: BLE001 -- subprocess.TimeoutExpired under gevent too
            self.process.kill()
            self.process.wait(timeout=5)


def celery_command():
    """`celery -A web.worker:celery worker ...`."""
    return [sys.executable, "-m", "celery", "-A", "web.worker:celery", "worker", *WORKER_OPTIONS]


def run_worker_command():
    """What `fs-cc worker` runs: web.worker.run_worker."""
    return [sys.executable, "-c",
            f"from web.worker import run_worker; run_worker({WORKER_OPTIONS!r})"]


def send_by_name(broker_url, payload):
    """Publish fs_cc.record_call the way the engine does: by name, from its own Celery app."""
    client = celery.Celery("engine-stand-in", broker=broker_url)
    try:
        client.send_task("fs_cc.record_call", args=[payload])
    finally:
        client.close()


def stored_talk_seconds(app, uuid):
    """talk_seconds of the stored record, or None when there is none."""
    with app.app_context():
        record = CallRecordService(db.session).by_uuid(uuid)
        result = None if record is None else record.talk_seconds
        db.session.remove()
        return result


@pytest.fixture(params=["sqlite-broker", "redis-broker"])
def redis_url(request):
    """None for the embedded broker; a Redis database emptied before and after for Redis."""
    if request.param == "sqlite-broker":
        yield None
        return
    import redis

    url = os.environ.get("FS_CC_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


def test_given_a_running_worker_when_the_engine_sends_records_then_rows_appear_once(
        tmp_path, redis_url):
    database_url = f"sqlite:///{tmp_path / 'fs_cc.sqlite'}"
    app = make_app(tmp_path, database_url)
    db_upgrade(app)
    worker = WorkerProcess(tmp_path, database_url, celery_command(), redis_url=redis_url)
    first = record_payload(talk_seconds=10.0)
    try:
        worker.start()
        send_by_name(worker.broker_url, first)
        wait_for(lambda: stored_talk_seconds(app, first["uuid"]) == 10.0, 30, "the row")
        send_by_name(worker.broker_url, dict(first, talk_seconds=70.0))
        wait_for(lambda: stored_talk_seconds(app, first["uuid"]) == 70.0, 30, "the update")
    finally:
        worker.stop()
    assert count_rows(app) == 1
    assert "fs_cc.record_call" in worker.log()


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_given_the_database_is_down_when_a_record_arrives_then_stored_once_it_is_back(
        tmp_path, dialect):
    if dialect == "sqlite":
        # A directory that does not exist yet: SQLite cannot open the file.
        database_url = f"sqlite:///{tmp_path / 'later' / 'fs_cc.sqlite'}"
        pg_name = None
    else:
        if not postgres_available():
            pytest.skip("PostgreSQL at 127.0.0.1:5432 is not available")
        pg_name = create_pg_database()
        drop_pg_database(pg_name)  # reserve a fresh name; the database does not exist yet
        database_url = PG_URL.format(name=pg_name)
    # Tries at most 2 s apart: however long the database takes to come back (a busy machine
    # creates and migrates it slowly), the record is stored within 2 s of it.
    worker = WorkerProcess(tmp_path, database_url, run_worker_command(),
                           FS_CC_RECORD_RETRY_MAX_SECONDS="2")
    payload = record_payload()
    app = make_app(tmp_path, database_url)
    try:
        worker.start()
        send_by_name(worker.broker_url, payload)
        wait_for(lambda: "database unavailable" in worker.log(), 30, "a retry")

        if dialect == "sqlite":
            (tmp_path / "later").mkdir()
        else:
            from psycopg2 import sql

            run_pg_admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(pg_name)))
        db_upgrade(app)

        try:
            wait_for(lambda: count_rows(app, payload["uuid"]) == 1, 30, "the row")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the worker's log:\n{worker.log()}") from None
        assert count_rows(app) == 1
        delays = [float(delay) for delay in re.findall(r"; retry \d+ in ([0-9.]+) s", worker.log())]
        assert delays and max(delays) <= 2.0, worker.log()
    finally:
        worker.stop()
        with app.app_context():
            db.engine.dispose()
        if pg_name is not None:
            drop_pg_database(pg_name)
