"""Click-to-dial: an agent's own phone first, then the number, then the two bridged.

Driven by UUID like every offer (fs_cc.acd.callback_offer is its model). The call is named by
the number's leg (``call_uuid``), as an ACD call is by its caller's, and the agent's phone is its
``leg``. Its events make a call record: CallStarted (did "outbound", the number as the
caller's), OfferedToAgent, AnsweredByAgent once the number answers, CallEnded.

The agent keeps its place: an available agent is reserved (no ACD call is offered while it
dials or talks), on the call once its phone answers, and available again (or what it asked
meanwhile) at the end. An agent on a break stays not ready; its reason reads ``outbound`` during
the call (the states allow no move from not ready to on call) and is given back at the end,
whether the call failed or not: mod_callcenter's reset of a break by a failed outbound call is
what this avoids.
"""

import dataclasses
import logging
import math
import typing

import gevent
import gevent.event

from fs_cc import events
from fs_cc.acd.agents import LEGACY_BREAK, AgentStatus
from fs_cc.acd.callback_offer import RINGBACK, end_of, failure_cause
from fs_cc.acd.transfer import ControlRefused
from fs_cc.esl.errors import CommandError, ESLError
from fs_cc.events import HangupSide

logger = logging.getLogger(__name__)

OUTBOUND_DID = "outbound"  # the call record's "number dialled" of an agent's outbound call
OUTBOUND_REASON = "outbound"  # the status change's reason (and a break's code during the call)


@dataclasses.dataclass
class OutboundCall:
    """One agent's outbound call while it lasts."""

    call_uuid: str  # the number's leg
    leg: str  # the agent's phone
    agent: str
    number: str
    before: AgentStatus  # the agent's status when it dialled
    reason: typing.Optional[str] = None  # its not-ready reason code then
    answered: bool = False  # the number answered and is bridged to the agent
    answered_at: float = 0.0
    muted: bool = False
    done: gevent.event.Event = dataclasses.field(default_factory=gevent.event.Event)


class Dialer:
    """Runs agents' outbound calls on the ACD's call control (``dial``: "{number}" template)."""

    def __init__(self, acd, *, dial, caller_id="", ring=45, new_uuid):
        self.acd = acd
        self.dial = dial
        self.caller_id = caller_id
        self.ring = ring
        self._new_uuid = new_uuid
        self.calls = {}  # call_uuid -> OutboundCall

    def of_agent(self, agent):
        """The agent's outbound call in progress, or None."""
        return next((call for call in self.calls.values() if call.agent == agent), None)

    def start(self, agent, number):
        """Ring ``agent``'s phone, then ``number``; the OutboundCall (ControlRefused if not)."""
        acd = self.acd
        current = acd.store.get_agent(agent)  # UnknownAgent
        if self.of_agent(agent) is not None:
            raise ControlRefused("agent", f"agent {agent} is already on an outbound call")
        if current.status is AgentStatus.AVAILABLE:
            if acd.store.reserve_agent(agent) is None:
                raise ControlRefused("agent", f"agent {agent} cannot be rung now")
            acd.status_changed(agent, AgentStatus.AVAILABLE, AgentStatus.RESERVED, OUTBOUND_REASON)
        elif current.status is AgentStatus.NOT_READY:
            acd.presence.move(agent, AgentStatus.NOT_READY, OUTBOUND_REASON,
                              expected=(AgentStatus.NOT_READY,), code=OUTBOUND_REASON)
        else:
            raise ControlRefused("agent", f"agent {agent} is {current.status.value}: only an "
                                          "available or not ready agent may dial")
        call = OutboundCall(self._new_uuid(), self._new_uuid(), agent, number, current.status,
                            current.reason)
        self.calls[call.call_uuid] = call
        acd.emit(events.CallStarted, call_uuid=call.call_uuid, did=OUTBOUND_DID,
                 caller_number=number)
        acd.emit(events.OfferedToAgent, call_uuid=call.call_uuid, agent=agent, leg_uuid=call.leg,
                 queue=None)
        logger.info("outbound call %s: ringing agent %s (leg %s) to call %s", call.call_uuid,
                    agent, call.leg, number)
        job = gevent.spawn(self._run, call)
        job.link_exception(lambda g: self._died(g, call))
        return call

    def _died(self, greenlet, call):
        logger.error("outbound call %s of agent %s failed: %r", call.call_uuid, call.agent,
                     greenlet.exception)
        self._end(call, HangupSide.SYSTEM, "NORMAL_TEMPORARY_FAILURE")

    def _originate(self, dial_string, variables, ring):
        """None when the leg answered, else the error (a value, not a greenlet crash)."""
        try:
            self.acd.ctl.originate(dial_string, "&park()", variables, timeout=ring + 15)
        except ESLError as exc:
            return exc
        return None

    def _run(self, call):
        acd = self.acd
        ring = max(1, math.ceil(acd.ring_timeout))
        agent_vars = {"origination_uuid": call.leg, "originate_timeout": ring,
                      "origination_caller_id_number": call.number,
                      "origination_caller_id_name": f"Outbound {call.number}",
                      "hangup_after_bridge": "true", "fs_cc_call_uuid": call.call_uuid,
                      "fs_cc_agent": call.agent, "fs_cc_outbound": "true"}
        with acd.ctl.watch(call.leg) as agent_watch:  # before the leg exists: no event missed
            error = self._originate(f"user/{call.agent}", agent_vars, ring)
            if error is not None:
                cause = failure_cause(error)
                logger.info("outbound call %s: agent %s's phone did not answer (%s)",
                            call.call_uuid, call.agent, cause)
                if not isinstance(error, CommandError):
                    acd.kill(call.leg, "NORMAL_CLEARING")  # a lost reply may hide a ringing leg
                self._end(call, HangupSide.AGENT, cause)
                return
            if call.before is AgentStatus.AVAILABLE:
                acd.presence.move(call.agent, AgentStatus.ON_CALL, OUTBOUND_REASON,
                                  expected=(AgentStatus.RESERVED,))
            self._play(call.leg, RINGBACK)
            with acd.legs.follow(call.leg) as agent_gone:
                agent_end = gevent.spawn(acd.legs.wait_end, agent_watch, agent_gone)
                try:
                    side, cause = self._call_number(call, agent_end)
                finally:
                    agent_end.kill()
        self._end(call, side, cause)

    def _call_number(self, call, agent_end):
        """(side, cause) of the end of the call, once the number's leg has been tried."""
        acd = self.acd
        variables = {"origination_uuid": call.call_uuid,
                     "originate_timeout": max(1, math.ceil(self.ring)),
                     "hangup_after_bridge": "true", "fs_cc_call_uuid": call.call_uuid,
                     "fs_cc_agent": call.agent, "fs_cc_outbound": "true"}
        if self.caller_id:
            variables["origination_caller_id_number"] = self.caller_id
        with acd.ctl.watch(call.call_uuid) as number_watch:
            job = gevent.spawn(self._originate, self.dial.format(number=call.number), variables,
                               self.ring)
            gevent.wait([job, agent_end], count=1)
            if not job.ready():  # the agent put the phone down while the number rang
                acd.kill(call.call_uuid, "ORIGINATOR_CANCEL")
                job.join(timeout=5)
                if not job.ready():
                    job.kill()
                elif job.value is None:
                    acd.kill(call.call_uuid, "NORMAL_CLEARING")
                end = end_of(agent_end)
                return HangupSide.AGENT, end.cause if end is not None else "NORMAL_CLEARING"
            cause = None if job.value is None else failure_cause(job.value)
            if cause is None and not self._bridge(call):
                cause = "BRIDGE_FAILED"
            if cause is not None:
                logger.info("outbound call %s: %s not reached (%s)", call.call_uuid, call.number,
                            cause)
                if not isinstance(job.value, CommandError):
                    acd.kill(call.call_uuid, "NORMAL_CLEARING")
                acd.kill(call.leg, "NORMAL_CLEARING")
                return HangupSide.CALLER, cause
            call.answered = True
            call.answered_at = acd.monotonic()
            acd.emit(events.AnsweredByAgent, call_uuid=call.call_uuid, agent=call.agent,
                     leg_uuid=call.leg)
            logger.info("outbound call %s: %s connected to agent %s", call.call_uuid,
                        call.number, call.agent)
            with acd.legs.follow(call.call_uuid) as number_gone:
                number_end = gevent.spawn(acd.legs.wait_end, number_watch, number_gone)
                try:
                    return self._until_hangup(call, agent_end, number_end)
                finally:
                    number_end.kill()

    def _bridge(self, call):
        try:
            self.acd.ctl.stop_media(call.leg)  # the ringback
        except ESLError as exc:
            logger.debug("outbound call %s: uuid_break %s: %s", call.call_uuid, call.leg, exc)
        try:
            self.acd.ctl.bridge(call.call_uuid, call.leg)
        except ESLError as exc:
            logger.warning("outbound call %s: bridge failed: %s", call.call_uuid, exc)
            return False
        return True

    def _until_hangup(self, call, agent_end, number_end):
        """Wait for either leg to end; end the other; (side, cause) of who hung up first."""
        first = gevent.wait([agent_end, number_end], count=1)[0]
        gevent.wait([agent_end, number_end], timeout=self.acd.hangup_grace)
        agent, number = end_of(agent_end), end_of(number_end)
        if agent is not None and (number is None or first is agent_end):
            if number is None:
                self.acd.kill(call.call_uuid, "NORMAL_CLEARING")
            return HangupSide.AGENT, agent.cause
        if agent is None:
            self.acd.kill(call.leg, "NORMAL_CLEARING")
        return HangupSide.CALLER, number.cause if number is not None else "NORMAL_CLEARING"

    def _end(self, call, side, cause):
        """The call's end: CallEnded, and the agent back where it was."""
        if self.calls.pop(call.call_uuid, None) is None:
            return
        acd = self.acd
        logger.info("outbound call %s of agent %s ended by %s (%s)", call.call_uuid, call.agent,
                    side.value, cause)
        acd.emit(events.CallEnded, call_uuid=call.call_uuid, side=side, cause=cause)
        try:
            self._restore(call)
        finally:
            call.done.set()

    def _restore(self, call):
        acd, ext = self.acd, call.agent
        now = acd.store.get_agent(ext)
        if call.before is AgentStatus.AVAILABLE:
            if now.status is AgentStatus.RESERVED:
                acd.presence.offer_ended(ext)  # available, or what it asked meanwhile
            elif now.status is AgentStatus.ON_CALL:
                talk = acd.monotonic() - call.answered_at if call.answered else 0.0
                acd.presence.call_ended(ext, talk, None, "outbound call ended")
            return
        if now.status is AgentStatus.NOT_READY and now.reason == OUTBOUND_REASON:
            reason = call.reason or LEGACY_BREAK
            acd.presence.move(ext, AgentStatus.NOT_READY, reason,
                              expected=(AgentStatus.NOT_READY,), code=reason)

    def _play(self, leg, media):
        try:
            self.acd.ctl.play(leg, media)
        except ESLError as exc:
            logger.debug("outbound leg %s: ringback not played: %s", leg, exc)
