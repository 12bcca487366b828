"""The agents page and /api/agents: live state from the engine, updated by push, or a notice."""

import pytest

from fs_cc import events
from fs_cc.control import ControlClient
from tests.polling import wait_until
from tests.test_control import SECRET
from tests.web.browser import chromium_or_skip
from tests.web.support import closed_port, create_token, create_user, dispose, login
from tests.web.test_events_stream import app, build_app, engine, web  # noqa: F401 (fixtures)


@pytest.fixture
def client(app):
    """A test client of ``app``."""
    return app.test_client()


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
    assert '<tr data-extension="1001">' in text
    assert '<p id="engine-notice" class="notice error" hidden>' in text
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"


def test_given_the_engine_answers_when_asking_the_api_then_same_agents_as_json(
        engine, app, client, supervisor):
    backend, _ = engine
    backend.set_status("1000", "break")

    body = client.get("/api/agents").get_json()

    assert body["engine_available"] is True
    assert [(a["extension"], a["status"]) for a in body["agents"]] == [("1000", "not_ready"),
                                                                       ("1001", "on_call")]
    assert body["queues"][0] == {"name": "sales", "strategy": "longest-idle", "waiting": 0,
                                 "agents_available": 0, "agents_logged_in": 2}


def test_given_nothing_listens_when_opening_agents_then_engine_unavailable_notice(
        tmp_path, migrated_databases):
    from tests.web.support import database_url_for

    app = build_app(tmp_path, database_url_for(migrated_databases, "sqlite"), closed_port())
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


def test_given_a_web_app_with_the_wrong_control_secret_then_the_engine_refuses_it(
        engine, tmp_path, migrated_databases):
    from tests.web.support import database_url_for

    _, server = engine
    app = build_app(tmp_path, database_url_for(migrated_databases, "sqlite"),
                    server.address[1], config={"FS_CC_CONTROL_SECRET": "not-the-secret"})
    client = app.test_client()
    _, username, password = create_user(app, role="manager")
    login(client, username, password)
    try:
        api = client.get("/api/agents")
    finally:
        dispose(app)

    assert api.status_code == 503
    assert api.get_json()["error"].startswith("engine error: the control secret is required")


def test_given_the_page_then_it_listens_to_the_event_stream_and_does_not_poll(
        engine, app, client, supervisor):
    text = client.get("/agents").get_data(as_text=True)
    script = client.get("/static/agents.js").get_data(as_text=True)

    assert 'data-stream-url="/api/events"' in text and 'src="/static/agents.js"' in text
    assert 'data-board-url="/api/agents"' in text  # the full refresh, on (re)connect only
    assert "new EventSource(board.dataset.streamUrl)" in script
    assert "setInterval(refresh" not in script
    assert "Refreshes every" not in text


# -- in a real browser ------------------------------------------------------------------------

@pytest.fixture
def browser():
    """A headless Chromium, quit afterwards."""
    driver = chromium_or_skip()
    yield driver
    driver.quit()


def row_status(browser, extension):
    """The status text in the agent's row, as the page shows it now."""
    return browser.execute_script(
        "var tr = document.querySelector('tr[data-extension=\"' + arguments[0] + '\"]');"
        "return tr ? tr.querySelector('span.status').textContent : null;", extension)


def test_given_the_agents_page_in_a_browser_when_an_agent_changes_state_then_its_row_changes(
        engine, app, web, browser):
    from selenium.webdriver.common.by import By

    backend, server = engine
    _, username, password = create_user(app, role="supervisor")
    browser.get(f"{web}/auth/login?next=/agents")
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()
    wait_until(lambda: browser.execute_script(
        "var p = document.getElementById('live-state'); return p && p.dataset.state;") == "open",
        timeout=15, what="the page's event stream open")
    assert row_status(browser, "1000") == "available"
    browser.execute_script("window.notReloaded = true;")

    engine_control = ControlClient("http://%s:%s" % server.address, SECRET)
    engine_control.set_agent_status("1000", "break", reason="lunch")

    wait_until(lambda: row_status(browser, "1000") == "not_ready", timeout=10,
               what="agent 1000's row to say not_ready")
    change = [e for e in backend.published if isinstance(e, events.AgentStatusChanged)][-1]
    since = browser.execute_script(
        "return document.querySelector('tr[data-extension=\"1000\"] td.since').dataset.since;")
    assert since == change.ts.isoformat()
    assert row_status(browser, "1001") == "on_call"
    assert browser.execute_script("return window.notReloaded === true;")
    # the board was fetched once, when the stream opened; the change came by push, not a poll
    fetches = browser.execute_script(
        "return performance.getEntriesByType('resource')"
        ".filter(function (e) { return e.name.indexOf('/api/agents') >= 0; }).length;")
    assert fetches == 1
