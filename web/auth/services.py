"""User look-ups and authentication, and the plain creation of an account.

People's accounts are managed through web.users.services.AccountService, which checks the
password policy and audits; ``UserService.create`` is the primitive beneath it. API tokens
are web.auth.tokens'.
"""

import functools
import logging
import secrets

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from web.auth.models import Role, User, hash_method
from web.auth.permissions import BUILTIN_ROLES, DEFAULT_ROLE
from web.errors import AuthenticationRequired, WebError

logger = logging.getLogger(__name__)

BAD_CREDENTIALS = "Invalid username or password."


@functools.lru_cache(maxsize=4)
def _dummy_hash(method):
    """A hash made the way User.set_password makes them, of a password nobody knows."""
    return generate_password_hash(secrets.token_hex(16), method)


class UserService:
    """Looks up, authenticates and creates users on one database session."""

    def __init__(self, session):
        self.session = session

    def get(self, user_id):
        """The active user with ``user_id``, or None."""
        user = self.session.get(User, user_id)
        return user if user is not None and user.active else None

    def by_username(self, username):
        """The user called ``username`` (active or not), or None."""
        return self.session.execute(
            sa.select(User).where(User.username == username)).scalar_one_or_none()

    def authenticate(self, username, password):
        """The active user whose password matches; raises AuthenticationRequired otherwise."""
        user = self.by_username((username or "").strip())
        if user is None:
            # as slow as a real check, so the answer's timing does not tell the name is unknown
            check_password_hash(_dummy_hash(hash_method()), password or "")
        elif user.check_password(password or "") and user.active:
            return user
        logger.info("failed login for username %r", username)
        raise AuthenticationRequired(BAD_CREDENTIALS, field="password")

    def role(self, name):
        """The role called ``name``; WebError naming the field ``role`` when there is none.

        A built-in role's row is made on first use when missing (migration 0004 makes them;
        the permissions of a built-in role live in code, the row only gives users a key).
        """
        role = self._find_role(name)
        if role is None and name in BUILTIN_ROLES:
            role = self._add_builtin_role(name)
        if role is None:
            raise WebError(f"role: no role {name!r}", field="role")
        return role

    def _find_role(self, name):
        return self.session.execute(
            sa.select(Role).where(Role.name == name)).scalar_one_or_none()

    def _add_builtin_role(self, name):
        try:
            with self.session.begin_nested():
                self.session.add(Role(name=name, builtin=True,
                                      description=BUILTIN_ROLES[name].description))
        except IntegrityError:  # another process made it first
            pass
        return self._find_role(name)

    def create(self, username, password, role=DEFAULT_ROLE, extension=None, display_name=""):
        """Create and commit a user with the role named ``role``; no password policy here.

        Raises WebError naming ``username`` when it is empty or taken, ``password`` when empty.
        """
        username = (username or "").strip()
        if not username:
            raise WebError("username: required", field="username")
        if not password:
            raise WebError("password: required", field="password")
        if self.by_username(username) is not None:
            raise WebError(f"username: {username!r} is taken", field="username", status=409)
        role = role if isinstance(role, Role) else self.role(role)
        user = User(username=username, role=role, extension=extension,
                    display_name=display_name or username, active=True)
        user.set_password(password)
        self.session.add(user)
        self.session.commit()
        logger.info("created user %s with role %s", username, user.role.name)
        return user
