"""The interface of the live ACD state store, and the status change rule both stores apply."""

import abc
import dataclasses
import time

from fs_cc.acd.agents import AgentStatus, InvalidTransition, check_transition
from fs_cc.acd.strategy import longest_idle


class AgentStore(abc.ABC):
    """The operations the ACD needs on live state; times are epoch seconds from ``clock``."""

    def __init__(self, clock=time.time):
        self.clock = clock

    @abc.abstractmethod
    def define_agent(self, extension, name="", queues=()):
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

    def reserve_longest_idle(self, queue, exclude=()):
        """Atomically reserve the AVAILABLE agent of ``queue`` idle the longest, or None."""
        return self.reserve(queue, longest_idle, exclude)

    def release(self, extension):
        """Give back a RESERVED agent: AVAILABLE again, idle from now."""
        return self.set_status(extension, AgentStatus.AVAILABLE, expected=(AgentStatus.RESERVED,))

    @abc.abstractmethod
    def enqueue_caller(self, queue, call_uuid, since=None):
        """Put a caller in line (ordered by ``since``, default now); returns its position from 1."""

    @abc.abstractmethod
    def dequeue_caller(self, queue, call_uuid):
        """Take a caller out of line; True if it was there."""

    @abc.abstractmethod
    def caller_position(self, queue, call_uuid):
        """A waiting caller's position (1 is next), or None."""

    @abc.abstractmethod
    def waiting_callers(self, queue):
        """Call UUIDs waiting in ``queue``, first in line first."""


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
