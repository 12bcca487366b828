"""The OpenAPI document: valid OpenAPI 3, every /api route of the app in it with its methods and
permission, served to logged-in users with a readable page, real answers fitting its schemas,
and requests checked against it with the field at fault named."""

import re

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from fs_cc.callbacks import CallbackState
from tests.web.support import BASE_TIME, create_record, create_token, create_user, login
from web.api.openapi import build_spec, is_api_rule
from web.auth.decorators import login_required
from web.callbacks.models import CallbackAttempt, CallbackRequest
from web.extensions import db

FLASK_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@pytest.fixture
def token(app):
    """An admin's API token."""
    _, username, _ = create_user(app, role="admin")
    return create_token(app, username)


def bearer(secret):
    """The header of an API call with ``secret``."""
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def document(client, token):
    """The document as /api/openapi.json serves it."""
    response = client.get("/api/openapi.json", headers=bearer(token))
    assert response.status_code == 200
    return response.get_json()


def api_rules(app):
    """(OpenAPI path, methods, endpoint) of every /api URL rule of ``app``."""
    return [(FLASK_ARGUMENT.sub(r"{\1}", rule.rule), rule.methods - {"HEAD", "OPTIONS"},
             rule.endpoint) for rule in app.url_map.iter_rules() if is_api_rule(rule)]


def fits(document, name, value):
    """The validation errors of ``value`` against the document's schema ``name``."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return [error.message for error in OAS30Validator(schema).iter_errors(value)]


def test_given_the_app_then_its_document_is_valid_openapi_3(document):
    validate(document)

    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["bearerAuth"]["description"]}


def test_given_every_api_route_of_the_app_then_each_is_in_the_document_with_its_methods(
        app, document):
    missing = []
    for path, methods, endpoint in api_rules(app):
        documented = {method.upper() for method in document["paths"].get(path, {})
                      if method != "parameters"}
        if not methods <= documented:
            missing.append((endpoint, path, sorted(methods - documented)))

    assert len(api_rules(app)) >= 20
    assert missing == []


def test_given_each_operation_then_its_security_and_permissions_are_the_views(app, document):
    wrong = {}
    for rule in app.url_map.iter_rules():
        if not is_api_rule(rule):
            continue
        access = app.view_functions[rule.endpoint].access
        path = FLASK_ARGUMENT.sub(r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            op = document["paths"][path][method.lower()]
            if (op["security"], op["x-permissions"]) != ([{"bearerAuth": []}],
                                                         list(access.permissions)):
                wrong[rule.endpoint] = (op["security"], op["x-permissions"])
            if access.permissions and "403" not in op["responses"]:
                wrong[rule.endpoint] = "no 403"
    assert wrong == {}


def test_given_a_templated_path_then_its_arguments_are_declared_with_their_types(document):
    callback = document["paths"]["/api/callbacks/{callback_id}/cancel"]
    agent = document["paths"]["/api/catalog/agents/{extension}"]

    assert callback["parameters"] == [{"in": "path", "name": "callback_id", "required": True,
                                       "schema": {"type": "string"}}]
    assert [p["name"] for p in agent["parameters"]] == ["extension"]
    assert set(agent) == {"parameters", "get", "patch", "delete"}


def test_given_a_route_without_an_operation_then_it_is_left_out_and_the_check_sees_it(app):
    @login_required
    def undocumented():
        """Not described."""
        return {}

    app.add_url_rule("/api/undocumented", "undocumented", undocumented)

    with app.app_context():
        paths = build_spec(app).to_dict()["paths"]

    assert "/api/undocumented" not in paths
    assert ("/api/undocumented", {"GET"}, "undocumented") in api_rules(app)


def test_given_no_login_then_the_document_answers_401_json_and_the_docs_page_asks_to_log_in(
        client):
    document = client.get("/api/openapi.json")
    page = client.get("/docs/api")

    assert document.status_code == 401 and document.get_json()["field"] is None
    assert page.status_code == 302 and page.headers["Location"].startswith("/auth/login?next=")


def test_given_a_logged_in_user_then_the_docs_page_lists_every_operation_without_scripts(
        app, client, document):
    _, username, password = create_user(app, role="agent")
    login(client, username, password)

    response = client.get("/docs/api")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "<script" not in page and " style=" not in page and " on" + "click" not in page
    for path, item in document["paths"].items():
        for method in item:
            if method != "parameters":
                assert f"<code>{method.upper()} {path}</code>" in page
    assert 'id="schema-CallPage"' in page and "<code>caller_number</code>" in page


# answers fit the document

def create_callback(app):
    """A pending callback request with one failed attempt, as the worker stores them."""
    with app.app_context():
        db.session.add(CallbackRequest(
            id="cb-1", queue="sales", number="13900000001", caller_number="13900000001",
            call_uuid="call-1", since=BASE_TIME, skills_json='{"粤语": 2}',
            state=CallbackState.PENDING, attempts=1, engine="engine-a", requested_at=BASE_TIME))
        db.session.add(CallbackAttempt(callback_id="cb-1", number=1, agent="1000",
                                       call_uuid="call-2", started_at=BASE_TIME,
                                       ended_at=BASE_TIME, cause="USER_BUSY"))
        db.session.commit()


def test_given_real_answers_then_they_fit_the_documents_schemas(app, client, token, document):
    create_record(app, agent="1000")
    create_callback(app)
    headers = bearer(token)
    created = client.post("/api/catalog/queues", json={"name": "sales"}, headers=headers)
    agent = client.post("/api/catalog/agents", json={
        "extension": "1000", "name": "Li", "skills": {"粤语": 3}, "queues": {"sales": 1}},
        headers=headers)
    did = client.post("/api/catalog/dids", json={"number": "4000", "flow": "main"},
                      headers=headers)
    answers = {
        "Queue": created, "CatalogAgent": agent, "Did": did,
        "Me": client.get("/api/me", headers=headers),
        "CallPage": client.get("/api/calls", headers=headers),
        "CatalogVersion": client.get("/api/catalog", headers=headers),
        "QueueList": client.get("/api/catalog/queues", headers=headers),
        "AgentList": client.get("/api/catalog/agents", headers=headers),
        "DidList": client.get("/api/catalog/dids", headers=headers),
        "CallbackPage": client.get("/api/callbacks", headers=headers),
        "Callback": client.get("/api/callbacks/cb-1", headers=headers),
        "Error": client.get("/api/catalog/queues/nope", headers=headers),
    }

    problems = {name: fits(document, name, response.get_json())
                for name, response in answers.items()}

    assert all(response.status_code < 500 for response in answers.values())
    assert answers["CallPage"].get_json()["calls"], "a record to check"
    assert answers["Callback"].get_json()["attempt_list"], "an attempt to check"
    assert problems == {name: [] for name in answers}


def test_given_the_engine_then_the_agents_board_fits_its_schema(engine, app, client, token,
                                                                document):
    response = client.get("/api/agents", headers=bearer(token))

    assert response.status_code == 200 and response.get_json()["agents"]
    assert fits(document, "AgentBoard", response.get_json()) == []


def test_given_a_schema_then_an_answer_with_a_field_it_does_not_know_does_not_fit(document):
    assert fits(document, "Me", {"username": "a", "role": "agent", "extension": None,
                                 "permissions": [], "password": "x"}) != []


# requests are checked against it, the field at fault named

@pytest.mark.parametrize("method, path, body, field", [
    ("get", "/api/calls?quee=sales", None, "quee"),
    ("get", "/api/calls?limit=ten", None, "limit"),
    ("get", "/api/calls?offset=-1", None, "offset"),
    ("get", "/api/callbacks?colour=red", None, "colour"),
    ("get", "/api/catalog/queues?enabled=1", None, "enabled"),  # takes no query parameter
    ("post", "/api/catalog/queues", {"name": 5}, "name"),
    ("post", "/api/catalog/queues", {}, "name"),
    ("post", "/api/catalog/agents", {"extension": "1000", "queues": {"sales": "one"}},
     "queues.sales"),
    ("post", "/api/catalog/agents", {"extension": "1000", "skills": ["x"]}, "skills"),
    ("patch", "/api/catalog/dids/4000", {"flow": "main", "colour": "red"}, "colour"),
    ("post", "/api/callbacks/cb-1/reschedule", {}, "not_before"),
    ("post", "/api/callbacks/cb-1/reschedule", ["not_before"], None),
])
def test_given_a_request_that_does_not_fit_then_400_naming_the_field(client, token, method,
                                                                    path, body, field):
    response = getattr(client, method)(path, json=body, headers=bearer(token))

    assert response.status_code == 400
    assert response.get_json()["field"] == field
    message = response.get_json()["error"]
    assert message.startswith(f"{field}: ") if field else message == (
        "the body must be a JSON object")


def test_given_an_empty_query_value_then_it_is_no_filter(app, client, token):
    create_record(app)

    response = client.get("/api/calls?limit=&queue=", headers=bearer(token))

    assert response.status_code == 200 and response.get_json()["total"] == 1
