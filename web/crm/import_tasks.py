"""The worker's import task: run one CRM import job by id (``fs_cc.crm.import``).

``acks_late``: a task whose worker died stays in the broker and runs again; the job continues
after its last committed batch (web.crm.import_runner), so nothing is imported twice. While
the database is down the task waits and retries (web.retry).
"""

import logging

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError

from web.crm.import_models import ImportStatus
from web.crm.import_jobs import ImportJobs
from web.crm.import_rows import ImportRules
from web.crm.import_runner import ImportRunner
from web.crm.services import CustomerService
from web.crm.wiring import levels, region, sources
from web.extensions import db
from web.retry import retry_while_database_down
from web.worker import celery_init_app

logger = logging.getLogger(__name__)

TASK_IMPORT = "fs_cc.crm.import"
TASK_SWEEP = "fs_cc.crm.import_sweep"
SWEEP_EVERY_SECONDS = 600.0


def var_dir():
    """The app's var dir (the uploads live in it)."""
    return current_app.extensions["fs_cc_settings"].var_dir


def import_jobs():
    """ImportJobs on the current session and the app's var dir."""
    return ImportJobs(db.session, var_dir())


def run_job(job_id, batch_rows=None):
    """Run import ``job_id`` in this app context; the job after (a finished one is left)."""
    job = import_jobs().get(job_id)
    if job.status in (ImportStatus.DONE.value, ImportStatus.FAILED.value):
        return job
    service = CustomerService(db.session, ImportRules(db.session, region(), sources(),
                                                      levels()))
    options = {"batch_rows": batch_rows} if batch_rows else {}
    return ImportRunner(db.session, service, job, var_dir() / job.stored_path,
                        **options).run()


@shared_task(bind=True, name=TASK_IMPORT, acks_late=True, reject_on_worker_lost=True,
             max_retries=None, ignore_result=True)
def import_customers(self, job_id):
    """Import the file of job ``job_id`` (idempotent: committed batches are not redone)."""
    try:
        return run_job(job_id).status
    except StaleDataError:
        # another delivery of this job wrote its row meanwhile: that run goes on, this one
        # stops with its uncommitted batch rolled back
        db.session.rollback()
        logger.info("crm import %s: another run has it; this one stops", job_id)
        return None
    except DBAPIError as exc:
        retry_while_database_down(self, exc, f"crm import {job_id}")
    finally:
        db.session.remove()


@shared_task(name=TASK_SWEEP, ignore_result=True)
def sweep_imports():
    """Hand jobs left queued to the worker again; remove unstarted and expired files."""
    try:
        stale, removed = import_jobs().sweep(
            keep_days=current_app.config.get("CRM_IMPORT_KEEP_DAYS", 7))
    finally:
        db.session.remove()
    for job_id in stale:
        dispatch(job_id)
    if stale or removed:
        logger.info("crm imports: %d queued job(s) handed over again, %d file(s) removed",
                    len(stale), removed)
    return {"requeued": len(stale), "removed": removed}


def dispatch(job_id):
    """Hand job ``job_id`` to the worker (run at once when CELERY task_always_eager)."""
    celery_app = current_app.extensions.get("celery") or celery_init_app(current_app)
    celery_app.tasks[TASK_IMPORT].apply_async(args=[job_id])
