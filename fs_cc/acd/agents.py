"""Agents: their states, the transitions allowed between them (in one place), and the errors."""

import dataclasses
import datetime
import enum
import typing

from fs_cc.errors import FsCcError


class AgentStatus(enum.Enum):
    """Where an agent is in their working day."""

    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RESERVED = "reserved"  # picked for a caller, being rung
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    BREAK = "break"

    @classmethod
    def parse(cls, value):
        """An AgentStatus from itself, its value ("available") or its name ("AVAILABLE")."""
        if isinstance(value, cls):
            return value
        text = str(value).strip()
        for status in cls:
            if text.lower() == status.value or text.upper() == status.name:
                return status
        raise InvalidStatus(value)


S = AgentStatus
TRANSITIONS = {
    S.LOGGED_OUT: {S.AVAILABLE, S.BREAK},
    S.AVAILABLE: {S.RESERVED, S.BREAK, S.LOGGED_OUT},
    # the ACD owns a reserved agent until the offer ends: answered (ON_CALL) or not (AVAILABLE)
    S.RESERVED: {S.AVAILABLE, S.ON_CALL},
    S.ON_CALL: {S.AVAILABLE, S.WRAP_UP},
    S.WRAP_UP: {S.AVAILABLE, S.BREAK, S.LOGGED_OUT},
    S.BREAK: {S.AVAILABLE, S.LOGGED_OUT},
}
del S


def allowed_from(target):
    """The statuses from which an agent may move to ``target``."""
    return {source for source, targets in TRANSITIONS.items() if target in targets}


def check_transition(extension, current, target):
    """Raise InvalidTransition unless ``current`` -> ``target`` is allowed."""
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(extension, current, target)


class UnknownAgent(FsCcError, KeyError):
    """No agent has this extension."""

    def __init__(self, extension):
        self.extension = extension
        super().__init__(f"no agent with extension {extension!r}")

    def __str__(self):
        return self.args[0]


class UnknownQueue(FsCcError, KeyError):
    """No queue has this name."""

    def __init__(self, queue):
        self.queue = queue
        super().__init__(f"no queue named {queue!r}")

    def __str__(self):
        return self.args[0]


class InvalidStatus(FsCcError, ValueError):
    """A text that names no agent status."""

    def __init__(self, value):
        self.value = value
        names = ", ".join(s.value for s in AgentStatus)
        super().__init__(f"{value!r} is not an agent status ({names})")


class InvalidTransition(FsCcError, ValueError):
    """An agent may not move from its current status to the one asked."""

    def __init__(self, extension, current, target):
        self.extension = extension
        self.current = current
        self.target = target
        super().__init__(f"agent {extension} cannot go from {current.value} to {target.value}")


def _iso(epoch):
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).isoformat()


@dataclasses.dataclass
class Agent:
    """One agent's definition (extension, name, queues) and live state; times are epoch seconds."""

    extension: str
    name: str = ""
    queues: typing.Tuple[str, ...] = ()
    status: AgentStatus = AgentStatus.LOGGED_OUT
    status_since: float = 0.0
    last_call_ended_at: typing.Optional[float] = None
    skills: typing.Mapping[str, int] = dataclasses.field(default_factory=dict)  # name -> level

    def qualifies(self, required):
        """Whether the agent has every skill of ``required`` ({name: minimum level})."""
        return all(self.skills.get(name, 0) >= level for name, level in required.items())

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
            "status_since": _iso(self.status_since),
            "last_call_ended_at": _iso(self.last_call_ended_at),
            "skills": dict(self.skills),
        }
