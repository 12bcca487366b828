"""Routing strategies: pure functions choosing which available agent gets the next caller."""

from fs_cc.acd.agents import AgentStatus
from fs_cc.errors import ConfigError


def longest_idle(agents, queue, exclude=()):
    """The AVAILABLE agent of ``queue`` idle the longest (ties: lowest extension), or None."""
    candidates = [a for a in agents
                  if a.status is AgentStatus.AVAILABLE and queue in a.queues
                  and a.extension not in exclude]
    if not candidates:
        return None
    return min(candidates, key=lambda a: (a.status_since, a.extension))


STRATEGIES = {"longest-idle": longest_idle}


def strategy_named(name, path=None):
    """The strategy function for a configured name; ConfigError when there is none."""
    try:
        return STRATEGIES[name]
    except KeyError:
        known = ", ".join(sorted(STRATEGIES))
        raise ConfigError(f"unknown queue strategy {name!r} (known: {known})", path) from None
