"""Routing strategies: pure functions ordering the available agents for the next caller.

The order of a queue's available agents for one caller, best first, is:

1. the agent's **level** in the queue (a tier, as mod_callcenter's tier level or app_queue's
   penalty: agents of level 2 are offered calls only while no agent of level 1 fits);
2. the **skill score** (fs_cc.acd.skills: the best-matching agent first);
3. the queue's **strategy**, which breaks the ties:

   - ``longest-idle``: available the longest first;
   - ``round-robin``: the agent after the one the queue offered last, in extension order (the
     cursor is kept in the store, so that engines sharing a Redis store share it);
   - ``ring-all``: every agent that fits, in the best level, is rung at once; the first to
     answer gets the caller and the others stop ringing (fs_cc.acd.ring_all);
   - ``fewest-calls``: fewest calls answered since login;
   - ``least-talk-time``: fewest talk seconds since login;
   - ``fewest-calls-last-hour``: fewest calls answered in the last hour;
   - ``random``: any, drawn from the context's random generator;
   - ``top-down``: by extension, within the level (give agents levels 1, 2, 3... for a strict
     order); when one is not available the next is taken, never a halt;

4. the extension, so that the order is total.

Everything here is pure: agents (fs_cc.acd.agents.Agent values) and a :class:`Context` in,
an order out. The stores call :func:`choose` or :func:`ring_group` inside their reservation.
"""

import dataclasses
import random
import typing

from fs_cc.acd.agents import AgentStatus
from fs_cc.acd.skills import match_score
from fs_cc.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Context:
    """What a strategy may know beside the agents: the queue, the time, its cursor, randomness."""

    queue: str
    now: float = 0.0
    cursor: typing.Optional[str] = None  # the extension the queue offered a caller last
    rng: random.Random = dataclasses.field(default_factory=random.Random, compare=False)


@dataclasses.dataclass(frozen=True)
class Strategy:
    """A named strategy: its tie-breaking key, and what it reads beside the agents."""

    name: str
    key: typing.Callable  # (agent, context) -> a sortable tuple, smaller first
    ring_all: bool = False  # rings every agent of ring_group at once
    stats: bool = False  # reads calls/talk counters (the Redis store loads them only then)
    cursor: bool = False  # reads and moves the queue's round-robin cursor


def _idle(agent, ctx):
    return (agent.status_since,)


def _round_robin(agent, ctx):
    # those after the cursor first, then from the start again
    return (ctx.cursor is not None and agent.extension <= ctx.cursor,)


def _fewest_calls(agent, ctx):
    return (agent.calls_answered, agent.status_since)


def _least_talk(agent, ctx):
    return (agent.talk_seconds, agent.status_since)


def _last_hour(agent, ctx):
    return (agent.calls_in_last_hour(ctx.now), agent.status_since)


def _random(agent, ctx):
    return (ctx.rng.random(),)


def _top_down(agent, ctx):
    return ()


LONGEST_IDLE = "longest-idle"
STRATEGIES = {strategy.name: strategy for strategy in (
    Strategy(LONGEST_IDLE, _idle),
    Strategy("round-robin", _round_robin, cursor=True),
    Strategy("ring-all", _idle, ring_all=True),
    Strategy("fewest-calls", _fewest_calls, stats=True),
    Strategy("least-talk-time", _least_talk, stats=True),
    Strategy("fewest-calls-last-hour", _last_hour, stats=True),
    Strategy("random", _random),
    Strategy("top-down", _top_down),
)}
ALIASES = {"longest-idle-agent": LONGEST_IDLE, "agent-with-fewest-calls": "fewest-calls",
           "agent-with-least-talk-time": "least-talk-time",
           "agent-with-fewest-calls-in-the-last-hour": "fewest-calls-last-hour"}


def strategy_named(name, path=None):
    """The Strategy for a configured name (mod_callcenter's long names too); ConfigError if none."""
    strategy = STRATEGIES.get(ALIASES.get(name, name))
    if strategy is None:
        known = ", ".join(sorted(STRATEGIES))
        raise ConfigError(f"unknown queue strategy {name!r} (known: {known})", path)
    return strategy


def fits(agent, queue, exclude=()):
    """Whether ``agent`` may be offered a caller of ``queue`` at all (free, member, reachable)."""
    return (agent.status is AgentStatus.AVAILABLE and queue in agent.queues
            and agent.reachable and agent.extension not in exclude)


def tier(agent, queue, required):
    """(level, -score) of an agent for ``required`` in ``queue``, or None if it lacks a skill."""
    score = match_score(agent.skills, required)
    if score is None:
        return None
    return (agent.level_in(queue), -score)


def rank(agents, required, ctx, strategy, exclude=()):
    """The agents that fit, best first (level, skill score, strategy, extension)."""
    keyed = []
    for agent in agents:
        if not fits(agent, ctx.queue, exclude):
            continue
        first = tier(agent, ctx.queue, required)
        if first is not None:
            keyed.append((first + strategy.key(agent, ctx) + (agent.extension,), agent))
    keyed.sort(key=lambda pair: pair[0])
    return [agent for _, agent in keyed]


def best_tier(agents, required, queue, exclude=()):
    """The agents that fit and share the best (level, score): only they can win, by strategy."""
    best, group = None, []
    for agent in agents:
        if not fits(agent, queue, exclude):
            continue
        first = tier(agent, queue, required)
        if first is None or (best is not None and first > best):
            continue
        if best is None or first < best:
            best, group = first, []
        group.append(agent)
    return group


def choose(agents, required, ctx, strategy, exclude=()):
    """The one agent the strategy gives the caller, or None."""
    group = best_tier(agents, required, ctx.queue, exclude)
    if not group:
        return None
    return min(group, key=lambda agent: strategy.key(agent, ctx) + (agent.extension,))


def ring_group(agents, required, ctx, exclude=(), limit=None):
    """Every agent a ring-all offer rings: all that fit in the best level, whatever their skill
    score, longest idle first (at most ``limit``)."""
    fitting = [(agent.level_in(ctx.queue), agent.status_since, agent.extension, agent)
               for agent in agents if fits(agent, ctx.queue, exclude)
               and match_score(agent.skills, required) is not None]
    if not fitting:
        return []
    level = min(entry[0] for entry in fitting)
    group = [entry[3] for entry in sorted(fitting, key=lambda e: e[:3]) if entry[0] == level]
    return group[:limit] if limit else group


def longest_idle(agents, queue, exclude=()):
    """The AVAILABLE agent of ``queue`` idle the longest (ties: lowest extension), or None."""
    return choose(agents, {}, Context(queue), STRATEGIES[LONGEST_IDLE], exclude)
