"""Queue and agent definitions from the engine's configuration (plain data), and ``build_acd``."""

import dataclasses
import re
import typing

from fs_cc.acd.acd import ACD, DEFAULT_MOH
from fs_cc.acd.skills import check_levels, parse_relax
from fs_cc.acd.strategy import strategy_named
from fs_cc.errors import ConfigError
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


DEFAULT_MAX_NO_ANSWER = 3  # offers missed in a row before an agent is set not ready
QUEUE_FIELDS = {"name", "strategy", "moh", "skills", "skill_relax", "wrap_up", "max_no_answer"}


@dataclasses.dataclass(frozen=True)
class Queue:
    """One queue: its name, routing strategy, music on hold, the skills it asks of agents (and
    how the ask relaxes with the wait), the wrap-up seconds after each call, and the offers an
    agent may miss in a row before it is set not ready (0: never)."""

    name: str
    strategy: str = "longest-idle"
    moh: str = DEFAULT_MOH
    skills: typing.Mapping[str, int] = dataclasses.field(default_factory=dict)
    skill_relax: tuple = ()  # fs_cc.acd.skills.RelaxStep, by ``after``
    wrap_up: float = 0.0
    max_no_answer: int = DEFAULT_MAX_NO_ANSWER

    @property
    def choose(self):
        """The Strategy (fs_cc.acd.strategy)."""
        return strategy_named(self.strategy)


def _seconds(value, where, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"{where}.{name} must be a number of seconds >= 0")
    return float(value)


def parse_queues(items, moh=DEFAULT_MOH):
    """Queues from ``[{name, strategy, moh}]`` (ConfigError on a bad entry)."""
    queues = {}
    for index, item in enumerate(items or ()):
        where = f"queues[{index}]"
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict):
            raise ConfigError(f"{where} must be a mapping with a 'name'")
        unknown = set(item) - QUEUE_FIELDS
        if unknown:
            raise ConfigError(f"{where} has unknown field(s): {', '.join(sorted(unknown))}")
        name = item.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise ConfigError(f"{where} needs a 'name' of letters, digits, _, - or .")
        if name in queues:
            raise ConfigError(f"queue '{name}' is defined twice")
        strategy = item.get("strategy") or "longest-idle"
        strategy_named(strategy)
        max_no_answer = item.get("max_no_answer", DEFAULT_MAX_NO_ANSWER)
        if isinstance(max_no_answer, bool) or not isinstance(max_no_answer, int) \
                or max_no_answer < 0:
            raise ConfigError(f"{where}.max_no_answer must be a whole number >= 0 (0: never)")
        queues[name] = Queue(name, strategy, item.get("moh") or moh,
                             skills=check_levels(item.get("skills") or {}, f"{where}.skills"),
                             skill_relax=parse_relax(item.get("skill_relax"),
                                                     f"{where}.skill_relax"),
                             wrap_up=_seconds(item.get("wrap_up", 0), where, "wrap_up"),
                             max_no_answer=max_no_answer)
    return queues


def parse_agents(items, queues):
    """Agents from ``[{extension, name, queues: [...], skills: {...}}]``, checked against the queues."""
    agents = []
    seen = set()
    for index, item in enumerate(items or ()):
        where = f"agents[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where} must be a mapping with an 'extension'")
        extension = str(item.get("extension", "")).strip()
        if not NAME_RE.match(extension):
            raise ConfigError(f"{where} needs an 'extension' (like 1000)")
        if extension in seen:
            raise ConfigError(f"agent extension {extension} is defined twice")
        seen.add(extension)
        agent_queues = item.get("queues") or []
        if isinstance(agent_queues, str):
            agent_queues = [agent_queues]
        for queue in agent_queues:
            if queue not in queues:
                raise ConfigError(f"agent {extension} is in unknown queue '{queue}'")
        levels = {}
        if isinstance(agent_queues, dict):  # {queue: level}
            levels = check_levels(agent_queues, f"{where}.queues")
        skills = check_levels(item.get("skills") or {}, f"{where}.skills")
        agents.append({"extension": extension, "name": str(item.get("name") or extension),
                       "queues": tuple(agent_queues), "skills": skills, "levels": levels})
    return agents


def define_agents(store, agents):
    """Write agent definitions (from :func:`parse_agents`) to the store; live status is kept."""
    for agent in agents:
        store.define_agent(agent["extension"], agent["name"], agent["queues"],
                           agent.get("skills"), agent.get("levels"))


def build_acd(store, ctl, config, emitter):
    """An :class:`~fs_cc.acd.acd.ACD` from config ``{queues, agents, ring_timeout, moh, ...}``.

    ``ctl`` is the engine's CallControl, ``emitter`` where its events go. Agent definitions are
    written to the store; agents already known keep their live status.
    """
    config = dict(config or {})
    moh = config.pop("moh", None) or DEFAULT_MOH
    queues = parse_queues(config.pop("queues", None), moh)
    agents = parse_agents(config.pop("agents", None), queues)
    options = {k: v for k, v in config.items() if v is not None}
    unknown = set(options) - {"ring_timeout", "retry_delay", "hangup_grace", "resync_grace",
                              "new_uuid"}
    if unknown:
        raise ConfigError(f"unknown ACD setting(s): {', '.join(sorted(unknown))}")
    define_agents(store, agents)
    return ACD(store, ctl, queues.values(), emitter, moh=moh, **options)


def queues_from_catalog(catalog):
    """The ACD's Queue definitions for a fs_cc.catalog.Catalog."""
    return [Queue(q.name, q.strategy, q.moh or DEFAULT_MOH) for q in catalog.queues.values()]


def define_catalog_agents(store, catalog, previous=None):
    """Write a catalog's agents to the store; agents the previous catalog had lose their queues."""
    for agent in catalog.agents.values():
        store.define_agent(agent.extension, agent.name, agent.queues, dict(agent.skills),
                           dict(agent.levels))
    for extension, agent in (previous.agents.items() if previous is not None else ()):
        if extension not in catalog.agents:
            store.define_agent(extension, agent.name, (), {})
