"""The beat task that hands open callback requests to the engines again (after any restart).

An engine keeps its requests in memory; one that restarted has lost them. Every
``callback_resend_seconds`` the worker sends each pending or in-progress request as a
``callback.queue`` command: an engine that holds it (or just finished it) ignores it, one that
lost it takes it back at its place. So the database is where a request survives. A request
whose queue no longer exists (the engine refuses it: 404, field ``queue``) is marked failed
with the reason "unknown queue <name>", as an engine marks one whose queue went away while it
held it.
"""

import logging

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import DBAPIError

from fs_cc.control import ControlRefused, ControlUnavailable
from web.callbacks.services import CallbackFailures, CallbackQueries, queue_command
from web.extensions import db
from web.facts.services import FactService

logger = logging.getLogger(__name__)

TASK_DISPATCH_PENDING = "fs_cc.callbacks.dispatch_pending"


def beat_schedule(settings):
    """The worker's beat entry for the task, every ``settings.callback_resend_seconds``."""
    seconds = float(settings.callback_resend_seconds)
    # a run the worker could not take in time is dropped: the next one sends everything again
    return {"dispatch-callbacks": {"task": TASK_DISPATCH_PENDING, "schedule": seconds,
                                   "options": {"expires": seconds}}}


def empty_result():
    """What a run did: sent, taken back, refused, failed (queue gone), engine unavailable."""
    return {"sent": 0, "taken": 0, "refused": 0, "failed": 0, "unavailable": False}


def queue_gone(exc):
    """Whether a refusal says the request's queue does not exist."""
    return exc.status == 404 and exc.field == "queue"


def resend(rows, control, fail):
    """Send each request to the engines (``fail(row, reason)`` for one whose queue is gone)."""
    result = empty_result()
    for row in rows:
        callback_id, queue = row.id, row.queue  # read once: storing a failure commits
        try:
            answer = control.execute(queue_command(row))
        except ControlUnavailable as exc:
            logger.warning("callbacks not re-sent: engine unavailable at %s (%s); next run "
                           "tries again", exc.url, exc.reason)
            result["unavailable"] = True
            return result
        except ControlRefused as exc:
            if queue_gone(exc):
                logger.warning("callback %s: queue %s no longer exists; marked failed",
                               callback_id, queue)
                fail(row, f"unknown queue {queue}")
                result["failed"] += 1
                continue
            logger.warning("callback %s not re-sent: the engine refused (field %s): %s",
                           callback_id, exc.field, exc.error)
            result["refused"] += 1
            continue
        result["sent"] += 1
        if answer.get("taken"):
            logger.info("callback %s taken back by an engine (queue %s)", callback_id, queue)
            result["taken"] += 1
    return result


@shared_task(name=TASK_DISPATCH_PENDING, ignore_result=True)
def dispatch_pending():
    """Re-send every open callback request to the engines (idempotent by callback id)."""
    try:
        rows = CallbackQueries(db.session).open_requests()
        failures = CallbackFailures(db.session, FactService(db.session).store)
        return resend(rows, current_app.extensions["fs_cc_control"], failures.fail)
    except DBAPIError as exc:
        # the next run reads them again; nothing is lost by skipping one
        logger.warning("callbacks not re-sent: database unavailable (%s)",
                       str(exc.orig).strip().splitlines()[0] if exc.orig else exc)
        return empty_result()
    finally:
        db.session.remove()
