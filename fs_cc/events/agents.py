"""The facts of an agent and of a queue."""

import dataclasses
import types
import typing

from fs_cc.events.base import AgentEvent, Event, _event
from fs_cc.states import AgentState


@_event("agent.status_changed")
class AgentStatusChanged(AgentEvent):
    """An agent moved from one status to another, and why."""

    old: AgentState
    new: AgentState
    reason: str


@_event("agent.logged_in")
class AgentLoggedIn(AgentEvent):
    """An agent logged in to a queue."""

    queue: str


@_event("agent.logged_out")
class AgentLoggedOut(AgentEvent):
    """An agent logged out of a queue."""

    queue: str


# -- queues ---------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class QueueEvent(Event):
    """A fact about one queue, named by its name."""

    queue: str


@_event("queue.figures")
class QueueFiguresChanged(QueueEvent):
    """A queue's live figures changed (fs_cc.acd.figures defines each): now and today."""

    waiting: int
    longest_wait: float
    agents: typing.Mapping[str, int]  # agent state -> agents of the queue in it
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    overflowed: int
    answered_in_service_level: int
    service_level: typing.Optional[float] = None
    asa: typing.Optional[float] = None
    aht: typing.Optional[float] = None
    # the callers who finished waiting in the last 30 minutes (a sliding window)
    answered_30m: int = 0
    abandoned_30m: int = 0
    service_level_30m: typing.Optional[float] = None

    def __post_init__(self):
        Event.__post_init__(self)
        object.__setattr__(self, "agents", types.MappingProxyType(dict(self.agents)))
