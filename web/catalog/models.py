"""The catalog's tables: queues, agents, their memberships, DID routes and the version counter.

The agent row owns the extension. ``agents.user_id`` links at most one user to an agent; the
catalog services copy the agent's extension into ``users.extension`` whenever they link or
unlink, so the readers of ``users.extension`` (an agent's own calls, ``/api/me``) need no change.
"""

import sqlalchemy as sa
from sqlalchemy import orm

from fs_cc.acd import queue_def
from fs_cc.acd.config import DEFAULT_MOH
from web.auth.models import User
from web.extensions import db
from web.types import UTCDateTime, utcnow

DEFAULT_STRATEGY = "longest-idle"


class Queue(db.Model):
    """A queue callers wait in, routed by a named strategy, with the settings of
    fs_cc.acd.queue_def (which checks them; the server defaults are its defaults)."""

    __tablename__ = "queues"

    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(64), nullable=False, unique=True)
    strategy = sa.Column(sa.String(32), nullable=False, default=DEFAULT_STRATEGY)
    moh = sa.Column(sa.String(255), nullable=False, default=DEFAULT_MOH)
    greeting = sa.Column(sa.String(255), nullable=False, default="", server_default="")
    announce_interval = sa.Column(sa.Float, nullable=False, default=0.0, server_default="0")
    announce_position = sa.Column(sa.Boolean, nullable=False, default=True,
                                  server_default=sa.true())
    announce_wait = sa.Column(sa.Boolean, nullable=False, default=True, server_default=sa.true())
    max_wait = sa.Column(sa.Float, nullable=False, default=0.0, server_default="0")
    max_callers = sa.Column(sa.Integer, nullable=False, default=0, server_default="0")
    exit_key = sa.Column(sa.String(1), nullable=False, default="", server_default="")
    overflow = sa.Column(sa.JSON, nullable=False, default=dict, server_default="{}")
    wrap_up = sa.Column(sa.Float, nullable=False, default=0.0, server_default="0")
    ring_timeout = sa.Column(sa.Float, nullable=True)  # NULL: the deployment's ring_timeout
    retry_delay = sa.Column(sa.Float, nullable=True)  # NULL: the ACD's default
    max_no_answer = sa.Column(sa.Integer, nullable=False,
                              default=queue_def.DEFAULT_MAX_NO_ANSWER, server_default="3")
    service_level = sa.Column(sa.Float, nullable=False, default=queue_def.DEFAULT_SERVICE_LEVEL,
                              server_default="20")
    record = sa.Column(sa.String(8), nullable=True)  # NULL: the deployment's record_calls
    skills = sa.Column(sa.JSON, nullable=False, default=dict, server_default="{}")
    skill_relax = sa.Column(sa.JSON, nullable=False, default=list, server_default="[]")
    closed = sa.Column(sa.Boolean, nullable=False, default=False, server_default=sa.false())
    hours = sa.Column(sa.JSON, nullable=True)  # NULL: always open (migration 0016)
    dispositions = sa.Column(sa.JSON, nullable=True)  # NULL: queue_def's defaults (0017)
    enabled = sa.Column(sa.Boolean, nullable=False, default=True)
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    members = orm.relationship("QueueMember", back_populates="queue",
                               order_by="QueueMember.id")

    SETTINGS = queue_def.FIELDS  # name, strategy, moh and the rest, each a column

    def settings(self):
        """Every setting as plain data, the shape fs_cc.acd.queue_def.parse_queue reads."""
        return {name: getattr(self, name) for name in self.SETTINGS}

    def to_dict(self):
        """The JSON shape of ``/api/catalog/queues``: every setting, members {extension: level}."""
        return {**self.settings(), "enabled": self.enabled,
                "members": {m.agent.extension: m.level for m in self.members},
                "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat()}


class Agent(db.Model):
    """Someone who answers calls at an extension, in some queues, with some skills."""

    __tablename__ = "agents"

    id = sa.Column(sa.Integer, primary_key=True)
    extension = sa.Column(sa.String(32), nullable=False, unique=True)
    name = sa.Column(sa.String(128), nullable=False)
    user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
                        nullable=True, unique=True)
    skills = sa.Column(sa.JSON, nullable=False, default=dict)  # {skill: level 1-10}
    enabled = sa.Column(sa.Boolean, nullable=False, default=True)
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    user = orm.relationship(User)
    memberships = orm.relationship("QueueMember", back_populates="agent",
                                   cascade="all, delete-orphan",
                                   order_by=lambda: [QueueMember.level, QueueMember.id])

    def levels(self):
        """{queue name: level} of every membership, lowest level first."""
        return {m.queue.name: m.level for m in self.memberships}

    def to_dict(self):
        """The JSON shape of ``/api/catalog/agents``; queues as {queue name: level}."""
        return {"extension": self.extension, "name": self.name, "user_id": self.user_id,
                "username": self.user.username if self.user is not None else None,
                "skills": dict(self.skills or {}), "queues": self.levels(),
                "enabled": self.enabled,
                "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat()}


class QueueMember(db.Model):
    """An agent serving a queue at a level (1 is offered calls first)."""

    __tablename__ = "queue_members"
    __table_args__ = (
        sa.UniqueConstraint("agent_id", "queue_id"),
        sa.CheckConstraint("level >= 1", name="level_positive"),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    agent_id = sa.Column(sa.Integer, sa.ForeignKey("agents.id", ondelete="CASCADE"),
                         nullable=False)
    queue_id = sa.Column(sa.Integer, sa.ForeignKey("queues.id"), nullable=False, index=True)
    level = sa.Column(sa.Integer, nullable=False, default=1)

    agent = orm.relationship(Agent, back_populates="memberships")
    queue = orm.relationship(Queue, back_populates="members")


class DidRoute(db.Model):
    """A dialled number (DID) and the IVR flow that answers it; one route may be the default."""

    __tablename__ = "did_routes"
    __table_args__ = (
        # at most one default: a unique index over the rows marked default only
        sa.Index("uq_did_routes_default", "is_default", unique=True,
                 sqlite_where=sa.text("is_default"), postgresql_where=sa.text("is_default")),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    number = sa.Column(sa.String(32), nullable=False, unique=True)
    flow = sa.Column(sa.String(64), nullable=False)
    description = sa.Column(sa.String(255), nullable=False, default="")
    enabled = sa.Column(sa.Boolean, nullable=False, default=True)
    is_default = sa.Column(sa.Boolean, nullable=False, default=False)
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    def to_dict(self):
        """The JSON shape of ``/api/catalog/dids``."""
        return {"number": self.number, "flow": self.flow, "description": self.description,
                "enabled": self.enabled, "default": self.is_default,
                "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat()}


class CatalogVersion(db.Model):
    """One row (id 1): bumped in the transaction of every catalog change, so engines can tell."""

    __tablename__ = "catalog_version"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=False)
    version = sa.Column(sa.Integer, nullable=False, default=0)
    changed_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
