"""View decorators that demand a logged-in user, and a role among those allowed."""

import functools

from flask import g

from web.errors import AuthenticationRequired, Forbidden


def login_required(view):
    """Let the view run only for an authenticated user (session cookie or Bearer token)."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None:
            raise AuthenticationRequired("authentication required")
        return view(*args, **kwargs)

    return wrapped


def roles_required(*roles):
    """Let the view run only for an authenticated user holding one of ``roles``."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            user = g.get("user")
            if user is None:
                raise AuthenticationRequired("authentication required")
            if not user.has_role(*roles):
                raise Forbidden(f"role {user.role.value} may not do this", field="role")
            return view(*args, **kwargs)

        return wrapped

    return decorator
