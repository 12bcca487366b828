"""The worker's export tasks: run a job, and the beat sweep that purges expired files."""

import logging

from celery import shared_task
from sqlalchemy.exc import DBAPIError

from web.exports.wiring import TASK_PURGE, TASK_RUN, export_service, hand_off
from web.extensions import db
from web.retry import retry_while_database_down

logger = logging.getLogger(__name__)

PURGE_EVERY_SECONDS = 600.0


@shared_task(bind=True, name=TASK_RUN, acks_late=True, reject_on_worker_lost=True,
             max_retries=None, ignore_result=True)
def run_export(self, job_id):
    """Write export job ``job_id``'s file; retried while the database is down."""
    try:
        status = export_service().run(job_id)
    except DBAPIError as exc:
        retry_while_database_down(self, exc, f"export {job_id}")
    finally:
        db.session.remove()
    return None if status is None else status.value


@shared_task(name=TASK_PURGE, ignore_result=True)
def purge_exports():
    """Delete expired export files; hand jobs left queued to the worker again."""
    try:
        purged, stale = export_service().purge()
    finally:
        db.session.remove()
    for job_id in stale:
        hand_off(job_id)
    if purged or stale:
        logger.info("exports: %d expired file(s) removed, %d queued job(s) handed over again",
                    purged, len(stale))
    return {"purged": purged, "requeued": len(stale)}
