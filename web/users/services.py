"""Account rules: creating, editing, disabling users, their passwords, role, agent and queues.

Every change is audited in its own transaction. A user's agent extension and queues are the
catalog's (an agent row links to at most one user), so they change through the catalog's
AgentService, which tells the engine.
"""

import contextlib
import logging
import re

import sqlalchemy as sa
from flask import g, has_request_context

from web.audit import actions
from web.auth.models import User
from web.auth.passwords import WeakPassword, random_password
from web.auth.permissions import DEFAULT_ROLE
from web.auth.services import UserService
from web.catalog import rules
from web.catalog.models import Agent
from web.users import fields
from web.users.errors import AccountError, Conflict, NotFound

logger = logging.getLogger(__name__)

USERNAME_RE = re.compile(r"^[\w.@+-]{1,64}$")
FIELDS = ("username", "display_name", "role", "extension", "queues", "active")


def _username(value):
    value = (value or "").strip() if isinstance(value, str) else value
    if not value:
        raise AccountError("username: required", field="username")
    if not isinstance(value, str) or not USERNAME_RE.match(value):
        raise AccountError("username: up to 64 letters, digits, and . _ @ + -",
                           field="username")
    return value


def _extension(value):
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return rules.extension(value)


def _queues(value):
    if not isinstance(value, (list, tuple)):
        raise AccountError("queues: expected a list of queue names", field="queues")
    return [rules.queue_name(name, field="queues") for name in value]


class AccountService:
    """Manages users on one session; ``agents`` is the catalog's AgentService, ``audit`` the
    AuditLog every change is written to."""

    def __init__(self, session, policy, agents, audit):
        self.session = session
        self.users = UserService(session)
        self.policy = policy
        self.agents = agents
        self.audit = audit

    def _audit(self, action, user, detail=None):
        self.audit.add(action, target=user.username, detail=detail)

    def list(self):
        """Every user (active or not) by username, with their role."""
        return self.session.execute(sa.select(User).order_by(User.username)).scalars().all()

    def get(self, user_id):
        """The user with id ``user_id``; NotFound otherwise."""
        user = self.session.get(User, user_id)
        if user is None:
            raise NotFound(f"no user with id {user_id}", field="id")
        return user

    def by_username(self, username):
        """The user called ``username``; NotFound naming ``username`` otherwise."""
        user = self.users.by_username(username)
        if user is None:
            raise NotFound(f"username: no user {username!r}", field="username")
        return user

    def agent_of(self, user):
        """The catalog agent linked to ``user``, or None."""
        return self.session.execute(
            sa.select(Agent).where(Agent.user_id == user.id)).scalar_one_or_none()

    def create(self, data, password):
        """Create a user from ``{username, display_name?, role?, extension?, queues?}``."""
        fields.known(data, FIELDS)
        username = _username(data.get("username"))
        display_name = fields.text(data.get("display_name"), "display_name", 128) or username
        if self.users.by_username(username) is not None:
            raise Conflict(f"username: {username!r} is taken", field="username")
        role = self.users.role(data.get("role") or DEFAULT_ROLE)
        self.policy.check(password, username, (display_name,))
        user = User(username=username, display_name=display_name, role=role, active=True)
        user.set_password(password)
        with self._transaction():
            self.session.add(user)
            self.session.flush()  # the id, for the agent link
            link = self._agent_change(user, data)
            self._audit(actions.USER_CREATED, user,
                        dict({"role": role.name}, **(link[1] if link else {})))
            self._commit(link)
        logger.info("user %s created with role %s", username, role.name)
        return user

    def update(self, user, data):
        """Change a user's display name, role, extension, queues or active flag."""
        fields.known(data, FIELDS)
        if "username" in data and data["username"] != user.username:
            raise AccountError("username: a user keeps their name (the audit log uses it)",
                               field="username")
        with self._transaction():
            changed = {}
            if "display_name" in data:
                name = fields.text(data["display_name"], "display_name", 128) or user.username
                if name != user.display_name:
                    user.display_name = changed["display_name"] = name
            if "role" in data and data["role"] != user.role.name:
                user.role = self.users.role(data["role"])
                changed["role"] = user.role.name
            if "active" in data and bool(data["active"]) != user.active:
                if not data["active"] and self._is_acting(user):
                    raise AccountError("active: you cannot disable your own account",
                                       field="active")
                user.active = changed["active"] = bool(data["active"])
            if "role" in changed or "active" in changed:
                self._keep_a_user_manager(user)
            link = self._agent_change(user, data)
            if link:
                changed.update(link[1])
            if not changed:
                return user
            self._audit(actions.USER_UPDATED, user, changed)
            self._commit(link)
        logger.info("user %s changed: %s", user.username, sorted(changed))
        return user

    @contextlib.contextmanager
    def _transaction(self):
        # a refused change leaves nothing half-applied in the session for a later commit
        try:
            yield
        except BaseException:
            self.session.rollback()
            raise

    def _commit(self, link):
        if link:
            link[0]()  # the catalog's change commits the user's rows with its own
        else:
            self.session.commit()

    @staticmethod
    def _is_acting(user):
        return has_request_context() and g.get("user") is not None and g.user.id == user.id

    def _keep_a_user_manager(self, user):
        # someone must stay able to manage users, or the web can never fix an account again
        self.session.flush()
        managers = [other for other in self.session.execute(
            sa.select(User).where(User.active == sa.true())).scalars()
            if other.can("users.manage")]
        if not managers:
            field = "role" if user.active else "active"
            raise Conflict(f"{field}: no active user would be left who can manage users",
                           field=field)

    def _agent_change(self, user, data):
        """(the catalog call to run, what it changes), or None when the agent link stays."""
        if "extension" not in data and "queues" not in data:
            return None
        current = self.agent_of(user)
        old = current.extension if current is not None else None
        new = _extension(data["extension"]) if "extension" in data else old
        queues = _queues(data["queues"]) if "queues" in data else None
        if new is None:
            if queues:
                raise AccountError("queues: a user needs an extension to serve queues",
                                   field="queues")
            if old is None:
                return None
            return (lambda: self.agents.update(old, {"user_id": None}),
                    {"extension": None})
        target = self.agents.find(new)
        if target is not None and target.user_id not in (None, user.id):
            raise Conflict(f"extension: agent {new} belongs to user {target.user.username}",
                           field="extension")
        levels = None
        if queues is not None:
            kept = target.levels() if target is not None else {}
            levels = {name: kept.get(name, 1) for name in queues}
        if new == old and (levels is None or levels == current.levels()):
            return None
        changes = {"extension": new} if new != old else {}
        if levels is not None:
            changes["queues"] = sorted(levels)

        def run():
            if old is not None and old != new:
                self.agents.update(old, {"user_id": None})
            if target is None:
                self.agents.create({"extension": new, "name": user.display_name,
                                    "user_id": user.id, "queues": levels or {}})
            else:
                self.agents.update(new, dict({"user_id": user.id},
                                             **({"queues": levels} if levels is not None
                                                else {})))

        return run, changes

    def disable(self, user):
        """Disable ``user``: they can no longer log in or use their API token."""
        return self.update(user, {"active": False})

    def enable(self, user):
        """Enable ``user`` again, with their role and password as they were."""
        return self.update(user, {"active": True})

    def reset_password(self, user, password):
        """Set ``user``'s password (an administrator's act); the policy applies."""
        self.policy.check(password, user.username, (user.display_name,))
        user.set_password(password)
        self._audit(actions.PASSWORD_RESET, user)
        self.session.commit()
        return user

    def change_own_password(self, user, current, new, confirm=None):
        """Change ``user``'s own password after checking ``current``; the policy applies."""
        if not user.check_password(current or ""):
            raise AccountError("current_password: not your current password",
                               field="current_password")
        if confirm is not None and confirm != new:
            raise WeakPassword("confirm: does not match the new password", field="confirm")
        if new == current:
            raise WeakPassword("password: must differ from the current one")
        self.policy.check(new, user.username, (user.display_name,))
        user.set_password(new)
        self.audit.add(actions.PASSWORD_CHANGED, target=user.username, user=user)
        self.session.commit()
        return user

    def ensure_first_admin(self, username, password=None):
        """Create ``username`` as an admin when missing; never touch an existing account.

        Returns (user, password): the password (``password`` checked by the policy, else a
        random one) only when the account was created now, else None.
        """
        user = self.users.by_username(username)
        if user is not None:
            return user, None
        password = password or random_password(self.policy)
        user = self.create({"username": username, "display_name": "Administrator",
                            "role": "admin"}, password)
        return user, password
