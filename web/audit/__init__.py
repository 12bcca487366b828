"""The audit log: who did what, when and from where (``record``), searched and exported by admins."""

from web.audit import actions  # noqa: F401
from web.audit.services import AuditLog, record  # noqa: F401
