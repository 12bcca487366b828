"""The one check point of who may do what: ``require`` and the view decorators built on it.

Each decorator marks the view it wraps with its rule (``view.access``), so a test can walk the
app's URL map and prove that every route has one.
"""

import dataclasses
import functools

from flask import g

from web.auth import permissions
from web.errors import AuthenticationRequired, Forbidden


@dataclasses.dataclass(frozen=True)
class Access:
    """A view's rule: any logged-in user (no permissions), or one holding all ``permissions``."""

    permissions: tuple = ()


def current_user():
    """The authenticated user of the request; AuthenticationRequired when there is none.

    A refused Bearer token (web.auth.tokens) answers with its own reason: unknown, revoked,
    expired, or its user disabled.
    """
    user = g.get("user")
    if user is None:
        raise g.get("auth_problem") or AuthenticationRequired("authentication required")
    return user


def require(*names):
    """Return the current user when they hold every permission in ``names``; else raise.

    Anonymous: AuthenticationRequired (401, or the login page); lacking one: Forbidden (403).
    """
    permissions.check(names)
    user = current_user()
    missing = [name for name in names if name not in user.permissions]
    if missing:
        raise Forbidden(f"role {user.role.name} may not do this: it needs the permission "
                        f"{missing[0]}", field="permission")
    return user


def _guard(view, names):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        require(*names)
        return view(*args, **kwargs)

    wrapped.access = Access(tuple(names))
    return wrapped


def login_required(view):
    """Let the view run for any authenticated user (session cookie or Bearer token)."""
    return _guard(view, ())


def permission_required(*names):
    """Let the view run only for a user holding every permission in ``names``."""
    if not names:
        raise ValueError("permission_required needs at least one permission")
    permissions.check(names)

    def decorator(view):
        return _guard(view, names)

    return decorator
