"""The live ACD state behind one interface: agents and their status, callers waiting per queue.

:class:`MemoryStore` serves one engine; :class:`~fs_cc.acd.redis_store.RedisStore` lets several
engines share the state. Both reserve atomically: an agent is never handed to two callers.
"""

import bisect
import dataclasses
import threading
import time

from fs_cc.acd.agents import Agent, AgentStatus, UnknownAgent
from fs_cc.acd.base import (AgentStore, answered, apply_transition, check_live_fields, idle_key,
                            moved, rank_key)
from fs_cc.acd.redis_store import RedisStore
from fs_cc.acd.strategy import Context, choose, ring_group

__all__ = ["AgentStore", "MemoryStore", "RedisStore"]


class MemoryStore(AgentStore):
    """In-process state for a single engine; a lock makes each operation atomic.

    Available agents are indexed per queue in (level, idle since) order and each line is kept
    sorted, so a routing decision looks at the free agents and the heads of the lines, never at
    everyone.
    """

    def __init__(self, clock=time.time, rng=None):
        super().__init__(clock, rng)
        self._lock = threading.Lock()
        self._agents = {}
        self._idle = {}  # queue -> sorted list of (idle key, extension) of its available agents
        self._cursors = {}  # queue -> the extension round-robin offered last
        self._waiting = {}  # queue -> sorted list of (rank key, seq, call_uuid)
        self._entries = {}  # queue -> {call_uuid: its entry in _waiting}
        self._seq = 0

    @staticmethod
    def _indexed(agent):
        return agent.status is AgentStatus.AVAILABLE and agent.reachable

    def _put(self, agent):
        before = self._agents.get(agent.extension)
        if before is not None and self._indexed(before):
            for queue in before.queues:
                idle = self._idle.get(queue, [])
                entry = (idle_key(before, queue), before.extension)
                index = bisect.bisect_left(idle, entry)
                if index < len(idle) and idle[index] == entry:
                    del idle[index]
        self._agents[agent.extension] = agent
        if self._indexed(agent):
            for queue in agent.queues:
                bisect.insort(self._idle.setdefault(queue, []),
                              (idle_key(agent, queue), agent.extension))

    def define_agent(self, extension, name="", queues=(), skills=None, levels=None):
        with self._lock:
            agent = self._agents.get(extension)
            definition = {"name": name, "queues": tuple(queues), "skills": dict(skills or {}),
                          "levels": dict(levels or {})}
            if agent is None:
                agent = Agent(extension, status=AgentStatus.LOGGED_OUT,
                              status_since=self.clock(), **definition)
            else:
                agent = dataclasses.replace(agent, **definition)
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

    def set_status(self, extension, status, *, expected=None, reason=None):
        with self._lock:
            agent = apply_transition(self._get(extension), status, self.clock(), expected, reason)
            self._put(agent)
            return dataclasses.replace(agent)

    def change(self, extension, **fields):
        with self._lock:
            agent = dataclasses.replace(self._get(extension), **check_live_fields(fields))
            self._put(agent)
            return dataclasses.replace(agent)

    def _reserved(self, agent, queue):
        reserved = moved(agent, AgentStatus.RESERVED, self.clock())
        self._put(reserved)
        self._cursors[queue] = agent.extension
        return dataclasses.replace(reserved)

    def reserve_best(self, queue, required, strategy, exclude=()):
        with self._lock:
            free = [self._agents[extension] for _, extension in self._idle.get(queue, ())]
            ctx = Context(queue, self.clock(), self._cursors.get(queue), self.rng)
            chosen = choose(free, required, ctx, strategy, exclude)
            return None if chosen is None else self._reserved(chosen, queue)

    def reserve_group(self, queue, required, exclude=(), limit=None):
        with self._lock:
            free = [self._agents[extension] for _, extension in self._idle.get(queue, ())]
            group = ring_group(free, required, Context(queue, self.clock()), exclude, limit)
            return [self._reserved(agent, queue) for agent in group]

    def reserve_first(self, queue, accept):
        with self._lock:
            for _, extension in self._idle.get(queue, ()):
                agent = self._agents[extension]
                if accept(agent):
                    return self._reserved(agent, queue)
            return None

    def record_answer(self, extension):
        with self._lock:
            agent = answered(self._get(extension), self.clock())
            self._put(agent)
            return dataclasses.replace(agent)

    def record_talk(self, extension, seconds):
        with self._lock:
            agent = self._get(extension)
            agent = dataclasses.replace(agent, talk_seconds=agent.talk_seconds + max(0.0, seconds))
            self._put(agent)
            return dataclasses.replace(agent)

    def record_no_answer(self, extension):
        with self._lock:
            agent = self._get(extension)
            agent = dataclasses.replace(agent, no_answers=agent.no_answers + 1)
            self._put(agent)
            return agent.no_answers

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
