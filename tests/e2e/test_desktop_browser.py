"""The agent desktop in a real browser over the whole stack: a real Engine on the emulator, the
web app served by gevent's WSGIServer and talking to the engine's control port with its secret
(its live events from the engine's own /events), headless Chromium on /desktop.

A known caller goes through the IVR into sales; the agent's phone rings, the pop shows the
customer, the queue and the IVR path; the phone answers; wrap-up asks a disposition before the
agent may go available; what the agent types survives a reload (a server-side draft); the call
is filed. An unknown caller then pops as a new caller with a prefilled create link.
"""

import pytest
import sqlalchemy as sa

from fs_cc.emulator.dialplan import Dialplan, default_dialplan
from fs_cc.engine import Engine
from tests.engine.support import RecordingPublisher, engine_settings, stop_engine
from tests.polling import wait_until
from tests.web.browser import chromium_or_skip
from tests.web.support import (CONTROL_SECRET, create_user, database_url_for,  # noqa: F401
                               dispose, migrated_databases)
from tests.web.test_events_stream import build_app, web_server
from web.crm.rules import CustomerRules
from web.crm.services import CustomerService
from web.desktop.models import CallDisposition, DesktopDraft
from web.extensions import db

AGENT = "1000"
KNOWN = "13912345678"
UNKNOWN = "02155550123"
NAME = "王小明"
DID = "5901"  # the emulator's default dialplan sends it to the engine's IVR (main flow)
# simulated seconds (the emulator fixture runs at 20x): the phone rings 1.5 s before it answers,
# the caller talks 2 s
ANSWER_DELAY = 30
TALK = 40
NOTES = "水压低, 明天上门 (wants a visit tomorrow)"


@pytest.fixture
def engine(emulator, tmp_path):
    """A real Engine on the emulator: agent 1000 in sales (wrap-up 10 min), auto-logged in."""
    var = tmp_path / "engine"
    var.mkdir()
    engine = Engine(engine_settings(
        var, *emulator.esl_address, agents_auto_login=True, ring_timeout=120,
        agents=[{"extension": AGENT, "name": "Agent 1000", "queues": ["sales"]}],
        queues=[{"name": "sales", "strategy": "longest-idle", "wrap_up": 600},
                {"name": "support", "strategy": "longest-idle"}]),
        publisher=RecordingPublisher())
    engine.esl.backoff = (0.05, 0.2)
    engine.start()
    target = "{}:{}".format(*engine.outbound.address)
    emulator.config.socket_target = target
    emulator.dialplan = Dialplan(default_dialplan(target))
    emulator.phones[AGENT].answer_delay = ANSWER_DELAY
    assert engine.esl.wait_connected(5)
    wait_until(lambda: engine.resyncs == 1, 5, "first resync")
    wait_until(lambda: engine.agents()[0]["status"] == "available", 5, "agent logged in")
    yield engine
    stop_engine(engine)


@pytest.fixture
def app(tmp_path, migrated_databases, engine):  # noqa: F811
    """The web app on the session's SQLite database, its control client on the engine's port."""
    app = build_app(tmp_path / "web", database_url_for(migrated_databases, "sqlite"),
                    engine.control.address[1])
    assert app.config["FS_CC_CONTROL_SECRET"] == CONTROL_SECRET  # engine_settings' secret
    yield app
    app.extensions["fs_cc_events"].close()
    dispose(app)


@pytest.fixture
def browser():
    """A headless Chromium, quit afterwards."""
    driver = chromium_or_skip()
    yield driver
    driver.quit()


def create_customer(app, name, number):
    """A CRM customer with one phone; its id."""
    with app.app_context():
        service = CustomerService(db.session, CustomerRules(db.session, "CN"))
        return service.save({"name": name, "phones": [number]}, by="test").id


def page(browser, script, *args):
    """What ``script`` (a JS expression) says in the page now."""
    return browser.execute_script(f"return {script};", *args)


def shown(browser, element_id):
    """Whether the element is in the page and not hidden."""
    return page(browser, "(function (e) { return !!e && !e.hidden; })"
                         "(document.getElementById(arguments[0]))", element_id)


def text_of(browser, element_id):
    return page(browser, "document.getElementById(arguments[0]).textContent", element_id)


def wait_live(browser):
    wait_until(lambda: page(browser, "document.getElementById('live-state')"
                                     " && document.getElementById('live-state').dataset.state")
               == "open", 15, "the desktop's event stream open")


def wait_status(browser, status):
    wait_until(lambda: text_of(browser, "agent-status") == status, 10,
               f"the desktop to show the agent {status}")


def log_in(browser, web, username, password):
    from selenium.webdriver.common.by import By

    browser.get(f"{web}/auth/login?next=/desktop")
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()
    wait_live(browser)


def stored(app, model, **where):
    with app.app_context():
        query = sa.select(model).filter_by(**where)
        return [row.to_dict() for row in db.session.execute(query).scalars()]


def test_given_a_known_caller_then_the_desktop_pops_answers_wraps_up_and_files_the_call(
        emulator, engine, app, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _, username, password = create_user(app, role="agent", extension=AGENT)
    customer_id = create_customer(app, NAME, KNOWN)
    with web_server(app) as web:
        # not ready before the page opens: the Ready button is what makes the agent available
        app.extensions["fs_cc_control"].default.set_agent_status(AGENT, "not_ready",
                                                                  reason="break")
        log_in(browser, web, username, password)
        wait_status(browser, "not_ready")
        browser.find_element(By.ID, "go-ready").click()
        wait_status(browser, "available")

        emulator.place_call(DID, caller_number=KNOWN, dtmf="1", talk_seconds=TALK)

        wait_until(lambda: shown(browser, "pop") and text_of(browser, "pop-name") == NAME, 10,
                   "the pop of the known caller")
        uuid = page(browser, "document.getElementById('pop').dataset.call")
        assert engine.call_context(uuid)["offered_to"] == AGENT
        assert text_of(browser, "pop-queue") == "sales"
        assert text_of(browser, "pop-ivr") == "welcome → menu → sales"
        assert text_of(browser, "pop-inputs") == "menu: 1"
        assert not shown(browser, "pop-new") and shown(browser, "pop-customer-link")
        assert int(page(browser, "document.getElementById('desktop').dataset.popMs")) >= 0

        # the simulated phone answers: wrap-up opens, an empty draft marks the call owed
        wait_until(lambda: shown(browser, "wrap-up"), 10, "wrap-up opened on answer")
        assert engine.call_context(uuid)["agent"] == AGENT
        wait_until(lambda: stored(app, DesktopDraft, call_uuid=uuid), 5, "the empty draft")

        # the caller hangs up: the engine puts the agent in wrap-up
        wait_status(browser, "wrap_up")
        assert engine.call_context(uuid)["state"] == "ended"
        browser.find_element(By.ID, "go-ready").click()
        wait_until(lambda: shown(browser, "desktop-notice"), 5, "Ready refused")
        notice = text_of(browser, "desktop-notice")
        assert notice.startswith("disposition: file the call") and "going available" in notice
        assert engine.agents()[0]["status"] == "wrap_up"

        Select(browser.find_element(By.ID, "wrap-disposition")).select_by_value("complaint")
        browser.find_element(By.ID, "wrap-notes").send_keys(NOTES)
        wait_until(lambda: [(d["disposition"], d["notes"]) for d in
                            stored(app, DesktopDraft, call_uuid=uuid)] == [("complaint", NOTES)],
                   5, "the draft stored server-side")
        wait_until(lambda: text_of(browser, "wrap-saved") == "draft saved", 5, "draft saved")

        browser.refresh()
        wait_live(browser)
        wait_until(lambda: shown(browser, "wrap-up") and
                   page(browser, "document.getElementById('wrap-notes').value") == NOTES, 10,
                   "the draft's notes back after the reload")
        assert page(browser, "document.getElementById('wrap-disposition').value") == "complaint"
        assert text_of(browser, "pop-name") == NAME
        assert page(browser, "document.querySelector('#owed li').dataset.call") == uuid

        browser.find_element(By.CSS_SELECTOR, "#wrap-up-form button[type=submit]").click()
        wait_until(lambda: not shown(browser, "wrap-up"), 5, "wrap-up closed once filed")
        [filed] = stored(app, CallDisposition, call_uuid=uuid)
        assert (filed["agent"], filed["username"], filed["queue"], filed["disposition"],
                filed["notes"], filed["customer_id"]) == (AGENT, username, "sales", "complaint",
                                                          NOTES, customer_id)
        assert stored(app, DesktopDraft, call_uuid=uuid) == []
        assert not shown(browser, "pop")

        # filed: Ready is accepted now, and an unknown caller pops as a new caller
        browser.find_element(By.ID, "go-ready").click()
        wait_status(browser, "available")
        assert not shown(browser, "desktop-notice")
        # this time the phone answers at once: the answer may come while the pop still loads
        emulator.phones[AGENT].answer_delay = 0
        emulator.place_call(DID, caller_number=UNKNOWN, dtmf="1", talk_seconds=TALK)

        wait_until(lambda: shown(browser, "pop") and shown(browser, "pop-new"), 10,
                   "the pop of the unknown caller")
        assert page(browser, "document.getElementById('pop').dataset.call") != uuid
        assert "New caller" in text_of(browser, "pop-new")
        link = page(browser, "document.getElementById('pop-new-link').href")
        assert link == f"{web}/crm/customers/new?number={UNKNOWN}"
        assert text_of(browser, "pop-number") == UNKNOWN
        assert not shown(browser, "pop-customer-link")
        # the new call's wrap-up starts empty, not with what was filed for the last one
        wait_until(lambda: shown(browser, "wrap-up"), 10, "wrap-up opened on answer")
        second = page(browser, "document.getElementById('pop').dataset.call")
        [draft] = wait_until(lambda: stored(app, DesktopDraft, call_uuid=second), 5,
                             "the second call's draft")
        assert (draft["disposition"], draft["notes"], draft["customer_id"]) == ("", "", None)
        assert page(browser, "document.getElementById('wrap-notes').value") == ""
        assert page(browser, "document.getElementById('wrap-disposition').value") == ""


def test_given_an_answered_call_then_hold_unhold_and_a_transfer_to_a_queue_from_the_page(
        emulator, engine, app, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _, username, password = create_user(app, role="agent", extension=AGENT)
    emulator.phones[AGENT].answer_delay = 0
    with web_server(app) as web:
        log_in(browser, web, username, password)
        wait_status(browser, "available")
        emulator.place_call(DID, caller_number=UNKNOWN, dtmf="1", talk_seconds=6000)
        wait_until(lambda: shown(browser, "call-controls") and page(
            browser, "document.getElementById('pop').dataset.call"), 10,
            "the call's pop and its controls on answer")
        uuid = page(browser, "document.getElementById('pop').dataset.call")

        browser.find_element(By.ID, "call-hold").click()
        wait_until(lambda: engine.call_context(uuid)["state"] == "held", 10, "the caller held")
        wait_until(lambda: shown(browser, "call-unhold") and not shown(browser, "call-hold"),
                   5, "the Unhold button")
        assert text_of(browser, "pop-state") == "held"

        browser.find_element(By.ID, "call-unhold").click()
        wait_until(lambda: engine.call_context(uuid)["state"] == "connected", 10,
                   "the caller back with the agent")
        wait_until(lambda: shown(browser, "call-hold"), 5, "the Hold button again")

        Select(browser.find_element(By.ID, "transfer-kind")).select_by_value("queue")
        browser.find_element(By.ID, "transfer-target").send_keys("support")
        browser.find_element(By.ID, "call-transfer").click()
        # the caller waits in support (nobody serves it); the agent wraps the call up
        wait_until(lambda: engine.call_context(uuid)["queue"] == "support", 10,
                   "the caller in the support queue")
        wait_status(browser, "wrap_up")
        wait_until(lambda: not shown(browser, "call-controls"), 5, "the controls gone")
        assert text_of(browser, "pop-state") == "transferred to support"
        Select(browser.find_element(By.ID, "wrap-disposition")).select_by_value("consultation")
        browser.find_element(By.CSS_SELECTOR, "#wrap-up-form button[type=submit]").click()
        wait_until(lambda: stored(app, CallDisposition, call_uuid=uuid), 5, "the call filed")
