"""One router per engine over every queue: matches waiting callers and free agents.

It wakes on facts, never on a timer of its own: a caller queued (the best agent for it, by its
queue's strategy), an agent made available or logged in (the best caller of all the queues that
agent serves: priority first, then who waited longest), a priority changed, the catalog changed,
an unanswered agent's retry delay elapsed. One greenlet takes the wake-ups in order, so two
decisions of this engine never race; reservations are atomic in the store, so two engines never
share an agent, and a caller is served only by the engine that owns its channel.
"""

import logging
import time

import gevent
from gevent.queue import Queue

from fs_cc.acd.agents import AgentStatus, UnknownAgent
from fs_cc.acd.queue_def import own_setting
from fs_cc.acd.strategy import LONGEST_IDLE
from fs_cc.acd.waiting import Phase

logger = logging.getLogger(__name__)

RING_ALL_LIMIT = 50  # phones a ring-all offer rings at most
HEAD = 50  # callers looked at per queue for a freed agent (skills may rule out the first ones)


class Router:
    """Decides who serves whom; ``dispatch(caller, agent)`` runs the offer (in its own greenlet)."""

    def __init__(self, store, queues, callers, dispatch, *, retry_delay=2.0,
                 clock=time.monotonic):
        self.store = store
        self.queues = queues  # name -> Queue (its strategy); replaced when the catalog changes
        self.callers = callers  # call_uuid -> Caller of this engine
        self.dispatch = dispatch
        self.retry_delay = retry_delay
        self._clock = clock
        self._inbox = Queue()
        self._greenlet = None
        self._stopping = False
        self.decisions = 0  # matches made, for health and benchmarks
        self.restarts = 0  # times the routing greenlet ended unasked and was started again

    def start(self):
        """Start the routing greenlet; should it ever end unasked, it is started again."""
        self._stopping = False
        self._greenlet = gevent.spawn(self._run)
        self._greenlet.link(self._ended)

    def stop(self):
        """Stop routing."""
        self._stopping = True
        if self._greenlet is not None:
            self._greenlet.kill()

    def _ended(self, greenlet):
        if self._stopping:
            return
        self.restarts += 1
        logger.error("router stopped (%r); starting it again", greenlet.exception)
        self.start()
        self.wake_all()  # the callers waited meanwhile: look at every one again

    @property
    def alive(self):
        """Whether the routing greenlet runs."""
        return self._greenlet is not None and not self._greenlet.dead

    def health(self):
        """What /health says of routing: alive, restarts, decisions, wake-ups not yet taken."""
        return {"alive": self.alive, "restarts": self.restarts, "decisions": self.decisions,
                "pending": self._inbox.qsize()}

    # wake-ups (any greenlet; they return at once)
    def caller_waiting(self, caller):
        """A caller joined a line, or is back in it after an offer failed."""
        self._inbox.put(("caller", caller.call_uuid))

    def agent_free(self, extension):
        """An agent became available (here or on another engine)."""
        self._inbox.put(("agent", extension))

    def wake_all(self):
        """Look at every waiting caller again (catalog changed, retry delay passed, reconnect)."""
        self._inbox.put(("all", None))

    def _run(self):
        while True:
            kind, key = self._inbox.get()
            try:
                if kind == "caller":
                    self.route_caller(key)
                elif kind == "agent":
                    self.route_agent(key)
                else:
                    self.route_all()
            except Exception:  # one bad decision must not stop routing for everyone
                logger.exception("router: %s %s failed", kind, key)

    # decisions (the routing greenlet; tests call them directly)
    def route_caller(self, call_uuid):
        """Give a waiting caller the best available agent of its queue; True if matched."""
        caller = self.callers.get(call_uuid)
        if caller is None or caller.phase is not Phase.WAITING or caller.hungup.is_set():
            return False
        queue = self.queues.get(caller.queue)
        if queue is None:
            return False
        exclude = self._excluded(caller)
        strategy, required = queue.choose, caller.required
        if strategy.ring_all:
            return self._ring_all(caller, required, exclude)
        if strategy.name == LONGEST_IDLE and not required:
            # the store's index order (level, idle since) is this strategy: the first fit wins
            agent = self.store.reserve_first(caller.queue,
                                             lambda agent: agent.extension not in exclude)
        else:
            # best level, then best skill score, then the strategy (fs_cc.acd.strategy.choose)
            agent = self.store.reserve_best(caller.queue, required, strategy, exclude)
        if agent is None:
            return False
        best = self._best_caller_for(agent)
        if best is not None and best is not caller:
            # a caller who should go first (priority, longer wait in another of the agent's
            # queues) waits for this agent too: it gets it, and this one looks again
            self.caller_waiting(caller)
            return self._take(best, agent)
        return self._take(caller, agent)

    def _ring_all(self, caller, required, exclude):
        group = self.store.reserve_group(caller.queue, required, exclude, RING_ALL_LIMIT)
        kept = []
        for agent in group:
            best = self._best_caller_for(agent)
            if best is not None and best is not caller:
                # a caller who should go first waits for this agent too: it is not rung here
                self.store.release(agent.extension)
                self.agent_free(agent.extension)
            else:
                kept.append(agent)
        if not kept:
            if group:
                self.caller_waiting(caller)
            return False
        return self._take(caller, kept)

    def route_agent(self, extension):
        """Give a free agent the best caller of all its queues that it may serve; True if matched."""
        try:
            agent = self.store.get_agent(extension)
        except UnknownAgent:
            return False
        if agent.status is not AgentStatus.AVAILABLE:
            return False
        caller = self._best_caller_for(agent, stop_at_remote=True)
        if caller is None:
            return False
        # the caller gets the best agent free now by its queue's level, skills and strategy:
        # usually this one, but not when a better one became free at the same moment
        return self.route_caller(caller.call_uuid)

    def _best_caller_for(self, agent, stop_at_remote=False):
        """The first waiting caller of this engine, across the agent's queues, it may serve."""
        for call_uuid, _ in self._best_first(agent.queues):
            caller = self.callers.get(call_uuid)
            if caller is None:
                if stop_at_remote:
                    # another engine's caller heads the line: that engine, woken by the same
                    # fact, serves it; taking the agent for a caller further back is unfair
                    return None
                continue
            if (caller.phase is Phase.WAITING and not caller.hungup.is_set()
                    and caller.qualifies(agent) and agent.extension not in self._excluded(caller)):
                return caller
        return None

    def route_all(self):
        """Route every waiting caller of this engine, best first."""
        waiting = sorted((c for c in self.callers.values() if c.phase is Phase.WAITING),
                         key=lambda c: (-c.priority, c.since))
        for caller in waiting:
            self.route_caller(caller.call_uuid)

    def _best_first(self, queues):
        return self.store.waiting_heads([name for name in queues if name in self.queues], HEAD)

    def _excluded(self, caller):
        # agents that failed this caller lately; after the retry delay they are rung again
        now = self._clock()
        delay = own_setting(self.queues.get(caller.queue), "retry_delay", self.retry_delay)
        for ext, failed_at in list(caller.tried.items()):
            if now - failed_at >= delay:
                del caller.tried[ext]
        return set(caller.tried)

    def _take(self, caller, agent):
        if not self.store.dequeue_caller(caller.queue, caller.call_uuid):
            # gone from the line meanwhile (hung up, timed out): the agent(s) go back
            for each in agent if isinstance(agent, list) else [agent]:
                self.store.release(each.extension)
                self.agent_free(each.extension)
            return False
        self.decisions += 1
        self.dispatch(caller, agent)
        return True
