"""The named permissions and the built-in roles, defined once.

A role is a set of permissions. The four built-in roles are fixed here (a release may give them
a new permission without a migration); custom roles live in the database and are built from the
same names. Some permissions include others (``IMPLIES``): seeing every call includes seeing
one's own, managing the catalog includes reading it.
"""

import dataclasses


class UnknownPermission(LookupError):
    """A permission name that this module does not define."""

    def __init__(self, name):
        super().__init__(f"unknown permission {name!r}")
        self.name = name


PERMISSIONS = {
    "calls.view_own": "See the calls one took (by the extension of one's agent)",
    "calls.view_all": "See every call, live and recorded",
    "agents.view": "See the agents' live board",
    "agents.manage": "Change agents' status (log them in and out, pause them)",
    "supervise": "Listen to, whisper to and barge into agents' calls",
    "callbacks.manage": "Cancel and reschedule callbacks (seeing them needs calls.view_all)",
    "recordings.listen": "Listen to and download call recordings",
    "recordings.listen_own": "Listen to the recordings of one's own calls (by one's extension)",
    "data.export": "Export data (call records, the audit log) as files",
    "catalog.view": "See queues, agents and DID routes",
    "catalog.manage": "Create, edit and disable queues, agents and DID routes",
    "ivr.edit": "Edit and publish IVR flows",
    "campaigns.manage": "Create and run outbound campaigns",
    "users.manage": "Create, edit and disable users and reset their passwords",
    "roles.manage": "Create and edit custom roles and their permissions",
    "audit.view": "Search the audit log",
    "crm.view": "See and search customers, their contact history and the caller lookup",
    "crm.edit": "Create and edit customers, their phones and notes",
    "crm.manage": "Delete, restore and merge customers; define custom fields",
    "crm.export": "Export customer search results as CSV or XLSX files",
    "crm.phones": "See customers' full phone numbers",
    "desktop.use": "Work calls at the agent desktop: one's own state, queues, screen pop, "
                   "wrap-up",
    "teams.manage": "Create and edit teams, their supervisors and members; post notices to "
                    "any team or to everyone",
}

IMPLIES = {
    "calls.view_all": ("calls.view_own",),
    "catalog.manage": ("catalog.view",),
    "agents.manage": ("agents.view",),
    "supervise": ("agents.view",),
    "crm.manage": ("crm.edit",),
    "crm.edit": ("crm.view",),
    "recordings.listen": ("recordings.listen_own",),
}


def check(names):
    """``names`` as a frozenset, each a known permission; UnknownPermission otherwise."""
    names = frozenset(names)
    for name in names:
        if name not in PERMISSIONS:
            raise UnknownPermission(name)
    return names


def expand(names):
    """``names`` with every permission they imply."""
    found = set(check(names))
    pending = list(found)
    while pending:
        for implied in IMPLIES.get(pending.pop(), ()):
            if implied not in found:
                found.add(implied)
                pending.append(implied)
    return frozenset(found)


@dataclasses.dataclass(frozen=True)
class BuiltinRole:
    """A role whose permissions are fixed in code."""

    name: str
    description: str
    permissions: frozenset


def _builtin(name, description, names):
    return BuiltinRole(name, description, expand(names))


BUILTIN_ROLES = {role.name: role for role in (
    _builtin("admin", "Everything, including users, roles and the audit log", PERMISSIONS),
    _builtin("manager", "Runs the call center: every call, agents, recordings, exports, "
             "campaigns; reads the catalog",
             ("calls.view_all", "agents.manage", "supervise", "recordings.listen",
              "data.export", "catalog.view", "campaigns.manage", "callbacks.manage",
              "crm.manage", "crm.export", "crm.phones")),
    _builtin("supervisor", "Leads a team (班长): every call, the agents' board, supervision, "
             "recordings; reads the catalog",
             ("calls.view_all", "supervise", "recordings.listen", "catalog.view",
              "callbacks.manage", "crm.edit", "crm.export", "crm.phones", "desktop.use")),
    _builtin("agent", "Answers calls: sees their own calls only",
             ("calls.view_own", "crm.edit", "desktop.use")),
)}
DEFAULT_ROLE = "agent"
