"""One offer of a caller to a reserved agent, driven by UUID: ring, bridge, follow to the end.

Runs in its own greenlet per offer. An unanswered offer frees the agent and puts the caller back
in its old place; an answered one follows the call until either leg hangs up, says who did, and
resolves the caller's ticket with it.
"""

import logging
import math
import uuid as uuidlib

import gevent

from fs_cc import events
from fs_cc.acd.agents import AgentStatus
from fs_cc.acd.legs import DEFAULT_CAUSE, agent_left_first
from fs_cc.acd.ring_all import RingAll
from fs_cc.acd.waiting import Phase, QueueResult
from fs_cc.esl.errors import CommandError, ESLError
from fs_cc.events import HangupSide, OfferFailure, QueueOutcome

logger = logging.getLogger(__name__)


def _bridge_cause(event):
    """The agent leg's cause as the caller's hangup event tells it, or NORMAL_CLEARING."""
    for name in ("variable_last_bridge_hangup_cause", "variable_bridge_hangup_cause"):
        cause = event.get(name) if event is not None else None
        if cause:
            return cause
    return DEFAULT_CAUSE


def _seq(event):
    """Event-Name#Event-Sequence of an event with what it says of the bridge, for the log."""
    if event is None:
        return None
    extra = ",".join(f"{k}={event.get(k)}" for k in (
        "Hangup-Cause", "variable_last_bridge_hangup_cause", "variable_bridge_hangup_cause",
        "variable_last_bridge_role", "Other-Leg-Unique-ID") if event.get(k))
    return f"{event.get('Event-Name')}#{event.get('Event-Sequence')}[{extra}]"


class Offers:
    """Runs offers for the ACD: its store, call control, emitter, follower and timings."""

    def __init__(self, acd, *, new_uuid=lambda: str(uuidlib.uuid4())):
        self.acd = acd
        self._new_uuid = new_uuid
        self.ring_all = RingAll(self)

    def start(self, caller, agent):
        """Run the offer of ``caller`` to the reserved ``agent`` (a list: ring-all) in its own
        greenlet."""
        if isinstance(agent, list):
            return self.ring_all.start(caller, agent)
        caller.phase = Phase.OFFERING
        job = gevent.spawn(self._run, caller, agent.extension)
        job.link_exception(lambda g: self._died(g, caller, agent.extension))
        return job

    def follow(self, caller, ext, leg):
        """Follow a call already connected to ``ext`` on ``leg`` (adopted) to its end."""
        job = gevent.spawn(self._follow, caller, ext, leg)
        job.link_exception(lambda g: self._died(g, caller, ext))
        return job

    def _follow(self, caller, ext, leg):
        caller.leg = leg
        with self.acd.ctl.watch(leg) as watch:
            try:
                alive = self.acd.ctl.exists(leg)
            except ESLError:
                alive = True  # the link went: the follower checks again after the reconnect
            if alive:
                self._until_hangup(caller, watch, ext, leg)
                return
        # the agent put the phone down before we could follow the leg: the agent left first
        self.acd.kill(caller.call_uuid, "NORMAL_CLEARING")
        self.acd.presence.call_ended(ext, queue=caller.queue, call_uuid=caller.call_uuid)
        self.acd.finished(caller, QueueResult(QueueOutcome.ANSWERED, ext, HangupSide.AGENT,
                                              DEFAULT_CAUSE))

    def _died(self, greenlet, caller, ext):
        logger.error("call %s: offer to agent %s failed: %r", caller.call_uuid, ext,
                     greenlet.exception)
        if caller.phase is Phase.OFFERING:
            self.acd.release(ext, events.OfferFailure.FAILED, caller.queue)
            self.acd.back_in_line(caller)
        elif not caller.ticket.ready():
            self.acd.finished(caller, QueueResult(QueueOutcome.ANSWERED, ext, HangupSide.SYSTEM,
                                                  "NORMAL_TEMPORARY_FAILURE"))

    def _offered(self, caller, ext, why="offered"):
        """Tell that the router reserved ``ext`` for ``caller``; the new leg's variables."""
        acd = self.acd
        leg = self._new_uuid()
        # the router reserved the agent in the store; the fact is told here, in the offer's order
        acd.status_changed(ext, AgentStatus.AVAILABLE, AgentStatus.RESERVED, why)
        acd.emit(events.OfferedToAgent, call_uuid=caller.call_uuid, agent=ext, leg_uuid=leg,
                 queue=caller.queue)
        logger.info("call %s: ringing agent %s (leg %s)", caller.call_uuid, ext, leg)
        return leg, {
            "origination_uuid": leg,
            "originate_timeout": max(1, math.ceil(acd.ring_timeout_of(caller.queue))),
            "origination_caller_id_number": caller.caller_number or "0",
            "fs_cc_call_uuid": caller.call_uuid,
            "fs_cc_queue": caller.queue,
            "fs_cc_agent": ext,
        }

    def _run(self, caller, ext):
        leg, variables = self._offered(caller, ext)
        with self.acd.ctl.watch(leg) as watch:  # watching before the leg exists: no event missed
            if self._ring(caller, ext, leg, variables) and self._bridge(caller, ext, leg):
                self.connected(caller, ext, leg, watch)

    def follow_party(self, caller, ext, leg, watch):
        """Follow the caller, bridged by a transfer to ``leg`` (agent ``ext``, or None for an
        outside number), to the end of the call; ``watch`` was opened before the leg existed."""
        caller.phase = Phase.CONNECTED
        caller.agent, caller.leg, caller.held = ext, leg, False
        caller.connected_at = self.acd.monotonic()
        with watch:
            self._until_hangup(caller, watch, ext, leg, caller.connected_at)

    def connected(self, caller, ext, leg, watch):
        """The agent answered and is bridged: follow the call to its end."""
        acd = self.acd
        caller.phase = Phase.CONNECTED
        caller.agent, caller.leg = ext, leg
        acd.presence.answered(ext)
        answered_at = caller.connected_at = acd.monotonic()
        acd.emit(events.AnsweredByAgent, call_uuid=caller.call_uuid, agent=ext, leg_uuid=leg)
        acd.left_queue(caller, QueueOutcome.ANSWERED)
        logger.info("call %s: connected to agent %s", caller.call_uuid, ext)
        self._until_hangup(caller, watch, ext, leg, answered_at)

    def _failed(self, caller, ext, leg, cause):
        self.acd.emit(events.OfferFailed, call_uuid=caller.call_uuid, agent=ext, leg_uuid=leg,
                      cause=OfferFailure.from_hangup_cause(cause), hangup_cause=cause or "")
        caller.tried[ext] = self.acd.monotonic()
        self.acd.release(ext, OfferFailure.from_hangup_cause(cause), caller.queue)
        self.acd.back_in_line(caller)

    @staticmethod
    def _timeout(variables):
        # the originate's reply comes within its originate_timeout, plus the switch's own time
        return float(variables["originate_timeout"]) + 15

    def _originate(self, variables, ext):
        # returns (reply, error) so a failed originate is a value, not a greenlet crash
        try:
            return self.acd.ctl.originate(f"user/{ext}", "&park()", variables,
                                          timeout=self._timeout(variables)), None
        except ESLError as exc:
            return None, exc

    def _ring(self, caller, ext, leg, variables):
        """True when the agent answered; False when not (offer failed) or the caller left."""
        job = gevent.spawn(self._originate, variables, ext)
        gevent.wait([job, caller.hungup], count=1)
        if not job.ready() or caller.hungup.is_set():
            # the caller left while the agent's phone rang (or just as it answered)
            self.acd.kill(leg, "ORIGINATOR_CANCEL")
            job.join(timeout=5)
            if not job.ready():
                job.kill()
            elif job.value[1] is None:
                self.acd.kill(leg, "NORMAL_CLEARING")
            self.acd.emit(events.OfferFailed, call_uuid=caller.call_uuid, agent=ext, leg_uuid=leg,
                          cause=OfferFailure.NO_ANSWER, hangup_cause="ORIGINATOR_CANCEL")
            self.acd.release(ext, queue=caller.queue)  # the caller left: no miss of the agent
            self.acd.caller_left(caller)
            return False
        _, error = job.value
        if error is None:
            return True
        reason = error.reason if isinstance(error, CommandError) else type(error).__name__
        logger.info("call %s: agent %s did not take the call (%s)", caller.call_uuid, ext, reason)
        if not isinstance(error, CommandError):
            self.acd.kill(leg, "NORMAL_CLEARING")  # a lost reply may hide a ringing leg
        self._failed(caller, ext, leg, reason)
        return False

    def _bridge(self, caller, ext, leg):
        """Join caller and agent; False (agent leg killed, offer failed) if it fails."""
        ctl = self.acd.ctl
        caller.prepared.wait(timeout=self.acd.ring_timeout_of(caller.queue))
        try:
            ctl.stop_media(caller.call_uuid)  # the music on hold
        except ESLError as exc:
            logger.debug("call %s: uuid_break: %s", caller.call_uuid, exc)
        try:
            ctl.bridge(caller.call_uuid, leg)
            return True
        except ESLError as exc:
            logger.warning("call %s: bridge to agent %s failed: %s", caller.call_uuid, ext, exc)
            self.acd.kill(leg, "NORMAL_CLEARING")
            if caller.hungup.is_set():
                self.acd.emit(events.OfferFailed, call_uuid=caller.call_uuid, agent=ext,
                              leg_uuid=leg, cause=OfferFailure.FAILED,
                              hangup_cause="BRIDGE_FAILED")
                self.acd.release(ext, queue=caller.queue)
                self.acd.caller_left(caller)
                return False
            self._failed(caller, ext, leg, "BRIDGE_FAILED")
            return False

    def _until_hangup(self, caller, watch, ext, leg, answered_at=None):
        """Wait for either leg to hang up; say who did; end the other leg; free the agent."""
        acd = self.acd
        handover = None
        with acd.legs.follow(leg) as gone:
            agent_hangup = gevent.spawn(acd.legs.wait_end, watch, gone)
            try:
                agent_end = self._wait_either(caller, leg, agent_hangup, gone)
                caller_hangup = caller.hangup_event if caller.hungup.is_set() else None
                logger.debug("call %s: caller hangup %s, agent leg %s end %s", caller.call_uuid,
                             _seq(caller_hangup), leg,
                             _seq(agent_end.event) if agent_end and agent_end.seen else agent_end)
                left_first = agent_left_first(caller_hangup, agent_end, caller.unbridges)
                if left_first and caller.handover is not None and caller_hangup is None:
                    # a transfer took the caller away from this leg: no hangup of the caller
                    handover, caller.handover = caller.handover, None
                    side, cause = HangupSide.AGENT, "NORMAL_CLEARING"
                elif left_first:
                    side = HangupSide.AGENT
                    cause = agent_end.cause if agent_end else _bridge_cause(caller_hangup)
                    if not caller.keep:  # a kept caller was parked: its flow goes on
                        acd.kill(caller.call_uuid, "NORMAL_CLEARING")
                else:
                    side, cause = HangupSide.CALLER, caller.hangup_cause or DEFAULT_CAUSE
                    acd.kill(leg, "NORMAL_CLEARING")
            finally:
                agent_hangup.kill()
                talk = acd.monotonic() - answered_at if answered_at is not None else 0.0
                if ext is not None:  # None: an outside party a transfer bridged the caller to
                    acd.presence.call_ended(ext, talk, caller.queue,
                                            "transferred" if handover else "call ended",
                                            call_uuid=caller.call_uuid)
        if handover is not None:
            logger.info("call %s: left agent %s's leg %s for %s", caller.call_uuid, ext, leg,
                        handover)
            caller.unbridges.clear()
            handover.take_over(self, caller)
            return
        logger.info("call %s: ended by %s (%s)", caller.call_uuid, side.value, cause)
        acd.finished(caller, QueueResult(QueueOutcome.ANSWERED, ext, side, cause))

    def _wait_either(self, caller, leg, agent_hangup, gone):
        """Until a leg ends; the agent leg's LegEnd if known by then (else None)."""
        grace = self.acd.hangup_grace
        gevent.wait([agent_hangup, gone, caller.hungup], count=1)
        if agent_hangup.ready() and not caller.hungup.is_set():
            # the two legs' events may be told apart in time: a caller who hung up first may be
            # heard of after the agent leg that FreeSWITCH ended because of it
            caller.hungup.wait(timeout=grace)
        if caller.hungup.is_set() and not (agent_hangup.ready() or gone.ready()):
            # the agent leg's hangup may follow: let it arrive, then decide who went first
            gevent.wait([agent_hangup, gone], timeout=grace, count=1)
        if agent_hangup.ready() and agent_hangup.successful():
            return agent_hangup.value
        if agent_hangup.ready():
            logger.error("call %s: following agent leg %s failed: %r", caller.call_uuid, leg,
                         agent_hangup.exception)
            gevent.wait([caller.hungup, gone], count=1)  # the caller decides
        return gone.value if gone.ready() else None
