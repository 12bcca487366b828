"""One try at sending an SMS or a voicemail notice, and what the row says after it.

A try that fails for a reason waiting can fix (the gateway or mail server down, 5xx, 429) keeps
the row ``queued`` with the reason and the time of the next try, up to ``max_attempts`` tries;
the task then retries itself after that delay (web.messages.tasks). Any other failure, or the
last try, marks the row ``failed`` with the reason. A row already settled is left alone, so a
task delivered twice sends once.
"""

import dataclasses
import datetime
import logging
import typing

from web.messages.gateways import GatewayError
from web.messages.mail import NoticeError, SmtpSettings, build_notice, recipient, send_notice
from web.messages.models import FINAL, SendStatus, SmsRequest, VoiceMessage
from web.retry import retry_delay
from web.types import utcnow

logger = logging.getLogger(__name__)

RETRY_CAP = 3600.0  # seconds: the longest wait between two tries
MISCONFIGURED_RETRY = 300.0  # seconds between checks of a gateway setting being fixed
NOTICE_MAX_ATTEMPTS = 10


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one try did: the row's status after it, and the seconds to the next try (if any)."""

    status: typing.Optional[SendStatus]
    retry_in: typing.Optional[float] = None
    reason: typing.Optional[str] = None


def _failed(row, what, reason, retryable, attempts, max_attempts, base, now):
    """Keep ``row`` queued for another try, or mark it failed; its Outcome (caller commits)."""
    if retryable and attempts < max_attempts:
        delay = retry_delay(attempts - 1, base, RETRY_CAP)
        logger.warning("%s: try %d of %d failed (%s); next in %.0f s", what, attempts,
                       max_attempts, reason, delay)
        return Outcome(SendStatus.QUEUED, delay, reason), now + datetime.timedelta(seconds=delay)
    logger.error("%s: failed after %d tries: %s", what, attempts, reason)
    return Outcome(SendStatus.FAILED, None, reason), None


class SmsSender:
    """Tries one SMS request through the gateway ``gateway()`` builds, on one session.

    ``gateway()`` raises ValueError when the settings name no usable gateway: the text then
    waits, queued with that reason, for the setting to be fixed (no try is counted).
    """

    def __init__(self, session, gateway, max_attempts=5, retry_base=30.0, clock=utcnow):
        self.session = session
        self.gateway = gateway
        self.max_attempts = max_attempts
        self.retry_base = retry_base
        self._clock = clock

    def send(self, request_id):
        """One try at request ``request_id``; its Outcome (status None: no such request)."""
        row = self.session.get(SmsRequest, request_id, with_for_update=True)
        if row is None:
            logger.error("sms %s: no such request", request_id)
            return Outcome(None)
        if row.status in FINAL:
            return Outcome(row.status)
        now = self._clock()
        try:
            gateway = self.gateway()
        except ValueError as exc:
            reason = f"not sent: {exc}"
            logger.error("sms %s: %s; waiting for the setting to be fixed", row.id, reason)
            row.last_error = reason
            row.next_attempt_at = now + datetime.timedelta(seconds=MISCONFIGURED_RETRY)
            self.session.commit()
            return Outcome(SendStatus.QUEUED, MISCONFIGURED_RETRY, reason)
        row.attempts += 1
        try:
            sent = gateway.send(row.number, row.text, row.id)
        except GatewayError as exc:
            outcome, next_at = _failed(row, f"sms {row.id} to {row.number}", exc.reason,
                                       exc.retryable, row.attempts, self.max_attempts,
                                       self.retry_base, now)
            row.status, row.last_error, row.next_attempt_at = outcome.status, exc.reason, next_at
            self.session.commit()
            return outcome
        row.status = SendStatus.SENT if sent.delivers else SendStatus.LOGGED
        row.gateway, row.sent_at, row.next_attempt_at = sent.gateway, now, None
        row.last_error = None
        self.session.commit()
        logger.info("sms %s to %s: %s by %s", row.id, row.number, row.status.value, sent.gateway)
        return Outcome(row.status)


class VoicemailNotifier:
    """Sends the e-mail notice of one voicemail (web.messages.mail), on one session."""

    def __init__(self, session, settings, max_attempts=NOTICE_MAX_ATTEMPTS, retry_base=30.0,
                 clock=utcnow):
        self.session = session
        self.settings = settings
        self.smtp = SmtpSettings.from_settings(settings)
        self.max_attempts = max_attempts
        self.retry_base = retry_base
        self._clock = clock

    def notify(self, message_id):
        """One try at telling the box of voicemail ``message_id``; its Outcome."""
        row = self.session.get(VoiceMessage, message_id, with_for_update=True)
        if row is None or row.notice_status is None:
            logger.error("voicemail %s: no such voicemail", message_id)
            return Outcome(None)
        if row.notice_status in FINAL:
            return Outcome(row.notice_status)
        to = recipient(row, self.settings)
        if to is None:
            row.notice_status = SendStatus.SKIPPED
            row.notice_error = (f"no e-mail address for {row.box} (set the node's 'email', "
                                f"voicemail_emails or voicemail_email_to)")
            self.session.commit()
            logger.warning("voicemail %s: %s", row.id, row.notice_error)
            return Outcome(SendStatus.SKIPPED, reason=row.notice_error)
        row.notice_attempts += 1
        now = self._clock()
        try:
            send_notice(build_notice(row, to, self.smtp), self.smtp)
        except NoticeError as exc:
            outcome, next_at = _failed(row, f"voicemail {row.id} notice to {to}", exc.reason,
                                       exc.retryable, row.notice_attempts, self.max_attempts,
                                       self.retry_base, now)
            row.notice_status, row.notice_error, row.notice_next_at = (outcome.status,
                                                                       exc.reason, next_at)
            self.session.commit()
            return outcome
        row.notice_status, row.notice_error, row.notified_at = SendStatus.SENT, None, now
        row.notice_next_at = None
        self.session.commit()
        logger.info("voicemail %s of %s: notice sent to %s", row.id, row.box, to)
        return Outcome(SendStatus.SENT)
