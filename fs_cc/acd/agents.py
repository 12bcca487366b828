"""Agents: one agent's definition and live state, and the ACD's errors about agents and queues.

The states and the transitions allowed between them are defined once, in fs_cc.states
(``AgentState``, ``AGENT_TRANSITIONS``); this module re-exports them under the ACD's names.
"""

import dataclasses
import datetime
import typing

from fs_cc.errors import FsCcError
from fs_cc.states import (ACD_OWNED, AGENT_TRANSITIONS, DEFAULT_NOT_READY_REASONS,  # noqa: F401
                          LEGACY_BREAK, NO_ANSWER_REASON, AgentState, InvalidReason,
                          InvalidStatus, InvalidTransition, agent_allowed_from,
                          check_agent_transition)

AgentStatus = AgentState  # one enum: the ACD's name for it
TRANSITIONS = AGENT_TRANSITIONS
allowed_from = agent_allowed_from
check_transition = check_agent_transition
HOUR = 3600.0
DEFAULT_LEVEL = 1  # a member's level in a queue when none is given (1 is tried first)


class UnknownAgent(FsCcError, KeyError):
    """No agent has this extension."""

    def __init__(self, extension):
        self.extension = extension
        self.field = "agent"
        super().__init__(f"no agent with extension {extension!r}")

    def __str__(self):
        return self.args[0]


class UnknownQueue(FsCcError, KeyError):
    """No queue has this name."""

    def __init__(self, queue):
        self.queue = queue
        self.field = "queue"
        super().__init__(f"no queue named {queue!r}")

    def __str__(self):
        return self.args[0]


def _iso(epoch):
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).isoformat()


@dataclasses.dataclass
class Agent:
    """One agent's definition and live state; times are epoch seconds.

    Definition: extension, name, queues with a level (a tier: lower levels are offered calls
    first) in each, skills with levels
    1-10. Live: status since when, the not-ready ``reason``, what to do ``after_call`` (asked
    during a call), whether the phone is ``registered`` (None: not known, counted as
    registered; loopback test phones never register), and the counters strategies read:
    calls answered and talk seconds since login, answer times of the last hour, the offers
    missed in a row.
    """

    extension: str
    name: str = ""
    queues: typing.Tuple[str, ...] = ()
    status: AgentStatus = AgentStatus.LOGGED_OUT
    status_since: float = 0.0
    last_call_ended_at: typing.Optional[float] = None
    skills: typing.Mapping[str, int] = dataclasses.field(default_factory=dict)  # name -> level
    levels: typing.Mapping[str, int] = dataclasses.field(default_factory=dict)  # queue -> level
    reason: typing.Optional[str] = None  # the not-ready reason code while NOT_READY
    after_call: typing.Optional[str] = None  # "not_ready:<reason>" or "logged_out", asked on a call
    registered: typing.Optional[bool] = None
    calls_answered: int = 0
    talk_seconds: float = 0.0
    answered_at: typing.Tuple[float, ...] = ()  # answer times of the last hour, oldest first
    no_answers: int = 0  # offers missed in a row (reset by an answer)

    def qualifies(self, required):
        """Whether the agent has every skill of ``required`` ({name: minimum level})."""
        return all(self.skills.get(name, 0) >= level for name, level in required.items())

    def level_in(self, queue):
        """The agent's level (tier) in ``queue``: 1 is offered calls first."""
        return self.levels.get(queue, DEFAULT_LEVEL)

    @property
    def reachable(self):
        """Whether calls may be offered to the phone (not known to be unregistered)."""
        return self.registered is not False

    def calls_in_last_hour(self, now):
        """How many calls the agent answered in the hour before ``now``."""
        return sum(1 for moment in self.answered_at if moment > now - HOUR)

    @property
    def idle_since(self):
        """When an available agent became available; None when not available."""
        return self.status_since if self.status is AgentStatus.AVAILABLE else None

    def to_dict(self):
        """JSON-safe view for the control interface (ISO 8601 UTC times)."""
        return {
            "extension": self.extension,
            "name": self.name,
            "queues": list(self.queues),
            "status": self.status.value,
            "reason": self.reason,
            "status_since": _iso(self.status_since),
            "last_call_ended_at": _iso(self.last_call_ended_at),
            "skills": dict(self.skills),
            "levels": {queue: self.level_in(queue) for queue in self.queues},
            "registered": self.reachable,
            "after_call": self.after_call,
            "calls_answered": self.calls_answered,
            "talk_seconds": round(self.talk_seconds, 3),
            "no_answers": self.no_answers,
        }
