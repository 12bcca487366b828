"""One inbound call from start to end: its first fact, the IVR flow, and its last fact.

The call's story is told by events (fs_cc.events); this is the one place that says how a call
that the ACD did not settle ended (who hung up, with which cause).
"""

import logging

from fs_cc import events
from fs_cc.esl.errors import ESLError
from fs_cc.events import HangupSide
from fs_cc.ivr.runner import FlowOutcome

logger = logging.getLogger(__name__)

FAILURE_CAUSE = "NORMAL_TEMPORARY_FAILURE"


class CallHandler:
    """Runs each call through a FlowRunner (chosen per DID) and emits its start and end."""

    def __init__(self, runner_for, emitter, adoptions=None, stamp_of=None):
        self._runner_for = runner_for  # did -> the FlowRunner of the flow that number runs
        # runner -> the fs_cc.ivr.versions.FlowSource it was built from (None: not known)
        self._stamp_of = stamp_of
        self.emitter = emitter
        # call uuid -> fs_cc.adoption.Adoption of a call an earlier run of the engine had
        self.adoptions = adoptions if adoptions is not None else {}

    def handle(self, session):
        """Run the call; always end with a CallEnded event (returned)."""
        # the dialplan sets fs_cc_did (the service number, as the carrier's pattern captured it)
        did = session.get_var("fs_cc_did") or session.destination_number or ""
        adoption = self.adoptions.pop(session.uuid, None)
        if adoption is None:
            self.emitter.emit(events.CallStarted, call_uuid=session.uuid, did=did,
                              caller_number=session.caller_number or "",
                              caller_name=session.caller_name or "")
            did, resume = did, {}
        else:
            self.emitter.emit(events.CallAdopted, call_uuid=session.uuid,
                              previous_engine=adoption.previous_engine, queue=adoption.queue)
            did, resume = adoption.did, adoption.resume()
        result = None
        side = cause = None
        try:
            runner = self._runner_for(did)
            if adoption is None:
                self._flow_started(session, runner)
            result = runner.run(session, **resume)
        except ESLError as exc:
            # the switch or the socket failed under us: end the call rather than leave it hanging
            logger.warning("call %s: flow stopped by %s", session.uuid, exc)
            self._hang_up(session, FAILURE_CAUSE)
            side, cause = HangupSide.SYSTEM, FAILURE_CAUSE
        if result is not None:
            side, cause = self._ending(session, result)
        return self.emitter.emit(events.CallEnded, call_uuid=session.uuid, side=side,
                                 cause=cause or session.hangup_cause or "NORMAL_CLEARING")

    def _flow_started(self, session, runner):
        # the version the call runs, fixed now: a reload later builds other runners
        source = self._stamp_of(runner) if self._stamp_of is not None else None
        if source is not None:
            self.emitter.emit(events.FlowStarted, call_uuid=session.uuid, flow=source.name,
                              sha256=source.sha256, version=source.version)

    @staticmethod
    def _hang_up(session, cause):
        try:
            session.hangup(cause)
        except ESLError as exc:
            logger.debug("call %s: hangup: %s", session.uuid, exc)

    def _ending(self, session, result):
        if result.side is not None:
            return result.side, result.hangup_cause
        if result.outcome is FlowOutcome.CALLER_HUNG_UP:
            return HangupSide.CALLER, result.hangup_cause
        if result.outcome is FlowOutcome.FLOW_HUNG_UP:
            return HangupSide.SYSTEM, result.hangup_cause
        # the ACD returned without saying how the call ended: we end it
        if session.is_up:
            self._hang_up(session, "NORMAL_CLEARING")
            return HangupSide.SYSTEM, "NORMAL_CLEARING"
        return HangupSide.CALLER, session.hangup_cause
