"""Call controls of an agent's connected caller: hold, unhold, DTMF and blind transfers.

The caller is one the ACD connected (fs_cc.acd.offer); its offer's greenlet follows the agent's
leg. A transfer sets ``caller.handover`` before the agent's leg goes, so that greenlet takes the
end of the leg for what it is (the agent released to wrap-up, not a hangup) and hands the caller
on: to the new party's leg, back into a queue's line, or (its queue node's ticket resolved
``transferred`` with the flow's name) into an IVR flow its socket session runs next.

What FreeSWITCH 1.10.12 does, recorded (tests/fixtures/esl/10_, 14_, 25_, 28_):
- ``uuid_hold <agent leg>`` plays its ``temp_hold_music`` (else ``hold_music``) to the caller
  (its partner), but not when it comes as the bridge forms (a caller of the outbound socket,
  held within ~0.3 s of the bridge: ``+OK Success`` and no playback, then or later; so a hold
  waits until the bridge is BRIDGE_SETTLE_SECONDS old); a loopback or SIP
  leg never turns HELD, so ``uuid_hold off`` fails (``-ERR Operation failed``) and the caller's
  music ends only with ``uuid_break`` on the caller. Held is what we said, not a call state.
- ``uuid_bridge <caller> <new leg>`` takes the caller from its bridge; the old agent's leg (a
  ``&park()`` originate) hangs up NORMAL_CLEARING at once.
- with ``park_after_bridge=true`` the caller parks when the agent's leg is killed.
- ``uuid_send_dtmf <caller>`` is heard by the far end of the caller's own channel.
"""

import dataclasses
import logging
import math
import typing
import uuid as uuidlib

import gevent
import gevent.event

from fs_cc import events
from fs_cc.acd.agents import AgentStatus
from fs_cc.acd.waiting import Phase, QueueResult
from fs_cc.errors import FsCcError
from fs_cc.esl.errors import CommandError, ESLError
from fs_cc.events import HangupSide, OfferFailure, QueueOutcome, TransferKind

logger = logging.getLogger(__name__)

HOLD_OFF_FAILED = "Operation failed"  # uuid_hold off of a leg whose call state is not HELD
# seconds after the bridge before a hold: the bridge loop handles the caller's queued media only
# after its first 10 frames (DEFAULT_LEAD_FRAMES in switch_ivr_bridge.c, 200 ms at 20 ms), and
# a broadcast queued sooner was seen never to play
BRIDGE_SETTLE_SECONDS = 0.5


class ControlRefused(FsCcError):
    """The caller cannot take this control now; ``field`` names the command's field at fault."""

    def __init__(self, field, reason):
        self.field = field
        self.reason = reason
        super().__init__(reason)


@dataclasses.dataclass
class Handover:
    """Where a transfer sends the caller once the agent's leg has gone."""

    kind: TransferKind
    target: str
    agent: typing.Optional[str] = None  # the new agent (kind agent)
    leg: typing.Optional[str] = None  # the new party's leg (agent, number)
    watch: typing.Any = None  # that leg's ChannelWatch, opened before it existed
    queue: typing.Optional[str] = None  # kind queue: the line the caller goes back to
    flow: typing.Optional[str] = None  # kind ivr: the flow the caller's IVR session goes on in
    done: gevent.event.Event = dataclasses.field(default_factory=gevent.event.Event)

    def take_over(self, offers, caller):
        """Run by the offer's greenlet once the old agent is released."""
        try:
            if self.queue is not None:
                offers.acd.requeue(caller, self.queue)
            elif self.flow is not None:
                self._to_flow(offers.acd, caller)
            else:
                offers.follow_party(caller, self.agent, self.leg, self.watch)
        finally:
            self.done.set()

    def _to_flow(self, acd, caller):
        """The caller, parked, leaves the ACD: its queue node's ticket names the flow next."""
        if caller.hungup.is_set():
            acd.finished(caller, QueueResult(QueueOutcome.HUNG_UP, side=HangupSide.CALLER,
                                             cause=caller.hangup_cause))
            return
        # park_after_bridge stays true: reset now, it could come before the caller's bridge has
        # unwound (seen on 1.10.12 with a held caller: hung up, not parked); a queue node of the
        # next flow that does not keep its caller has the ACD end the call after its agent
        if caller.held:
            try:
                # the hold music plays inside the caller's bridge, which unwinds only once it ends
                acd.ctl.break_media(caller.call_uuid)
            except ESLError as exc:
                logger.warning("call %s: hold music not stopped for flow %s: %s",
                               caller.call_uuid, self.flow, exc)
        logger.info("call %s: transferred from agent %s into flow %s", caller.call_uuid,
                    caller.agent, self.flow)
        acd.finished(caller, QueueResult(QueueOutcome.TRANSFERRED, caller.agent,
                                         target=self.flow))

    def __str__(self):
        return f"{self.kind.value} {self.target}"


class CallControls:
    """Hold, unhold, DTMF and transfers of the ACD's connected callers, by UUID."""

    def __init__(self, acd, *, new_uuid=lambda: str(uuidlib.uuid4())):
        self.acd = acd
        self._new_uuid = new_uuid

    def connected(self, call_uuid, by_agent=None):
        """The ACD's Caller connected to an agent (ControlRefused naming the field if not)."""
        caller = self.acd.callers.get(call_uuid)
        if caller is None or caller.phase is not Phase.CONNECTED or caller.leg is None:
            raise ControlRefused("call_uuid", f"call {call_uuid} is not connected to an agent")
        if by_agent is not None and caller.agent != by_agent:
            raise ControlRefused("by_agent", f"call {call_uuid} is not connected to agent "
                                             f"{by_agent}")
        if caller.handover is not None:
            raise ControlRefused("call_uuid", f"call {call_uuid} is being transferred")
        return caller

    # hold
    def hold(self, call_uuid, by_agent=None):
        """The caller hears hold music (``uuid_hold`` of the agent's leg); CallHeld."""
        caller = self.connected(call_uuid, by_agent)
        if caller.held:
            raise ControlRefused("call_uuid", f"call {call_uuid} is already on hold")
        # a broadcast the caller's channel gets in its bridge's first moments never plays (seen
        # on 1.10.12: +OK Success, no playback then or later): let the bridge settle first
        settle = caller.connected_at + BRIDGE_SETTLE_SECONDS - self.acd.monotonic()
        if settle > 0:
            gevent.sleep(settle)
        queue = self.acd.queue_definition(caller.queue)
        ctl = self.acd.ctl
        # uuid_hold plays the agent leg's (temp_)hold_music to its partner: the queue's music
        ctl.set_var(caller.leg, "temp_hold_music", (queue.moh if queue else None) or self.acd.moh)
        ctl.hold(caller.leg)
        caller.held = True
        self.acd.emit(events.CallHeld, call_uuid=call_uuid, by_agent=by_agent)

    def unhold(self, call_uuid, by_agent=None):
        """The caller talks to the agent again: hold off, the caller's music broken; CallUnheld."""
        caller = self.connected(call_uuid, by_agent)
        if not caller.held:
            raise ControlRefused("call_uuid", f"call {call_uuid} is not on hold")
        try:
            self.acd.ctl.unhold(caller.leg)
        except CommandError as exc:
            if HOLD_OFF_FAILED not in exc.reason:
                raise
        self.acd.ctl.break_media(call_uuid)  # the caller's hold music
        caller.held = False
        self.acd.emit(events.CallUnheld, call_uuid=call_uuid, by_agent=by_agent)

    def send_dtmf(self, call_uuid, digits, by_agent=None):
        """Send DTMF to the caller's leg (heard by the caller's far end)."""
        self.connected(call_uuid, by_agent)
        return self.acd.ctl.send_dtmf(call_uuid, digits)

    # transfers
    def to_agent(self, call_uuid, target, by_agent=None):
        """Ring agent ``target``; once it answers the caller is bridged to it (a greenlet)."""
        caller = self.connected(call_uuid, by_agent)
        if target == caller.agent:
            raise ControlRefused("target", f"agent {target} already has call {call_uuid}")
        if self.acd.store.reserve_agent(target) is None:
            status = self.acd.store.get_agent(target).status.value  # UnknownAgent
            raise ControlRefused("target", f"agent {target} is {status}, not available")
        self.acd.status_changed(target, AgentStatus.AVAILABLE, AgentStatus.RESERVED, "transfer")
        return self._start(caller, TransferKind.AGENT, target, by_agent, f"user/{target}",
                           agent=target)

    def to_number(self, call_uuid, number, dial_string, by_agent=None):
        """Call ``number`` on ``dial_string``; once answered the caller is bridged to it."""
        caller = self.connected(call_uuid, by_agent)
        return self._start(caller, TransferKind.NUMBER, number, by_agent, dial_string)

    def to_queue(self, call_uuid, queue, by_agent=None):
        """Back in line in ``queue`` (priority kept); the agent goes to wrap-up."""
        caller = self.connected(call_uuid, by_agent)
        if self.acd.queue_definition(queue) is None:
            raise ControlRefused("target", f"no queue {queue!r}")
        return self._release(caller, Handover(TransferKind.QUEUE, queue, queue=queue), by_agent)

    def to_ivr(self, call_uuid, flow, by_agent=None, *, flows=(), sessions=()):
        """The caller's IVR session goes on in ``flow`` (one of ``flows``) from its start; the
        agent goes to wrap-up. Only a call in ``sessions`` (its socket session waits in a queue
        node) has a flow to go on in: a callback's customer or an adopted call is refused."""
        caller = self.connected(call_uuid, by_agent)
        if flow not in flows:
            raise ControlRefused("target", f"no IVR flow {flow!r} is loaded on this engine")
        if call_uuid not in sessions:
            raise ControlRefused("call_uuid", f"call {call_uuid} has no IVR session to continue "
                                              "(a callback or an adopted call): transfer it to "
                                              "a queue, an agent or a number")
        return self._release(caller, Handover(TransferKind.IVR, flow, flow=flow), by_agent)

    def _release(self, caller, handover, by_agent):
        """Take the caller from its agent: parked when the agent's leg is killed (the offer's
        greenlet then runs ``handover.take_over``); CallTransferred."""
        call_uuid = caller.call_uuid
        self.acd.emit(events.CallTransferred, call_uuid=call_uuid, target_kind=handover.kind,
                      target=handover.target, by_agent=by_agent)
        ctl = self.acd.ctl
        ctl.set_var(call_uuid, "park_after_bridge", "true")  # 28_release_caller_to_park
        caller.handover = handover
        try:
            ctl.kill(caller.leg, "NORMAL_CLEARING")
        except ESLError:
            caller.handover = None
            raise
        return handover

    def _start(self, caller, kind, target, by_agent, dial, agent=None):
        leg = self._new_uuid()
        handover = Handover(kind, target, agent=agent, leg=leg, watch=self.acd.ctl.watch(leg))
        self.acd.emit(events.CallTransferred, call_uuid=caller.call_uuid, target_kind=kind,
                      target=target, by_agent=by_agent)
        job = gevent.spawn(self._ring, caller, handover, dial)
        job.link_exception(lambda g: logger.error("call %s: transfer to %s failed: %r",
                                                  caller.call_uuid, handover, g.exception))
        return handover

    def _ring(self, caller, handover, dial):
        acd, leg, agent = self.acd, handover.leg, handover.agent
        ring = math.ceil(acd.ring_timeout_of(caller.queue))
        variables = {"origination_uuid": leg, "originate_timeout": max(1, ring),
                     "origination_caller_id_number": caller.caller_number or "0",
                     "fs_cc_call_uuid": caller.call_uuid, "fs_cc_queue": caller.queue}
        if agent is not None:
            variables["fs_cc_agent"] = agent
            acd.emit(events.OfferedToAgent, call_uuid=caller.call_uuid, agent=agent,
                     leg_uuid=leg, queue=caller.queue)
        try:
            acd.ctl.originate(dial, "&park()", variables, timeout=ring + 15)
            if caller.hungup.is_set() or caller.handover is not None or caller.leg is None:
                raise ControlRefused("call_uuid", "the caller left meanwhile")
            caller.handover = handover
            if caller.held:
                acd.ctl.break_media(caller.call_uuid)
            acd.ctl.bridge(caller.call_uuid, leg)  # 14_attended_transfer: the old leg hangs up
        except (ESLError, ControlRefused) as exc:
            if caller.handover is handover:
                caller.handover = None
            reason = exc.reason if isinstance(exc, (CommandError, ControlRefused)) else \
                type(exc).__name__
            logger.info("call %s: transfer to %s not answered: %s", caller.call_uuid, handover,
                        reason)
            acd.kill(leg, "NORMAL_CLEARING")
            handover.watch.close()
            if agent is not None:
                cause = reason.removeprefix("-ERR").strip()
                acd.emit(events.OfferFailed, call_uuid=caller.call_uuid, agent=agent,
                         leg_uuid=leg, cause=OfferFailure.from_hangup_cause(cause),
                         hangup_cause=cause)
                acd.release(agent, OfferFailure.from_hangup_cause(cause), caller.queue)
            handover.done.set()
            return
        if agent is not None:
            acd.presence.answered(agent, "transfer answered")
            acd.emit(events.AnsweredByAgent, call_uuid=caller.call_uuid, agent=agent,
                     leg_uuid=leg)
        logger.info("call %s: transferred to %s on leg %s", caller.call_uuid, handover, leg)
