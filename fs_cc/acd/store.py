"""The live ACD state behind one interface: agents and their status, callers waiting per queue.

:class:`MemoryStore` serves one engine; :class:`~fs_cc.acd.redis_store.RedisStore` lets several
engines share the state. Both reserve atomically: an agent is never handed to two callers.
"""

import bisect
import dataclasses
import threading
import time

from fs_cc.acd.agents import Agent, AgentStatus, UnknownAgent
from fs_cc.acd.base import AgentStore, apply_transition, moved
from fs_cc.acd.redis_store import RedisStore
from fs_cc.acd.strategy import longest_idle

__all__ = ["AgentStore", "MemoryStore", "RedisStore"]


class MemoryStore(AgentStore):
    """In-process state for a single engine; a lock makes each operation atomic."""

    def __init__(self, clock=time.time):
        super().__init__(clock)
        self._lock = threading.Lock()
        self._agents = {}
        self._waiting = {}  # queue -> sorted list of (since, seq, call_uuid)
        self._seq = 0

    def define_agent(self, extension, name="", queues=()):
        with self._lock:
            agent = self._agents.get(extension)
            if agent is None:
                agent = Agent(extension, name, tuple(queues), AgentStatus.LOGGED_OUT, self.clock())
            else:
                agent = dataclasses.replace(agent, name=name, queues=tuple(queues))
            self._agents[extension] = agent
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
            self._agents[extension] = agent
            return dataclasses.replace(agent)

    def reserve(self, queue, strategy=longest_idle, exclude=()):
        with self._lock:
            chosen = strategy(list(self._agents.values()), queue, exclude)
            if chosen is None:
                return None
            agent = moved(chosen, AgentStatus.RESERVED, self.clock())
            self._agents[agent.extension] = agent
            return dataclasses.replace(agent)

    def enqueue_caller(self, queue, call_uuid, since=None):
        with self._lock:
            line = self._waiting.setdefault(queue, [])
            for index, entry in enumerate(line):
                if entry[2] == call_uuid:
                    return index + 1
            self._seq += 1
            entry = (self.clock() if since is None else since, self._seq, call_uuid)
            bisect.insort(line, entry)
            return line.index(entry) + 1

    def dequeue_caller(self, queue, call_uuid):
        with self._lock:
            line = self._waiting.get(queue, [])
            for index, entry in enumerate(line):
                if entry[2] == call_uuid:
                    del line[index]
                    return True
            return False

    def caller_position(self, queue, call_uuid):
        with self._lock:
            for index, entry in enumerate(self._waiting.get(queue, [])):
                if entry[2] == call_uuid:
                    return index + 1
            return None

    def waiting_callers(self, queue):
        with self._lock:
            return [entry[2] for entry in self._waiting.get(queue, [])]
