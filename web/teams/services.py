"""The rules of teams: names unique, one or more supervisors who hold ``supervise``, each user a
member of one team at most; and who belongs where (a user's teams, a team's agents)."""

import sqlalchemy as sa

from web import fields
from web.auth.models import User
from web.catalog.models import Agent
from web.errors import WebError
from web.teams.models import Team, TeamMember, TeamSupervisor

SUPERVISING = "supervise"  # the permission a team's supervisor must hold
NAME_LENGTH = 64
DESCRIPTION_LENGTH = 255


class TeamError(WebError):
    """A team request was refused; ``field`` names what is at fault."""

    status = 400


class NoSuchTeam(TeamError):
    """No team has the id asked for."""

    status = 404

    def __init__(self, team_id):
        super().__init__(f"team_id: no team {team_id}", field="team_id")
        self.team_id = team_id


def _text(value, field, limit, required=False):
    return fields.text(value, field, limit, error=TeamError, required=required)


class TeamService:
    """Teams on one database session; the changing methods commit."""

    def __init__(self, session):
        self.session = session

    def list(self):
        """Every team, by name."""
        return self.session.execute(sa.select(Team).order_by(Team.name)).scalars().all()

    def get(self, team_id):
        """The team ``team_id``; NoSuchTeam otherwise."""
        team = self.session.get(Team, team_id)
        if team is None:
            raise NoSuchTeam(team_id)
        return team

    def by_name(self, name):
        """The team called ``name``, or None."""
        return self.session.execute(sa.select(Team).where(Team.name == name)).scalar_one_or_none()

    def create(self, name, description="", supervisors=(), members=()):
        """A new team; TeamError naming the field (409 for a name taken, a member elsewhere)."""
        try:
            team = Team(name=self._name(name, None), description=_text(
                description, "description", DESCRIPTION_LENGTH))
            self._set_people(team, supervisors, members)
        except TeamError:
            self.session.rollback()
            raise
        self.session.add(team)
        self.session.commit()
        return team

    def update(self, team, changes):
        """Change the fields given in ``changes`` (name, description, supervisors, members)."""
        try:
            if "name" in changes:
                team.name = self._name(changes["name"], team)
            if "description" in changes:
                team.description = _text(changes["description"], "description",
                                         DESCRIPTION_LENGTH)
            self._set_people(team, changes.get("supervisors"), changes.get("members"))
        except TeamError:
            self.session.rollback()  # nothing half-changed stays in the session
            raise
        self.session.commit()
        return team

    def delete(self, team):
        """Remove the team (its members then belong to no team)."""
        self.session.delete(team)
        self.session.commit()

    def _name(self, name, team):
        name = _text(name, "name", NAME_LENGTH, required=True)
        other = self.by_name(name)
        if other is not None and other is not team:
            raise TeamError(f"name: a team called {name} exists", field="name", status=409)
        return name

    def _users(self, usernames, field):
        if isinstance(usernames, str) or not isinstance(usernames, (list, tuple)):
            raise TeamError(f"{field}: must be a list of usernames", field=field)
        users = []
        for username in dict.fromkeys(str(name).strip() for name in usernames):
            if not username:
                continue
            user = self.session.execute(
                sa.select(User).where(User.username == username)).scalar_one_or_none()
            if user is None:
                raise TeamError(f"{field}: no user called {username}", field=field)
            users.append(user)
        return users

    def _set_people(self, team, supervisors, members):
        if supervisors is not None or team.id is None:
            chosen = self._users(supervisors or [], "supervisors")
            if not chosen:
                raise TeamError("supervisors: a team needs at least one supervisor",
                                field="supervisors")
            for user in chosen:
                if not user.can(SUPERVISING):
                    raise TeamError(f"supervisors: {user.username} cannot supervise (role "
                                    f"{user.role.name} lacks {SUPERVISING})", field="supervisors")
            team.supervisor_rows = [TeamSupervisor(user=user) for user in chosen]
        if members is not None or team.id is None:
            chosen = self._users(members or [], "members")
            kept = {row.user_id: row for row in team.member_rows}
            rows = []
            for user in chosen:
                if user.id in kept:
                    rows.append(kept[user.id])
                    continue
                elsewhere = self.session.get(TeamMember, user.id)
                if elsewhere is not None:
                    raise TeamError(f"members: {user.username} is in team "
                                    f"{elsewhere.team.name}", field="members", status=409)
                rows.append(TeamMember(user=user, user_id=user.id))
            team.member_rows = rows

    # who belongs where

    def team_of(self, user):
        """The team ``user`` works in as a member, or None."""
        row = self.session.get(TeamMember, user.id)
        return row.team if row is not None else None

    def supervised_by(self, user):
        """The teams ``user`` supervises, by name."""
        return self.session.execute(
            sa.select(Team).join(TeamSupervisor).where(TeamSupervisor.user_id == user.id)
            .order_by(Team.name)).scalars().all()

    def teams_of(self, user):
        """Every team ``user`` belongs to: the one they work in, then those they supervise."""
        teams = self.supervised_by(user)
        own = self.team_of(user)
        return ([own] if own is not None else []) + [team for team in teams if team is not own]

    def default_team(self, user):
        """The team a user's wallboard opens on: the first they supervise, else their own."""
        supervised = self.supervised_by(user)
        return supervised[0] if supervised else self.team_of(user)

    def extensions(self, team):
        """The extensions of the catalog agents linked to the team's members."""
        ids = [row.user_id for row in team.member_rows]
        if not ids:
            return frozenset()
        return frozenset(self.session.execute(
            sa.select(Agent.extension).where(Agent.user_id.in_(ids))).scalars())
