"""Queue and agent definitions from the engine's configuration (plain data), and ``build_acd``."""

import dataclasses
import re

from fs_cc.acd.acd import ACD, DEFAULT_MOH
from fs_cc.acd.strategy import strategy_named
from fs_cc.errors import ConfigError
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclasses.dataclass(frozen=True)
class Queue:
    """One queue: its name, routing strategy name and music on hold."""

    name: str
    strategy: str = "longest-idle"
    moh: str = DEFAULT_MOH

    @property
    def choose(self):
        """The strategy function."""
        return strategy_named(self.strategy)


def parse_queues(items, moh=DEFAULT_MOH):
    """Queues from ``[{name, strategy, moh}]`` (ConfigError on a bad entry)."""
    queues = {}
    for index, item in enumerate(items or ()):
        where = f"queues[{index}]"
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict):
            raise ConfigError(f"{where} must be a mapping with a 'name'")
        unknown = set(item) - {"name", "strategy", "moh"}
        if unknown:
            raise ConfigError(f"{where} has unknown field(s): {', '.join(sorted(unknown))}")
        name = item.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise ConfigError(f"{where} needs a 'name' of letters, digits, _, - or .")
        if name in queues:
            raise ConfigError(f"queue '{name}' is defined twice")
        strategy = item.get("strategy") or "longest-idle"
        strategy_named(strategy)
        queues[name] = Queue(name, strategy, item.get("moh") or moh)
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
        skills = item.get("skills") or {}
        if not isinstance(skills, dict) or not all(
                isinstance(level, int) and 1 <= level <= 10 for level in skills.values()):
            raise ConfigError(f"{where} 'skills' must map skill names to levels 1-10")
        agents.append({"extension": extension, "name": str(item.get("name") or extension),
                       "queues": tuple(agent_queues), "skills": dict(skills)})
    return agents


def define_agents(store, agents):
    """Write agent definitions (from :func:`parse_agents`) to the store; live status is kept."""
    for agent in agents:
        store.define_agent(agent["extension"], agent["name"], agent["queues"],
                           agent.get("skills"))


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
        store.define_agent(agent.extension, agent.name, agent.queues, dict(agent.skills))
    for extension, agent in (previous.agents.items() if previous is not None else ()):
        if extension not in catalog.agents:
            store.define_agent(extension, agent.name, (), {})
