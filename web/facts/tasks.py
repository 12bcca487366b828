"""The Celery task that stores a batch of engine events and folds the calls that ended."""

import logging

from celery import shared_task
from sqlalchemy.exc import DBAPIError

from fs_cc.events import TASK_STORE_EVENTS
from web.extensions import db
from web.facts.services import FactService, parse_batch
from web.messages.tasks import hand_off
from web.retry import retry_while_database_down

logger = logging.getLogger(__name__)


@shared_task(bind=True, name=TASK_STORE_EVENTS, acks_late=True, reject_on_worker_lost=True,
             max_retries=None, ignore_result=True)
def store_events(self, batch):
    """Store a batch of ``fs_cc.events.to_dict`` dicts once each; retry while the database is down.

    Returns {"stored", "duplicates", "rejected", "records"}: new facts, facts stored before,
    entries refused (logged with their field, never retried) and call records written.
    """
    # Retrying cannot fix a bad entry: parse_batch logs it and the rest goes on.
    facts, rejected = parse_batch(batch)
    try:
        result = FactService(db.session, senders=hand_off()).store(facts)
    except DBAPIError as exc:
        retry_while_database_down(self, exc, f"event batch of {len(facts)}")
    finally:
        db.session.remove()
    result.rejected = len(rejected)
    return result.to_dict()
