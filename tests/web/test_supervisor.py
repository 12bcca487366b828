"""The supervisor's seat: the board with each queue's figures and the colour thresholds, agent
moves and listen/whisper/barge by permission, the thresholds setting checked at start, and the
wallboard in a real browser following the live figures and the agents without a reload.

The engine is a MemoryEngine (the ACD's own status rules) behind the real control server, its
events on an in-process bus relayed by the web app's /api/events.
"""

import pytest

from fs_cc import events
from fs_cc.control import SuperviseMode, commands
from fs_cc.errors import ConfigError
from tests.polling import wait_until
from tests.test_control import MemoryEngine, serve
from tests.web.browser import chromium_or_skip
from tests.web.support import create_token, create_user, database_url_for, dispose
from tests.web.test_events_stream import build_app, engine_agents, web_server
from web.supervisor.services import DEFAULT_THRESHOLDS, thresholds

FIGURES = {"waiting": 4, "longest_wait": 75.0, "offered": 30, "answered": 24, "abandoned": 3,
           "short_abandoned": 1, "overflowed": 1, "answered_in_service_level": 20,
           "service_level": 0.7692, "asa": 14.2, "aht": 185.0, "answered_30m": 6,
           "abandoned_30m": 1, "service_level_30m": 0.5}


class WallboardEngine(MemoryEngine):
    """A MemoryEngine whose queues carry figures and whose calls can be supervised."""

    def __init__(self):
        super().__init__(agents=engine_agents())
        self.figures = {"sales": dict(FIGURES), "support": dict(FIGURES, waiting=0,
                                                                 longest_wait=0.0)}
        self.call_list = [{"uuid": "call-7", "caller": "13800138000", "did": "4000",
                           "started_at": "2026-12-08T09:00:00+00:00",
                           "legs": [{"uuid": "call-7", "state": "ACTIVE"},
                                    {"uuid": "leg-7", "state": "ACTIVE",
                                     "variables": {"fs_cc_agent": "1001"}}]}]

    def queues(self):
        return [dict(queue, **self.figures[queue["name"]]) for queue in super().queues()]

    def execute(self, command):
        if isinstance(command, commands.SuperviseCall):
            self.executed.append(command)
            return {"call_uuid": command.call_uuid, "supervisor": command.supervisor,
                    "mode": command.mode.value, "ringing": True}
        return super().execute(command)


@pytest.fixture
def seat(tmp_path, migrated_databases):
    """(app, backend, tokens by role) on a WallboardEngine."""
    backend = WallboardEngine()
    server, _ = serve(backend, bus=backend.bus, heartbeat=0.5)
    app = build_app(tmp_path, database_url_for(migrated_databases, "sqlite"),
                    server.address[1],
                    wallboard_thresholds={"waiting": [2, 5], "service_level_30m": [0.8, 0.6]})
    heads = {}
    for role, extension in (("supervisor", "2000"), ("manager", None), ("agent", "1001")):
        _, username, _ = create_user(app, role=role, extension=extension)
        heads[role] = {"Authorization": f"Bearer {create_token(app, username)}"}
    yield app, backend, heads
    app.extensions["fs_cc_events"].close()
    dispose(app)
    server.stop(timeout=0.2)
    backend.bus.close()


def test_given_the_board_then_queues_with_their_figures_agents_calls_and_thresholds(seat):
    app, _, heads = seat
    board = app.test_client().get("/api/supervisor/board", headers=heads["supervisor"])

    assert board.status_code == 200
    data = board.get_json()
    sales = next(queue for queue in data["queues"] if queue["name"] == "sales")
    assert {name: sales[name] for name in FIGURES} == FIGURES
    assert [agent["extension"] for agent in data["agents"]] == ["1000", "1001"]
    assert data["thresholds"] == dict(DEFAULT_THRESHOLDS, waiting=[2, 5],
                                      service_level_30m=[0.8, 0.6])
    assert data["engine_available"] is True and len(data["calls"]) == 1


def test_given_each_role_then_who_may_see_move_and_supervise(seat):
    app, backend, heads = seat
    client = app.test_client()

    agent_board = client.get("/api/supervisor/board", headers=heads["agent"])
    supervisor_move = client.post("/api/supervisor/agents/1000/status",
                                  json={"status": "not_ready"}, headers=heads["supervisor"])
    manager_move = client.post("/api/supervisor/agents/1000/status",
                               json={"status": "not_ready", "reason": "meeting"},
                               headers=heads["manager"])
    listen = client.post("/api/supervisor/calls/call-7/supervise", json={"mode": "whisper"},
                         headers=heads["supervisor"])
    no_phone = client.post("/api/supervisor/calls/call-7/supervise", json={"mode": "listen"},
                           headers=heads["manager"])
    bad_mode = client.post("/api/supervisor/calls/call-7/supervise", json={"mode": "shout"},
                           headers=heads["supervisor"])

    assert agent_board.status_code == 403  # an agent sees their own desktop, not the floor
    assert supervisor_move.status_code == 403  # supervise, but not agents.manage
    assert manager_move.status_code == 200 and manager_move.get_json()["status"] == "not_ready"
    assert listen.status_code == 200 and listen.get_json()["ringing"] is True
    assert no_phone.status_code == 409 and no_phone.get_json()["field"] == "extension"
    assert bad_mode.status_code == 400 and bad_mode.get_json()["field"] == "mode"
    assert [c for c in backend.executed if not isinstance(c, commands.SetAgentStatus)] == [
        commands.SuperviseCall(call_uuid="call-7", supervisor="2000",
                               mode=SuperviseMode.WHISPER)]
    [move] = [c for c in backend.executed if isinstance(c, commands.SetAgentStatus)]
    assert (move.agent, move.status, move.reason) == ("1000", "not_ready", "meeting")


@pytest.mark.parametrize("configured, message", [
    ({"queue_length": [1, 2]}, "wallboard_thresholds.queue_length: no such figure"),
    ({"waiting": [5]}, "wallboard_thresholds.waiting: must be [warn, alarm]"),
    ({"waiting": [9, 3]}, "wallboard_thresholds.waiting: the alarm level must be above"),
    ({"service_level": [0.6, 0.8]},
     "wallboard_thresholds.service_level: the alarm level must be below"),
])
def test_given_bad_thresholds_then_the_app_refuses_to_start_naming_them(
        tmp_path, migrated_databases, configured, message):
    with pytest.raises(ConfigError) as error:
        thresholds(configured)
    assert message in str(error.value)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        build_app(tmp_path, database_url_for(migrated_databases, "sqlite"), 1,
                  wallboard_thresholds=configured)


# -- in a real browser ------------------------------------------------------------------------

def tile_figure(browser, queue, figure):
    """(text, level class) of a figure on a queue's tile, as the page shows it now."""
    return browser.execute_script(
        "var dd = document.querySelector('.tile[data-queue=\"' + arguments[0] + '\"] "
        "dd[data-figure=\"' + arguments[1] + '\"]');"
        "return dd ? [dd.textContent, dd.className] : null;", queue, figure)


def test_given_the_wallboard_in_a_browser_then_figures_and_agents_follow_the_engine_live(seat):
    from selenium.webdriver.common.by import By

    app, backend, _ = seat
    _, username, password = create_user(app, role="manager")
    browser = chromium_or_skip()
    try:
        with web_server(app) as web:
            browser.get(f"{web}/auth/login?next=/supervisor")
            browser.find_element(By.ID, "username").send_keys(username)
            browser.find_element(By.ID, "password").send_keys(password)
            browser.find_element(By.CSS_SELECTOR, "form.login button").click()
            wait_until(lambda: browser.execute_script(
                "var p = document.getElementById('live-state'); return p && p.dataset.state;")
                == "open", timeout=15, what="the wallboard's event stream open")
            wait_until(lambda: tile_figure(browser, "sales", "waiting") is not None, timeout=10,
                       what="the sales tile")
            # 4 waiting: past the warning level (2), short of the alarm (5)
            assert tile_figure(browser, "sales", "waiting") == ["4", "level-warn"]
            assert tile_figure(browser, "sales", "service_level_30m") == ["50 %", "level-alarm"]
            browser.execute_script("window.notReloaded = true;")

            backend.publish(events.QueueFiguresChanged, queue="sales",
                            **dict(FIGURES, waiting=7, service_level_30m=0.9,
                                   agents={"available": 1}))
            wait_until(lambda: tile_figure(browser, "sales", "waiting") == ["7", "level-alarm"],
                       timeout=10, what="the sales tile to show 7 waiting, in alarm")
            assert tile_figure(browser, "sales", "service_level_30m") == ["90 %", "level-ok"]

            # a manager moves agent 1000 from the page: the engine moves them, the row follows
            browser.execute_script(
                "var tr = document.querySelector('tr[data-extension=\"1000\"]');"
                "Array.from(tr.querySelectorAll('button')).filter(function (b) {"
                " return b.textContent === 'Not ready'; })[0].click();")
            wait_until(lambda: browser.execute_script(
                "return document.querySelector('tr[data-extension=\"1000\"] span.status')"
                ".textContent;") == "not_ready", timeout=10, what="agent 1000 not ready")
            assert backend.by_extension["1000"].status.value == "not_ready"
            assert browser.execute_script("return window.notReloaded === true;")
    finally:
        browser.quit()


def test_given_the_tv_view_then_the_page_has_no_navigation_and_no_inline_script(seat):
    app, _, _ = seat
    _, username, password = create_user(app, role="supervisor")
    client = app.test_client()
    from tests.web.support import login

    login(client, username, password)
    page = client.get("/supervisor?tv=1").get_data(as_text=True)
    assert '<body class="tv">' in page and 'src="/static/supervisor.js"' in page
    assert "<script>" not in page
