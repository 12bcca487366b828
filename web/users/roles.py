"""Custom roles: a name, a description and the permissions ticked for it; audited.

The built-in roles (web.auth.permissions.BUILTIN_ROLES) are listed beside them but cannot be
changed or deleted; a role that users hold cannot be deleted.
"""

import logging

import sqlalchemy as sa

from web.audit import actions
from web.auth import permissions
from web.auth.models import Role, RoleGrant, User
from web.auth.services import UserService
from web.users import fields
from web.users.errors import AccountError, Conflict, NotFound

logger = logging.getLogger(__name__)

FIELDS = ("name", "description", "permissions")


def _permissions(value):
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise AccountError("permissions: expected a list of permission names",
                           field="permissions")
    try:
        return permissions.check(value)
    except permissions.UnknownPermission as exc:
        raise AccountError(f"permissions: {exc}", field="permissions") from exc


class RoleService:
    """Lists the roles and creates, edits and deletes custom ones on one session."""

    def __init__(self, session, audit):
        self.session = session
        self.audit = audit

    def list(self):
        """Every role: built-in ones first (in their fixed order), then custom ones by name."""
        for name in permissions.BUILTIN_ROLES:
            UserService(self.session).role(name)  # makes a missing built-in row
        rows = self.session.execute(sa.select(Role).order_by(Role.name)).scalars().all()
        order = list(permissions.BUILTIN_ROLES)
        return sorted(rows, key=lambda role: (not role.builtin,
                                              order.index(role.name) if role.builtin else 0,
                                              role.name))

    def get(self, role_id):
        """The role with id ``role_id``; NotFound otherwise."""
        role = self.session.get(Role, role_id)
        if role is None:
            raise NotFound(f"no role with id {role_id}", field="id")
        return role

    def by_name(self, name):
        """The role called ``name``; NotFound naming ``role`` otherwise."""
        role = self.session.execute(sa.select(Role).where(Role.name == name)).scalar_one_or_none()
        if role is None:
            raise NotFound(f"role: no role {name!r}", field="role")
        return role

    def users_of(self, role):
        """How many users hold ``role``."""
        return self.session.execute(
            sa.select(sa.func.count()).select_from(User).where(User.role_id == role.id)
        ).scalar_one()

    def create(self, data):
        """Create a custom role from ``{name, description?, permissions}``."""
        fields.known(data, FIELDS)
        name = self._free_name(fields.text(data.get("name"), "name", 64, required=True))
        granted = _permissions(data.get("permissions", ()))
        role = Role(name=name, description=fields.text(data.get("description"), "description",
                                                       255),
                    builtin=False, grants=[RoleGrant(permission=p) for p in sorted(granted)])
        self.session.add(role)
        self.audit.add(actions.ROLE_CREATED, target=name,
                       detail={"permissions": sorted(granted)})
        self._commit()
        logger.info("role %s created with %s", name, sorted(granted))
        return role

    def update(self, role, data):
        """Rename a custom role, change its description or its permissions (replaced whole)."""
        fields.known(data, FIELDS)
        self._editable(role)
        changed = {}
        if "name" in data:
            name = fields.text(data["name"], "name", 64, required=True)
            if name != role.name:
                changed["name"] = [role.name, self._free_name(name)]
                role.name = name
        if "description" in data:
            description = fields.text(data["description"], "description", 255)
            if description != role.description:
                role.description = changed["description"] = description
        if "permissions" in data:
            granted = _permissions(data["permissions"])
            before = role.granted
            if granted != before:
                role.grants = [RoleGrant(permission=p) for p in sorted(granted)]
                changed["added"] = sorted(granted - before)
                changed["removed"] = sorted(before - granted)
        if not changed:
            return role
        self._keep_a_user_manager()
        self.audit.add(actions.ROLE_UPDATED, target=role.name, detail=changed)
        self._commit()
        logger.info("role %s changed: %s", role.name, changed)
        return role

    def delete(self, role):
        """Delete a custom role that no user holds."""
        self._editable(role)
        holders = self.users_of(role)
        if holders:
            raise Conflict(f"role: {holders} user(s) hold {role.name}; give them another role "
                           "first", field="role")
        self.session.delete(role)
        self.audit.add(actions.ROLE_DELETED, target=role.name,
                       detail={"permissions": sorted(role.granted)})
        self._commit()
        logger.info("role %s deleted", role.name)

    def _free_name(self, name):
        if name in permissions.BUILTIN_ROLES or self.session.execute(
                sa.select(Role.id).where(Role.name == name)).first() is not None:
            raise Conflict(f"name: a role called {name!r} exists", field="name")
        return name

    @staticmethod
    def _editable(role):
        if role.builtin:
            raise AccountError(f"name: the built-in role {role.name} cannot be changed",
                               field="name")

    def _keep_a_user_manager(self):
        self.session.flush()
        self.session.expire_all()
        if not any(user.can("users.manage") for user in self.session.execute(
                sa.select(User).where(User.active == sa.true())).scalars()):
            self.session.rollback()
            raise Conflict("permissions: no active user would be left who can manage users",
                           field="permissions")

    def _commit(self):
        try:
            self.session.commit()
        except BaseException:
            self.session.rollback()
            raise
