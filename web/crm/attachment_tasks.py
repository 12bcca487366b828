"""The worker's beat task that deletes the files of attachments removed long enough ago."""

import datetime
import logging

from celery import shared_task
from flask import current_app

from web.crm.attachment_views import attachment_service
from web.crm.attachments import DEFAULT_KEEP_DAYS
from web.extensions import db
from web.types import utcnow

logger = logging.getLogger(__name__)

TASK_PURGE = "fs_cc.crm.purge_attachments"


@shared_task(name=TASK_PURGE, ignore_result=True)
def purge_attachments():
    """Delete the files of attachments removed more than CRM_ATTACHMENT_KEEP_DAYS ago."""
    days = float(current_app.config.get("CRM_ATTACHMENT_KEEP_DAYS", DEFAULT_KEEP_DAYS))
    try:
        gone = attachment_service().purge(utcnow() - datetime.timedelta(days=days))
    finally:
        db.session.remove()
    if gone:
        logger.info("crm: %d removed attachment file(s) deleted (kept %g days)", gone, days)
    return {"purged": gone}
