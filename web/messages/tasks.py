"""The worker's message tasks: send an SMS, send a voicemail notice, sweep up what waits.

Both senders take a row id, are idempotent (a settled row is left alone) and retry themselves
with backoff while the row says ``queued``; ``acks_late`` keeps a task whose worker died in the
broker. The beat sweep hands over again every queued row whose next try is overdue: one whose
hand-off was lost (the worker died between the commit and the hand-off), or whose retry was.
"""

import datetime
import logging

import sqlalchemy as sa
from celery import shared_task
from flask import current_app
from sqlalchemy.exc import DBAPIError

from web.extensions import db
from web.messages.gateways import build_gateway
from web.messages.models import SendStatus, SmsRequest, VoiceMessage
from web.messages.sending import Outcome, SmsSender, VoicemailNotifier
from web.retry import retry_while_database_down
from web.types import utcnow

logger = logging.getLogger(__name__)

TASK_SEND_SMS = "fs_cc.messages.send_sms"
TASK_NOTIFY_VOICEMAIL = "fs_cc.messages.notify_voicemail"
TASK_SWEEP = "fs_cc.messages.sweep"
SWEEP_SECONDS = 60.0  # as web.worker.BEAT_SCHEDULE runs it
OVERDUE = datetime.timedelta(seconds=2 * SWEEP_SECONDS)  # a retry this late was lost


def _settings():
    return current_app.extensions["fs_cc_settings"]


def _run(task, what, attempt):
    """Run ``attempt()`` (an Outcome); retry the task after its delay, or while the DB is down."""
    try:
        outcome = attempt()
    except DBAPIError as exc:
        retry_while_database_down(task, exc, what)
    finally:
        db.session.remove()
    if outcome.retry_in is not None:
        raise task.retry(countdown=outcome.retry_in, max_retries=None)
    return outcome.status.value if outcome.status is not None else None


@shared_task(bind=True, name=TASK_SEND_SMS, acks_late=True, reject_on_worker_lost=True,
             max_retries=None, ignore_result=True)
def send_sms(self, request_id):
    """Send SMS request ``request_id``; its status after (queued ones are retried)."""
    settings = _settings()
    sender = SmsSender(db.session, lambda: build_gateway(settings),
                       int(settings.sms_max_attempts), float(settings.sms_retry_seconds))
    return _run(self, f"sms {request_id}", lambda: sender.send(request_id))


@shared_task(bind=True, name=TASK_NOTIFY_VOICEMAIL, acks_late=True, reject_on_worker_lost=True,
             max_retries=None, ignore_result=True)
def notify_voicemail(self, message_id):
    """E-mail the box of voicemail ``message_id``; its notice status after."""
    settings = _settings()
    notifier = VoicemailNotifier(db.session, settings,
                                 retry_base=float(settings.sms_retry_seconds))
    return _run(self, f"voicemail {message_id}", lambda: notifier.notify(message_id))


def hand_off():
    """How the fact service gives new rows to these tasks (web.messages.services senders)."""
    return {"sms": lambda request_id: send_sms.apply_async(args=[request_id]),
            "voicemail": lambda message_id: notify_voicemail.apply_async(args=[message_id])}


@shared_task(name=TASK_SWEEP, ignore_result=True)
def sweep(now=None):
    """Hand over again every queued SMS and voicemail notice whose try is overdue."""
    now = now or utcnow()
    try:
        sms = db.session.execute(sa.select(SmsRequest.id).where(
            SmsRequest.status == SendStatus.QUEUED,
            sa.or_(SmsRequest.next_attempt_at.is_(None),
                   SmsRequest.next_attempt_at < now - OVERDUE))).scalars().all()
        notices = db.session.execute(sa.select(VoiceMessage.id).where(
            VoiceMessage.notice_status == SendStatus.QUEUED,
            sa.or_(VoiceMessage.notice_next_at.is_(None),
                   VoiceMessage.notice_next_at < now - OVERDUE))).scalars().all()
    except DBAPIError as exc:
        logger.warning("messages not swept: database unavailable (%s)", exc.orig or exc)
        return {"sms": 0, "voicemail": 0}
    finally:
        db.session.remove()
    senders = hand_off()
    for request_id in sms:
        senders["sms"](request_id)
    for message_id in notices:
        senders["voicemail"](message_id)
    if sms or notices:
        logger.info("swept %d sms and %d voicemail notice(s) back to the worker", len(sms),
                    len(notices))
    return {"sms": len(sms), "voicemail": len(notices)}


__all__ = ["Outcome", "send_sms", "notify_voicemail", "sweep", "hand_off"]
