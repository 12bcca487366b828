"""/api/catalog/...: list, get, create, edit, disable queues, agents and DIDs as JSON, with
``{"error", "field"}`` errors; /api/agents stays the engine's live board."""

import pytest
from openapi_schema_validator import OAS30Validator

from fs_cc.acd.queue_def import parse_queue
from fs_cc.control import ControlServer
from tests.web.support import (create_token, create_user, dispose, empty_tables,
                               make_settings)
from tests.web.test_catalog_queue_settings import EVERY_SETTING, SORTED_RELAX
from web import create_app


@pytest.fixture
def admin(app):
    """Authorization headers of an admin."""
    _, username, _ = create_user(app, role="admin")
    return {"Authorization": f"Bearer {create_token(app, username)}"}


def headers_of(app, role):
    """Authorization headers of a fresh user holding ``role``."""
    _, username, _ = create_user(app, role=role)
    return {"Authorization": f"Bearer {create_token(app, username)}"}


def test_given_an_admin_when_creating_a_queue_then_201_and_listed_with_the_version(client, admin):
    created = client.post("/api/catalog/queues", json={"name": "sales"}, headers=admin)

    assert created.status_code == 201
    body = created.get_json()
    assert {k: body[k] for k in ("name", "strategy", "moh", "enabled", "members")} == {
        "name": "sales", "strategy": "longest-idle", "moh": "local_stream://moh",
        "enabled": True, "members": {}}
    listing = client.get("/api/catalog/queues", headers=admin).get_json()
    assert [queue["name"] for queue in listing["queues"]] == ["sales"]
    assert listing["version"] == 1
    assert client.get("/api/catalog", headers=admin).get_json() == {"version": 1}


def test_given_an_agent_when_edited_and_deleted_then_changed_then_disabled_not_gone(client,
                                                                                   admin):
    for name in ("sales", "support"):
        client.post("/api/catalog/queues", json={"name": name}, headers=admin)
    client.post("/api/catalog/agents", json={"extension": "1000", "name": "李娜",
                                             "queues": {"sales": 1}}, headers=admin)

    edited = client.patch("/api/catalog/agents/1000", json={
        "queues": {"support": 2, "sales": 1}, "skills": {"english": 6}}, headers=admin)
    deleted = client.delete("/api/catalog/agents/1000", headers=admin)

    assert edited.status_code == 200
    assert edited.get_json()["queues"] == {"sales": 1, "support": 2}
    assert edited.get_json()["skills"] == {"english": 6}
    assert deleted.status_code == 200 and deleted.get_json()["enabled"] is False
    agent = client.get("/api/catalog/agents/1000", headers=admin).get_json()
    assert agent["enabled"] is False and agent["name"] == "李娜"
    assert client.get("/api/catalog/queues/support", headers=admin).get_json()["members"] == {
        "1000": 2}


def test_given_dids_when_created_edited_and_disabled_then_the_json_follows(client, admin):
    created = client.post("/api/catalog/dids", json={
        "number": "+864000", "flow": "main", "description": "总机", "default": True},
        headers=admin)
    edited = client.patch("/api/catalog/dids/+864000", json={"description": "Switchboard"},
                          headers=admin)
    disabled = client.delete("/api/catalog/dids/+864000", headers=admin)

    assert created.status_code == 201 and created.get_json()["default"] is True
    assert edited.get_json()["description"] == "Switchboard"
    assert disabled.get_json()["enabled"] is False
    assert [d["number"] for d in client.get("/api/catalog/dids", headers=admin)
            .get_json()["dids"]] == ["+864000"]


@pytest.mark.parametrize("method, path, body, status, field", [
    ("post", "/api/catalog/queues", {"name": "sales"}, 409, "name"),
    ("post", "/api/catalog/queues", {"name": "vip", "strategy": "fastest"}, 400, "strategy"),
    ("post", "/api/catalog/queues", ["sales"], 400, None),
    ("patch", "/api/catalog/queues/nope", {"moh": "x"}, 404, "name"),
    ("post", "/api/catalog/agents", {"extension": "1000", "queues": {"sales": 0}}, 400,
     "queues.sales"),
    ("post", "/api/catalog/agents", {"extension": "1000", "queues": {"nope": 1}}, 400,
     "queues.nope"),
    ("post", "/api/catalog/agents", {"extension": "x1"}, 400, "extension"),
    ("post", "/api/catalog/agents", {"extension": "1000", "pin": "1234"}, 400, "pin"),
    ("get", "/api/catalog/agents/4040", None, 404, "extension"),
    ("post", "/api/catalog/dids", {"number": "4000", "flow": "no_such_flow"}, 400, "flow"),
    ("post", "/api/catalog/dids", {"number": "four", "flow": "main"}, 400, "number"),
    ("delete", "/api/catalog/dids/4000", None, 404, "number"),
])
def test_given_a_bad_request_then_json_error_with_status_and_field(client, admin, method, path,
                                                                  body, status, field):
    client.post("/api/catalog/queues", json={"name": "sales"}, headers=admin)

    response = getattr(client, method)(path, json=body, headers=admin)

    assert response.status_code == status
    assert response.get_json()["field"] == field
    assert isinstance(response.get_json()["error"], str)


def test_given_a_queue_posted_with_only_a_name_then_every_setting_comes_back_at_its_default(
        client, admin):
    body = client.post("/api/catalog/queues", json={"name": "sales"}, headers=admin).get_json()

    assert {key: body[key] for key in parse_queue("sales").to_dict()} == (
        parse_queue("sales").to_dict())


def test_given_every_setting_when_posted_then_each_is_read_back_and_a_patch_changes_one(
        client, admin):
    created = client.post("/api/catalog/queues", json={"name": "sales", **EVERY_SETTING},
                          headers=admin)
    patched = client.patch("/api/catalog/queues/sales",
                           json={"wrap_up": 5, "ring_timeout": None, "exit_key": None,
                                 "moh": None},
                           headers=admin)
    read = client.get("/api/catalog/queues/sales", headers=admin).get_json()

    assert created.status_code == 201 and patched.status_code == 200
    expected = {"name": "sales", **EVERY_SETTING, "skill_relax": SORTED_RELAX}
    assert {key: created.get_json()[key] for key in expected} == expected
    assert {key: read[key] for key in expected} == {
        **expected, "wrap_up": 5.0, "ring_timeout": None, "exit_key": "",
        "moh": "local_stream://moh"}


def test_given_a_queue_with_every_setting_then_its_answer_fits_the_documents_schema(client,
                                                                                  admin):
    created = client.post("/api/catalog/queues", json={"name": "sales", **EVERY_SETTING},
                          headers=admin)
    document = client.get("/api/openapi.json", headers=admin).get_json()

    schema = {"$ref": "#/components/schemas/Queue", "components": document["components"]}
    assert [error.message for error in OAS30Validator(schema).iter_errors(
        created.get_json())] == []
    documented = document["components"]["schemas"]["QueueCreate"]["properties"]
    assert set(parse_queue("sales").to_dict()) <= set(documented)


@pytest.mark.parametrize("body, field", [
    ({"wrap_up": -1}, "wrap_up"),
    ({"max_callers": 2.5}, "max_callers"),
    ({"max_callers": 2 ** 31}, "max_callers"),
    ({"announce_wait": "maybe"}, "announce_wait"),
    ({"exit_key": "ab"}, "exit_key"),
    ({"overflow": {"timeout": "queue:"}}, "overflow.timeout"),
    ({"overflow": {"lunch": "hangup"}}, "overflow"),
    ({"record": "loud"}, "record"),
    ({"ring_timeout": "soon"}, "ring_timeout"),
    ({"max_no_answer": -2}, "max_no_answer"),
    ({"service_level": -20}, "service_level"),
    ({"skills": {"english": 0}}, "skills"),
    ({"skill_relax": [{"after": 30}]}, "skill_relax"),
    ({"skill_relax": [{"after": 30, "minus": 1, "colour": "red"}]}, "skill_relax.0.colour"),
    ({"greeting": "g" * 256}, "greeting"),
    ({"strategy": "fastest"}, "strategy"),
])
def test_given_a_wrong_setting_when_posted_or_patched_then_400_naming_it(client, admin, body,
                                                                        field):
    client.post("/api/catalog/queues", json={"name": "sales"}, headers=admin)

    posted = client.post("/api/catalog/queues", json={"name": "vip", **body}, headers=admin)
    patched = client.patch("/api/catalog/queues/sales", json=body, headers=admin)

    for response in (posted, patched):
        assert response.status_code == 400
        assert response.get_json()["field"] == field, response.get_json()
    listing = client.get("/api/catalog/queues", headers=admin).get_json()
    assert [queue["name"] for queue in listing["queues"]] == ["sales"]
    assert listing["queues"][0]["wrap_up"] == 0 and listing["version"] == 1


def test_given_a_body_with_nan_seconds_then_400_naming_the_setting(client, admin):
    response = client.post("/api/catalog/queues", data='{"name": "sales", "max_wait": NaN}',
                           headers=admin, content_type="application/json")

    assert response.status_code == 400 and response.get_json()["field"] == "max_wait"


def test_given_a_body_that_is_not_json_then_400(client, admin):
    response = client.post("/api/catalog/queues", data="name=sales", headers=admin,
                           content_type="application/x-www-form-urlencoded")

    assert response.status_code == 400
    assert response.get_json() == {"error": "the body must be a JSON object", "field": None}


@pytest.mark.parametrize("role, read, write", [
    ("admin", 200, 201), ("manager", 200, 403), ("supervisor", 200, 403), ("agent", 403, 403)])
def test_given_a_role_then_reading_and_writing_allowed_or_403(app, client, role, read, write):
    headers = headers_of(app, role)

    assert client.get("/api/catalog/agents", headers=headers).status_code == read
    response = client.post("/api/catalog/agents", json={"extension": "1000"}, headers=headers)

    assert response.status_code == write
    if write == 403:
        assert response.get_json()["field"] == "permission"


def test_given_no_login_then_401_json(client):
    response = client.get("/api/catalog/queues")

    assert response.status_code == 401 and response.get_json()["field"] is None


class LiveEngine:
    """An engine backend (fs_cc.control.ControlBackend) with two live agents."""

    def agents(self):
        return [{"extension": extension, "name": f"Agent {extension}", "queues": ["sales"],
                 "status": "available", "status_since": "2026-03-02T08:00:00+00:00"}
                for extension in ("1000", "1001")]

    def queues(self):
        return [{"name": "sales", "waiting": 0, "available": 2}]

    def calls(self):
        return []

    def execute(self, command):
        return {}


@pytest.fixture
def live_app(tmp_path, migrated_databases):
    """A testing app whose engine is a real control server over LiveEngine."""
    server = ControlServer(LiveEngine(), host="127.0.0.1", port=0, secret="control-secret")
    server.start()
    settings = make_settings(tmp_path, migrated_databases["sqlite"],
                             control_port=server.address[1])
    settings.control_secret = "control-secret"
    app = create_app(test_config={"TESTING": True}, settings=settings)
    empty_tables(app)
    yield app
    server.stop(timeout=1)
    dispose(app)


def test_given_the_catalog_api_then_api_agents_is_still_the_engines_live_board(live_app):
    client = live_app.test_client()
    admin = headers_of(live_app, "admin")
    client.post("/api/catalog/agents", json={"extension": "2000"}, headers=admin)

    live = client.get("/api/agents", headers=admin).get_json()
    defined = client.get("/api/catalog/agents", headers=admin).get_json()

    assert live["engine_available"] is True
    assert sorted(agent["extension"] for agent in live["agents"]) == ["1000", "1001"]
    assert [agent["extension"] for agent in defined["agents"]] == ["2000"]
