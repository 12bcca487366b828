"""The ACD: takes callers by UUID, keeps them in line with music, and lets the router serve them.

``enqueue(call_uuid, queue, …)`` needs no socket and no record: a caller from the IVR, a dialer
leg, a callback or a transferred call all enter the same way, and the returned ticket resolves
with how their time in the queue ended (answered — then also how the call ended —, hung up,
timed out, left with the exit key, unknown queue). The router (one per engine) decides who serves
whom; each offer runs in its own greenlet (fs_cc.acd.offer). Every step is a domain event.
"""

import logging
import time

import gevent

from fs_cc import events
from fs_cc.acd.agents import DEFAULT_NOT_READY_REASONS, AgentStatus
from fs_cc.acd.legs import LegFollower
from fs_cc.acd.offer import Offers
from fs_cc.acd.presence import Presence
from fs_cc.acd.queue_def import DEFAULT_MOH, own_setting
from fs_cc.acd.router import Router
from fs_cc.acd.admission import arm_relaxation, refusal
from fs_cc.acd.announce import Announcer, hold_media
from fs_cc.acd.skills import merged
from fs_cc.acd.waiting import Caller, Phase, QueueResult
from fs_cc.errors import FsCcError
from fs_cc.esl.errors import ConnectionLost, ESLError, ESLTimeout
from fs_cc.events import HangupSide, QueueOutcome

logger = logging.getLogger(__name__)

class UnknownCaller(FsCcError, LookupError):
    """No caller with this call UUID is in the ACD's hands."""

    def __init__(self, call_uuid):
        self.call_uuid = call_uuid
        super().__init__(f"no queued call {call_uuid!r}")


CALLER_EVENTS = ("CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_UNBRIDGE", "DTMF")


class ACD:
    """Queues callers and connects them to agents through FreeSWITCH, by UUID (CallControl)."""

    def __init__(self, store, ctl, queues, emitter, *, moh=DEFAULT_MOH, ring_timeout=20,
                 retry_delay=2.0, hangup_grace=1.0, resync_grace=3.0, new_uuid=None,
                 monotonic=time.monotonic, not_ready_reasons=DEFAULT_NOT_READY_REASONS,
                 desk_agents=()):
        self.store = store
        self.ctl = ctl
        self._emitter = emitter
        self._queues = {queue.name: queue for queue in queues}
        self.moh = moh
        self.ring_timeout = ring_timeout
        self.retry_delay = retry_delay
        self.hangup_grace = hangup_grace  # seconds to wait for the other leg's hangup event
        self.monotonic = monotonic
        self.callers = {}  # call_uuid -> Caller of this engine, while the ACD holds it
        self.legs = LegFollower(ctl.esl, resync_grace=resync_grace)
        self.offers = Offers(self) if new_uuid is None else Offers(self, new_uuid=new_uuid)
        # callers without a channel (callbacks, fs_cc.acd.callbacks) bring their own offer flow
        self.offer_flows = {}  # call_uuid -> offer(caller, agent)
        self.presence = Presence(self, not_ready_reasons, desk_agents=desk_agents)
        self.announcer = Announcer(self)  # the engine gives it the callbacks' wait estimator
        self.figures = None  # fs_cc.acd.figures.QueueFigures, kept by the engine
        self.router = Router(store, self._queues, self.callers, self.dispatch,
                             retry_delay=retry_delay, clock=monotonic)

    def start(self):
        """Start routing."""
        self.router.start()

    def stop(self):
        """Stop routing (calls in progress keep their greenlets until they end)."""
        self.router.stop()

    def emit(self, event_class, **fields):
        """Emit a domain event of this engine."""
        return self._emitter.emit(event_class, **fields)

    def dispatch(self, caller, agent):
        """Offer ``caller`` to the reserved ``agent`` (a list of them: ring-all): its own flow
        (one agent: the others are given back), else ringing the agent(s)."""
        flow = self.offer_flows.get(caller.call_uuid)
        if flow is None:
            return self.offers.start(caller, agent)
        if isinstance(agent, list):
            agent, rest = agent[0], agent[1:]
            for other in rest:
                self.release(other.extension, queue=caller.queue)
        return flow(caller, agent)

    # -- the catalog ---------------------------------------------------------------------

    def set_queues(self, queues):
        """Replace the queue definitions (a catalog change); waiting callers are routed again."""
        self._queues.clear()
        self._queues.update({queue.name: queue for queue in queues})
        self.router.wake_all()

    def queue_names(self):
        """The names of the queues this ACD serves."""
        return set(self._queues)

    # -- agents --------------------------------------------------------------------------

    def agents(self):
        """Every agent as a dict: extension, name, queues, status, status_since (ISO)."""
        return [agent.to_dict() for agent in self.store.list_agents()]

    def queues(self):
        """Every queue as a dict: name, strategy, waiting callers, agents available/logged in,
        and its live figures (fs_cc.acd.figures) when the engine keeps them."""
        agents = self.store.list_agents()
        out = []
        for queue in self._queues.values():
            members = [a for a in agents if queue.name in a.queues]
            figures = self.figures.figures(queue.name) if self.figures is not None else {}
            out.append({
                **figures,
                "name": queue.name,
                "strategy": queue.strategy,
                "waiting": len(self.store.waiting_callers(queue.name)),
                "agents_available": sum(a.status is AgentStatus.AVAILABLE for a in members),
                "agents_logged_in": sum(a.status is not AgentStatus.LOGGED_OUT for a in members),
            })
        return out

    def login(self, extension, reason="login"):
        """Make an agent AVAILABLE (no change if already available)."""
        return self.set_status(extension, AgentStatus.AVAILABLE, reason)

    def logout(self, extension, reason="logout"):
        """Log an agent out (no change if already logged out; after the call if on one)."""
        return self.set_status(extension, AgentStatus.LOGGED_OUT, reason)

    def set_status(self, extension, status, reason=""):
        """Move an agent to ``status`` (enum or text; ``reason`` the not-ready code); a dict.

        UnknownAgent / InvalidStatus / InvalidTransition / InvalidReason (fs_cc.acd.presence).
        """
        return self.presence.set_status(extension, status, reason)

    def move(self, extension, status, reason, expected=None):
        """Apply a status change in the store, emit it, wake the router if the agent is free."""
        return self.presence.move(extension, status, reason, expected)

    def status_changed(self, extension, old, new, reason):
        """Tell a status change that happened in the store (event, router)."""
        self.presence.changed(extension, old, new, reason)

    def queue_definition(self, name):
        """The Queue named so, or None."""
        return self._queues.get(name) if name else None

    def queue_definitions(self):
        """Every Queue this ACD serves."""
        return list(self._queues.values())

    def ring_timeout_of(self, queue):
        """Seconds an agent's phone rings for a caller of ``queue`` (its own, else the ACD's)."""
        return own_setting(self.queue_definition(queue), "ring_timeout", self.ring_timeout)

    def retry_delay_of(self, queue):
        """Seconds before an agent who missed a caller of ``queue`` is rung for it again."""
        return own_setting(self.queue_definition(queue), "retry_delay", self.retry_delay)

    def agent_available_elsewhere(self, extension):
        """Another engine made an agent available (heard on the bus)."""
        self.router.agent_free(extension)

    def release(self, extension, failure=None, queue=None):
        """Give back a RESERVED agent after an offer that did not connect (fs_cc.acd.presence:
        available, or what it asked meanwhile, or not ready after too many misses)."""
        self.presence.offer_ended(extension, failure, queue)

    def agent_legs_vanished(self, legs):
        """Agent legs (fs_cc.channels.Channel) gone while the ESL link was down: end their calls."""
        return self.legs.vanished(legs)

    # -- callers ---------------------------------------------------------------------------

    def enqueue(self, call_uuid, queue_name, *, priority=0, skills=None, caller_number="",
                since=None, max_wait=None, exit_key=None, keep_caller=False):
        """Put a call in line; returns its ticket (an AsyncResult of a QueueResult).

        ``keep_caller``: the caller's flow goes on after the agent hangs up (a survey), so the
        caller is parked then (park_after_bridge), not hung up.
        """
        queue = self._queues.get(queue_name)
        if queue is not None:  # the flow's own limits first, else the queue's
            max_wait = max_wait if max_wait is not None else (queue.max_wait or None)
            exit_key = exit_key or queue.exit_key or None
        caller = Caller(call_uuid, queue_name, priority=int(priority),
                        skills=merged(queue.skills if queue else {}, skills),
                        relax=queue.skill_relax if queue else (),
                        caller_number=caller_number, since=since or self.store.clock(),
                        max_wait=max_wait, exit_key=exit_key, keep=keep_caller)
        refused = refusal(self.store, caller, queue)
        if refused is not None:
            self.emit(events.QueueLeft, call_uuid=call_uuid, queue=queue_name, outcome=refused)
            caller.resolve(QueueResult(refused))
            return caller.ticket
        self.callers[call_uuid] = caller
        watch = self.ctl.watch(call_uuid)
        caller.greenlets.append(self._spawn(self._follow_caller, caller, watch))
        position = self.store.enqueue_caller(queue_name, call_uuid, caller.since, caller.priority)
        self.emit(events.CallQueued, call_uuid=call_uuid, queue=queue_name,
                  priority=caller.priority, skills=caller.skills, position=position)
        logger.info("call %s: queued in %s at position %s", call_uuid, queue_name, position)
        # the channel is prepared beside the routing, not before it: an offer rings the agent
        # meanwhile and waits for the preparation only before it bridges
        caller.greenlets.append(self._spawn(self._prepare, caller, queue))
        if max_wait is not None:
            caller.greenlets.append(self._spawn_later(max_wait, self._timed_out, caller))
        arm_relaxation(self, caller)
        self.router.caller_waiting(caller)
        return caller.ticket

    def _prepare(self, caller, queue):
        # the queue's greeting once, then its music; its announcements from then on
        moh = hold_media([queue.greeting] if queue.greeting else [], queue.moh or self.moh)
        self.announcer.start(caller, queue)
        try:
            # once uuid_bridge ends because the agent left, FreeSWITCH hangs the caller up with
            # the agent's cause; without it the caller would go on with its dialplan
            self.ctl.set_var(caller.call_uuid, "park_after_bridge" if caller.keep
                             else "hangup_after_bridge", "true")
            if caller.phase is Phase.WAITING or caller.phase is Phase.OFFERING:
                self.ctl.play(caller.call_uuid, moh)
        except ESLError as exc:
            logger.warning("call %s: music on hold not started: %s", caller.call_uuid, exc)
        finally:
            caller.prepared.set()

    def adopt_connected(self, call_uuid, agent, leg, queue=None, keep=False):
        """Follow a call an earlier run connected to ``agent`` on ``leg``; its ticket resolves at the end.

        The agent is put back on the call in the store (a restarted in-process store lost it).
        ``keep``: the caller's flow goes on after the agent (it was parked, not hung up).
        """
        caller = Caller(call_uuid, queue or "", phase=Phase.CONNECTED, agent=agent,
                        since=self.store.clock(), keep=keep)
        self.callers[call_uuid] = caller
        caller.greenlets.append(self._spawn(self._follow_caller, caller,
                                            self.ctl.watch(call_uuid)))
        status = self.store.get_agent(agent).status
        if status is AgentStatus.LOGGED_OUT or status is AgentStatus.NOT_READY:
            self.move(agent, AgentStatus.AVAILABLE, "adopted call")
            status = AgentStatus.AVAILABLE
        if status is AgentStatus.AVAILABLE:
            # the router must not offer this agent a call meanwhile
            reserved = self.store.reserve_agent(agent)
            if reserved is not None:
                self.status_changed(agent, AgentStatus.AVAILABLE, AgentStatus.RESERVED,
                                     "adopted call")
                status = AgentStatus.RESERVED
        if status is AgentStatus.RESERVED:
            self.move(agent, AgentStatus.ON_CALL, "adopted call")
        self.offers.follow(caller, agent, leg)
        return caller.ticket

    def caller_gone(self, call_uuid, cause=None, event=None):
        """The caller's channel hung up (told by its socket when the inbound link missed it)."""
        caller = self.callers.get(call_uuid)
        if caller is not None:
            self._hung_up(caller, cause, event)

    def set_priority(self, call_uuid, priority):
        """Change a waiting caller's priority (its wait so far counts); the router looks again."""
        caller = self.callers.get(call_uuid)
        if caller is None:
            raise UnknownCaller(call_uuid)
        caller.priority = int(priority)
        if caller.phase is Phase.WAITING and self.store.dequeue_caller(caller.queue, call_uuid):
            self.store.enqueue_caller(caller.queue, call_uuid, caller.since, caller.priority)
        self.emit(events.CallPriorityChanged, call_uuid=call_uuid, queue=caller.queue,
                  priority=caller.priority)
        self.router.caller_waiting(caller)
        return {"call_uuid": call_uuid, "queue": caller.queue, "priority": caller.priority}

    def caller_unbridged(self, call_uuid, event):
        """The caller's channel saw its bridge end (told by its socket; the link may be down)."""
        caller = self.callers.get(call_uuid)
        if caller is not None:
            caller.unbridges.append(event)

    def requeue(self, caller, queue_name):
        """A connected caller a transfer released (parked) waits again, in ``queue_name``, with its
        priority; its music starts and the router looks for an agent."""
        if caller.hungup.is_set():
            self.caller_left(caller)
            return
        queue = self._queues[queue_name]
        caller.queue, caller.phase = queue_name, Phase.WAITING
        caller.agent = caller.leg = None
        caller.held = False
        caller.since = self.store.clock()
        caller.prepared.clear()
        if not caller.keep:  # the next agent's hangup ends the call again
            try:
                self.ctl.set_var(caller.call_uuid, "park_after_bridge", "false")
            except ESLError as exc:
                logger.warning("call %s: park_after_bridge not reset: %s", caller.call_uuid, exc)
        position = self.store.enqueue_caller(queue_name, caller.call_uuid, caller.since,
                                             caller.priority)
        self.emit(events.CallQueued, call_uuid=caller.call_uuid, queue=queue_name,
                  priority=caller.priority, skills=caller.skills, position=position)
        logger.info("call %s: transferred into %s at position %s", caller.call_uuid, queue_name,
                    position)
        caller.greenlets.append(self._spawn(self._prepare, caller, queue))
        self.router.caller_waiting(caller)

    def back_in_line(self, caller):
        """After an unanswered offer: the caller waits again in its old place."""
        if caller.hungup.is_set():
            self.caller_left(caller)
            return
        caller.phase = Phase.WAITING
        self.store.enqueue_caller(caller.queue, caller.call_uuid, caller.since, caller.priority)
        self.router.caller_waiting(caller)
        # when every agent failed, ring them again once the retry delay has passed
        self._spawn_later(self.retry_delay_of(caller.queue), self.router.caller_waiting, caller)

    def caller_left(self, caller):
        """The caller hung up while the ACD held it (waiting or being offered)."""
        self.left_queue(caller, QueueOutcome.HUNG_UP)
        self.finished(caller, QueueResult(QueueOutcome.HUNG_UP, side=HangupSide.CALLER,
                                          cause=caller.hangup_cause))

    def left_queue(self, caller, outcome):
        """Take the caller out of line and say how its wait ended (and its place in line then,
        for abandons: None when it was being offered)."""
        position = self.store.caller_position(caller.queue, caller.call_uuid)
        self.store.dequeue_caller(caller.queue, caller.call_uuid)
        waited = max(0.0, self.store.clock() - caller.since)
        self.emit(events.QueueLeft, call_uuid=caller.call_uuid, queue=caller.queue,
                  outcome=outcome, waited=round(waited, 3), position=position)

    def finished(self, caller, result):
        """The ACD is done with the caller: resolve its ticket, stop its greenlets."""
        if self.callers.get(caller.call_uuid) is caller:
            del self.callers[caller.call_uuid]
        caller.resolve(result)
        current = gevent.getcurrent()
        for greenlet in caller.greenlets:
            if greenlet is not current:
                greenlet.kill(block=False)

    def kill(self, uuid, cause):
        """Hang a channel up; a channel already gone is no error."""
        try:
            self.ctl.kill(uuid, cause)
        except ESLError as exc:  # "-ERR No such channel!" when it is already gone
            logger.debug("uuid_kill %s: %s", uuid, exc)

    def _spawn(self, function, *args):
        job = gevent.spawn(function, *args)
        job.link_exception(lambda g: logger.error("acd greenlet %s failed: %r", function.__name__,
                                                  g.exception))
        return job

    def spawn_later(self, seconds, function, *args):
        """Run ``function(*args)`` in ``seconds`` in a greenlet whose failure is logged."""
        return self._spawn_later(seconds, function, *args)

    def _spawn_later(self, seconds, function, *args):
        job = gevent.spawn_later(seconds, function, *args)
        job.link_exception(lambda g: logger.error("acd timer %s failed: %r", function.__name__,
                                                  g.exception))
        return job

    def _hung_up(self, caller, cause, event):
        if not caller.hung_up(cause, event):
            return
        logger.info("call %s: caller hung up in queue %s (%s)", caller.call_uuid, caller.queue,
                    caller.hangup_cause)
        if caller.phase is Phase.WAITING:
            self.caller_left(caller)
        # OFFERING and CONNECTED: the offer's greenlet sees caller.hungup and decides

    def _leave_waiting(self, caller, outcome):
        # a caller still waiting leaves the line; music stops, the flow goes on from the outcome
        if caller.phase is not Phase.WAITING or caller.hungup.is_set():
            return
        self.left_queue(caller, outcome)
        try:
            self.ctl.stop_media(caller.call_uuid)
        except ESLError as exc:
            logger.debug("call %s: uuid_break: %s", caller.call_uuid, exc)
        self.finished(caller, QueueResult(outcome))

    def _timed_out(self, caller):
        logger.info("call %s: waited the longest wait of %s s in %s", caller.call_uuid,
                    caller.max_wait, caller.queue)
        self._leave_waiting(caller, QueueOutcome.TIMEOUT)

    def _follow_caller(self, caller, watch):
        """The caller channel's events on the inbound link: hangup, unbridge, the exit key."""
        with watch:
            while not caller.ticket.ready():
                try:
                    event = watch.wait_for(CALLER_EVENTS, timeout=None)
                except ConnectionLost:
                    # the socket session (runner) reports a hangup meanwhile; wait for the link
                    gevent.wait([caller.hungup, caller.ticket], timeout=0.5, count=1)
                    continue
                except ESLTimeout:
                    continue
                name = event.get("Event-Name")
                if name == "CHANNEL_UNBRIDGE":
                    caller.unbridges.append(event)
                elif name == "DTMF":
                    if caller.exit_key and event.get("DTMF-Digit") == caller.exit_key:
                        self._leave_waiting(caller, QueueOutcome.EXIT_KEY)
                else:
                    self._hung_up(caller, event.get("Hangup-Cause"), event)
                    return
