"""Every model, imported in one place so Alembic and the app see the whole schema."""

from web.auth.models import Role, User  # noqa: F401
from web.calls.models import CallRecord  # noqa: F401
from web.catalog.models import Agent, CatalogVersion, DidRoute, Queue, QueueMember  # noqa: F401
from web.facts.models import AgentStateChange, CallEventFact  # noqa: F401
