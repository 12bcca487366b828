"""The live ACD state behind one interface: agents and their status, callers waiting per queue.

:class:`MemoryStore` serves one engine; :class:`~fs_cc.acd.redis_store.RedisStore` lets several
engines share the state. Both reserve atomically: an agent is never handed to two callers.
"""

import bisect
import dataclasses
import threading
import time

from fs_cc.acd.agents import Agent, AgentStatus, UnknownAgent
from fs_cc.acd.base import AgentStore, apply_transition, moved, rank_key
from fs_cc.acd.redis_store import RedisStore
from fs_cc.acd.strategy import longest_idle

__all__ = ["AgentStore", "MemoryStore", "RedisStore"]


class MemoryStore(AgentStore):
    """In-process state for a single engine; a lock makes each operation atomic.

    Available agents are indexed per queue and each line is kept sorted, so a routing decision
    looks at the free agents and the heads of the lines, never at everyone.
    """

    def __init__(self, clock=time.time):
        super().__init__(clock)
        self._lock = threading.Lock()
        self._agents = {}
        self._available = {}  # queue -> set of extensions AVAILABLE in it
        self._idle = {}  # queue -> sorted list of (status_since, extension) of those agents
        self._waiting = {}  # queue -> sorted list of (rank key, seq, call_uuid)
        self._entries = {}  # queue -> {call_uuid: its entry in _waiting}
        self._seq = 0

    def _put(self, agent):
        before = self._agents.get(agent.extension)
        if before is not None and before.status is AgentStatus.AVAILABLE:
            entry = (before.status_since, before.extension)
            for queue in before.queues:
                self._available.get(queue, set()).discard(agent.extension)
                idle = self._idle.get(queue, [])
                index = bisect.bisect_left(idle, entry)
                if index < len(idle) and idle[index] == entry:
                    del idle[index]
        self._agents[agent.extension] = agent
        if agent.status is AgentStatus.AVAILABLE:
            entry = (agent.status_since, agent.extension)
            for queue in agent.queues:
                self._available.setdefault(queue, set()).add(agent.extension)
                bisect.insort(self._idle.setdefault(queue, []), entry)

    def define_agent(self, extension, name="", queues=(), skills=None):
        with self._lock:
            agent = self._agents.get(extension)
            if agent is None:
                agent = Agent(extension, name, tuple(queues), AgentStatus.LOGGED_OUT, self.clock(),
                              skills=dict(skills or {}))
            else:
                agent = dataclasses.replace(agent, name=name, queues=tuple(queues),
                                            skills=dict(skills or {}))
            self._put(agent)
            return dataclasses.replace(agent)

    def get_agent(self, extension):
        with self._lock:
            return dataclasses.replace(self._get(extension))

    def _get(self, extension):
        try:
            return self._agents[extension]
        except KeyError:
            raise UnknownAgent(extension) from None

    def list_agents(self):
        with self._lock:
            return [dataclasses.replace(a) for _, a in sorted(self._agents.items())]

    def set_status(self, extension, status, *, expected=None):
        with self._lock:
            agent = apply_transition(self._get(extension), status, self.clock(), expected)
            self._put(agent)
            return dataclasses.replace(agent)

    def reserve(self, queue, strategy=longest_idle, exclude=()):
        with self._lock:
            free = [self._agents[e] for e in self._available.get(queue, ())]
            chosen = strategy(free, queue, exclude)
            if chosen is None:
                return None
            agent = moved(chosen, AgentStatus.RESERVED, self.clock())
            self._put(agent)
            return dataclasses.replace(agent)

    def reserve_first(self, queue, accept):
        with self._lock:
            for _, extension in self._idle.get(queue, ()):
                agent = self._agents[extension]
                if accept(agent):
                    reserved = moved(agent, AgentStatus.RESERVED, self.clock())
                    self._put(reserved)
                    return dataclasses.replace(reserved)
            return None

    def enqueue_caller(self, queue, call_uuid, since=None, priority=0):
        with self._lock:
            line = self._waiting.setdefault(queue, [])
            entries = self._entries.setdefault(queue, {})
            entry = entries.get(call_uuid)
            if entry is None:
                self._seq += 1
                moment = self.clock() if since is None else since
                entry = entries[call_uuid] = (rank_key(moment, priority), self._seq, call_uuid)
                bisect.insort(line, entry)
            return bisect.bisect_left(line, entry) + 1

    def dequeue_caller(self, queue, call_uuid):
        with self._lock:
            entry = self._entries.get(queue, {}).pop(call_uuid, None)
            if entry is None:
                return False
            line = self._waiting[queue]
            del line[bisect.bisect_left(line, entry)]
            return True

    def caller_position(self, queue, call_uuid):
        with self._lock:
            entry = self._entries.get(queue, {}).get(call_uuid)
            if entry is None:
                return None
            return bisect.bisect_left(self._waiting[queue], entry) + 1

    def waiting_callers(self, queue):
        with self._lock:
            return [entry[2] for entry in self._waiting.get(queue, [])]

    def waiting_head(self, queue, count):
        with self._lock:
            return [(entry[2], entry[0]) for entry in self._waiting.get(queue, [])[:count]]
