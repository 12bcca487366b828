"""The audit log's action names, defined once with what each means.

``web.audit.record`` refuses a name missing here, so a typo fails loudly instead of writing
entries nobody searches for.
"""

LOGIN = "auth.login"
LOGIN_FAILED = "auth.login_failed"
LOGOUT = "auth.logout"
PASSWORD_CHANGED = "user.password_changed"
PASSWORD_RESET = "user.password_reset"
USER_CREATED = "user.created"
USER_UPDATED = "user.updated"
USER_DISABLED = "user.disabled"
USER_ENABLED = "user.enabled"
ROLE_CREATED = "role.created"
ROLE_UPDATED = "role.updated"
ROLE_DELETED = "role.deleted"
QUEUE_CREATED = "queue.created"
QUEUE_UPDATED = "queue.updated"
AGENT_CREATED = "agent.created"
AGENT_UPDATED = "agent.updated"
DID_CREATED = "did.created"
DID_UPDATED = "did.updated"
DIDS_IMPORTED = "dids.imported"
CATALOG_SEEDED = "catalog.seeded"
CALLS_EXPORTED = "calls.exported"
AUDIT_EXPORTED = "audit.exported"
RECORDING_PLAYED = "recording.played"
RECORDING_DOWNLOADED = "recording.downloaded"
DATA_DELETED = "data.deleted"
CALLBACK_CANCELLED = "callback.cancelled"
CALLBACK_RESCHEDULED = "callback.rescheduled"
TOKEN_CREATED = "token.created"
TOKEN_REVOKED = "token.revoked"
FLOW_SAVED = "ivr.flow_saved"
FLOW_RESTORED = "ivr.flow_restored"
CUSTOMER_DELETED = "crm.customer_deleted"
CUSTOMER_RESTORED = "crm.customer_restored"
CUSTOMERS_MERGED = "crm.customers_merged"
CUSTOM_FIELD_CHANGED = "crm.custom_field_changed"
CUSTOMERS_IMPORTED = "crm.customers_imported"
EXPORT_REQUESTED = "export.requested"
EXPORT_DOWNLOADED = "export.downloaded"

ACTIONS = {
    LOGIN: "a user logged in",
    LOGIN_FAILED: "a login was refused (wrong name or password, disabled or locked account)",
    LOGOUT: "a user logged out",
    PASSWORD_CHANGED: "a user changed their own password",
    PASSWORD_RESET: "an administrator set another user's password",
    USER_CREATED: "a user account was created",
    USER_UPDATED: "a user's name, role, extension or queues changed",
    USER_DISABLED: "a user account was disabled",
    USER_ENABLED: "a user account was enabled again",
    ROLE_CREATED: "a custom role was created",
    ROLE_UPDATED: "a custom role's name, description or permissions changed",
    ROLE_DELETED: "a custom role was deleted",
    QUEUE_CREATED: "a queue was created",
    QUEUE_UPDATED: "a queue was edited or disabled",
    AGENT_CREATED: "an agent was created",
    AGENT_UPDATED: "an agent was edited or disabled",
    DID_CREATED: "a DID route was created",
    DID_UPDATED: "a DID route was edited or disabled",
    DIDS_IMPORTED: "DID routes were imported from a file",
    CATALOG_SEEDED: "the demo queues, agents and DID were put in an empty catalog",
    FLOW_SAVED: "an IVR flow was saved as a new version",
    FLOW_RESTORED: "an old version of an IVR flow was made current again",
    CALLS_EXPORTED: "call records were exported",
    AUDIT_EXPORTED: "the audit log was exported",
    RECORDING_PLAYED: "a call recording was played (once a playback, not each range of it)",
    RECORDING_DOWNLOADED: "a call recording's file was downloaded",
    DATA_DELETED: "stored data was deleted",
    CALLBACK_CANCELLED: "a supervisor cancelled a callback",
    CALLBACK_RESCHEDULED: "a supervisor rescheduled a callback",
    TOKEN_CREATED: "an API token was created (its name, owner and expiry; never its secret)",
    TOKEN_REVOKED: "an API token was revoked by its owner or an administrator",
    CUSTOMER_DELETED: "a customer record was put in the bin",
    CUSTOMER_RESTORED: "a deleted customer record was restored",
    CUSTOMERS_MERGED: "a duplicate customer was merged into another",
    CUSTOM_FIELD_CHANGED: "a CRM custom field was defined or changed",
    CUSTOMERS_IMPORTED: "a file of customers was imported into the CRM (its name and policy)",
    EXPORT_REQUESTED: "an export (its kind, format and filters) was asked of the worker",
    EXPORT_DOWNLOADED: "an export's file was downloaded",
}
