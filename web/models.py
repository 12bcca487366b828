"""Every model, imported in one place so Alembic and the app see the whole schema."""

from web.auth.models import Role, User  # noqa: F401
from web.calls.models import CallRecord  # noqa: F401
