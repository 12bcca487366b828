"""Every model, imported in one place so Alembic and the app see the whole schema."""

from web.audit.models import AuditEntry  # noqa: F401
from web.auth.models import Role, RoleGrant, User  # noqa: F401
from web.auth.sessions import UserSession  # noqa: F401
from web.auth.throttle import LoginAttempt  # noqa: F401
from web.callbacks.models import CallbackAttempt, CallbackEventFact, CallbackRequest  # noqa: F401
from web.calls.models import CallRecord  # noqa: F401
from web.crm.models import (Customer, CustomerNote, CustomerPhone, CustomerTag,  # noqa: F401
                            CustomField, CustomValue, HistoryEntry)
from web.crm.import_models import CustomerImport, ImportProblem, ImportTemplate  # noqa: F401
from web.catalog.models import Agent, CatalogVersion, DidRoute, Queue, QueueMember  # noqa: F401
from web.facts.models import AgentStateChange, CallEventFact  # noqa: F401
from web.messages.models import SmsRequest, SurveyAnswer, VoiceMessage  # noqa: F401
from web.recordings.models import Recording  # noqa: F401
from web.ivr.models import IvrFlow, IvrFlowVersion  # noqa: F401
from web.exports.models import ExportJob  # noqa: F401
from web.desktop.models import CallDisposition, DesktopDraft  # noqa: F401
from web.teams.models import Team, TeamMember, TeamSupervisor  # noqa: F401
from web.chat.models import ChatMessage, Notice, NoticeAck  # noqa: F401
