"""The offer of a callback: the agent's phone first, then the customer's, then the two bridged.

Runs in its own greenlet per attempt, driven by UUID like every offer. The agent's leg shows it
is a callback (``fs_cc_callback=true``, ``fs_cc_callback_id``, the customer's number as caller
id) and hears ringing while the customer is called. An agent who does not answer is a missed
offer (``OfferFailed``): the request goes back in line at its place. A customer who does not
answer, is busy or whose call fails costs an attempt (fs_cc.callbacks.RetryPolicy). Once bridged
the call is followed to its end like any other; its events make its call record (did
"callback", the customer's number as the caller's).
"""

import logging
import math

import gevent

from fs_cc import events
from fs_cc.acd.agents import AgentStatus
from fs_cc.acd.legs import fired_before
from fs_cc.acd.waiting import Phase
from fs_cc.callbacks import AttemptOutcome
from fs_cc.esl.errors import CommandError, ESLError
from fs_cc.events import HangupSide, OfferFailure, QueueOutcome

logger = logging.getLogger(__name__)

CALLBACK_DID = "callback"  # the call record's "number dialled" of a callback's call
# what the agent hears while the customer's phone rings (North American ringback)
RINGBACK = "tone_stream://%(2000,4000,440,480);loops=-1"


def end_of(job):
    """The LegEnd a finished wait_end greenlet gave, or None."""
    return job.value if job.ready() and job.successful() else None


def failure_cause(error):
    """The FreeSWITCH cause of a failed originate (``-ERR USER_BUSY``), or the error's kind."""
    if isinstance(error, CommandError):
        return error.reason.removeprefix("-ERR").strip() or "NORMAL_TEMPORARY_FAILURE"
    return type(error).__name__


class CallbackOffer:
    """Runs the attempts of a CallbackDesk's requests (its ``acd``, ``dial`` string, timings)."""

    def __init__(self, desk, *, dial, caller_id="", customer_ring=45, new_uuid):
        self.desk = desk
        self.dial = dial
        self.caller_id = caller_id
        self.customer_ring = customer_ring
        self._new_uuid = new_uuid

    @property
    def acd(self):
        """The ACD whose agents and call control the attempts use."""
        return self.desk.acd

    def start(self, caller, agent):
        """The ACD's offer of the request ``caller`` stands for to the reserved ``agent``."""
        request = self.desk.requests.get(caller.call_uuid)
        ext = agent.extension
        if request is None or request.caller is not caller:
            # cancelled or rescheduled while the router reserved the agent: give it back
            logger.info("callback %s: no longer waiting; agent %s released", caller.call_uuid, ext)
            self.acd.store.release(ext)
            self.acd.router.agent_free(ext)
            return None
        caller.phase = Phase.OFFERING
        call_uuid, leg = self._new_uuid(), self._new_uuid()
        self.desk.dispatched(request, ext, call_uuid, leg)
        job = gevent.spawn(self._run, request, ext, call_uuid, leg)
        job.link_exception(lambda g: logger.error("callback %s: attempt with agent %s failed: %r",
                                                  request.callback_id, ext, g.exception))
        return job

    def _run(self, request, ext, call_uuid, leg):
        acd = self.acd
        acd.status_changed(ext, AgentStatus.AVAILABLE, AgentStatus.RESERVED, "offered callback")
        acd.emit(events.OfferedToAgent, call_uuid=call_uuid, agent=ext, leg_uuid=leg,
                 queue=request.queue)
        logger.info("callback %s: ringing agent %s (leg %s) to call %s", request.callback_id,
                    ext, leg, request.number)
        with acd.ctl.watch(leg) as agent_watch:  # before the leg exists: no event missed
            error = self._originate(f"user/{ext}", self._agent_variables(request, ext, call_uuid,
                                                                         leg),
                                       acd.ring_timeout_of(request.queue))
            if error is not None:
                self._agent_missed(request, ext, call_uuid, leg, error)
                return
            acd.presence.answered(ext, "answered callback")
            acd.emit(events.CallStarted, call_uuid=call_uuid, did=CALLBACK_DID,
                     caller_number=request.number)
            acd.emit(events.QueueLeft, call_uuid=call_uuid, queue=request.queue,
                     outcome=QueueOutcome.ANSWERED,
                     waited=round(max(0.0, self.desk.clock() - request.since), 3))
            self._play(leg, RINGBACK)
            with acd.legs.follow(leg) as agent_gone:
                agent_end = gevent.spawn(acd.legs.wait_end, agent_watch, agent_gone)
                try:
                    self._call_customer(request, ext, call_uuid, leg, agent_end)
                finally:
                    agent_end.kill()

    def _agent_variables(self, request, ext, call_uuid, leg):
        return {
            "origination_uuid": leg,
            "originate_timeout": max(1, math.ceil(self.acd.ring_timeout_of(request.queue))),
            "origination_caller_id_number": request.number,
            "origination_caller_id_name": f"Callback {request.number}",
            "hangup_after_bridge": "true",
            "fs_cc_call_uuid": call_uuid,
            "fs_cc_queue": request.queue,
            "fs_cc_agent": ext,
            "fs_cc_callback": "true",
            "fs_cc_callback_id": request.callback_id,
            "fs_cc_callback_number": request.number,
        }

    def _customer_variables(self, request, call_uuid):
        variables = {
            "origination_uuid": call_uuid,
            "originate_timeout": max(1, math.ceil(self.customer_ring)),
            "hangup_after_bridge": "true",
            "fs_cc_call_uuid": call_uuid,
            "fs_cc_queue": request.queue,
            "fs_cc_callback": "true",
            "fs_cc_callback_id": request.callback_id,
        }
        if self.caller_id:
            variables["origination_caller_id_number"] = self.caller_id
        return variables

    def _originate(self, dial_string, variables, ring):
        """None when the leg answered, else the error (a value, not a greenlet crash)."""
        try:
            self.acd.ctl.originate(dial_string, "&park()", variables, timeout=ring + 15)
        except ESLError as exc:
            return exc
        return None

    def _agent_missed(self, request, ext, call_uuid, leg, error):
        acd = self.acd
        cause = failure_cause(error)
        if not isinstance(error, CommandError):
            acd.kill(leg, "NORMAL_CLEARING")  # a lost reply may hide a ringing leg
        failure = OfferFailure.from_hangup_cause(cause)
        logger.info("callback %s: agent %s did not take it (%s)", request.callback_id, ext, cause)
        acd.emit(events.OfferFailed, call_uuid=call_uuid, agent=ext, leg_uuid=leg, cause=failure,
                 hangup_cause=cause)
        request.caller.tried[ext] = acd.monotonic()
        acd.release(ext, failure, request.queue)
        outcome = (AttemptOutcome.AGENT_NO_ANSWER if failure is OfferFailure.NO_ANSWER
                   else AttemptOutcome.AGENT_FAILED)
        self.desk.agent_missed(request, ext, call_uuid, outcome, cause)

    def _call_customer(self, request, ext, call_uuid, leg, agent_end):
        acd = self.acd
        with acd.ctl.watch(call_uuid) as customer_watch:
            job = gevent.spawn(self._originate, self.dial.format(number=request.number),
                               self._customer_variables(request, call_uuid), self.customer_ring)
            gevent.wait([job, agent_end], count=1)
            if not job.ready():
                self._agent_left(request, ext, call_uuid, job, agent_end)
                return
            cause = None if job.value is None else failure_cause(job.value)
            if cause is None and not self._bridge(request, call_uuid, leg):
                cause = "BRIDGE_FAILED"
            if cause is not None:
                logger.info("callback %s: customer %s not reached (%s)", request.callback_id,
                            request.number, cause)
                if not isinstance(job.value, CommandError):  # a ringing or answered leg
                    acd.kill(call_uuid, "NORMAL_CLEARING")
                acd.kill(leg, "NORMAL_CLEARING")
                self._free(ext, "callback not answered")
                acd.emit(events.CallEnded, call_uuid=call_uuid, side=HangupSide.SYSTEM,
                         cause=cause)
                self.desk.customer_failed(request, ext, call_uuid, cause)
                return
            acd.emit(events.AnsweredByAgent, call_uuid=call_uuid, agent=ext, leg_uuid=leg)
            logger.info("callback %s: customer %s connected to agent %s (call %s)",
                        request.callback_id, request.number, ext, call_uuid)
            self.desk.connected(request, ext, call_uuid)
            with acd.legs.follow(call_uuid) as customer_gone:
                customer_end = gevent.spawn(acd.legs.wait_end, customer_watch, customer_gone)
                try:
                    side, cause = self._until_hangup(call_uuid, leg, agent_end, customer_end)
                finally:
                    customer_end.kill()
        self._free(ext, "call ended", request.queue)
        logger.info("callback %s: call %s ended by %s (%s)", request.callback_id, call_uuid,
                    side.value, cause)
        acd.emit(events.CallEnded, call_uuid=call_uuid, side=side, cause=cause)

    def _bridge(self, request, call_uuid, leg):
        """Join the customer and the agent (the ringback stopped first); False if it failed."""
        try:
            self.acd.ctl.stop_media(leg)
        except ESLError as exc:
            logger.debug("callback %s: uuid_break %s: %s", request.callback_id, leg, exc)
        try:
            self.acd.ctl.bridge(call_uuid, leg)
        except ESLError as exc:
            logger.warning("callback %s: bridge failed: %s", request.callback_id, exc)
            return False
        return True

    def _agent_left(self, request, ext, call_uuid, job, agent_end):
        """The agent hung up while the customer's phone rang: stop it, back in line."""
        acd = self.acd
        acd.kill(call_uuid, "ORIGINATOR_CANCEL")
        job.join(timeout=5)
        if not job.ready():
            job.kill()
        elif job.value is None:
            acd.kill(call_uuid, "NORMAL_CLEARING")  # answered just as the agent left
        cause = agent_end.value.cause if agent_end.successful() else "NORMAL_CLEARING"
        logger.info("callback %s: agent %s hung up before the customer answered",
                    request.callback_id, ext)
        self._free(ext, "callback abandoned")
        acd.emit(events.CallEnded, call_uuid=call_uuid, side=HangupSide.AGENT, cause=cause)
        self.desk.agent_missed(request, ext, call_uuid, AttemptOutcome.AGENT_FAILED,
                               "AGENT_HANGUP")

    def _until_hangup(self, call_uuid, leg, agent_end, customer_end):
        """Wait for either leg to end; end the other; (side, cause) of who hung up first."""
        first = gevent.wait([agent_end, customer_end], count=1)[0]
        # the other leg's hangup may be on its way: let it arrive, then the switch's order decides
        gevent.wait([agent_end, customer_end], timeout=self.acd.hangup_grace)
        agent, customer = end_of(agent_end), end_of(customer_end)
        if agent is not None and customer is not None and agent.seen and customer.seen:
            agent_first = fired_before(agent.event, customer.event) is not False
        else:
            agent_first = agent is not None and (customer is None or first is agent_end)
        if agent_first:
            if customer is None:
                self.acd.kill(call_uuid, "NORMAL_CLEARING")
            return HangupSide.AGENT, agent.cause
        if agent is None:
            self.acd.kill(leg, "NORMAL_CLEARING")
        return HangupSide.CALLER, customer.cause if customer is not None else "NORMAL_CLEARING"

    def _free(self, ext, reason, queue=None):
        # wrap-up, or what the agent asked during the call (fs_cc.acd.presence)
        self.acd.presence.call_ended(ext, queue=queue, reason=reason)

    def _play(self, leg, media):
        try:
            self.acd.ctl.play(leg, media)
        except ESLError as exc:
            logger.debug("callback leg %s: ringback not played: %s", leg, exc)
