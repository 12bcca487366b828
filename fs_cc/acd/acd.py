"""The ACD: keeps callers in line with music on hold, rings agents, bridges, sees the call end.

Each caller's ``enqueue`` runs in that caller's own greenlet. Only the caller first in line takes
an agent; while it rings one, it leaves the line (so the next caller can take another agent) and
comes back to its old place if the agent does not answer.
"""

import logging
import math
import time
import uuid as uuidlib

import gevent
import gevent.event

from fs_cc.acd.agents import AgentStatus, InvalidTransition, UnknownQueue
from fs_cc.acd.config import DEFAULT_MOH
from fs_cc.acd.legs import DEFAULT_CAUSE, LegFollower, agent_left_first
from fs_cc.calls import HangupSide, utcnow
from fs_cc.esl.commands import originate, uuid_break, uuid_bridge, uuid_kill
from fs_cc.esl.errors import CallerHungUp, CommandError, ESLError

logger = logging.getLogger(__name__)

ACD_OWNED = (AgentStatus.RESERVED, AgentStatus.ON_CALL)  # only the ACD moves agents there


def _bridge_cause(session):
    """The agent leg's hangup cause as the caller's channel saw it end, or NORMAL_CLEARING."""
    event = session.hangup_event
    for name in ("variable_last_bridge_hangup_cause", "variable_bridge_hangup_cause"):
        cause = event.get(name) if event is not None else None
        if cause:
            return cause
    return DEFAULT_CAUSE


def _seq(event):
    """Event-Name#Event-Sequence of an event, for the log."""
    if event is None:
        return None
    extra = ",".join(f"{k}={event.get(k)}" for k in (
        "Hangup-Cause", "variable_last_bridge_hangup_cause", "variable_bridge_hangup_cause",
        "variable_last_bridge_role", "Other-Leg-Unique-ID") if event.get(k))
    return f"{event.get('Event-Name')}#{event.get('Event-Sequence')}[{extra}]"


class ACD:
    """Queues callers and connects them to agents through FreeSWITCH (inbound ESL client)."""

    def __init__(self, store, esl, queues, *, moh=DEFAULT_MOH, ring_timeout=20, retry_delay=2.0,
                 poll_interval=1.0, hangup_grace=1.0, resync_grace=3.0,
                 new_uuid=lambda: str(uuidlib.uuid4())):
        self.store = store
        self.esl = esl
        self._queues = {queue.name: queue for queue in queues}
        self.moh = moh
        self.ring_timeout = ring_timeout
        self.retry_delay = retry_delay
        self.poll_interval = poll_interval  # catches changes made by other engines
        self.hangup_grace = hangup_grace  # seconds to wait for the other leg's hangup event
        self._new_uuid = new_uuid
        self._changed = gevent.event.Event()
        self._legs = LegFollower(esl, resync_grace=resync_grace)  # agent legs of calls in progress

    # -- control interface ---------------------------------------------------------------

    def agents(self):
        """Every agent as a dict: extension, name, queues, status, status_since (ISO)."""
        return [agent.to_dict() for agent in self.store.list_agents()]

    def queues(self):
        """Every queue as a dict: name, strategy, waiting callers, agents available/logged in."""
        agents = self.store.list_agents()
        out = []
        for queue in self._queues.values():
            members = [a for a in agents if queue.name in a.queues]
            out.append({
                "name": queue.name,
                "strategy": queue.strategy,
                "waiting": len(self.store.waiting_callers(queue.name)),
                "agents_available": sum(a.status is AgentStatus.AVAILABLE for a in members),
                "agents_logged_in": sum(a.status is not AgentStatus.LOGGED_OUT for a in members),
            })
        return out

    def login(self, extension):
        """Make an agent AVAILABLE (no change if already available)."""
        return self.set_status(extension, AgentStatus.AVAILABLE)

    def logout(self, extension):
        """Log an agent out (no change if already logged out)."""
        return self.set_status(extension, AgentStatus.LOGGED_OUT)

    def set_status(self, extension, status):
        """Move an agent to ``status`` (enum or text); UnknownAgent (KeyError) / ValueError."""
        status = AgentStatus.parse(status)
        extension = str(extension)
        current = self.store.get_agent(extension)
        if current.status is status:
            return current.to_dict()
        if status in ACD_OWNED:
            raise InvalidTransition(extension, current.status, status)
        agent = self.store.set_status(extension, status)
        logger.info("agent %s: %s -> %s", extension, current.status.value, status.value)
        if status is AgentStatus.AVAILABLE:
            self._notify()
        return agent.to_dict()

    def agent_legs_vanished(self, legs):
        """Agent legs (fs_cc.channels.Channel) gone while the ESL link was down: end their calls."""
        return self._legs.vanished(legs)

    # -- callers ---------------------------------------------------------------------------

    def enqueue(self, session, queue_name, record):
        """Hold the caller in ``queue_name`` until an agent's call with them ends, or they hang up.

        Fills record.queue, queued_at, agent, answered_at, hangup_side and hangup_cause.
        """
        queue = self._queues.get(queue_name)
        if queue is None:
            logger.error("call %s: %s", session.uuid, UnknownQueue(queue_name))
            record.queue = queue_name
            record.hangup_side, record.hangup_cause = HangupSide.SYSTEM, "NORMAL_TEMPORARY_FAILURE"
            session.hangup("NORMAL_TEMPORARY_FAILURE")
            return
        record.queue = queue_name
        record.queued_at = utcnow()
        since = self.store.clock()
        position = self.store.enqueue_caller(queue_name, session.uuid, since)
        logger.info("call %s: queued in %s at position %s", session.uuid, queue_name, position)
        try:
            # once uuid_bridge ends because the agent left, FreeSWITCH hangs the caller up with
            # the agent's cause; without it the caller would go on with its dialplan (the
            # overlay's `hangup NORMAL_TEMPORARY_FAILURE` after `socket`): docs/freeswitch-semantics
            session.set_var("hangup_after_bridge", "true")
            session.execute_async("playback", queue.moh or self.moh)
            self._serve(session, queue, record, since)
        except CallerHungUp as exc:
            logger.info("call %s: caller left queue %s (%s)", session.uuid, queue_name, exc.cause)
            record.hangup_side = HangupSide.CALLER
            record.hangup_cause = exc.cause or session.hangup_cause
        finally:
            if self.store.dequeue_caller(queue_name, session.uuid):
                self._notify()

    def _serve(self, session, queue, record, since):
        tried, last_failure = set(), 0.0
        while True:
            if session.hungup.is_set():
                raise CallerHungUp(session.uuid, session.hangup_cause)
            agent = None
            if self.store.caller_position(queue.name, session.uuid) == 1:
                agent = self.store.reserve(queue.name, queue.choose, exclude=tried)
            if agent is not None:
                if self._offer(session, queue, record, agent, since):
                    return
                tried.add(agent.extension)
                last_failure = time.monotonic()
                continue
            waited = time.monotonic() - last_failure
            if tried and waited >= self.retry_delay:
                tried.clear()  # every agent failed a while ago: ring them again
                continue
            timeout = self.retry_delay - waited if tried else self.poll_interval
            gevent.wait([self._changed, session.hungup], timeout=timeout, count=1)

    def _notify(self):
        """Wake every waiting caller: an agent may be free, or the line moved."""
        changed, self._changed = self._changed, gevent.event.Event()
        changed.set()

    def _offer(self, session, queue, record, agent, since):
        """Ring ``agent`` for the caller; True once connected and the call is over."""
        ext = agent.extension
        leg = self._new_uuid()
        self.store.dequeue_caller(queue.name, session.uuid)
        self._notify()
        command = originate(f"user/{ext}", "&park()", {
            "origination_uuid": leg,
            "originate_timeout": max(1, math.ceil(self.ring_timeout)),
            "origination_caller_id_number": session.caller_number or record.caller_number or "0",
            "fs_cc_call_uuid": session.uuid,
            "fs_cc_queue": queue.name,
            "fs_cc_agent": ext,
        })
        logger.info("call %s: ringing agent %s (leg %s)", session.uuid, ext, leg)
        with self.esl.watch(leg) as watch:  # watching before the leg exists: no event missed
            if not self._ring(session, ext, leg, command) or not self._bridge(session, ext, leg):
                self.store.enqueue_caller(queue.name, session.uuid, since)
                return False
            self.store.set_status(ext, AgentStatus.ON_CALL)
            record.agent = ext
            record.answered_at = utcnow()
            logger.info("call %s: connected to agent %s", session.uuid, ext)
            self._until_hangup(session, watch, ext, leg, record)
        return True

    def _originate(self, command):
        # returns (reply, error) so a failed originate is a value, not a greenlet crash
        try:
            return self.esl.bgapi(command, timeout=self.ring_timeout + 15), None
        except ESLError as exc:
            return None, exc

    def _ring(self, session, ext, leg, command):
        """True when the agent answered; False (agent released) when not; CallerHungUp if gone."""
        job = gevent.spawn(self._originate, command)
        gevent.wait([job, session.hungup], count=1)
        if not job.ready() or session.hungup.is_set():
            # the caller left while the agent's phone rang (or just as it answered)
            self._kill(leg, "ORIGINATOR_CANCEL")
            job.join(timeout=5)
            if not job.ready():
                job.kill()
            elif job.value[1] is None:
                self._kill(leg, "NORMAL_CLEARING")
            self._release(ext)
            raise CallerHungUp(session.uuid, session.hangup_cause)
        _, error = job.value
        if error is None:
            return True
        reason = error.reason if isinstance(error, CommandError) else type(error).__name__
        logger.info("call %s: agent %s did not take the call (%s)", session.uuid, ext, reason)
        if not isinstance(error, CommandError):
            self._kill(leg, "NORMAL_CLEARING")  # a lost reply may hide a ringing leg
        self._release(ext)
        return False

    def _bridge(self, session, ext, leg):
        """Join caller and agent; False (agent leg killed, agent released) if it fails."""
        try:
            self.esl.api(uuid_break(session.uuid, all=True))  # stop the music on hold
        except ESLError as exc:
            logger.debug("call %s: uuid_break: %s", session.uuid, exc)
        try:
            self.esl.api(uuid_bridge(session.uuid, leg))
            return True
        except ESLError as exc:
            logger.warning("call %s: bridge to agent %s failed: %s", session.uuid, ext, exc)
            self._kill(leg, "NORMAL_CLEARING")
            self._release(ext)
            if session.hungup.is_set():
                raise CallerHungUp(session.uuid, session.hangup_cause) from exc
            return False

    def _until_hangup(self, session, watch, ext, leg, record):
        """Wait for either leg to hang up; note who did; end the other leg; free the agent."""
        unbridges = []  # the caller channel's CHANNEL_UNBRIDGE: did its bridge end before it?
        session.on("CHANNEL_UNBRIDGE", unbridges.append)
        with self._legs.follow(leg) as gone:
            agent_hangup = gevent.spawn(self._legs.wait_end, watch, gone)
            try:
                agent_end = self._wait_either(session, leg, agent_hangup, gone)
                caller_hangup = session.hangup_event if session.hungup.is_set() else None
                logger.debug("call %s: caller hangup %s, agent leg %s end %s", session.uuid,
                             _seq(caller_hangup), leg,
                             _seq(agent_end.event) if agent_end and agent_end.seen else agent_end)
                if agent_left_first(caller_hangup, agent_end, unbridges):
                    record.hangup_side = HangupSide.AGENT
                    record.hangup_cause = agent_end.cause if agent_end else _bridge_cause(session)
                    try:
                        session.hangup("NORMAL_CLEARING")
                    except ESLError as exc:
                        logger.debug("call %s: hangup after agent left: %s", session.uuid, exc)
                else:
                    record.hangup_side = HangupSide.CALLER
                    record.hangup_cause = session.hangup_cause
                    self._kill(leg, "NORMAL_CLEARING")
            finally:
                agent_hangup.kill()
                try:
                    self.store.set_status(ext, AgentStatus.AVAILABLE)
                except InvalidTransition as exc:
                    logger.warning("call %s: agent %s not made available: %s", session.uuid, ext,
                                   exc)
                else:
                    self._notify()
        logger.info("call %s: ended by %s (%s)", session.uuid, record.hangup_side,
                    record.hangup_cause)

    def _wait_either(self, session, leg, agent_hangup, gone):
        """Until a leg ends; the agent leg's LegEnd if known by then (else None)."""
        gevent.wait([agent_hangup, gone, session.hungup], count=1)
        if agent_hangup.ready() and not session.hungup.is_set():
            # the two legs' events travel on two sockets: a caller who hung up first may be
            # heard of after the agent leg that FreeSWITCH ended because of it
            session.hungup.wait(timeout=self.hangup_grace)
        if session.hungup.is_set() and not (agent_hangup.ready() or gone.ready()):
            # the agent leg's hangup travels on the other socket: let it arrive (or, with the
            # link down, the caller's unbridge event), then decide who went first
            gevent.wait([agent_hangup, gone], timeout=self.hangup_grace, count=1)
        if agent_hangup.ready() and agent_hangup.successful():
            return agent_hangup.value
        if agent_hangup.ready():
            logger.error("call %s: following agent leg %s failed: %r", session.uuid, leg,
                         agent_hangup.exception)
            gevent.wait([session.hungup, gone], count=1)  # the caller decides
        return gone.value if gone.ready() else None

    def _kill(self, leg, cause):
        try:
            self.esl.api(uuid_kill(leg, cause))
        except ESLError as exc:  # "-ERR No such channel!" when it is already gone
            logger.debug("uuid_kill %s: %s", leg, exc)

    def _release(self, ext):
        try:
            self.store.release(ext)
        except InvalidTransition as exc:
            logger.warning("agent %s not released: %s", ext, exc)
            return
        self._notify()
