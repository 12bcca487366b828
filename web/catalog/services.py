"""Catalog business rules for queues, agents and memberships; every change commits here.

Each change runs in one transaction that first bumps the catalog version: the bump takes the
version row's write lock, so catalog changes happen one at a time and the checks below (a name
taken, one default route) see every change committed before them. After the commit the
``notify`` callable given to the service hears the new version (the blueprint tells the engine).
"""

import contextlib
import logging
import typing

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.dialects import postgresql, sqlite

from web.audit import AuditLog, actions
from web.auth.models import User
from web.catalog import rules
from web.catalog.errors import Conflict, InvalidField, NotFound
from web.catalog.models import Agent, CatalogVersion, Queue, QueueMember
from web.types import utcnow

logger = logging.getLogger(__name__)

Notify = typing.Callable[[int], None]
_UPSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


class CatalogChanges:
    """Runs catalog changes: version bump, audit entry, commit (or rollback), ``notify(version)``.

    ``audit`` (an AuditLog, by default on ``session``) gets each change in its transaction.
    """

    def __init__(self, session, notify: Notify, audit=None):
        self.session = session
        self.notify = notify
        self.audit = audit if audit is not None else AuditLog(session)

    def current(self):
        """The catalog version now committed (0 before any change)."""
        return self.session.execute(
            sa.select(CatalogVersion.version).where(CatalogVersion.id == 1)
        ).scalar_one_or_none() or 0

    @contextlib.contextmanager
    def change(self, what, action, target, detail=None):
        """One change in one transaction; ``what`` says it in the log, ``action`` (a name of
        web.audit.actions), ``target`` and ``detail`` in the audit log."""
        try:
            version = self._bump()
            yield
            self.audit.add(action, target=target, detail=detail)
            self.session.commit()
        except BaseException:
            self.session.rollback()
            raise
        logger.info("catalog version %s: %s", version, what)
        self.notify(version)

    def _bump(self):
        # an upsert, so that even when the row is missing two changes at once queue up behind
        # it rather than both inserting it; fs_cc runs on SQLite and PostgreSQL, both have one
        table = CatalogVersion.__table__
        now = utcnow()
        insert = _UPSERTS[self.session.get_bind().dialect.name]
        self.session.execute(
            insert(table).values(id=1, version=1, changed_at=now)
            .on_conflict_do_update(index_elements=[table.c.id],
                                   set_={"version": table.c.version + 1, "changed_at": now}))
        return self.current()


class QueueService:
    """Creates, edits and disables queues; their settings are checked by fs_cc.acd.queue_def."""

    FIELDS = Queue.SETTINGS + ("enabled",)

    def __init__(self, session, notify: Notify, audit=None):
        self.session = session
        self.changes = CatalogChanges(session, notify, audit)

    def list(self):
        """Every queue (enabled or not) by name, members loaded."""
        return self.session.execute(
            sa.select(Queue).options(orm.selectinload(Queue.members)
                                     .selectinload(QueueMember.agent))
            .order_by(Queue.name)).scalars().all()

    def find(self, name):
        """The queue called ``name``, or None."""
        return self.session.execute(
            sa.select(Queue).where(Queue.name == name)).scalar_one_or_none()

    def get(self, name):
        """The queue called ``name``; NotFound otherwise."""
        queue = self.find(name)
        if queue is None:
            raise NotFound(f"no queue {name!r}", field="name")
        return queue

    def create(self, data):
        """Create a queue from ``{name, enabled?, any setting of fs_cc.acd.queue_def}``; every
        setting left out takes its default. Returns it."""
        rules.unknown_fields(data, self.FIELDS)
        name = rules.queue_name(data.get("name"))
        queue = Queue(name=name, enabled=True)
        self._apply(queue, data, {})
        with self.changes.change(f"queue {name} created", actions.QUEUE_CREATED, name, data):
            existing = self.find(name)
            if existing is not None:
                raise Conflict(_taken(f"queue name {name!r}", existing), field="name")
            self.session.add(queue)
        return queue

    def update(self, name, data):
        """Change a queue's settings or enabled flag (a name never changes); a setting given
        as null goes back to its default."""
        rules.unknown_fields(data, self.FIELDS)
        with self.changes.change(f"queue {name} edited", actions.QUEUE_UPDATED, name, data):
            queue = self.get(name)
            if "name" in data and data["name"] != queue.name:
                raise InvalidField("a queue keeps its name (call records use it); create a new "
                                   "queue and disable this one instead", field="name")
            self._apply(queue, data, queue.settings())
        return queue

    def disable(self, name):
        """Disable a queue: the engine stops routing to it; memberships stay for re-enabling."""
        return self.update(name, {"enabled": False})

    @staticmethod
    def _apply(queue, data, current):
        if data.get("moh") is not None:
            rules.text(data["moh"], "moh", 255)  # an empty one is a mistake; null the default
        if "enabled" in data:
            queue.enabled = rules.flag(data["enabled"], "enabled")
        settings = dict(current)
        settings.update((field, value) for field, value in data.items() if field != "enabled")
        settings["name"] = queue.name  # checked already, and stripped
        for field, value in rules.queue_settings(settings).items():
            setattr(queue, field, value)


class AgentService:
    """Creates, edits and disables agents, their queue memberships and their user link."""

    FIELDS = ("extension", "name", "user_id", "skills", "queues", "enabled")

    def __init__(self, session, notify: Notify, audit=None):
        self.session = session
        self.changes = CatalogChanges(session, notify, audit)

    def list(self):
        """Every agent (enabled or not) by extension, memberships and user loaded."""
        return self.session.execute(
            sa.select(Agent).options(orm.selectinload(Agent.memberships)
                                     .selectinload(QueueMember.queue),
                                     orm.selectinload(Agent.user))
            .order_by(Agent.extension)).scalars().all()

    def find(self, extension):
        """The agent at ``extension``, or None."""
        return self.session.execute(
            sa.select(Agent).where(Agent.extension == extension)).scalar_one_or_none()

    def get(self, extension):
        """The agent at ``extension``; NotFound otherwise."""
        agent = self.find(extension)
        if agent is None:
            raise NotFound(f"no agent {extension!r}", field="extension")
        return agent

    def linkable_users(self, agent=None):
        """Active users who are no agent, or are ``agent``'s user, by username."""
        taken = sa.select(Agent.user_id).where(Agent.user_id.is_not(None))
        if agent is not None and agent.user_id is not None:
            taken = taken.where(Agent.user_id != agent.user_id)
        return self.session.execute(
            sa.select(User).where(User.active == sa.true(), User.id.not_in(taken))
            .order_by(User.username)).scalars().all()

    def create(self, data):
        """Create an agent from ``{extension, name?, user_id?, skills?, queues?, enabled?}``."""
        rules.unknown_fields(data, self.FIELDS)
        extension = rules.extension(data.get("extension"))
        data = dict(data)
        data.setdefault("name", f"Agent {extension}")
        with self.changes.change(f"agent {extension} created", actions.AGENT_CREATED, extension,
                                 data):
            existing = self.find(extension)
            if existing is not None:
                raise Conflict(_taken(f"extension {extension}", existing), field="extension")
            agent = Agent(extension=extension, skills={}, enabled=True)
            self.session.add(agent)
            self._apply(agent, data)
        return agent

    def update(self, extension, data):
        """Change an agent's name, user, skills, queues ({queue: level}, replacing) or flag."""
        rules.unknown_fields(data, self.FIELDS)
        with self.changes.change(f"agent {extension} edited", actions.AGENT_UPDATED, extension,
                                 data):
            agent = self.get(extension)
            if "extension" in data and data["extension"] != agent.extension:
                raise InvalidField("an agent keeps its extension (call records use it); "
                                   "create a new agent and disable this one instead",
                                   field="extension")
            self._apply(agent, data)
        return agent

    def disable(self, extension):
        """Disable an agent: the engine no longer offers it calls; its settings stay."""
        return self.update(extension, {"enabled": False})

    def _apply(self, agent, data):
        if "name" in data:
            agent.name = rules.text(data["name"], "name", 128)
        if "skills" in data:
            agent.skills = rules.skills(data["skills"])
        if "enabled" in data:
            agent.enabled = rules.flag(data["enabled"], "enabled")
        if "queues" in data:
            self._set_memberships(agent, rules.memberships(data["queues"]))
        if "user_id" in data:
            self._link_user(agent, data["user_id"])

    def _set_memberships(self, agent, levels):
        current = {member.queue.name: member for member in agent.memberships}
        for name in set(current) - set(levels):
            agent.memberships.remove(current[name])
        for name, level in levels.items():
            if name in current:
                current[name].level = level
                continue
            queue = self.session.execute(
                sa.select(Queue).where(Queue.name == name)).scalar_one_or_none()
            if queue is None:
                raise InvalidField(f"no queue {name!r}", field=f"queues.{name}")
            if not queue.enabled:
                raise InvalidField(f"queue {name!r} is disabled", field=f"queues.{name}")
            agent.memberships.append(QueueMember(queue=queue, level=level))

    def _link_user(self, agent, user_id):
        if user_id is not None and (isinstance(user_id, bool) or not isinstance(user_id, int)):
            raise InvalidField("user_id must be a user's id or null", field="user_id")
        old = agent.user
        if user_id is None:
            user = None
        elif old is not None and old.id == user_id:
            user = old
        else:
            user = self.session.get(User, user_id)
            if user is None:
                raise InvalidField(f"no user with id {user_id}", field="user_id")
            if not user.active:
                raise InvalidField(f"user {user.username} is not active", field="user_id")
            holder = self.session.execute(
                sa.select(Agent).where(Agent.user_id == user.id)).scalar_one_or_none()
            if holder is not None and holder is not agent:
                raise Conflict(f"user {user.username} is already agent {holder.extension}",
                               field="user_id")
        if old is not None and old is not user:
            old.extension = None
        agent.user = user
        if user is not None:
            # users.extension is a copy of the agent's: only this service writes it
            user.extension = agent.extension


def _taken(what, row):
    if row.enabled:
        return f"{what} is taken"
    return f"{what} is taken by a disabled one: enable it instead"
