"""What the supervisor's seat reads and does: the board (queues with their figures, agents,
calls in progress), an agent's state changed, a call listened to, whispered to or barged into.

The wallboard's colours come from ``wallboard_thresholds`` (settings): per figure a warning and
an alarm level. For ``waiting`` and ``longest_wait`` (seconds) higher is worse; for
``service_level`` and ``service_level_30m`` (0 to 1) lower is worse.
"""

import numbers

from fs_cc.control import ControlRefused, ControlUnavailable, SuperviseMode, commands
from fs_cc.errors import ConfigError
from web.calls.live import LiveCallService
from web.errors import WebError, engine_refusal

DEFAULT_THRESHOLDS = {"waiting": [3, 10], "longest_wait": [60, 180],
                      "service_level": [0.8, 0.6], "service_level_30m": [0.8, 0.6]}
HIGHER_IS_WORSE = ("waiting", "longest_wait")


class SupervisorError(WebError):
    """A supervisor's request was refused; ``field`` names what is at fault."""

    status = 400


def thresholds(configured):
    """The wallboard thresholds: the defaults, with ``configured`` (the setting) over them.

    ConfigError naming the figure for an unknown one or levels that are not [warn, alarm] in
    the right order.
    """
    out = {name: list(levels) for name, levels in DEFAULT_THRESHOLDS.items()}
    for name, levels in (configured or {}).items():
        where = f"wallboard_thresholds.{name}"
        if name not in DEFAULT_THRESHOLDS:
            raise ConfigError(f"{where}: no such figure (one of {', '.join(DEFAULT_THRESHOLDS)})")
        if (not isinstance(levels, (list, tuple)) or len(levels) != 2
                or not all(isinstance(level, numbers.Real) and not isinstance(level, bool)
                           for level in levels)):
            raise ConfigError(f"{where}: must be [warn, alarm], two numbers")
        warn, alarm = levels
        if (warn > alarm) if name in HIGHER_IS_WORSE else (warn < alarm):
            raise ConfigError(f"{where}: the alarm level must be "
                              + ("above" if name in HIGHER_IS_WORSE else "below")
                              + " the warning level")
        out[name] = [warn, alarm]
    return out


def _engine_error(exc):
    return engine_refusal(exc, SupervisorError)


class SupervisorSeat:
    """The seat of ``user`` over the app's EngineRouter ``control``."""

    def __init__(self, control, user, levels):
        self.control = control
        self.user = user
        self.levels = levels

    def board(self, extensions=None):
        """Queues (with today's and the last 30 minutes' figures), agents and calls, or a board
        flagged engine_available false when the engine does not answer.

        With ``extensions`` (a team's agents) only those agents are listed, and only the calls
        waiting in a queue or served by one of them.
        """
        try:
            queues = sorted(self.control.queues(), key=lambda queue: queue["name"])
            agents = sorted(self.control.agents(), key=lambda agent: str(agent["extension"]))
        except ControlUnavailable:
            return {"engine_available": False, "error": "engine unavailable", "queues": [],
                    "agents": [], "calls": [], "thresholds": self.levels}
        except ControlRefused as exc:
            return {"engine_available": False, "error": f"engine error: {exc.error}",
                    "queues": [], "agents": [], "calls": [], "thresholds": self.levels}
        calls = [call.to_dict() for call in LiveCallService(self.control).in_progress().calls]
        if extensions is not None:
            agents = [agent for agent in agents if str(agent["extension"]) in extensions]
            calls = [call for call in calls
                     if not call.get("agent") or str(call["agent"]) in extensions]
        return {"engine_available": True, "error": None, "queues": queues, "agents": agents,
                "calls": calls, "thresholds": self.levels}

    def _execute(self, command):
        try:
            return self.control.execute(command)
        except (ControlUnavailable, ControlRefused) as exc:
            raise _engine_error(exc) from None

    def set_status(self, extension, status, reason=""):
        """Move an agent (any status the engine takes: available, not_ready, logged_out)."""
        status = str(status or "").strip()
        if not status:
            raise SupervisorError("status: choose a status", field="status")
        reason = str(reason or "").strip() or f"by supervisor {self.user.username}"
        return self._execute(commands.SetAgentStatus(agent=str(extension), status=status,
                                                     reason=reason))

    def supervise(self, call_uuid, mode):
        """Ring the supervisor's own phone into the call to listen, whisper or barge."""
        try:
            mode = SuperviseMode(str(mode or ""))
        except ValueError:
            raise SupervisorError("mode: one of " + ", ".join(m.value for m in SuperviseMode),
                                  field="mode") from None
        if not self.user.extension:
            raise SupervisorError("extension: your account has no extension for your phone to "
                                  "ring; an admin gives you one on the Users page",
                                  field="extension", status=409)
        return self._execute(commands.SuperviseCall(call_uuid=str(call_uuid),
                                                    supervisor=self.user.extension, mode=mode))

    def set_priority(self, call_uuid, priority):
        """Give a waiting caller another priority (0 to 100, higher served first)."""
        if isinstance(priority, bool) or not isinstance(priority, int) or not (
                0 <= priority <= commands.PRIORITY_MAX):
            raise SupervisorError(f"priority: a whole number from 0 to {commands.PRIORITY_MAX}",
                                  field="priority")
        return self._execute(commands.SetCallerPriority(call_uuid=str(call_uuid),
                                                        priority=priority))

    def move(self, call_uuid, queue):
        """Move a waiting caller to another queue, keeping its place in line."""
        queue = str(queue or "").strip() if isinstance(queue, str) else ""
        if not queue:
            raise SupervisorError("queue: choose the queue to move the caller to", field="queue")
        return self._execute(commands.MoveCaller(call_uuid=str(call_uuid), queue=queue))

    def take_over(self, call_uuid):
        """Ring the supervisor's own phone; once answered it has the caller, the agent wraps up."""
        if not self.user.extension:
            raise SupervisorError("extension: your account has no extension for your phone to "
                                  "ring; an admin gives you one on the Users page",
                                  field="extension")
        return self._execute(commands.TakeOverCall(call_uuid=str(call_uuid),
                                                   extension=self.user.extension))
