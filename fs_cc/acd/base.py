"""The interface of the live ACD state store, and the pure rules both stores apply.

Reservations are atomic in every store and for every strategy: an agent is never handed to two
callers. The available agents of each queue are indexed in (level, idle since) order, and only
agents whose phone is not known to be unregistered are in it, so a decision looks at the free
agents of the best level that fits, never at everyone.
"""

import abc
import dataclasses
import random
import time

from fs_cc.acd.agents import (HOUR, LEGACY_BREAK, AgentStatus, InvalidTransition,
                              check_transition)
from fs_cc.acd.strategy import STRATEGIES, LONGEST_IDLE

PRIORITY_STEP = 1e10  # seconds one priority step outweighs in the line's order
LEVEL_STEP = 1e10  # seconds one member level outweighs in a queue's index of available agents
KEEP_AFTER_CALL = (AgentStatus.ON_CALL, AgentStatus.WRAP_UP)


def rank_key(since, priority):
    """The order of a waiting caller across queues: priority first, then who waited longest."""
    return since - priority * PRIORITY_STEP


def idle_key(agent, queue):
    """The order of an available agent in ``queue``'s index: its level, then idle since."""
    return agent.level_in(queue) * LEVEL_STEP + agent.status_since


class AgentStore(abc.ABC):
    """The operations the ACD needs on live state; times are epoch seconds from ``clock``."""

    def __init__(self, clock=time.time, rng=None):
        self.clock = clock
        self.rng = rng or random.Random()  # the random strategy's draws

    @abc.abstractmethod
    def define_agent(self, extension, name="", queues=(), skills=None, levels=None):
        """Create or update an agent's definition; a new agent starts LOGGED_OUT. Returns it."""

    @abc.abstractmethod
    def get_agent(self, extension):
        """The agent with this extension (UnknownAgent if none)."""

    @abc.abstractmethod
    def list_agents(self):
        """All agents, by extension."""

    @abc.abstractmethod
    def set_status(self, extension, status, *, expected=None, reason=None):
        """Move an agent to ``status`` if allowed (and if its status is in ``expected``, if given).

        ``reason`` is the not-ready reason code when ``status`` is NOT_READY ("break" if None).
        """

    @abc.abstractmethod
    def change(self, extension, **fields):
        """Set live fields of an agent that are no status (``after_call``, ``registered``)."""

    @abc.abstractmethod
    def reserve_best(self, queue, required, strategy, exclude=()):
        """Atomically reserve the agent a Strategy gives a caller asking ``required``, or None.

        Level, then skill score, then the strategy (fs_cc.acd.strategy.choose); the
        round-robin cursor of ``queue`` moves with the reservation.
        """

    @abc.abstractmethod
    def reserve_group(self, queue, required, exclude=(), limit=None):
        """Atomically reserve each agent a ring-all offer rings (strategy.ring_group); a list,
        empty when nobody fits. An agent taken meanwhile by another engine is left out."""

    @abc.abstractmethod
    def reserve_first(self, queue, accept):
        """Atomically reserve the first agent of ``queue``'s index that ``accept(agent)`` takes."""

    def reserve_longest_idle(self, queue, exclude=()):
        """Atomically reserve the AVAILABLE agent of ``queue`` idle the longest, or None."""
        return self.reserve_best(queue, {}, STRATEGIES[LONGEST_IDLE], exclude)

    def reserve_agent(self, extension):
        """Atomically mark this agent RESERVED if it is AVAILABLE and reachable; it, or None."""
        try:
            agent = self.get_agent(extension)
            if not agent.reachable:
                return None
            return self.set_status(extension, AgentStatus.RESERVED,
                                   expected=(AgentStatus.AVAILABLE,))
        except InvalidTransition:
            return None

    def release(self, extension):
        """Give back a RESERVED agent: AVAILABLE again, idle from now."""
        return self.set_status(extension, AgentStatus.AVAILABLE, expected=(AgentStatus.RESERVED,))

    @abc.abstractmethod
    def record_answer(self, extension):
        """An offer was answered: one call more (since login, in the last hour), no misses."""

    @abc.abstractmethod
    def record_talk(self, extension, seconds):
        """A call of the agent ended after ``seconds`` of talk."""

    @abc.abstractmethod
    def record_no_answer(self, extension):
        """An offer was not answered; returns the offers missed in a row."""

    @abc.abstractmethod
    def enqueue_caller(self, queue, call_uuid, since=None, priority=0):
        """Put a caller in line (higher ``priority`` first, then by ``since``, default now).

        Returns its position from 1; a caller already in line keeps its place.
        """

    @abc.abstractmethod
    def dequeue_caller(self, queue, call_uuid):
        """Take a caller out of line; True if it was there."""

    @abc.abstractmethod
    def caller_position(self, queue, call_uuid):
        """A waiting caller's position (1 is next), or None."""

    @abc.abstractmethod
    def waiting_callers(self, queue):
        """Call UUIDs waiting in ``queue``, first in line first."""

    def waiting_heads(self, queues, count):
        """``waiting_head`` of several queues, merged best first (one round trip where it can)."""
        heads = []
        for queue in queues:
            heads.extend(self.waiting_head(queue, count))
        heads.sort(key=lambda entry: entry[1])
        return heads

    @abc.abstractmethod
    def waiting_head(self, queue, count):
        """The first ``count`` of ``waiting_callers`` as (call_uuid, rank key) pairs.

        Rank keys of different queues compare: the smaller one is served first.
        """


def moved(agent, status, now, reason=None):
    """A copy of ``agent`` in ``status`` from ``now`` (records when a call ended)."""
    ended = now if agent.status is AgentStatus.ON_CALL else agent.last_call_ended_at
    changes = {"status": status, "status_since": now, "last_call_ended_at": ended,
               "reason": (reason or LEGACY_BREAK) if status is AgentStatus.NOT_READY else None}
    if status not in KEEP_AFTER_CALL:
        changes["after_call"] = None  # applied, or dropped by a new move
    if agent.status is AgentStatus.LOGGED_OUT:
        # the counters of fewest-calls and least-talk-time count from the login
        changes.update(calls_answered=0, talk_seconds=0.0, no_answers=0)
    return dataclasses.replace(agent, **changes)


def apply_transition(agent, status, now, expected=None, reason=None):
    """Check and apply a status change to a copy of ``agent``; pure, shared by the stores."""
    status = AgentStatus.parse(status)
    if expected is not None and agent.status not in expected:
        raise InvalidTransition(agent.extension, agent.status, status)
    check_transition(agent.extension, agent.status, status)
    return moved(agent, status, now, reason)


def answered(agent, now):
    """A copy of ``agent`` after it answered an offer at ``now``."""
    recent = tuple(moment for moment in agent.answered_at if moment > now - HOUR)
    return dataclasses.replace(agent, calls_answered=agent.calls_answered + 1,
                               answered_at=recent + (now,), no_answers=0)


LIVE_FIELDS = ("after_call", "registered")


def check_live_fields(fields):
    """The fields ``change`` may set; ValueError naming a stray one (a bug of the caller)."""
    stray = set(fields) - set(LIVE_FIELDS)
    if stray:
        raise ValueError(f"not a live agent field: {', '.join(sorted(stray))}")
    return fields
