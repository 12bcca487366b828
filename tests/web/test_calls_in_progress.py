"""The Calls page's "Calls in progress": the engine's live calls, through its control interface."""

import pytest

from tests.web.support import closed_port, create_record, create_user, login


def engine_call(uuid, caller, started_at, agent=None, agent_phase="bridged", queue="sales"):
    """One entry of the engine's ``calls()``: the caller's leg and, once rung, an agent's leg."""
    legs = [{"uuid": uuid, "name": "loopback/4000-b", "phase": "answered",
             "variables": {"fs_cc_did": "4000"}}]
    if agent is not None:
        legs.append({"uuid": f"{uuid}-agent", "name": f"sofia/internal/{agent}@127.0.0.1",
                     "phase": agent_phase,
                     "variables": {"fs_cc_call_uuid": uuid, "fs_cc_queue": queue,
                                   "fs_cc_agent": agent}})
    return {"uuid": uuid, "caller": caller, "did": "4000", "started_at": started_at, "legs": legs}


LIVE = [
    engine_call("call-talking", "13800000001", "2026-03-02T08:00:00+00:00", agent="1000"),
    engine_call("call-ringing", "13800000002", "2026-03-02T08:01:00+00:00", agent="1001",
                agent_phase="ringing", queue="support"),
    engine_call("call-in-ivr", "13800000003", "2026-03-02T08:02:00+00:00"),
]


@pytest.fixture
def live_engine(engine, monkeypatch):
    """The engine fixture, now with three calls in progress."""
    backend, port = engine
    monkeypatch.setattr(backend, "calls", lambda: LIVE)
    return backend


def live_section(text):
    """The HTML of the Calls page's calls-in-progress section."""
    start = text.index("<h2>Calls in progress</h2>")
    return text[start:text.index("<h2>Call records</h2>", start)]


def test_given_calls_in_progress_when_opening_calls_then_each_is_shown_above_the_records(
        live_engine, app, client):
    record = create_record(app, caller_number="13911112222")
    _, username, password = create_user(app, role="manager")
    login(client, username, password)

    response = client.get("/calls")
    text = response.get_data(as_text=True)
    live = live_section(text)

    assert response.status_code == 200
    assert '<p id="live-notice" class="notice error" hidden>' in live
    for caller in ("13800000001", "13800000002", "13800000003"):
        assert f"<td>{caller}</td>" in live
    assert live.index("13800000003") < live.index("13800000002") < live.index("13800000001")
    assert "<td>with agent</td>" in live and "<td>ringing agent</td>" in live
    assert "<td>IVR or queue</td>" in live
    assert "<td>1000</td>" in live and "<td>support</td>" in live
    assert record["caller_number"] not in live
    assert record["caller_number"] in text[text.index("<h2>Call records</h2>"):]


def test_given_calls_in_progress_when_asking_json_then_same_calls_newest_first(
        live_engine, app, client):
    _, username, password = create_user(app, role="supervisor")
    login(client, username, password)

    response = client.get("/calls/in-progress")
    body = response.get_json()

    assert response.status_code == 200
    assert body["engine_available"] is True
    assert [call["uuid"] for call in body["calls"]] == ["call-in-ivr", "call-ringing",
                                                        "call-talking"]
    assert body["calls"][2] == {"uuid": "call-talking", "caller": "13800000001", "did": "4000",
                                "started_at": "2026-03-02T08:00:00+00:00", "state": "with agent",
                                "queue": "sales", "agent": "1000"}


def test_given_an_agent_when_opening_calls_then_only_calls_on_their_phone(live_engine, app,
                                                                          client):
    _, username, password = create_user(app, role="agent", extension="1001")
    login(client, username, password)

    live = live_section(client.get("/calls").get_data(as_text=True))
    body = client.get("/calls/in-progress").get_json()

    assert "13800000002" in live
    assert "13800000001" not in live and "13800000003" not in live
    assert [call["uuid"] for call in body["calls"]] == ["call-ringing"]


def test_given_no_calls_in_progress_then_the_section_says_so(engine, app, client):
    _, username, password = create_user(app, role="admin")
    login(client, username, password)

    live = live_section(client.get("/calls").get_data(as_text=True))

    assert "No calls in progress." in live


def test_given_nothing_listens_when_opening_calls_then_records_and_an_engine_notice(
        tmp_path, migrated_databases):
    from tests.web.support import app_on, database_url_for, dispose

    app = app_on(tmp_path, database_url_for(migrated_databases, "sqlite"),
                 control_port=closed_port())
    record = create_record(app)
    client = app.test_client()
    _, username, password = create_user(app, role="manager")
    login(client, username, password)
    try:
        page = client.get("/calls")
        api = client.get("/calls/in-progress")
    finally:
        dispose(app)

    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<p id="live-notice" class="notice error" >' in live_section(text)
    assert record["caller_number"] in text
    assert api.status_code == 503
    assert api.get_json() == {"engine_available": False, "error": "engine unavailable",
                              "calls": []}


def test_given_the_page_then_calls_in_progress_refresh_from_the_json(engine, app, client):
    _, username, password = create_user(app, role="manager")
    login(client, username, password)

    text = client.get("/calls").get_data(as_text=True)
    script = client.get("/static/calls.js").get_data(as_text=True)

    assert 'data-live-url="/calls/in-progress"' in text and 'data-refresh-ms="5000"' in text
    assert 'src="/static/calls.js"' in text
    assert "fsCc.getJson(section.dataset.liveUrl)" in script
    assert "setInterval(refresh, Number(section.dataset.refreshMs)" in script


def test_given_no_login_when_asking_calls_in_progress_then_not_served(live_engine, client):
    response = client.get("/calls/in-progress")

    assert response.status_code in (302, 401)
    assert b"13800000001" not in response.data
