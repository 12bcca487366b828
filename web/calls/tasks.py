"""The Celery task that stores a call record sent by the engine."""

import logging
import random

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from web.calls.services import CallRecordService, parse_record
from web.errors import InvalidRecord
from web.extensions import db

logger = logging.getLogger(__name__)

RECORD_CALL = "fs_cc.record_call"


def retry_delay(retries, base, cap):
    """Seconds to wait before retry number ``retries + 1``: exponential, capped, with jitter."""
    delay = min(cap, base * (2 ** min(retries, 32)))
    return delay / 2 + random.uniform(0, delay / 2)


def _database_unreachable(exc):
    # Connection loss, a locked or missing database, a server restarting: worth waiting for.
    return isinstance(exc, (OperationalError, InterfaceError)) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated)


@shared_task(bind=True, name=RECORD_CALL, acks_late=True, reject_on_worker_lost=True,
             max_retries=None, ignore_result=True)
def record_call(self, record):
    """Store (insert or update by uuid) one call record; retry while the database is down."""
    try:
        values = parse_record(record)
    except InvalidRecord as exc:
        # Retrying cannot fix a bad payload: log what is wrong and drop it.
        uuid = record.get("uuid") if isinstance(record, dict) else None
        logger.error("call record %s rejected: field %s: %s", uuid, exc.field, exc.message)
        return {"stored": False, "uuid": uuid, "field": exc.field, "error": exc.message}
    try:
        _, created = CallRecordService(db.session).store(values)
    except DBAPIError as exc:
        db.session.rollback()
        if not _database_unreachable(exc):
            raise
        countdown = retry_delay(self.request.retries, current_app.config["RECORD_RETRY_BASE"],
                                current_app.config["RECORD_RETRY_MAX"])
        logger.warning("call record %s: database unavailable (%s); retry %d in %.1f s",
                       values["uuid"], exc.orig.__class__.__name__, self.request.retries + 1,
                       countdown)
        raise self.retry(exc=exc, countdown=countdown, max_retries=None)
    finally:
        db.session.remove()
    return {"stored": True, "uuid": values["uuid"], "created": created}
