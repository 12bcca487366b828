"""The user model: who may log in, with which role, and their API token (hashed)."""

import enum
import hashlib

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from web.extensions import db
from web.types import UTCDateTime, utcnow


class Role(enum.Enum):
    """What a user may see and do."""

    ADMIN = "admin"
    MANAGER = "manager"
    SUPERVISOR = "supervisor"
    AGENT = "agent"


def hash_token(token):
    """The stored form of an API token (tokens are random, so a plain SHA-256 is enough)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class User(db.Model):
    """A person who logs in to the web app or calls its API."""

    __tablename__ = "users"

    id = sa.Column(sa.Integer, primary_key=True)
    username = sa.Column(sa.String(64), nullable=False, unique=True)
    display_name = sa.Column(sa.String(128), nullable=False, default="")
    password_hash = sa.Column(sa.String(256), nullable=False)
    role = sa.Column(
        sa.Enum(Role, name="user_role", native_enum=False, length=16,
                values_callable=lambda roles: [role.value for role in roles]),
        nullable=False, default=Role.AGENT)
    # The agent's extension ties an agent user to the calls they took.
    extension = sa.Column(sa.String(32), nullable=True)
    api_token_hash = sa.Column(sa.String(64), nullable=True, unique=True)
    active = sa.Column(sa.Boolean, nullable=False, default=True)
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)

    def set_password(self, password):
        """Store a salted hash of ``password``."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password):
        """Whether ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    def has_role(self, *roles):
        """Whether the user holds one of ``roles`` (Role members or their values)."""
        wanted = {Role(role) for role in roles}
        return self.role in wanted

    def __repr__(self):
        return f"<User {self.username} {self.role.value}>"
