"""Message rules: rows from the engine's message events, and the sends the worker owes.

:meth:`MessageService.apply` runs inside the worker's fact commit (web.facts.services), so an
SMS request or a voicemail is in the database as soon as its event is, and a batch redelivered
after a crash adds nothing (rows are keyed by path, request id, engine and seq). What must then
be sent is handed to the tasks after the commit (:meth:`MessageService.dispatch`); a hand-off
lost with a dying worker is picked up by the beat sweep (web.messages.tasks), since the row
still says ``queued``.
"""

import logging

import sqlalchemy as sa

from fs_cc import events
from web.messages.models import (MessageKind, SendStatus, SmsRequest, SurveyAnswer,
                                 VoiceMessage)

logger = logging.getLogger(__name__)

MESSAGE_EVENTS = (events.MessageRecorded, events.VoicemailLeft, events.SmsRequested,
                  events.SurveyAnswered)
# the longest texts these events may carry into their columns (checked here, logged, not stored)
TEXT_LIMITS = {"path": 512, "box": 80, "number": 32, "agent": 32, "queue": 64,
               "caller_number": 64, "email": 255, "request_id": 64, "flow": 64, "node": 64}


class MessageService:
    """Keeps the message tables on one database session (the fact service commits)."""

    def __init__(self, session, senders=None):
        self.session = session
        # after the commit: senders["sms"](request id), senders["voicemail"](message id)
        self.senders = senders
        self._new_sms = []
        self._new_voicemail = []

    def apply(self, facts):
        """Add the rows the message events among ``facts`` describe; how many were new."""
        added = 0
        for event in facts:
            if not isinstance(event, MESSAGE_EVENTS):
                continue
            too_long = [name for name, limit in TEXT_LIMITS.items()
                        if isinstance(getattr(event, name, None), str)
                        and len(getattr(event, name)) > limit]
            if too_long:
                logger.error("call %s: %s not stored: field %s longer than %s characters",
                             event.call_uuid, event.TYPE, too_long[0], TEXT_LIMITS[too_long[0]])
                continue
            added += self._apply(event)
        return added

    def _apply(self, event):
        if isinstance(event, events.SmsRequested):
            return self._sms(event)
        if isinstance(event, events.SurveyAnswered):
            return self._survey(event)
        return self._voice(event)

    def _voice(self, event):
        if self.session.execute(sa.select(VoiceMessage.id).where(
                VoiceMessage.path == event.path)).first() is not None:
            return 0
        voicemail = isinstance(event, events.VoicemailLeft)
        row = VoiceMessage(
            path=event.path, kind=MessageKind.VOICEMAIL if voicemail else MessageKind.RECORDING,
            box=event.box if voicemail else None, call_uuid=event.call_uuid,
            engine=event.engine, flow=event.flow, node=event.node,
            caller_number=event.caller_number if voicemail else "", left_at=event.ts,
            duration_ms=event.duration_ms, size_bytes=event.size,
            cause="" if voicemail else event.cause,
            email_to=event.email if voicemail else None,
            notice_status=SendStatus.QUEUED if voicemail else None, notice_attempts=0,
            notice_next_at=event.ts if voicemail else None)
        self.session.add(row)
        if voicemail:
            self.session.flush()  # its id, for the notice task
            self._new_voicemail.append(row.id)
            logger.info("call %s: voicemail for %s stored (%s)", event.call_uuid, event.box,
                        event.path)
        return 1

    def _sms(self, event):
        if self.session.get(SmsRequest, event.request_id) is not None:
            return 0
        self.session.add(SmsRequest(
            id=event.request_id, call_uuid=event.call_uuid, engine=event.engine,
            flow=event.flow, node=event.node, number=event.number, text=event.text,
            status=SendStatus.QUEUED, attempts=0, requested_at=event.ts,
            next_attempt_at=event.ts))
        self._new_sms.append(event.request_id)
        return 1

    def _survey(self, event):
        if self.session.execute(sa.select(SurveyAnswer.id).where(
                SurveyAnswer.engine == event.engine,
                SurveyAnswer.seq == event.seq)).first() is not None:
            return 0
        self.session.add(SurveyAnswer(
            engine=event.engine, seq=event.seq, call_uuid=event.call_uuid, flow=event.flow,
            node=event.node, score=event.score, agent=event.agent, queue=event.queue,
            answered_at=event.ts))
        return 1

    def dispatch(self):
        """After the commit: hand each new SMS and voicemail to its sending task."""
        if self.senders is None:
            return 0
        handed = 0
        for kind, ids in (("sms", self._new_sms), ("voicemail", self._new_voicemail)):
            for row_id in ids:
                try:
                    self.senders[kind](row_id)
                    handed += 1
                except Exception as exc:  # noqa: BLE001 -- any broker failure: the sweep resends
                    logger.warning("%s %s stored but not handed to the worker (%s); the sweep "
                                   "sends it", kind, row_id, exc)
        self._new_sms, self._new_voicemail = [], []
        return handed


class MessageQueries:
    """What the messages page lists."""

    def __init__(self, session):
        self.session = session

    def voicemails(self, limit=100):
        """The latest voice messages, newest first."""
        return self.session.execute(sa.select(VoiceMessage).order_by(
            VoiceMessage.left_at.desc(), VoiceMessage.id.desc()).limit(limit)).scalars().all()

    def sms_requests(self, limit=100):
        """The latest SMS requests, newest first."""
        return self.session.execute(sa.select(SmsRequest).order_by(
            SmsRequest.requested_at.desc()).limit(limit)).scalars().all()

    def surveys(self, limit=100):
        """The latest survey answers, newest first."""
        return self.session.execute(sa.select(SurveyAnswer).order_by(
            SurveyAnswer.answered_at.desc()).limit(limit)).scalars().all()

    def message(self, message_id):
        """One voice message, or None."""
        return self.session.get(VoiceMessage, message_id)
