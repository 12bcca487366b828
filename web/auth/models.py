"""Users, their roles and the roles' permissions; API tokens stored hashed.

A user holds one role. A built-in role's permissions come from web.auth.permissions; a custom
role's from its rows in ``role_permissions``. A user may hold several named API tokens
(``api_tokens``, managed by web.auth.tokens), each acting with the user's permissions.
"""

import hashlib

import sqlalchemy as sa
from sqlalchemy import orm
from flask import current_app, has_app_context
from werkzeug.security import check_password_hash, generate_password_hash

from web.auth import permissions
from web.extensions import db
from web.types import UTCDateTime, utcnow


def hash_token(token):
    """The stored form of an API token (tokens are random, so a plain SHA-256 is enough)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# werkzeug's scrypt: about 0.13 s a hash here, which is the point. A test app may name a cheap
# method (config PASSWORD_HASH_METHOD), since its users log in hundreds of times a run.
PASSWORD_HASH_METHOD = "scrypt"


def hash_method():
    """The method new password hashes are made with (the app's PASSWORD_HASH_METHOD)."""
    if has_app_context():
        return current_app.config.get("PASSWORD_HASH_METHOD", PASSWORD_HASH_METHOD)
    return PASSWORD_HASH_METHOD


class Role(db.Model):
    """A named set of permissions: built in (fixed in code) or custom (edited by admins)."""

    __tablename__ = "roles"

    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(64), nullable=False, unique=True)
    description = sa.Column(sa.String(255), nullable=False, default="")
    builtin = sa.Column(sa.Boolean, nullable=False, default=False)
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    grants = orm.relationship("RoleGrant", cascade="all, delete-orphan", lazy="selectin",
                              order_by="RoleGrant.permission")

    @property
    def granted(self):
        """The permissions ticked for this role (a built-in role's from code)."""
        if self.builtin:
            return permissions.BUILTIN_ROLES[self.name].permissions
        return frozenset(grant.permission for grant in self.grants)

    @property
    def permissions(self):
        """Every permission the role holds, the implied ones included."""
        return permissions.expand(self.granted)

    def to_dict(self):
        """The JSON shape of a role."""
        return {"name": self.name, "description": self.description, "builtin": self.builtin,
                "permissions": sorted(self.permissions)}

    def __repr__(self):
        return f"<Role {self.name}>"


class RoleGrant(db.Model):
    """One permission given to a custom role."""

    __tablename__ = "role_permissions"

    role_id = sa.Column(sa.Integer, sa.ForeignKey("roles.id", ondelete="CASCADE"),
                        primary_key=True)
    permission = sa.Column(sa.String(64), primary_key=True)


class User(db.Model):
    """A person who logs in to the web app or calls its API."""

    __tablename__ = "users"

    id = sa.Column(sa.Integer, primary_key=True)
    username = sa.Column(sa.String(64), nullable=False, unique=True)
    display_name = sa.Column(sa.String(128), nullable=False, default="")
    password_hash = sa.Column(sa.String(256), nullable=False)
    role_id = sa.Column(sa.Integer, sa.ForeignKey("roles.id"), nullable=False)
    # a copy of the linked agent's extension (web.catalog.services writes it): an agent's calls
    extension = sa.Column(sa.String(32), nullable=True)
    active = sa.Column(sa.Boolean, nullable=False, default=True)
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
    password_changed_at = sa.Column(UTCDateTime(), nullable=True)

    role = orm.relationship(Role, lazy="joined")

    def set_password(self, password):
        """Store a salted hash of ``password`` (the policy is checked by the caller)."""
        self.password_hash = generate_password_hash(password, hash_method())
        self.password_changed_at = utcnow()

    def check_password(self, password):
        """Whether ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def permissions(self):
        """Every permission the user's role holds."""
        return self.role.permissions

    def can(self, permission):
        """Whether the user's role holds ``permission`` (a name from web.auth.permissions)."""
        if permission not in permissions.PERMISSIONS:
            raise permissions.UnknownPermission(permission)
        return permission in self.role.permissions

    def __repr__(self):
        return f"<User {self.username} {self.role.name if self.role else None}>"


class ApiToken(db.Model):
    """One named API token of a user; only its hash is kept. Revoked or expired, it opens
    nothing."""

    __tablename__ = "api_tokens"

    id = sa.Column(sa.Integer, primary_key=True)
    user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                        nullable=False, index=True)
    name = sa.Column(sa.String(64), nullable=False)
    token_hash = sa.Column(sa.String(64), nullable=False, unique=True)  # hash_token(secret)
    # the secret's first characters, shown in lists so that a user can tell tokens apart
    # (None for a token migrated from users.api_token_hash, whose secret was never kept)
    prefix = sa.Column(sa.String(16), nullable=True)
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
    created_by = sa.Column(sa.String(64), nullable=True)
    expires_at = sa.Column(UTCDateTime(), nullable=True)
    last_used_at = sa.Column(UTCDateTime(), nullable=True)
    last_used_addr = sa.Column(sa.String(64), nullable=True)
    revoked_at = sa.Column(UTCDateTime(), nullable=True)
    revoked_by = sa.Column(sa.String(64), nullable=True)

    user = orm.relationship(User, lazy="joined")

    def state(self, moment):
        """``revoked``, ``expired`` or ``active`` at ``moment``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= moment:
            return "expired"
        return "active"

    def to_dict(self, moment):
        """The token as lists show it (never its secret nor its hash)."""
        def iso(value):
            return None if value is None else value.isoformat()

        return {"id": self.id, "name": self.name, "username": self.user.username,
                "prefix": self.prefix, "state": self.state(moment),
                "created_at": iso(self.created_at), "created_by": self.created_by,
                "expires_at": iso(self.expires_at), "last_used_at": iso(self.last_used_at),
                "last_used_addr": self.last_used_addr, "revoked_at": iso(self.revoked_at),
                "revoked_by": self.revoked_by}

    def __repr__(self):
        return f"<ApiToken {self.id} {self.name!r} of user {self.user_id}>"
