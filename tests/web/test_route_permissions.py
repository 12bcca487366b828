"""Every route of the app, asked by each role: allowed, 403 (JSON or page), or login for anonymous.

RULES is the table of every endpoint and the permissions it needs. A route added without a
rule, or whose decorator disagrees with the table, fails here; so does a role that gets in
where it should not, or is kept out of where it should get in.
"""

import pytest

from fs_cc.control import ControlServer
from tests.web.support import (EngineBackend, app_on, create_token, create_user,
                               csrf_headers, database_url_for, dispose, login, post_form)
from web.audit import AuditLog
from web.auth.permissions import BUILTIN_ROLES, expand
from web.catalog.notifier import EngineNotifier
from web.catalog.services import AgentService, QueueService
from web.catalog.views import did_service
from web.extensions import db
from web.users.roles import RoleService

PUBLIC = "public"  # answers anyone, logged in or not
ANY_USER = ()  # any logged-in user

RULES = {
    "static": PUBLIC,
    "index": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": PUBLIC,
    "api.me": ANY_USER,
    "api.openapi_json": ANY_USER,
    "api_docs.index": ANY_USER,
    **{f"tokens.{name}": ANY_USER for name in ("index", "create", "revoke")},
    **{f"tokens.{name}": ("users.manage",) for name in ("admin_index", "admin_revoke")},
    "account.password": ANY_USER,
    "account.change_password": ANY_USER,
    "calls.index": ("calls.view_own",),
    **{f"messages.{name}": ("calls.view_all",) for name in ("index", "audio")},  # web.messages
    "calls.in_progress": ("calls.view_own",),
    "calls.records_json": ("calls.view_own",),
    "events.stream": ("calls.view_own",),
    "agents.index": ("agents.view",),
    "agents.board_json": ("agents.view",),
    **{f"catalog.{name}": ("catalog.view",) for name in (
        "queues", "queue", "agents", "agent", "dids", "did")},
    **{f"catalog.{name}": ("catalog.manage",) for name in (
        "new_queue", "create_queue", "update_queue", "new_agent", "create_agent",
        "update_agent", "new_did", "create_did", "update_did", "import_dids")},
    **{f"catalog_api.{name}": ("catalog.view",) for name in (
        "version", "queues", "queue", "agents", "agent", "dids", "did")},
    **{f"catalog_api.{name}": ("catalog.manage",) for name in (
        "create_queue", "edit_queue", "disable_queue", "create_agent", "edit_agent",
        "disable_agent", "create_did", "edit_did", "disable_did")},
    **{f"users.{name}": ("users.manage",) for name in (
        "index", "new", "create", "edit", "update", "reset_password", "disable", "enable")},
    **{f"roles.{name}": ("roles.manage",) for name in (
        "index", "new", "create", "edit", "update", "delete")},
    "audit.index": ("audit.view",),
    "audit.export": ("audit.view", "data.export"),
    "callbacks.index": ("calls.view_all",),
    "callbacks_api.listing": ("calls.view_all",),
    "callbacks_api.one": ("calls.view_all",),
    **{f"{bp}.{name}": ("calls.view_all", "callbacks.manage")
       for bp in ("callbacks", "callbacks_api") for name in ("cancel", "reschedule")},
    "ivr_pages.index": ("catalog.view",),
    "ivr_pages.editor": ("catalog.view",),
    "ivr_pages.statistics": ("catalog.view", "calls.view_all"),
    **{f"ivr_stats_api.{name}": ("calls.view_all",) for name in (
        "flow_statistics", "flow_statistics_csv")},
    # web.ivr.api: flows and their versions, read by anyone logged in, saved with ivr.edit
    **{f"ivr_api.{name}": ANY_USER for name in (
        "flows", "flow", "validate", "versions", "version", "diff", "prompts", "prompt_file")},
    **{f"ivr_api.{name}": ("ivr.edit",) for name in ("save", "restore")},
    # web.crm: customers (read, edit, manage) and their API
    **{f"crm.{name}": ("crm.view",) for name in ("index", "detail")},
    **{f"crm.{name}": ("crm.edit",) for name in (
        "new", "create", "edit", "update", "add_note", "add_phone", "remove_phone")},
    **{f"crm.{name}": ("crm.manage",) for name in (
        "delete", "restore", "merge_form", "merge", "fields_page", "define_field",
        "update_field")},
    **{f"crm_api.{name}": ("crm.view",) for name in (
        "search", "one", "phones", "notes", "history", "lookup", "custom_fields")},
    **{f"crm_api.{name}": ("crm.edit",) for name in (
        "create", "edit", "add_phone", "remove_phone", "add_note")},
    **{f"crm_api.{name}": ("crm.manage",) for name in (
        "delete", "restore", "merge", "define_field", "edit_field")},
    # web.exports: anyone's own exports (each kind checks its permission)
    **{f"exports.{name}": ANY_USER for name in ("index", "create", "download")},
    **{f"exports_api.{name}": ANY_USER for name in ("listing", "create", "one", "download")},
    # web.crm attachments (a customer's files) and web.recordings (a recording's audio)
    **{f"{bp}.download": ("crm.view",) for bp in ("crm_attachments", "crm_attachments_api")},
    **{f"{bp}.upload": ("crm.edit",) for bp in ("crm_attachments", "crm_attachments_api")},
    **{f"{bp}.delete": ("crm.manage",) for bp in ("crm_attachments", "crm_attachments_api")},
    "crm_attachments_api.attachments": ("crm.view",),
    # web.recordings: the page, its API, the audio and the download (own calls with listen_own)
    **{f"recordings.{name}": ("recordings.listen_own",) for name in (
        "index", "listing", "audio", "download")},
    # web.crm imports (a manager's act: a file adds or changes many customers)
    **{f"crm_imports.{name}": ("crm.manage",) for name in (
        "index", "upload", "mapping", "start", "job", "errors_csv")},
    **{f"crm_import_api.{name}": ("crm.manage",) for name in ("create", "status", "problems")},
    # web.supervisor: the wallboard, agent moves, supervision
    "supervisor.index": ("agents.view",), "supervisor_api.board": ("agents.view",),
    "supervisor_api.agent_status": ("agents.manage",),
    "supervisor_api.supervise": ("supervise",),
    "supervisor_api.caller_priority": ("supervise",), "supervisor_api.move_caller": ("supervise",),
    "supervisor_api.take_over": ("supervise",),
    # web.teams: an admin's act; web.chat: agents, their supervisors and notices
    **{f"teams.{name}": ("teams.manage",) for name in (
        "index", "new", "create", "edit", "update", "delete")},
    **{f"teams_api.{name}": ("teams.manage",) for name in (
        "teams", "create_team", "team", "update_team", "delete_team")},
    **{f"chat_api.{name}": ("desktop.use",) for name in (
        "messages", "send", "read", "notices", "post_notice", "ack", "stream")},
    # web.desktop: the agent's own desktop (and its browser softphone's account)
    "desktop.index": ("desktop.use",), "softphone_api.account": ("desktop.use",),
    **{f"desktop_api.{name}": ("desktop.use",) for name in (
        "state", "status", "login", "logout", "end_wrap_up", "pop", "save_draft", "file_call",
        "hold", "unhold", "dtmf", "transfer", "mute", "unmute", "dial", "consult",
        "complete_consult", "cancel_consult", "conference")},
}

# a custom role that is neither agent nor supervisor: the wallboard screen of a team lead
CUSTOM = ("wallboard", ("agents.view", "data.export", "audit.view"))
ROLES = ["anonymous", *BUILTIN_ROLES, CUSTOM[0]]


class World:
    """The module's app with one logged-in client and one API token per role, and the rows
    the routes' URLs name."""

    def __init__(self, app):
        self.app = app
        self.clients = {}
        self.tokens = {}
        self.values = {"extension": "1000", "number": "4000", "name": "sales",
                       "filename": "style.css", "callback_id": "cb-none", "token_id": 999999}
        self.values["version"] = 999999  # web.ivr.api: no such version (404 when allowed)
        self.values["message_id"] = 999999  # web.messages: no such message (404 when allowed)
        self.values.update(customer_id=999999, phone_id=999999, key="none")  # web.crm: 404s
        self.values["job_id"] = 999999  # web.exports: no such export (404 when allowed)
        self.values.update(attachment_id=999999, recording_id=999999)  # 404 when allowed
        self.values.update(import_id=999999, token="none")  # web.crm imports: 404, 400
        self.values["call_uuid"] = "no-such-call"  # web.desktop: 404 when allowed
        self.values.update(team_id=999999, notice_id=999999)  # web.teams, web.chat: 404s

    def permissions_of(self, role):
        """Every permission ``role`` holds."""
        if role == "anonymous":
            return frozenset()
        if role == CUSTOM[0]:
            return expand(CUSTOM[1])
        return BUILTIN_ROLES[role].permissions


@pytest.fixture(scope="module")
def world(tmp_path_factory, migrated_databases):  # noqa: F811
    """The app, its engine stand-in, the users of every role, a queue, an agent and a DID."""
    backend = EngineBackend()
    server = ControlServer(backend, host="127.0.0.1", port=0, secret="test-control-secret")
    server.start()
    app = app_on(tmp_path_factory.mktemp("routes"), database_url_for(migrated_databases, "sqlite"),
                 control_port=server.address[1], EVENTS_HEARTBEAT_SECONDS=0.05)
    world = World(app)
    with app.app_context():
        RoleService(db.session, AuditLog(db.session)).create(
            {"name": CUSTOM[0], "permissions": list(CUSTOM[1])})
        notify = EngineNotifier(app.extensions["fs_cc_control"])
        QueueService(db.session, notify).create({"name": "sales"})
        AgentService(db.session, notify).create({"extension": "1000", "queues": {"sales": 1}})
        with app.test_request_context():  # the flows folder comes from the app
            did_service().create({"number": "4000", "flow": "main"})
    for role in ROLES[1:]:
        # the custom role's user holds it, so that deleting the role is refused, not done
        _, username, password = create_user(app, role=role)
        client = app.test_client()
        assert login(client, username, password).status_code == 302
        world.clients[role] = client
        world.tokens[role] = create_token(app, username)
    world.values["user_id"], _, _ = create_user(app, role="agent", username="target")
    with app.app_context():
        world.values["role_id"] = RoleService(db.session, AuditLog(db.session)).by_name(
            CUSTOM[0]).id
    yield world
    dispose(app)
    server.stop(timeout=1)


def endpoints(app):
    """{endpoint: rule} of every URL rule of ``app``."""
    return {rule.endpoint: rule for rule in app.url_map.iter_rules()}


def test_given_the_app_then_every_endpoint_has_a_rule_in_the_table(world):
    found = set(endpoints(world.app))

    assert sorted(found - set(RULES)) == [], "routes without a rule in RULES"
    assert sorted(set(RULES) - found) == [], "rules of routes that do not exist"


def test_given_each_view_then_its_decorator_asks_what_the_table_says(world):
    wrong = {}
    for endpoint in RULES:
        declared = getattr(world.app.view_functions[endpoint], "access", None)
        expected = RULES[endpoint]
        if expected == PUBLIC:
            if declared is not None:
                wrong[endpoint] = declared
        elif declared is None or tuple(declared.permissions) != expected:
            wrong[endpoint] = declared
    assert wrong == {}


def _request(world, rule, role):
    method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
    path = rule.build({name: world.values[name] for name in rule.arguments})[1]
    is_api = path.startswith("/api/")
    if role == "anonymous" or rule.endpoint == "auth.logout":
        client = world.app.test_client()  # logging out must not end a shared session
        headers = {}
    elif is_api:
        client = world.app.test_client()
        headers = {"Authorization": f"Bearer {world.tokens[role]}"}
    else:
        client, headers = world.clients[role], {}
    if method == "GET":
        return client.get(path, headers=headers, buffered=False), is_api
    if is_api:  # a session-cookie call carries the CSRF header that a page's script sends
        headers = headers or csrf_headers(client)
        return client.open(path, method=method, json={}, headers=headers), is_api
    return post_form(client, path, {}), is_api


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(RULES))
def test_given_a_role_when_calling_each_route_then_allowed_or_refused_as_the_table_says(
        world, endpoint, role):
    rule = endpoints(world.app)[endpoint]
    expected = RULES[endpoint]

    response, is_api = _request(world, rule, role)
    try:
        status = response.status_code
        location = response.headers.get("Location", "")
        if expected == PUBLIC:
            assert status not in (401, 403) and status < 500
        elif role == "anonymous":
            if is_api:
                assert status == 401 and response.get_json()["field"] is None
            else:
                assert status == 302 and location.startswith("/auth/login?next=")
        elif set(expected) <= world.permissions_of(role):
            assert status not in (401, 403) and status < 500, response.get_data(as_text=True)
            assert not location.startswith("/auth/login")
        else:
            assert status == 403
            if is_api:
                assert response.get_json()["field"] == "permission"
            else:
                assert "may not do this" in response.get_data(as_text=True)
    finally:
        response.close()
