"""The worker's retention task: recordings older than the retention period are deleted."""

import logging

from celery import shared_task
from flask import current_app

from web.extensions import db
from web.recordings.services import RecordingService

logger = logging.getLogger(__name__)

TASK_PURGE_RECORDINGS = "fs_cc.purge_recordings"
PURGE_EVERY_SECONDS = 3600.0


@shared_task(name=TASK_PURGE_RECORDINGS, ignore_result=True)
def purge_recordings(retention_days=None):
    """Delete the recordings past the retention period (settings: recording_retention_days)."""
    if retention_days is None:
        retention_days = current_app.extensions["fs_cc_settings"].recording_retention_days
    try:
        removed = RecordingService(db.session).purge(retention_days)
    finally:
        db.session.remove()
    if removed:
        logger.info("retention: %d recording(s) older than %s days removed", len(removed),
                    retention_days)
    return len(removed)
