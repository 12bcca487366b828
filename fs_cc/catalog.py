"""The engine's read side of the catalog: queues, agents and DID routes, as frozen values.

The web app owns these tables (``web/catalog/models.py``, migrated by ``web/migrations``); the
engine reads them here with SQLAlchemy Core, so fs_cc needs neither Flask nor the web models.
Only enabled rows count: a disabled queue is absent, and so are the memberships in it. A queue's
settings are checked by fs_cc.acd.queue_def as they are read: a bad one raises its
QueueSettingError (a ConfigError) naming the queue and the setting, and nothing is loaded.
"""

import copy
import dataclasses
import logging
import types
import typing

import sqlalchemy as sa

from fs_cc.acd.config import parse_agents, parse_queues
from fs_cc.acd.queue_def import parse_queue
from fs_cc.errors import FsCcError

logger = logging.getLogger(__name__)

# The columns read here, by name; their types decode booleans and JSON the same on every dialect.
# A queue has a column per setting of fs_cc.acd.queue_def (migration 0009).
_QUEUE_SETTING_TYPES = {
    "strategy": sa.String, "moh": sa.String, "greeting": sa.String,
    "announce_interval": sa.Float, "announce_position": sa.Boolean, "announce_wait": sa.Boolean,
    "max_wait": sa.Float, "max_callers": sa.Integer, "exit_key": sa.String, "overflow": sa.JSON,
    "wrap_up": sa.Float, "ring_timeout": sa.Float, "retry_delay": sa.Float,
    "max_no_answer": sa.Integer, "service_level": sa.Float, "record": sa.String,
    "skills": sa.JSON, "skill_relax": sa.JSON,
    "closed": sa.Boolean, "hours": sa.JSON,  # migration 0016
    "dispositions": sa.JSON,  # migration 0017
}
_queues = sa.table("queues", sa.column("id", sa.Integer), sa.column("name", sa.String),
                   sa.column("enabled", sa.Boolean),
                   *(sa.column(name, type_) for name, type_ in _QUEUE_SETTING_TYPES.items()))
_agents = sa.table("agents", sa.column("id", sa.Integer), sa.column("extension", sa.String),
                   sa.column("name", sa.String), sa.column("skills", sa.JSON),
                   sa.column("enabled", sa.Boolean), sa.column("user_id", sa.Integer))
_members = sa.table("queue_members", sa.column("id", sa.Integer),
                    sa.column("agent_id", sa.Integer), sa.column("queue_id", sa.Integer),
                    sa.column("level", sa.Integer))
_routes = sa.table("did_routes", sa.column("number", sa.String), sa.column("flow", sa.String),
                   sa.column("enabled", sa.Boolean), sa.column("is_default", sa.Boolean))
_version = sa.table("catalog_version", sa.column("id", sa.Integer),
                    sa.column("version", sa.Integer))

READ_ATTEMPTS = 5


class CatalogUnstable(FsCcError):
    """The catalog kept changing while it was read, so no consistent copy was taken."""

    def __init__(self, attempts):
        super().__init__(f"the catalog changed during each of {attempts} reads")
        self.attempts = attempts


def _frozen(mapping):
    return types.MappingProxyType(dict(mapping))


_OWN_FIELDS = ("name", "strategy", "moh")


def _other_settings(queue):
    values = queue.to_dict()
    for field in _OWN_FIELDS:
        del values[field]
    return _frozen(values)


DEFAULT_SETTINGS = _other_settings(parse_queue("default"))


@dataclasses.dataclass(frozen=True)
class QueueDef:
    """One enabled queue: its name, routing strategy name, music on hold and its other settings
    (those of fs_cc.acd.queue_def as plain data, checked; the defaults unless given)."""

    name: str
    strategy: str
    moh: str
    settings: typing.Mapping[str, typing.Any] = dataclasses.field(
        default_factory=lambda: DEFAULT_SETTINGS)

    @classmethod
    def of(cls, queue):
        """The QueueDef of a checked fs_cc.acd.queue_def.Queue (its strategy by its own name)."""
        return cls(queue.name, queue.choose.name, queue.moh, _other_settings(queue))

    @property
    def record(self):
        """``off``, ``mixed`` or ``stereo``; None for the deployment's ``record_calls``."""
        return self.settings.get("record")

    def item(self):
        """Every setting as the mapping fs_cc.acd.queue_def.parse_queue reads."""
        return {"name": self.name, "strategy": self.strategy, "moh": self.moh,
                **copy.deepcopy(dict(self.settings))}


@dataclasses.dataclass(frozen=True)
class AgentDef:
    """One enabled agent: the queues it serves (lowest level first), its skills and levels."""

    extension: str
    name: str
    queues: typing.Tuple[str, ...]
    skills: typing.Mapping[str, int]
    levels: typing.Mapping[str, int]  # queue name -> member level (1 is tried first)
    desktop: bool = False  # a user works as this agent: at the desktop, which files its calls


@dataclasses.dataclass(frozen=True)
class Catalog:
    """Everything the engine routes by, at one catalog version."""

    queues: typing.Mapping[str, QueueDef]
    agents: typing.Mapping[str, AgentDef]
    routes: typing.Mapping[str, str]  # DID number -> flow name
    default_flow: typing.Optional[str]
    version: int

    def flow_for(self, number):
        """The flow for a dialled ``number``: its own route, else the default (None without)."""
        return self.routes.get(number, self.default_flow)

    def flows(self):
        """The names of every flow some number reaches, the default included."""
        names = set(self.routes.values())
        if self.default_flow is not None:
            names.add(self.default_flow)
        return frozenset(names)

    @classmethod
    def build(cls, queues, agents, routes, default_flow, version):
        """A Catalog from plain iterables of QueueDef/AgentDef and a mapping of routes."""
        return cls(queues=_frozen((queue.name, queue) for queue in queues),
                   agents=_frozen((agent.extension, agent) for agent in agents),
                   routes=_frozen(routes), default_flow=default_flow, version=version)

    @classmethod
    def from_settings(cls, queues, agents, default_flow=None):
        """The same Catalog from settings lists (``Settings.queues``/``.agents``), version 0.

        Raises ConfigError on a bad entry, as the settings parser does. No routes: every
        number gets ``default_flow`` (today's single ``ivr_flow``).
        """
        parsed = parse_queues(queues)
        queue_defs = [QueueDef.of(queue) for queue in parsed.values()]
        agent_defs = [AgentDef(a["extension"], a["name"], tuple(a["queues"]),
                               _frozen(a.get("skills") or {}),
                               _frozen((name, 1) for name in a["queues"]))
                      for a in parse_agents(agents, parsed)]
        return cls.build(queue_defs, agent_defs, {}, default_flow, 0)


def read_catalog(connection):
    """The enabled catalog as one consistent Catalog, read on a SQLAlchemy connection of its own.

    It ends the connection's transaction between reads, so each read sees the latest commits.

    Every change bumps ``catalog_version`` in the transaction that makes it, so an unchanged version
    before and after the reads means no change landed in between, on any isolation level.
    """
    for _ in range(READ_ATTEMPTS):
        before = _read_version(connection)
        catalog = _read_once(connection, before)
        if _read_version(connection) == before:
            return catalog
        logger.info("catalog changed while being read at version %s; reading again", before)
    raise CatalogUnstable(READ_ATTEMPTS)


def load_catalog(database_url):
    """Connect to ``database_url``, read the enabled catalog and close; returns a Catalog."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            catalog = read_catalog(connection)
    finally:
        engine.dispose()
    logger.info("catalog version %s: %s queues, %s agents, %s routes, default flow %s",
                catalog.version, len(catalog.queues), len(catalog.agents),
                len(catalog.routes), catalog.default_flow)
    return catalog


def _read_version(connection):
    version = connection.execute(
        sa.select(_version.c.version).where(_version.c.id == 1)).scalar_one_or_none()
    connection.rollback()  # end the read transaction, so the next read sees newer commits
    return version or 0


def _read_once(connection, version):
    queue_rows = connection.execute(
        sa.select(_queues.c.id, _queues.c.name,
                  *(_queues.c[name] for name in _QUEUE_SETTING_TYPES))
        .where(_queues.c.enabled == sa.true()).order_by(_queues.c.name)).all()
    queue_names = {row.id: row.name for row in queue_rows}
    agent_rows = connection.execute(
        sa.select(_agents.c.id, _agents.c.extension, _agents.c.name, _agents.c.skills,
                  _agents.c.user_id)
        .where(_agents.c.enabled == sa.true()).order_by(_agents.c.extension)).all()
    levels = {row.id: {} for row in agent_rows}
    for member in connection.execute(
            sa.select(_members.c.agent_id, _members.c.queue_id, _members.c.level)
            .order_by(_members.c.level, _members.c.id)):
        if member.agent_id in levels and member.queue_id in queue_names:
            levels[member.agent_id][queue_names[member.queue_id]] = member.level
    route_rows = connection.execute(
        sa.select(_routes.c.number, _routes.c.flow, _routes.c.is_default)
        .where(_routes.c.enabled == sa.true())).all()
    connection.rollback()
    queues = [_queue_def(row) for row in queue_rows]
    agents = [AgentDef(row.extension, row.name, tuple(levels[row.id]), _frozen(row.skills or {}),
                       _frozen(levels[row.id]), desktop=row.user_id is not None)
              for row in agent_rows]
    default_flow = next((row.flow for row in route_rows if row.is_default), None)
    return Catalog.build(queues, agents, {row.number: row.flow for row in route_rows},
                         default_flow, version)


def _queue_def(row):
    # checked as the engine's settings are: a row written behind the web's back is refused here,
    # naming the queue and the setting, before the engine uses any of the catalog
    item = {name: getattr(row, name) for name in ("name", *_QUEUE_SETTING_TYPES)}
    return QueueDef.of(parse_queue(item, f"queues.{row.name}"))
