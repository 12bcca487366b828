"""Queue and agent definitions from the engine's configuration (plain data), and ``build_acd``."""

from fs_cc.acd.acd import ACD
from fs_cc.acd.queue_def import DEFAULT_MOH, NAME_RE, Queue, parse_queue  # noqa: F401
from fs_cc.acd.skills import check_levels
from fs_cc.errors import ConfigError

def parse_queues(items, moh=DEFAULT_MOH):
    """Queues from ``[{name, strategy, moh, ...}]`` (fs_cc.acd.queue_def; ConfigError naming the
    entry and the setting at fault)."""
    queues = {}
    for index, item in enumerate(items or ()):
        queue = parse_queue(item, f"queues[{index}]", moh)
        if queue.name in queues:
            raise ConfigError(f"queue '{queue.name}' is defined twice")
        queues[queue.name] = queue
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
    """The ACD's Queue definitions, every setting included, for a fs_cc.catalog.Catalog (built
    by parse_queue: ConfigError naming the queue and the setting at fault)."""
    return [parse_queue(q.item(), f"queues.{q.name}") for q in catalog.queues.values()]


def desk_agents_of(catalog):
    """The extensions of a catalog's agents a user works as (at the desktop, which files their
    calls: fs_cc.acd.presence keeps them in wrap-up while a disposition is owed)."""
    return frozenset(ext for ext, agent in catalog.agents.items() if agent.desktop)


def define_catalog_agents(store, catalog, previous=None):
    """Write a catalog's agents to the store; agents the previous catalog had lose their queues."""
    for agent in catalog.agents.values():
        store.define_agent(agent.extension, agent.name, agent.queues, dict(agent.skills),
                           dict(agent.levels))
    for extension, agent in (previous.agents.items() if previous is not None else ()):
        if extension not in catalog.agents:
            store.define_agent(extension, agent.name, (), {})
