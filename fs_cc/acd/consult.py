"""Consult (attended) transfer of an agent's connected caller: consult, then complete or cancel.

What FreeSWITCH 1.10.12 does, recorded (tests/fixtures/esl/reference/31_consult_transfer):
- with ``park_after_bridge=true`` on the caller and on the agent's leg, ``uuid_bridge <agent leg>
  <consult leg>`` takes the agent's leg to the consulted party; the caller unbridges and parks at
  once (CS_PARK), and hears music by ``uuid_broadcast`` there;
- cancel: the consult leg killed, the agent's leg unbridges and parks; ``uuid_break <caller>
  all`` and ``uuid_bridge <caller> <agent leg>`` join the two again;
- complete: the agent leg's ``park_after_bridge`` unset, ``uuid_break <caller> all``, then
  ``uuid_bridge <caller> <consult leg>``: the agent's leg hangs up NORMAL_CLEARING at once and the
  caller talks to the consulted party. The offer's greenlet takes that end for a transfer
  (``caller.handover``, as a blind transfer's) and follows the caller on the new leg, the first
  agent released to wrap-up.
The consulted party hanging up is a cancel; the caller or the agent hanging up ends the consult.

A consult becomes a three-way conference (reference/32_consult_to_conference): ``uuid_break
<caller> all``, ``uuid_transfer <caller> conference:<room>@default inline`` (from its park),
then ``uuid_transfer <agent leg> -both conference:<room>@default inline`` takes the agent and the
consulted party out of their bridge into the same room (``conference <room> list count`` is 3).
The agent hanging up leaves the other two talking: the caller is then followed on the consulted
party's leg, as after a transfer; the caller hanging up ends the consulted party's leg too.
"""

import dataclasses
import logging
import math
import typing

import gevent
import gevent.event

from fs_cc import events
from fs_cc.acd.agents import AgentStatus
from fs_cc.acd.transfer import CallControls, ControlRefused, Handover
from fs_cc.esl.errors import CommandError, ESLError, ESLTimeout
from fs_cc.events import OfferFailure, TransferKind

logger = logging.getLogger(__name__)

PARK_AFTER_BRIDGE = "park_after_bridge"
CONFERENCE_PROFILE = "default"


def room_of(call_uuid):
    """The conference room of a call's three-way conference."""
    return f"fs_cc_3way_{call_uuid}"


class ConsultOutcome:
    """How a consult ended (the ConsultEnded event's ``outcome``)."""

    COMPLETED = "completed"  # the caller was bridged to the consulted party
    CONFERENCE = "conference"  # the three went into one conference
    CANCELLED = "cancelled"  # the agent went back to the caller
    FAILED = "failed"  # the consulted party did not answer
    ENDED = "ended"  # the caller or the agent hung up meanwhile


@dataclasses.dataclass
class Consult:
    """One consult under way: the caller, the consulted party's leg and who that is."""

    caller: typing.Any  # fs_cc.acd.waiting.Caller
    kind: TransferKind
    target: str
    leg: str
    watch: typing.Any  # the consult leg's ChannelWatch, opened before it existed
    by_agent: typing.Optional[str] = None
    agent: typing.Optional[str] = None  # the consulted agent (kind agent)
    answered: bool = False
    ending: bool = False  # complete or cancel under way: the leg's end is ours
    done: gevent.event.Event = dataclasses.field(default_factory=gevent.event.Event)


class Consults:
    """The consults of the ACD's connected callers, by the caller's call UUID."""

    def __init__(self, acd, *, new_uuid):
        self.acd = acd
        self._new_uuid = new_uuid
        self.active = {}  # call_uuid -> Consult

    def of(self, call_uuid, by_agent=None):
        """The consult of a call (ControlRefused naming the field when there is none)."""
        consult = self.active.get(call_uuid)
        if consult is None:
            raise ControlRefused("call_uuid", f"call {call_uuid} has no consult under way")
        if by_agent is not None and consult.caller.agent != by_agent:
            raise ControlRefused("by_agent", f"call {call_uuid} is not connected to agent "
                                             f"{by_agent}")
        return consult

    def refuse_if_consulting(self, call_uuid):
        """ControlRefused while the call has a consult (hold, transfer... wait until it ends)."""
        if call_uuid in self.active:
            raise ControlRefused("call_uuid", f"call {call_uuid} has a consult under way")

    def start(self, call_uuid, kind, target, dial, by_agent=None):
        """Ring the consulted party (agent ``target`` or a number on ``dial``); a Consult."""
        acd = self.acd
        caller = CallControls(acd).connected(call_uuid, by_agent)
        self.refuse_if_consulting(call_uuid)
        agent = None
        if kind is TransferKind.AGENT:
            if target == caller.agent:
                raise ControlRefused("target", f"agent {target} already has call {call_uuid}")
            if acd.store.reserve_agent(target) is None:
                status = acd.store.get_agent(target).status.value  # UnknownAgent
                raise ControlRefused("target", f"agent {target} is {status}, not available")
            acd.status_changed(target, AgentStatus.AVAILABLE, AgentStatus.RESERVED, "consult")
            agent = target
        leg = self._new_uuid()
        consult = Consult(caller, kind, target, leg, acd.ctl.watch(leg), by_agent, agent)
        self.active[call_uuid] = consult
        acd.emit(events.ConsultStarted, call_uuid=call_uuid, target_kind=kind, target=target,
                 leg_uuid=leg, by_agent=by_agent)
        job = gevent.spawn(self._run, consult, dial)
        job.link_exception(lambda g: self._died(g, consult))
        return consult

    def _died(self, greenlet, consult):
        logger.error("call %s: consult of %s failed: %r", consult.caller.call_uuid, consult.target,
                     greenlet.exception)
        self._ended(consult, ConsultOutcome.ENDED, "NORMAL_TEMPORARY_FAILURE")

    def _run(self, consult, dial):
        acd, caller = self.acd, consult.caller
        ring = max(1, math.ceil(acd.ring_timeout_of(caller.queue)))
        variables = {"origination_uuid": consult.leg, "originate_timeout": ring,
                     "origination_caller_id_number": caller.caller_number or "0",
                     "fs_cc_call_uuid": caller.call_uuid, "fs_cc_consult": "true"}
        if consult.agent is not None:
            variables["fs_cc_agent"] = consult.agent
        try:
            acd.ctl.originate(dial, "&park()", variables, timeout=ring + 15)
        except ESLError as exc:
            cause = exc.reason.removeprefix("-ERR").strip() if isinstance(exc, CommandError) \
                else type(exc).__name__
            logger.info("call %s: consult of %s not answered: %s", caller.call_uuid,
                        consult.target, cause)
            acd.kill(consult.leg, "NORMAL_CLEARING")
            if consult.agent is not None:
                acd.release(consult.agent, OfferFailure.from_hangup_cause(cause), caller.queue)
            self._ended(consult, ConsultOutcome.CANCELLED if consult.ending
                        else ConsultOutcome.FAILED, cause)
            return
        if self._caller_gone(consult):
            return
        ctl = acd.ctl
        # the caller parks (not hangs up) when the agent's leg leaves it, and so does the agent's
        # leg when the consulted party goes (31_consult_transfer)
        ctl.set_var(caller.call_uuid, PARK_AFTER_BRIDGE, "true")
        ctl.set_var(caller.leg, PARK_AFTER_BRIDGE, "true")
        if caller.held:
            acd.ctl.break_media(caller.call_uuid)
        ctl.bridge(caller.leg, consult.leg)
        queue = acd.queue_definition(caller.queue)
        ctl.play(caller.call_uuid, (queue.moh if queue else None) or acd.moh)
        consult.answered = True
        if consult.agent is not None:
            acd.presence.answered(consult.agent, "consult answered")
        logger.info("call %s: agent %s consults %s on leg %s", caller.call_uuid, caller.agent,
                    consult.target, consult.leg)
        self._follow(consult)

    def _caller_gone(self, consult):
        caller = consult.caller
        if (not consult.ending and not caller.hungup.is_set() and caller.leg is not None
                and caller.handover is None):
            return False
        self.acd.kill(consult.leg, "NORMAL_CLEARING")
        if consult.agent is not None:
            self.acd.release(consult.agent, queue=caller.queue)
        self._ended(consult, ConsultOutcome.CANCELLED if consult.ending else ConsultOutcome.ENDED,
                    "ORIGINATOR_CANCEL")
        return True

    def _follow(self, consult):
        """Until the consult leg ends: the consulted party hanging up is a cancel."""
        caller, watch = consult.caller, consult.watch
        agent_leg = caller.leg
        while not consult.ending:
            event = None
            if not caller.hungup.is_set():
                try:
                    event = watch.wait_for("CHANNEL_HANGUP", timeout=1.0)
                except ESLTimeout:
                    pass
                except ESLError:  # the link went: look again once it is back
                    gevent.sleep(1.0)
            if consult.ending:
                return
            if caller.hungup.is_set() or caller.leg != agent_leg:
                self.acd.kill(consult.leg, "NORMAL_CLEARING")
                if consult.agent is not None:
                    self.acd.presence.call_ended(consult.agent, 0.0, caller.queue,
                                                 "consult ended", owes=False)
                self._ended(consult, ConsultOutcome.ENDED, caller.hangup_cause or "")
                return
            if event is not None:
                logger.info("call %s: the consulted %s hung up", caller.call_uuid,
                            consult.target)
                self._back_to_caller(consult, event.get("Hangup-Cause") or "NORMAL_CLEARING")
                return

    # -- the agent's choice ----------------------------------------------------------------

    def complete(self, call_uuid, by_agent=None):
        """Bridge the caller to the consulted party; the agent is released to wrap-up."""
        consult = self.of(call_uuid, by_agent)
        if not consult.answered:
            raise ControlRefused("call_uuid", f"the consulted {consult.target} has not answered")
        consult.ending = True
        acd, caller = self.acd, consult.caller
        handover = Handover(consult.kind, consult.target, agent=consult.agent, leg=consult.leg,
                            watch=consult.watch)
        acd.emit(events.CallTransferred, call_uuid=call_uuid, target_kind=consult.kind,
                 target=consult.target, by_agent=by_agent)
        caller.handover = handover
        try:
            acd.ctl.set_var(caller.leg, PARK_AFTER_BRIDGE, None)  # the agent's leg then hangs up
            acd.ctl.set_var(call_uuid, PARK_AFTER_BRIDGE, None)
            acd.ctl.stop_media(call_uuid)
            acd.ctl.bridge(call_uuid, consult.leg)
        except ESLError:
            caller.handover = None
            consult.ending = False
            raise
        if consult.agent is not None:
            acd.emit(events.AnsweredByAgent, call_uuid=call_uuid, agent=consult.agent,
                     leg_uuid=consult.leg)
        self._ended(consult, ConsultOutcome.COMPLETED, "", close_watch=False)
        logger.info("call %s: consult completed, caller bridged to %s", call_uuid,
                    consult.target)
        return handover

    def cancel(self, call_uuid, by_agent=None):
        """Hang up the consulted party; the agent talks to the caller again."""
        consult = self.of(call_uuid, by_agent)
        consult.ending = True
        self.acd.kill(consult.leg, "NORMAL_CLEARING")
        if consult.answered:
            self._back_to_caller(consult, "NORMAL_CLEARING")
        return consult

    def conference(self, call_uuid, by_agent=None):
        """The caller, the agent and the consulted party in one conference; the room's name."""
        consult = self.of(call_uuid, by_agent)
        if not consult.answered:
            raise ControlRefused("call_uuid", f"the consulted {consult.target} has not answered")
        consult.ending = True
        acd, caller = self.acd, consult.caller
        room = room_of(call_uuid)
        where = f"conference:{room}@{CONFERENCE_PROFILE}"
        # the agent leaving the room is no hangup of the caller: it goes on with the third party
        caller.handover = Handover(consult.kind, consult.target, agent=consult.agent,
                                   leg=consult.leg, watch=consult.watch)
        try:
            acd.ctl.stop_media(call_uuid)
            acd.ctl.transfer(call_uuid, where, dialplan="inline", context=None)
            acd.ctl.transfer(caller.leg, where, dialplan="inline", context=None, leg="both")
        except ESLError:
            caller.handover = None
            consult.ending = False
            raise
        members = [call_uuid, caller.leg, consult.leg]
        acd.emit(events.ConferenceStarted, call_uuid=call_uuid, room=room, agent_leg=caller.leg,
                 party_leg=consult.leg, by_agent=by_agent)
        self._ended(consult, ConsultOutcome.CONFERENCE, "", close_watch=False)
        job = gevent.spawn(self._end_with_caller, caller, consult.leg)
        job.link_exception(lambda g: logger.error("call %s: conference watch failed: %r",
                                                  call_uuid, g.exception))
        logger.info("call %s: three-way conference %s of %s", call_uuid, room, members)
        return room, members

    def _end_with_caller(self, caller, leg):
        """The caller gone, the consulted party is not left alone in the room."""
        caller.hungup.wait()
        if caller.leg != leg:  # the ACD follows the caller on that leg and ends it itself
            self.acd.kill(leg, "NORMAL_CLEARING")

    def _back_to_caller(self, consult, cause):
        acd, caller = self.acd, consult.caller
        consult.ending = True
        try:
            consult.watch.wait_for("CHANNEL_HANGUP_COMPLETE", timeout=5.0)
        except ESLError as exc:
            logger.debug("call %s: consult leg %s end not seen: %s", caller.call_uuid, consult.leg,
                         exc)
        ctl = acd.ctl
        try:
            ctl.stop_media(caller.call_uuid)
            ctl.bridge(caller.call_uuid, caller.leg)
            ctl.set_var(caller.leg, PARK_AFTER_BRIDGE, None)
            ctl.set_var(caller.call_uuid, PARK_AFTER_BRIDGE, None)
        except ESLError as exc:
            logger.warning("call %s: back to agent %s failed: %s", caller.call_uuid, caller.agent,
                           exc)
        caller.held = False
        caller.connected_at = acd.monotonic()
        if consult.agent is not None:
            acd.presence.call_ended(consult.agent, 0.0, caller.queue, "consult ended",
                                    owes=False)
        self._ended(consult, ConsultOutcome.CANCELLED, cause)

    def _ended(self, consult, outcome, cause, close_watch=True):
        call_uuid = consult.caller.call_uuid
        if self.active.get(call_uuid) is not consult:
            return
        del self.active[call_uuid]
        if close_watch:
            consult.watch.close()
        self.acd.emit(events.ConsultEnded, call_uuid=call_uuid, leg_uuid=consult.leg,
                      outcome=outcome, cause=cause or "", by_agent=consult.by_agent)
        consult.done.set()
