"""The interface of the live ACD state store, and the status change rule both stores apply."""

import abc
import dataclasses
import time

from fs_cc.acd.agents import AgentStatus, InvalidTransition, check_transition

PRIORITY_STEP = 1e10  # seconds one priority step outweighs in the line's order


def rank_key(since, priority):
    """The order of a waiting caller across queues: priority first, then who waited longest."""
    return since - priority * PRIORITY_STEP
from fs_cc.acd.strategy import longest_idle


class AgentStore(abc.ABC):
    """The operations the ACD needs on live state; times are epoch seconds from ``clock``."""

    def __init__(self, clock=time.time):
        self.clock = clock

    @abc.abstractmethod
    def define_agent(self, extension, name="", queues=(), skills=None):
        """Create or update an agent's definition; a new agent starts LOGGED_OUT. Returns it."""

    @abc.abstractmethod
    def get_agent(self, extension):
        """The agent with this extension (UnknownAgent if none)."""

    @abc.abstractmethod
    def list_agents(self):
        """All agents, by extension."""

    @abc.abstractmethod
    def set_status(self, extension, status, *, expected=None):
        """Move an agent to ``status`` if allowed (and if its status is in ``expected``, if given)."""

    @abc.abstractmethod
    def reserve(self, queue, strategy=longest_idle, exclude=()):
        """Atomically pick an agent of ``queue`` with ``strategy`` and mark it RESERVED."""

    @abc.abstractmethod
    def reserve_first(self, queue, accept):
        """Atomically reserve the agent of ``queue`` idle the longest that ``accept(agent)`` takes.

        The stores keep the available agents of each queue in idle order, so this looks at as
        few agents as it must (longest-idle with skills and exclusions), not at all of them.
        """

    def reserve_longest_idle(self, queue, exclude=()):
        """Atomically reserve the AVAILABLE agent of ``queue`` idle the longest, or None."""
        return self.reserve(queue, longest_idle, exclude)

    def reserve_agent(self, extension):
        """Atomically mark this agent RESERVED if it is AVAILABLE; the agent, or None."""
        try:
            return self.set_status(extension, AgentStatus.RESERVED,
                                   expected=(AgentStatus.AVAILABLE,))
        except InvalidTransition:
            return None

    def release(self, extension):
        """Give back a RESERVED agent: AVAILABLE again, idle from now."""
        return self.set_status(extension, AgentStatus.AVAILABLE, expected=(AgentStatus.RESERVED,))

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


def moved(agent, status, now):
    """A copy of ``agent`` in ``status`` from ``now`` (records when a call ended)."""
    ended = now if agent.status is AgentStatus.ON_CALL else agent.last_call_ended_at
    return dataclasses.replace(agent, status=status, status_since=now, last_call_ended_at=ended)


def apply_transition(agent, status, now, expected=None):
    """Check and apply a status change to a copy of ``agent``; pure, shared by the stores."""
    status = AgentStatus.parse(status)
    if expected is not None and agent.status not in expected:
        raise InvalidTransition(agent.extension, agent.status, status)
    check_transition(agent.extension, agent.status, status)
    return moved(agent, status, now)
