"""Fixtures of the web tests: an app on a migrated SQLite file, its client, runner and engine."""

import pytest

from fs_cc.control import ControlServer
from tests.web.support import (CONTROL_SECRET, PG_URL, EngineBackend, app_on,  # noqa: F401
                               create_pg_database, database_url_for, dispose, drop_pg_database,
                               migrated_databases, postgres_available)


@pytest.fixture
def engine():
    """The real control server on port 0 over an in-memory backend; yields (backend, port)."""
    backend = EngineBackend(
        agents=[{"extension": "1001", "name": "李娜", "queues": ["support", "sales"],
                 "status": "on_call", "status_since": "2026-03-02T08:01:00+00:00"},
                {"extension": "1000", "name": "Agent 1000", "queues": ["sales"],
                 "status": "available", "status_since": "2026-03-02T08:00:00+00:00"}],
        queues=[{"name": "sales", "strategy": "longest-idle", "waiting": 2,
                 "agents_available": 1, "agents_logged_in": 2}])
    server = ControlServer(backend, host="127.0.0.1", port=0, secret=CONTROL_SECRET)
    server.start()
    yield backend, server.address[1]
    server.stop(timeout=1)


@pytest.fixture
def app(request, tmp_path, migrated_databases):  # noqa: F811
    """A testing app on the session's migrated SQLite database, emptied for this test.

    The control URL points at the ``engine`` fixture when the test uses it.
    """
    port = 8022
    if "engine" in request.fixturenames:
        port = request.getfixturevalue("engine")[1]
    app = app_on(tmp_path, database_url_for(migrated_databases, "sqlite"), control_port=port)
    yield app
    dispose(app)


@pytest.fixture
def client(app):
    """A test client of ``app``."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner of ``app``."""
    return app.test_cli_runner()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    """The URL of an empty database of each dialect, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    if not postgres_available():
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is not available")
    name = create_pg_database()
    yield PG_URL.format(name=name)
    drop_pg_database(name)
