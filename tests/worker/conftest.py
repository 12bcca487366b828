"""Fixtures of the worker tests: an app per dialect on a migrated database, with its Celery app."""

import pytest

from tests.web.support import app_on, database_url_for, dispose, migrated_databases  # noqa: F401
from web.worker import celery_init_app


@pytest.fixture(params=["sqlite", "postgresql"])
def dialect(request):
    """Each database the task must work on."""
    return request.param


@pytest.fixture
def app(tmp_path, migrated_databases, dialect):  # noqa: F811
    """A testing app on the session's migrated database of ``dialect``, emptied for this test.

    Short lock waits make a busy database fail fast, as a down one would.
    """
    url = database_url_for(migrated_databases, dialect)
    connect_args = {"timeout": 0.05} if dialect == "sqlite" else {"options": "-c lock_timeout=100"}
    app = app_on(tmp_path, url, SQLALCHEMY_ENGINE_OPTIONS={"connect_args": connect_args},
                 RECORD_RETRY_BASE=0.01, RECORD_RETRY_MAX=0.05)
    yield app
    dispose(app)


@pytest.fixture
def record_call(app):
    """The fs_cc.record_call task of a Celery app built from ``app``."""
    celery_app = celery_init_app(app)
    yield celery_app.tasks["fs_cc.record_call"]
    celery_app.close()
