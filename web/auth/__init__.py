"""Login, logout, and who the current user is."""

from web.auth.views import bp  # noqa: F401
