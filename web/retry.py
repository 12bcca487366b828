"""How the worker's tasks wait out a database that is down: exponential backoff, capped, jittered."""

import logging
import random

from flask import current_app
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from web.extensions import db

logger = logging.getLogger(__name__)


def retry_delay(retries, base, cap):
    """Seconds to wait before retry number ``retries + 1``: exponential, capped, with jitter."""
    delay = min(cap, base * (2 ** min(retries, 32)))
    return delay / 2 + random.uniform(0, delay / 2)


# PostgreSQL's undefined_table and undefined_column: a database created but not (yet) migrated
# to this release's schema, as while `fs-cc db upgrade` runs
_SCHEMA_NOT_READY = ("42P01", "42703")


def schema_not_ready(exc):
    """The database answers but lacks this release's tables or columns (a migration pending)."""
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "pgcode", None) in _SCHEMA_NOT_READY


def database_unreachable(exc):
    """Connection loss, a locked or missing database, a server restarting, a schema still being
    migrated: worth waiting for (a record is never dropped for it)."""
    return isinstance(exc, (OperationalError, InterfaceError)) or schema_not_ready(exc) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated)


def retry_while_database_down(task, exc, what):
    """Roll back; re-raise ``exc`` unless waiting can fix it, else schedule the task's retry.

    ``what`` names the work in the log line ("call record <uuid>", "event batch of 12").
    """
    db.session.rollback()
    if not database_unreachable(exc):
        raise exc
    countdown = retry_delay(task.request.retries, current_app.config["RECORD_RETRY_BASE"],
                            current_app.config["RECORD_RETRY_MAX"])
    state = ("database not migrated (run fs-cc db upgrade)" if schema_not_ready(exc)
             else "database unavailable")
    logger.warning("%s: %s (%s); retry %d in %.1f s", what, state,
                   exc.orig.__class__.__name__, task.request.retries + 1, countdown)
    raise task.retry(exc=exc, countdown=countdown, max_retries=None)
