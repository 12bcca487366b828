"""User business rules: authentication, API tokens, accounts; commits happen here."""

import logging
import secrets

import sqlalchemy as sa

from web.auth.models import Role, User, hash_token
from web.errors import AuthenticationRequired, WebError

logger = logging.getLogger(__name__)

BAD_CREDENTIALS = "Invalid username or password."


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
        if user is None or not user.active or not user.check_password(password or ""):
            logger.info("failed login for username %r", username)
            raise AuthenticationRequired(BAD_CREDENTIALS, field="password")
        return user

    def by_token(self, token):
        """The active user holding API ``token``, or None."""
        if not token:
            return None
        user = self.session.execute(
            sa.select(User).where(User.api_token_hash == hash_token(token))).scalar_one_or_none()
        return user if user is not None and user.active else None

    def create(self, username, password, role=Role.AGENT, extension=None, display_name=""):
        """Create and commit a user; raises WebError (field ``username``) when the name is taken."""
        username = (username or "").strip()
        if not username:
            raise WebError("username is required", field="username")
        if not password:
            raise WebError("password is required", field="password")
        if self.by_username(username) is not None:
            raise WebError(f"username {username!r} is taken", field="username", status=409)
        user = User(username=username, role=Role(role), extension=extension,
                    display_name=display_name or username, active=True)
        user.set_password(password)
        self.session.add(user)
        self.session.commit()
        logger.info("created user %s with role %s", username, user.role.value)
        return user

    def issue_token(self, user):
        """Give ``user`` a new API token (the old one stops working); returns it, shown once."""
        token = secrets.token_urlsafe(32)
        user.api_token_hash = hash_token(token)
        self.session.commit()
        return token

    def ensure_user(self, username, password, role):
        """Create ``username`` if missing (keeping an existing account's password); return it."""
        user = self.by_username(username)
        if user is None:
            return self.create(username, password, role=role)
        if user.role != Role(role) or not user.active:
            user.role = Role(role)
            user.active = True
            self.session.commit()
        return user
