"""The supervisor's hands on calls through the web: a waiting caller's priority changed, a
waiting caller moved to another queue, a call taken over by the supervisor's own phone; by
permission, with the engine's refusals naming the field. The engine is a MemoryEngine behind
the real control server."""

import pytest

from fs_cc.acd.agents import UnknownQueue
from fs_cc.control import commands
from tests.polling import wait_until
from tests.test_control import serve
from tests.web.browser import chromium_or_skip
from tests.web.support import create_token, create_user, database_url_for, dispose
from tests.web.test_events_stream import build_app, web_server
from tests.web.test_supervisor import WallboardEngine

BUSY = "call-busy"  # a call the engine says is not waiting (connected)


class CallsEngine(WallboardEngine):
    """A WallboardEngine answering the supervisor's call commands as the engine does."""

    def execute(self, command):
        if isinstance(command, (commands.SetCallerPriority, commands.MoveCaller,
                                commands.TakeOverCall)):
            self.executed.append(command)
            if command.call_uuid == BUSY:
                raise commands.CommandRefused("call_uuid", f"call {BUSY} is not waiting")
            if isinstance(command, commands.SetCallerPriority):
                return {"call_uuid": command.call_uuid, "queue": "sales",
                        "priority": command.priority}
            if isinstance(command, commands.MoveCaller):
                if command.queue not in self.queue_names:
                    raise UnknownQueue(command.queue)
                return {"call_uuid": command.call_uuid, "queue": command.queue, "priority": 0}
            return {"call_uuid": command.call_uuid, "extension": command.extension,
                    "leg_uuid": "leg-9", "ringing": True}
        return super().execute(command)


@pytest.fixture
def seat(tmp_path, migrated_databases):
    """(client, backend, headers by role) on a CallsEngine."""
    backend = CallsEngine()
    server, _ = serve(backend, bus=backend.bus, heartbeat=0.5)
    app = build_app(tmp_path, database_url_for(migrated_databases, "sqlite"), server.address[1])
    heads = {}
    for role, extension in (("supervisor", "2000"), ("manager", None), ("agent", "1001")):
        _, username, _ = create_user(app, role=role, extension=extension)
        heads[role] = {"Authorization": f"Bearer {create_token(app, username)}"}
    yield app.test_client(), backend, heads
    app.extensions["fs_cc_events"].close()
    dispose(app)
    server.stop(timeout=0.2)
    backend.bus.close()


def sent(backend, kind):
    return [c for c in backend.executed if isinstance(c, kind)]


def test_given_a_waiting_caller_when_its_priority_is_set_then_the_engine_is_told(seat):
    client, backend, heads = seat
    answer = client.post("/api/supervisor/calls/call-7/priority", json={"priority": 9},
                         headers=heads["supervisor"])
    assert answer.status_code == 200 and answer.get_json()["priority"] == 9
    assert sent(backend, commands.SetCallerPriority) == [
        commands.SetCallerPriority(call_uuid="call-7", priority=9)]


@pytest.mark.parametrize("body", [{"priority": 101}, {"priority": -1}, {"priority": "high"},
                                  {"priority": True}, {}])
def test_given_a_bad_priority_then_400_naming_priority_and_nothing_sent(seat, body):
    client, backend, heads = seat
    answer = client.post("/api/supervisor/calls/call-7/priority", json=body,
                         headers=heads["supervisor"])
    assert answer.status_code == 400 and answer.get_json()["field"] == "priority"
    assert sent(backend, commands.SetCallerPriority) == []


def test_given_a_waiting_caller_when_moved_then_the_engine_is_told_and_refusals_name_the_field(
        seat):
    client, backend, heads = seat
    moved = client.post("/api/supervisor/calls/call-7/move", json={"queue": "support"},
                        headers=heads["supervisor"])
    nowhere = client.post("/api/supervisor/calls/call-7/move", json={"queue": "nowhere"},
                          headers=heads["supervisor"])
    connected = client.post(f"/api/supervisor/calls/{BUSY}/move", json={"queue": "support"},
                            headers=heads["supervisor"])
    blank = client.post("/api/supervisor/calls/call-7/move", json={"queue": " "},
                        headers=heads["supervisor"])

    assert moved.status_code == 200 and moved.get_json()["queue"] == "support"
    assert nowhere.status_code == 404 and nowhere.get_json()["field"] == "queue"
    assert connected.status_code == 409 and connected.get_json()["field"] == "call_uuid"
    assert blank.status_code == 400 and blank.get_json()["field"] == "queue"
    assert sent(backend, commands.MoveCaller)[0] == commands.MoveCaller(call_uuid="call-7",
                                                                        queue="support")


def test_given_a_supervisor_with_a_phone_when_taking_over_then_their_extension_rings(seat):
    client, backend, heads = seat
    answer = client.post("/api/supervisor/calls/call-7/take-over", headers=heads["supervisor"])
    assert answer.status_code == 200 and answer.get_json()["ringing"] is True
    assert sent(backend, commands.TakeOverCall) == [
        commands.TakeOverCall(call_uuid="call-7", extension="2000")]


def test_given_a_user_without_a_phone_when_taking_over_then_400_naming_extension(seat):
    client, backend, heads = seat
    answer = client.post("/api/supervisor/calls/call-7/take-over", headers=heads["manager"])
    assert answer.status_code == 400 and answer.get_json()["field"] == "extension"
    assert sent(backend, commands.TakeOverCall) == []


def test_given_an_agent_then_none_of_the_call_actions_is_allowed(seat):
    client, backend, heads = seat
    for path, body in (("priority", {"priority": 1}), ("move", {"queue": "support"}),
                       ("take-over", None)):
        answer = client.post(f"/api/supervisor/calls/call-7/{path}", json=body,
                             headers=heads["agent"])
        assert answer.status_code == 403, path
    assert backend.executed == []


def test_given_the_wallboard_in_a_browser_then_waiting_and_connected_calls_have_their_controls(
        seat):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    client, backend, _ = seat
    app = client.application
    backend.call_list.append({"uuid": "call-8", "caller": "13900139000", "did": "4000",
                              "started_at": "2026-12-08T09:01:00+00:00",
                              "legs": [{"uuid": "call-8", "state": "ACTIVE",
                                        "variables": {"fs_cc_queue": "sales"}}]})
    _, username, password = create_user(app, role="supervisor", extension="2001")
    browser = chromium_or_skip()
    try:
        with web_server(app) as web:
            browser.get(f"{web}/auth/login?next=/supervisor")
            browser.find_element(By.ID, "username").send_keys(username)
            browser.find_element(By.ID, "password").send_keys(password)
            browser.find_element(By.CSS_SELECTOR, "form.login button").click()
            row = 'tr[data-call="call-8"]'
            wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, row + " select"),
                       timeout=15, what="the waiting call's controls")

            def click(selector, text):
                for each in browser.find_elements(By.CSS_SELECTOR, selector + " button"):
                    if each.text == text:
                        each.click()
                        return
                raise AssertionError(f"no {text!r} button in {selector}")

            priority = browser.find_element(By.CSS_SELECTOR, row + " input.caller-priority")
            priority.clear()
            priority.send_keys("8")
            click(row, "set priority")
            wait_until(lambda: sent(backend, commands.SetCallerPriority), timeout=10,
                       what="the priority sent")
            assert [o.text for o in Select(browser.find_element(
                By.CSS_SELECTOR, row + " select")).options] == ["support"]  # not its own
            click(row, "move")
            wait_until(lambda: sent(backend, commands.MoveCaller), timeout=10,
                       what="the move sent")
            # the connected call: take over, no waiting controls
            connected = 'tr[data-call="call-7"]'
            assert browser.find_elements(By.CSS_SELECTOR, connected + " select") == []
            click(connected, "take over")
            wait_until(lambda: sent(backend, commands.TakeOverCall), timeout=10,
                       what="the take-over sent")
    finally:
        browser.quit()
    assert sent(backend, commands.SetCallerPriority) == [
        commands.SetCallerPriority(call_uuid="call-8", priority=8)]
    assert sent(backend, commands.MoveCaller) == [
        commands.MoveCaller(call_uuid="call-8", queue="support")]
    assert sent(backend, commands.TakeOverCall) == [
        commands.TakeOverCall(call_uuid="call-7", extension="2001")]
