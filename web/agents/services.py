"""Reads the agents' live state from the engine's control interface."""

import dataclasses
import logging
import typing

from fs_cc.control import ControlRefused, ControlUnavailable

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class AgentBoard:
    """One look at the engine: agents and queues, or why the engine could not be asked."""

    agents: list
    queues: list
    engine_available: bool
    error: typing.Optional[str] = None

    def to_dict(self):
        """The JSON shape served at ``/api/agents``."""
        return {"engine_available": self.engine_available, "error": self.error,
                "agents": self.agents, "queues": self.queues}


class AgentService:
    """Asks the engine (through a ``ControlClient``) for agent and queue state.

    The shapes are the engine's: fs_cc.control.commands.AgentView and QueueView.
    """

    def __init__(self, control):
        self.control = control

    def board(self):
        """The current AgentBoard; an engine that does not answer gives an empty, flagged board."""
        try:
            agents = sorted(self.control.agents(), key=lambda agent: str(agent.get("extension")))
            queues = self.control.queues()
        except ControlUnavailable as exc:
            logger.warning("engine control unavailable at %s: %s", exc.url, exc.reason)
            return AgentBoard([], [], False, "engine unavailable")
        except ControlRefused as exc:
            logger.warning("engine control refused (%s): %s", exc.status, exc.error)
            return AgentBoard([], [], False, f"engine error: {exc.error}")
        return AgentBoard(agents, queues, True)
