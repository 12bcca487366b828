"""What the engine does for each control command (fs_cc.control.commands): commands in, events out.

Each handler checks its target, acts through the ACD or call control by UUID, and answers a
small JSON-safe dict; what it will not do raises the control interface's domain errors.
"""

import logging
import math
import uuid as uuidlib

import gevent

from fs_cc import events
from fs_cc.acd.agents import AgentStatus, UnknownAgent, UnknownQueue
from fs_cc.acd.consult import Consults
from fs_cc.acd.dial import Dialer
from fs_cc.acd.mute import Muting
from fs_cc.acd.moves import move_caller
from fs_cc.acd.takeover import take_over
from fs_cc.acd.waiting import Phase
from fs_cc.acd.transfer import CallControls, ControlRefused
from fs_cc.control import commands as cmd
from fs_cc.errors import ConfigError
from fs_cc.esl.errors import CommandError as SwitchRefused, ESLError
from fs_cc.events import HangupSide, QueueOutcome, TransferKind
from fs_cc.ivr.nodes_transfer import NUMBER_RE
from fs_cc.ivr.sessions import SERVICE as QUEUE_SESSIONS

logger = logging.getLogger(__name__)

CALLBACK_RING_SECONDS = 45


class EngineActions:
    """The engine's ControlBackend.execute: one method per command type."""

    def __init__(self, engine):
        self.engine = engine
        settings = engine.settings
        self.dialer = Dialer(engine.acd, dial=settings.callback_dial,
                             caller_id=settings.callback_caller_id,
                             ring=settings.callback_ring_seconds,
                             new_uuid=lambda: str(uuidlib.uuid4()))
        self.muting = Muting(engine.acd, self.dialer)
        self.consults = Consults(engine.acd, new_uuid=lambda: str(uuidlib.uuid4()))
        self._handlers = {
            cmd.SetAgentStatus: self.set_agent_status,
            cmd.AgentLogin: self.agent_login,
            cmd.AgentLogout: self.agent_logout,
            cmd.EndWrapUp: self.end_wrap_up,
            cmd.TransferCall: self.transfer,
            cmd.HangupCall: self.hangup,
            cmd.HoldCall: self.hold,
            cmd.UnholdCall: self.unhold,
            cmd.SendDtmf: self.send_dtmf,
            cmd.MuteCall: self.mute,
            cmd.UnmuteCall: self.unmute,
            cmd.DialNumber: self.dial,
            cmd.ConsultCall: self.consult,
            cmd.CompleteConsult: self.complete_consult,
            cmd.CancelConsult: self.cancel_consult,
            cmd.ConferenceCall: self.conference,
            cmd.SuperviseCall: self.supervise,
            cmd.OriginateCallback: self.originate_callback,
            cmd.QueueCallback: self.queue_callback,
            cmd.CancelCallback: self.cancel_callback,
            cmd.RescheduleCallback: self.reschedule_callback,
            cmd.ReloadCatalog: self.reload_catalog,
            cmd.SetCallerPriority: self.set_caller_priority,
            cmd.MoveCaller: self.move_caller,
            cmd.TakeOverCall: self.take_over,
            cmd.DispositionFiled: self.disposition_filed,
        }

    def execute(self, command):
        """Carry out one command; a dict of what it did."""
        return self._handlers[type(command)](command)

    # agents
    def set_agent_status(self, command):
        """Move an agent to a status (UnknownAgent, InvalidStatus, InvalidTransition)."""
        agent = self.engine.acd.set_status(command.agent, command.status, command.reason)
        return {"agent": agent}

    def _member(self, agent_id, queue):
        agent = self.engine.store.get_agent(agent_id)  # UnknownAgent
        if queue not in self.engine.acd.queue_names():
            raise UnknownQueue(queue)
        if queue not in agent.queues:
            raise cmd.CommandRefused("queue", f"agent {agent_id} is not a member of queue "
                                              f"{queue!r} (members are set in the catalog)")
        return agent

    def agent_login(self, command):
        """Log an agent in to a queue it belongs to: it becomes available."""
        self._member(command.agent, command.queue)
        self.engine.emitter.emit(events.AgentLoggedIn, agent=command.agent, queue=command.queue)
        return {"agent": self.engine.acd.login(command.agent, f"login {command.queue}")}

    def agent_logout(self, command):
        """Log an agent out (of the queue; the agent stops taking calls)."""
        self._member(command.agent, command.queue)
        agent = self.engine.acd.logout(command.agent, f"logout {command.queue}")
        self.engine.emitter.emit(events.AgentLoggedOut, agent=command.agent, queue=command.queue)
        return {"agent": agent}

    def end_wrap_up(self, command):
        """End an agent's wrap-up early: available again."""
        agent = self.engine.store.get_agent(command.agent)
        if agent.status is not AgentStatus.WRAP_UP:
            raise cmd.CommandRefused("agent", f"agent {command.agent} is {agent.status.value},"
                                              " not in wrap-up")
        return {"agent": self.engine.acd.set_status(command.agent, AgentStatus.AVAILABLE,
                                                    "wrap-up ended")}

    # calls
    def _live_call(self, call_uuid):
        call = self.engine.live.get(call_uuid)
        if call is None:
            raise cmd.UnknownTarget("call_uuid", call_uuid)
        return call

    def hangup(self, command):
        """Hang a call in progress up."""
        self._live_call(command.call_uuid)
        try:
            self.engine.ctl.kill(command.call_uuid, command.cause)
        except SwitchRefused as exc:
            raise cmd.CommandRefused("call_uuid", f"FreeSWITCH refused: {exc.reason}") from exc
        return {"call_uuid": command.call_uuid, "cause": command.cause}

    def _controls(self, command, act):
        """Run ``act(CallControls)`` on a live call; the ACD's refusals and the switch's -ERR
        become CommandRefused naming the field."""
        self._live_call(command.call_uuid)
        try:
            if not isinstance(command, (cmd.ConsultCall, cmd.CompleteConsult, cmd.CancelConsult,
                                        cmd.ConferenceCall, cmd.SendDtmf)):
                self.consults.refuse_if_consulting(command.call_uuid)
            return act(CallControls(self.engine.acd))
        except ControlRefused as exc:
            raise cmd.CommandRefused(exc.field, exc.reason) from exc
        except UnknownAgent as exc:
            raise cmd.CommandRefused("target", f"no agent {command.target!r}") from exc
        except SwitchRefused as exc:
            raise cmd.CommandRefused("call_uuid", f"FreeSWITCH refused: {exc.reason}") from exc

    def hold(self, command):
        """Put the caller on hold music (CallHeld); a held call is refused."""
        self._controls(command, lambda c: c.hold(command.call_uuid, command.by_agent))
        return {"call_uuid": command.call_uuid, "held": True}

    def unhold(self, command):
        """Take the caller off hold (CallUnheld)."""
        self._controls(command, lambda c: c.unhold(command.call_uuid, command.by_agent))
        return {"call_uuid": command.call_uuid, "held": False}

    def send_dtmf(self, command):
        """Send DTMF digits to the caller's leg."""
        self._controls(command, lambda c: c.send_dtmf(command.call_uuid, command.digits,
                                                      command.by_agent))
        return {"call_uuid": command.call_uuid, "digits": command.digits}

    def _refusals(self, act, field="call_uuid"):
        """Run ``act()``; the ACD's refusals and the switch's -ERR become CommandRefused."""
        try:
            return act()
        except ControlRefused as exc:
            raise cmd.CommandRefused(exc.field, exc.reason) from exc
        except SwitchRefused as exc:
            raise cmd.CommandRefused(field, f"FreeSWITCH refused: {exc.reason}") from exc

    def _known_call(self, call_uuid):
        if call_uuid not in self.dialer.calls:
            self._live_call(call_uuid)

    def mute(self, command):
        """Mute the agent's leg of a call towards the other party (CallMuted)."""
        self._known_call(command.call_uuid)
        leg = self._refusals(lambda: self.muting.mute(command.call_uuid, command.by_agent))
        return {"call_uuid": command.call_uuid, "leg_uuid": leg, "muted": True}

    def unmute(self, command):
        """The agent is heard again (CallUnmuted)."""
        self._known_call(command.call_uuid)
        leg = self._refusals(lambda: self.muting.unmute(command.call_uuid, command.by_agent))
        return {"call_uuid": command.call_uuid, "leg_uuid": leg, "muted": False}

    def dial(self, command):
        """Click-to-dial: the agent's phone rings, then the number (settings.callback_dial)."""
        call = self._refusals(lambda: self.dialer.start(command.agent, command.number), "agent")
        return {"call_uuid": call.call_uuid, "leg_uuid": call.leg, "agent": call.agent,
                "number": call.number, "ringing": True}

    def consult(self, command):
        """Consult transfer, first step: the caller on hold music, the second party rung and
        bridged to the agent once it answers (ConsultStarted)."""
        kind, target = command.target_kind, command.target
        if kind is TransferKind.AGENT:
            dial = f"user/{target}"
        elif kind is TransferKind.NUMBER:
            if not NUMBER_RE.match(target):
                raise cmd.CommandRefused("target", f"{target!r} is not a phone number")
            dial = self.engine.settings.callback_dial.format(number=target)
        else:
            raise cmd.CommandRefused("target_kind", "a consult calls an agent or a number")
        started = self._controls(command, lambda c: self.consults.start(
            command.call_uuid, kind, target, dial, command.by_agent))
        return {"call_uuid": command.call_uuid, "target_kind": kind.value, "target": target,
                "leg_uuid": started.leg, "ringing": True}

    def complete_consult(self, command):
        """Consult transfer, done: the caller bridged to the consulted party (CallTransferred)."""
        handover = self._controls(command, lambda c: self.consults.complete(command.call_uuid,
                                                                            command.by_agent))
        return {"call_uuid": command.call_uuid, "target_kind": handover.kind.value,
                "target": handover.target, "leg_uuid": handover.leg}

    def cancel_consult(self, command):
        """Consult transfer, given up: the consulted party hung up, the agent back with the
        caller (ConsultEnded)."""
        consult = self._controls(command, lambda c: self.consults.cancel(command.call_uuid,
                                                                         command.by_agent))
        return {"call_uuid": command.call_uuid, "leg_uuid": consult.leg, "cancelled": True}

    def conference(self, command):
        """Three-way: the caller, the agent and the consulted party in one conference."""
        room, members = self._controls(command, lambda c: self.consults.conference(
            command.call_uuid, command.by_agent))
        return {"call_uuid": command.call_uuid, "room": room, "members": members}

    def transfer(self, command):
        """Blind transfer of a caller connected to an agent: to another agent (rung, bridged on
        answer), a queue (back in line), an IVR flow (its IVR session runs it from the start),
        an outside number (settings.callback_dial)."""
        kind, uuid, target, by = (command.target_kind, command.call_uuid, command.target,
                                  command.by_agent)
        if kind is TransferKind.AGENT:
            act = lambda c: c.to_agent(uuid, target, by)  # noqa: E731
        elif kind is TransferKind.QUEUE:
            act = lambda c: c.to_queue(uuid, target, by)  # noqa: E731
        elif kind is TransferKind.NUMBER:
            if not NUMBER_RE.match(target):
                raise cmd.CommandRefused("target", f"{target!r} is not a phone number")
            dial = self.engine.settings.callback_dial.format(number=target)
            act = lambda c: c.to_number(uuid, target, dial, by)  # noqa: E731
        else:  # TransferKind.IVR: the flows of the engine's current table
            act = lambda c: c.to_ivr(  # noqa: E731
                uuid, target, by, flows=self.engine.flows.runners,
                sessions=self.engine.flow_services.get(QUEUE_SESSIONS, ()))
        handover = self._controls(command, act)
        return {"call_uuid": uuid, "target_kind": kind.value, "target": target,
                "ringing": handover.leg is not None, "leg_uuid": handover.leg}

    def supervise(self, command):
        """Ring the supervisor's phone and let it listen to, whisper to or barge into a call."""
        call = self._live_call(command.call_uuid)
        if call.get("agent") is None:
            raise cmd.CommandRefused("call_uuid", f"call {command.call_uuid} is not connected to "
                                                  "an agent")
        job = gevent.spawn(self._supervise, command)
        job.link_exception(lambda g: logger.error("supervision of %s failed: %r",
                                                  command.call_uuid, g.exception))
        return {"call_uuid": command.call_uuid, "supervisor": command.supervisor,
                "mode": command.mode.value, "ringing": True}

    def _supervise(self, command):
        try:
            self.engine.ctl.supervise(f"user/{command.supervisor}", command.call_uuid,
                                      command.mode.value,
                                      {"fs_cc_supervised_call": command.call_uuid})
        except ESLError as exc:
            logger.info("call %s: supervisor %s did not join (%s)", command.call_uuid,
                        command.supervisor, exc)

    def originate_callback(self, command):
        """Call a customer back; once answered, the call waits in ``queue`` like any caller."""
        if command.queue not in self.engine.acd.queue_names():
            raise UnknownQueue(command.queue)
        call_uuid = str(uuidlib.uuid4())
        job = gevent.spawn(self._callback, call_uuid, command)
        job.link_exception(lambda g: logger.error("callback %s failed: %r", call_uuid,
                                                  g.exception))
        return {"call_uuid": call_uuid, "number": command.number, "queue": command.queue}

    def _callback(self, call_uuid, command):
        engine = self.engine
        emit = engine.emitter.emit
        emit(events.CallStarted, call_uuid=call_uuid, did="callback",
             caller_number=command.number)
        variables = {"origination_uuid": call_uuid, "fs_cc_callback": "true",
                     "fs_cc_queue": command.queue,
                     "originate_timeout": math.ceil(CALLBACK_RING_SECONDS)}
        if command.caller_id:
            variables["origination_caller_id_number"] = command.caller_id
        try:
            engine.ctl.originate(engine.settings.callback_dial.format(number=command.number),
                                 "&park()", variables, timeout=CALLBACK_RING_SECONDS + 15)
        except ESLError as exc:
            cause = exc.reason.removeprefix("-ERR").strip() if isinstance(exc, SwitchRefused) \
                else type(exc).__name__
            logger.info("callback %s to %s not answered: %s", call_uuid, command.number, cause)
            emit(events.CallEnded, call_uuid=call_uuid, side=HangupSide.SYSTEM,
                 cause=cause or "NORMAL_TEMPORARY_FAILURE")
            return
        ticket = engine.acd.enqueue(call_uuid, command.queue, priority=command.priority,
                                    caller_number=command.number)
        result = ticket.get()
        if result.outcome is not QueueOutcome.ANSWERED and result.outcome is not QueueOutcome.HUNG_UP:
            engine.acd.kill(call_uuid, "NORMAL_CLEARING")
        emit(events.CallEnded, call_uuid=call_uuid, side=result.side or HangupSide.SYSTEM,
             cause=result.cause or "NORMAL_CLEARING")

    # callback requests (遇忙回拨: fs_cc.acd.callbacks)
    def queue_callback(self, command):
        """Hold a request the worker re-sends (ignored when held or just finished here)."""
        if command.queue not in self.engine.acd.queue_names():
            raise UnknownQueue(command.queue)
        return self.engine.callbacks.take(command)

    def cancel_callback(self, command):
        """Cancel a request that is not being tried now."""
        return self.engine.callbacks.cancel(command.callback_id, command.by)

    def reschedule_callback(self, command):
        """Try a request again from ``not_before``, at its place in line."""
        if command.queue not in self.engine.acd.queue_names():
            raise UnknownQueue(command.queue)
        return self.engine.callbacks.reschedule(command)

    # the catalog
    def reload_catalog(self, command):
        """Apply the catalog the web just changed; a broken result is refused and the old kept."""
        try:
            return self.engine.reload_catalog()
        except ConfigError as exc:
            raise cmd.CommandRefused("catalog", str(exc)) from exc

    # the supervisor's seat and the desktop's filing
    def _waiting_caller(self, call_uuid):
        caller = self.engine.acd.callers.get(call_uuid)
        if caller is None:
            self._live_call(call_uuid)  # UnknownTarget for a call nobody knows
            raise cmd.CommandRefused("call_uuid", f"call {call_uuid} is not waiting in a queue")
        return caller

    def set_caller_priority(self, command):
        """Change a waiting caller's priority (CallPriorityChanged); the router looks again."""
        caller = self._waiting_caller(command.call_uuid)
        if caller.phase is not Phase.WAITING:
            raise cmd.CommandRefused("call_uuid", f"call {command.call_uuid} is not waiting in "
                                                  "a queue (offered or connected)")
        return self.engine.acd.set_priority(command.call_uuid, command.priority)

    def move_caller(self, command):
        """Move a waiting caller to another queue at its place (QueueLeft, CallQueued)."""
        caller = self._waiting_caller(command.call_uuid)
        if command.queue not in self.engine.acd.queue_names():
            raise UnknownQueue(command.queue)
        if command.queue == caller.queue:
            raise cmd.CommandRefused("queue", f"call {command.call_uuid} already waits in "
                                              f"{command.queue!r}")
        if not move_caller(self.engine.acd, caller,
                           self.engine.acd.queue_definition(command.queue)):
            raise cmd.CommandRefused("call_uuid", f"call {command.call_uuid} is not waiting in "
                                                  "a queue (offered or connected)")
        return {"call_uuid": command.call_uuid, "queue": command.queue,
                "priority": caller.priority}

    def take_over(self, command):
        """Ring ``extension``; once answered the caller is bridged to it, the agent wraps up."""
        handover = self._controls(command, lambda c: take_over(c, command.call_uuid,
                                                               command.extension))
        return {"call_uuid": command.call_uuid, "extension": command.extension,
                "leg_uuid": handover.leg, "ringing": True}

    def disposition_filed(self, command):
        """The desktop filed a call: the agent's wrap-up ends if its time is over."""
        return {"agent": self.engine.acd.presence.disposition_filed(command.agent,
                                                                   command.call_uuid)}
