"""The export service built from the app (its var folder, ``EXPORT_KEEP_HOURS``) and the
hand-off of a job to the worker."""

import logging

from flask import current_app
from kombu.exceptions import OperationalError

from web.exports.services import DEFAULT_KEEP_HOURS, ExportService
from web.extensions import db

logger = logging.getLogger(__name__)

TASK_RUN = "fs_cc.exports.run"
TASK_PURGE = "fs_cc.exports.purge"


def exports_folder(app=None):
    """Where export files are written: ``exports`` in the var folder."""
    app = app or current_app
    return app.extensions["fs_cc_settings"].var_dir / "exports"


def export_service():
    """An ExportService on the app's session and settings."""
    return ExportService(db.session, exports_folder(),
                         current_app.config.get("EXPORT_KEEP_HOURS", DEFAULT_KEEP_HOURS),
                         config=current_app.config)


def hand_off(job_id):
    """Give job ``job_id`` to the worker; False when the broker refused (the beat sweep
    hands a job left queued over again)."""
    from web.worker import celery_init_app  # the worker module imports the task modules

    app = current_app._get_current_object()  # the tasks keep the app, not the proxy
    celery_app = app.extensions.get("celery") or celery_init_app(app)
    try:
        celery_app.send_task(TASK_RUN, args=[job_id], retry=False)
    except OperationalError as exc:
        logger.warning("export %s not handed to the worker (broker: %s); the sweep retries",
                       job_id, exc)
        return False
    return True
