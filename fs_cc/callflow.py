"""One inbound call from start to end: build its record, run the IVR flow, complete the record."""

import logging

from fs_cc.calls import CallRecord, HangupSide, utcnow
from fs_cc.esl.errors import ESLError
from fs_cc.ivr.runner import FlowOutcome

logger = logging.getLogger(__name__)


class CallHandler:
    """Runs each call through a :class:`~fs_cc.ivr.runner.FlowRunner` and returns its record."""

    def __init__(self, runner):
        self.runner = runner

    def handle(self, session, started=None):
        """Run the call; always return a completed CallRecord (ended_at, cause and side set).

        ``started(record)``, when given, is called with the new record before the flow runs, so
        the caller can keep it durable while the call is in progress.
        """
        record = CallRecord(uuid=session.uuid, caller_number=session.caller_number or "",
                            did=session.destination_number or "", started_at=utcnow())
        if started is not None:
            started(record)
        result = None
        try:
            result = self.runner.run(session, record)
        except ESLError as exc:
            # the switch or the socket failed under us: end the call rather than leave it hanging
            logger.warning("call %s: flow stopped by %s", session.uuid, exc)
            self._hang_up(session, "NORMAL_TEMPORARY_FAILURE")
            record.hangup_side = record.hangup_side or HangupSide.SYSTEM
            record.hangup_cause = record.hangup_cause or "NORMAL_TEMPORARY_FAILURE"
        finally:
            record.ended_at = record.ended_at or utcnow()
        self._complete(session, record, result)
        return record

    @staticmethod
    def _hang_up(session, cause):
        try:
            session.hangup(cause)
        except ESLError as exc:
            logger.debug("call %s: hangup: %s", session.uuid, exc)

    def _complete(self, session, record, result):
        if result is not None and result.outcome is FlowOutcome.CALLER_HUNG_UP:
            record.hangup_side = record.hangup_side or HangupSide.CALLER
            record.hangup_cause = record.hangup_cause or result.hangup_cause
        elif result is not None and result.outcome is FlowOutcome.FLOW_HUNG_UP:
            record.hangup_side = record.hangup_side or HangupSide.SYSTEM
            record.hangup_cause = record.hangup_cause or result.hangup_cause
        if record.hangup_side is None:
            # the ACD returned without saying how the call ended: we end it
            if session.is_up:
                self._hang_up(session, "NORMAL_CLEARING")
                record.hangup_side = HangupSide.SYSTEM
            else:
                record.hangup_side = HangupSide.CALLER
        if record.hangup_cause is None:
            record.hangup_cause = session.hangup_cause or "NORMAL_CLEARING"
