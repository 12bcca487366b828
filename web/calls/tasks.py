"""The Celery task that stores a call record sent by the engine."""

import logging

from celery import shared_task
from sqlalchemy.exc import DBAPIError

from web.calls.services import CallRecordService, parse_record
from web.errors import InvalidRecord
from web.extensions import db
from web.retry import retry_while_database_down

logger = logging.getLogger(__name__)

RECORD_CALL = "fs_cc.record_call"


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
        retry_while_database_down(self, exc, f"call record {values['uuid']}")
    finally:
        db.session.remove()
    return {"stored": True, "uuid": values["uuid"], "created": created}
