"""A team, its supervisors (one or more) and its members (a user is a member of one team at most)."""

import sqlalchemy as sa
from sqlalchemy import orm

from web.auth.models import User
from web.extensions import db
from web.types import UTCDateTime, iso, utcnow


class Team(db.Model):
    """A group of users led by its supervisors; the wallboard, messages and notices go by it."""

    __tablename__ = "teams"

    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(64), nullable=False, unique=True)
    description = sa.Column(sa.String(255), nullable=False, default="", server_default="")
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    member_rows = orm.relationship("TeamMember", cascade="all, delete-orphan",
                                   lazy="selectin", back_populates="team")
    supervisor_rows = orm.relationship("TeamSupervisor", cascade="all, delete-orphan",
                                       lazy="selectin", back_populates="team")

    @property
    def members(self):
        """The member users, by username."""
        return sorted((row.user for row in self.member_rows), key=lambda user: user.username)

    @property
    def supervisors(self):
        """The supervising users, by username."""
        return sorted((row.user for row in self.supervisor_rows),
                      key=lambda user: user.username)

    def to_dict(self):
        """The JSON shape of /api/teams."""
        return {"id": self.id, "name": self.name, "description": self.description,
                "supervisors": [user.username for user in self.supervisors],
                "members": [user.username for user in self.members],
                "created_at": iso(self.created_at), "updated_at": iso(self.updated_at)}

    def __repr__(self):
        return f"<Team {self.name}>"


class TeamMember(db.Model):
    """A user working in a team; the primary key on the user keeps them in one team only."""

    __tablename__ = "team_members"

    user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                        primary_key=True)
    team_id = sa.Column(sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE"),
                        nullable=False, index=True)

    team = orm.relationship(Team, back_populates="member_rows")
    user = orm.relationship(User, lazy="joined")


class TeamSupervisor(db.Model):
    """A user leading a team (a supervisor may lead several)."""

    __tablename__ = "team_supervisors"

    team_id = sa.Column(sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE"),
                        primary_key=True)
    user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                        primary_key=True)

    team = orm.relationship(Team, back_populates="supervisor_rows")
    user = orm.relationship(User, lazy="joined")
