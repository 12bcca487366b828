"""The agents page and /api/agents: live state from the engine, or a clear notice."""

import pytest

from tests.web.support import closed_port, create_token, create_user, login


@pytest.fixture
def supervisor(app, client):
    """A logged-in supervisor; returns their API token."""
    _, username, password = create_user(app, role="supervisor")
    login(client, username, password)
    return create_token(app, username)


def test_given_the_engine_answers_when_opening_agents_then_each_agent_state_is_shown(
        engine, app, client, supervisor):
    response = client.get("/agents")
    text = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "李娜" in text and "on_call" in text and "2026-03-02T08:01:00+00:00" in text
    assert "support, sales" in text
    assert text.index(">1000<") < text.index(">1001<")  # ordered by extension
    assert '<p id="engine-notice" class="notice error" hidden>' in text
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"


def test_given_the_engine_answers_when_asking_the_api_then_same_agents_as_json(
        engine, app, client, supervisor):
    backend, _ = engine
    backend.set_agent_status("1000", "on_break")

    body = client.get("/api/agents").get_json()

    assert body["engine_available"] is True
    assert [(a["extension"], a["status"]) for a in body["agents"]] == [("1000", "on_break"),
                                                                       ("1001", "on_call")]
    assert body["queues"] == [{"name": "sales", "waiting": 2, "available": 1}]


def test_given_nothing_listens_when_opening_agents_then_engine_unavailable_notice(
        tmp_path, migrated_databases):
    from tests.web.support import app_on, database_url_for, dispose

    app = app_on(tmp_path, database_url_for(migrated_databases, "sqlite"),
                 control_port=closed_port())
    client = app.test_client()
    _, username, password = create_user(app, role="manager")
    login(client, username, password)
    try:
        page = client.get("/agents")
        api = client.get("/api/agents")
    finally:
        dispose(app)

    assert page.status_code == 503
    assert "Engine unavailable" in page.get_data(as_text=True)
    assert '<p id="engine-notice" class="notice error" >' in page.get_data(as_text=True)
    assert api.status_code == 503
    assert api.get_json() == {"engine_available": False, "error": "engine unavailable",
                              "field": None, "agents": [], "queues": []}


def test_given_the_page_then_it_refreshes_from_the_api(engine, app, client, supervisor):
    text = client.get("/agents").get_data(as_text=True)

    assert 'fetch("/api/agents"' in text
    assert "setInterval(refresh, 5000)" in text
