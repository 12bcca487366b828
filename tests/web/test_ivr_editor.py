"""In Debian's headless Chromium: the IVR flow editor on the real IVR JSON API. The validator's
messages at their lines with Save disabled, the graph following the text as it is typed, a save
that makes a new version, the diff between two versions, a server refusal shown at its lines,
a read-only user who cannot save, and the statistics drawn on the graph.

Real servers: the web app under gevent's WSGIServer (tests/web/test_browser_account.py's Site),
on a migrated SQLite database, its flow files in the test's own folder.
"""

import dataclasses
import pathlib
import shutil

import pytest

from fs_cc.sounds import PREFIX_SUBDIR
from tests.polling import wait_until
from tests.web.support import (create_user, csrf_headers, database_url_for, dispose,
                               empty_tables, login, make_settings)
from tests.web.test_browser_account import Site, browser, console_errors, log_in  # noqa: F401
from tests.web.test_ivr_stats import scripted_calls
from web import create_app
from web.catalog.models import Queue
from web.extensions import db
from web.facts.services import FactService

REPO_SOUNDS = (pathlib.Path(__file__).resolve().parents[2] / "freeswitch_conf" / "sounds"
               / PREFIX_SUBDIR / "ivr")
FLOW = "hotline"
FLOW_YAML = """\
name: hotline
start: welcome
nodes:
  welcome:
    type: play
    prompt: ivr/ivr-welcome_to_freeswitch.wav
    next: menu
  menu:
    type: menu
    prompt: ivr/ivr-please_choose_from_the_following.wav
    timeout: 5
    max_attempts: 3
    options:
      1: balance
      2: sales
    default: bye
  balance:
    type: play
    language: zh
    text: "您的余额是一百元"
    next: bye
  sales:
    type: queue
    queue: sales
  bye: {type: hangup}
"""
WAIT = 20  # seconds: two cores shared by many processes


@pytest.fixture
def app(tmp_path, migrated_databases):  # noqa: F811
    """A testing app whose flows folder is the test's own; queue sales and flow hotline v1."""
    flows = tmp_path / "flows"
    flows.mkdir()
    sounds = tmp_path / "sounds"
    shutil.copytree(REPO_SOUNDS, sounds / PREFIX_SUBDIR / "ivr")
    settings = dataclasses.replace(
        make_settings(tmp_path, database_url_for(migrated_databases, "sqlite")),
        ivr_flow=flows / "main.yaml", sounds_dir=sounds)
    app = create_app(test_config={"TESTING": True}, settings=settings)
    empty_tables(app)
    with app.app_context():
        db.session.add(Queue(name="sales"))
        db.session.commit()
    _, username, password = create_user(app, role="admin", username="flowadmin",
                                        password="Flow-admin-pw-1")
    client = app.test_client()
    login(client, username, password)
    answer = client.put(f"/api/ivr/flows/{FLOW}", headers=csrf_headers(client, {}),
                        json={"yaml": FLOW_YAML, "comment": "first", "base_version": None})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    yield app
    dispose(app)


@pytest.fixture
def site(app):  # noqa: F811
    """The app served for real."""
    site = Site(app)
    site.start()
    yield site
    site.stop()


def open_editor(browser, site, username="flowadmin", password="Flow-admin-pw-1"):  # noqa: F811
    """Log in, open the flow's editor and wait until its text is checked."""
    log_in(browser, site, username, password)
    wait_until(lambda: browser.execute_script("return location.pathname") != "/auth/login",
               WAIT, "the login")
    browser.get(f"{site.url}/ivr/{FLOW}")
    wait_until(lambda: errors_shown(browser) is not None, WAIT, "the first validation")


def errors_shown(browser):  # noqa: F811
    """How many errors the editor shows for the text on screen (None: not checked yet)."""
    return browser.execute_script(
        "var r = document.getElementById('ivr-editor');"
        "return r.dataset.validating || r.dataset.errors === undefined ? null"
        " : Number(r.dataset.errors);")


def set_text(browser, text):  # noqa: F811
    """Replace the editor's text as a paste would (CodeMirror's change event fires)."""
    browser.execute_script("document.getElementById('ivr-editor').editor.cm.setValue(arguments[0]);",
                           text)


def line_marks(browser, line):  # noqa: F811
    """(background class, gutter marker's title) CodeMirror holds for 1-based ``line``."""
    return browser.execute_script(
        "var info = document.getElementById('ivr-editor').editor.cm.lineInfo(arguments[0] - 1);"
        "var mark = info.gutterMarkers && info.gutterMarkers['ivr-marks'];"
        "return [info.bgClass || '', mark ? mark.title : null];", line)


def save_disabled(browser):  # noqa: F811
    return browser.execute_script("return document.getElementById('ivr-save').disabled;")


def node_ids(browser):  # noqa: F811
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#ivr-graph g.ivr-node'))"
        ".map(function (g) { return g.dataset.id; });")


def test_given_an_invalid_flow_then_save_is_disabled_and_the_message_is_at_its_line(
        browser, site):  # noqa: F811
    open_editor(browser, site)
    assert errors_shown(browser) == 0 and save_disabled(browser)  # nothing changed yet

    set_text(browser, FLOW_YAML.replace("next: menu", "next: nowhere"))
    wait_until(lambda: errors_shown(browser), WAIT, "the validator's errors")

    assert save_disabled(browser)
    messages = browser.execute_script(
        "return Array.from(document.querySelectorAll('#ivr-messages li.error'))"
        ".map(function (li) { return [li.dataset.line, li.textContent]; });")
    assert ["7", "line 7, column 11errornode 'welcome' next goes to unknown node 'nowhere'"] \
        in messages
    background, title = line_marks(browser, 7)
    assert "ivr-line-error" in background
    assert title == "node 'welcome' next goes to unknown node 'nowhere'"
    assert line_marks(browser, 6) == ["", None]
    assert "missing" in browser.execute_script(
        "return document.querySelector('#ivr-graph g.ivr-node[data-id=nowhere]').dataset.type;")
    assert console_errors(browser) == []


def test_given_typing_a_new_node_then_the_graph_draws_it(browser, site):  # noqa: F811
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    open_editor(browser, site)
    assert "extra" not in node_ids(browser)
    assert sorted(node_ids(browser)) == ["balance", "bye", "menu", "sales", "welcome"]

    browser.find_element(By.CSS_SELECTOR, "#ivr-editor .CodeMirror").click()
    ActionChains(browser).key_down(Keys.CONTROL).send_keys(Keys.END).key_up(Keys.CONTROL) \
        .send_keys("  extra: {type: hangup}").perform()

    wait_until(lambda: "extra" in node_ids(browser), WAIT, "node extra in the graph")
    wait_until(lambda: errors_shown(browser), WAIT, "the unreachable node's error")
    assert save_disabled(browser)
    assert browser.execute_script(
        "return document.querySelector('#ivr-messages li.error').dataset.line;") == "26"


def test_given_a_valid_change_when_saved_then_a_new_version_and_its_diff(
        browser, site, app):  # noqa: F811
    from selenium.webdriver.common.by import By

    open_editor(browser, site)
    set_text(browser, FLOW_YAML.replace("您的余额是一百元", "您的余额是两百元"))
    wait_until(lambda: not save_disabled(browser), WAIT, "Save enabled")
    browser.find_element(By.ID, "ivr-comment").send_keys("a new balance")
    browser.find_element(By.ID, "ivr-save").click()

    wait_until(lambda: browser.execute_script(
        "return document.getElementById('ivr-editor').dataset.versions;") == "2", WAIT,
        "two versions listed")
    assert "Saved as version 2" in browser.find_element(By.ID, "ivr-status").text
    assert save_disabled(browser)  # the text on screen is the stored one
    client = app.test_client()
    login(client, "flowadmin", "Flow-admin-pw-1")
    stored = client.get(f"/api/ivr/flows/{FLOW}/versions/2").get_json()
    assert "两百元" in stored["yaml"] and stored["comment"] == "a new balance"

    browser.find_element(By.CSS_SELECTOR, 'tr.ivr-version[data-version="2"] .ivr-diff-button').click()
    wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, "#ivr-diff .diff-add"), WAIT,
               "the diff drawn")
    removed = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#ivr-diff .diff-del")]
    added = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#ivr-diff .diff-add")]
    assert removed == ['-    text: "您的余额是一百元"']
    assert added == ['+    text: "您的余额是两百元"']


def test_given_a_spoken_prompt_then_the_page_plays_its_generated_wav(browser, site):  # noqa: F811
    open_editor(browser, site)
    wait_until(lambda: browser.execute_script(
        "return document.querySelector('li.ivr-prompt[data-node=balance] audio');"), WAIT,
        "the balance node's prompt")

    heard = browser.execute_async_script(
        "var done = arguments[0];"
        "var item = document.querySelector('li.ivr-prompt[data-node=balance]');"
        "fetch(item.querySelector('audio').src, {credentials: 'same-origin'})"
        ".then(function (r) { return r.arrayBuffer().then(function (b) {"
        " done([item.querySelector('.ivr-prompt-text').textContent,"
        " item.querySelector('.ivr-prompt-language').textContent, r.status,"
        " r.headers.get('Content-Type'), String.fromCharCode.apply(null,"
        " new Uint8Array(b.slice(0, 4))), b.byteLength > 1000]); }); });")
    assert heard == ["您的余额是一百元", "zh", 200, "audio/wav", "RIFF", True]


def test_given_an_old_version_when_restored_then_it_is_the_newest_and_on_screen(
        browser, site, app):  # noqa: F811
    from selenium.webdriver.common.by import By

    client = app.test_client()
    login(client, "flowadmin", "Flow-admin-pw-1")
    second = FLOW_YAML.replace("timeout: 5", "timeout: 8")
    assert client.put(f"/api/ivr/flows/{FLOW}", headers=csrf_headers(client, {}), json={
        "yaml": second, "comment": "slower", "base_version": 1}).status_code == 200
    open_editor(browser, site)
    assert "timeout: 8" in browser.execute_script(
        "return document.getElementById('ivr-editor').editor.cm.getValue();")

    wait_until(lambda: browser.find_elements(
        By.CSS_SELECTOR, 'tr.ivr-version[data-version="1"] .ivr-restore-button'), WAIT,
        "version 1's restore button")
    browser.find_element(By.CSS_SELECTOR,
                         'tr.ivr-version[data-version="1"] .ivr-restore-button').click()

    wait_until(lambda: browser.execute_script(
        "return document.getElementById('ivr-editor').dataset.versions;") == "3", WAIT,
        "three versions listed")
    assert "restored as version 3" in browser.find_element(By.ID, "ivr-status").text
    assert browser.execute_script(
        "return document.getElementById('ivr-editor').editor.cm.getValue();") == FLOW_YAML
    assert client.get(f"/api/ivr/flows/{FLOW}/versions/3").get_json()["restored_from"] == 1


def test_given_the_server_refuses_then_its_messages_show_at_their_lines(
        browser, site):  # noqa: F811
    from selenium.webdriver.common.by import By

    open_editor(browser, site)
    bad = FLOW_YAML.replace("queue: sales", "queue: nosuchqueue")
    # the page would not send it; a script calling save() shows what a 422 does
    set_text(browser, bad)
    browser.execute_script("var e = document.getElementById('ivr-editor').editor;"
                           "clearTimeout(e.timer); e.asked += 1; e.save();")

    wait_until(lambda: "Not saved" in browser.find_element(By.ID, "ivr-status").text, WAIT,
               "the refusal")
    assert errors_shown(browser) >= 1 and save_disabled(browser)
    lines = browser.execute_script(
        "return Array.from(document.querySelectorAll('#ivr-messages li.error'))"
        ".map(function (li) { return li.dataset.line; });")
    assert "24" in lines and "ivr-line-error" in line_marks(browser, 24)[0]


def test_given_a_read_only_user_then_nothing_can_be_saved(browser, site, app):  # noqa: F811
    from selenium.webdriver.common.by import By

    create_user(app, role="supervisor", username="reader", password="Reader-pw-12345")
    open_editor(browser, site, "reader", "Reader-pw-12345")

    assert browser.find_elements(By.ID, "ivr-save") == []
    assert browser.find_elements(By.CSS_SELECTOR, ".ivr-restore-button") == []
    assert browser.execute_script(
        "return document.getElementById('ivr-editor').editor.cm.getOption('readOnly');") is True
    assert sorted(node_ids(browser)) == ["balance", "bye", "menu", "sales", "welcome"]
    status = browser.execute_async_script(
        "var done = arguments[0];"
        "fetch('/api/ivr/flows/hotline', {method: 'PUT', credentials: 'same-origin',"
        " headers: {'Content-Type': 'application/json', 'X-CSRFToken':"
        " document.querySelector('meta[name=\"csrf-token\"]').content},"
        " body: JSON.stringify({yaml: 'name: hotline', comment: '', base_version: 1})})"
        ".then(function (r) { done(r.status); });")
    assert status == 403


def test_given_calls_then_the_statistics_page_colours_the_graph(browser, site, app):  # noqa: F811
    from selenium.webdriver.common.by import By

    with app.app_context():
        FactService(db.session).store(scripted_calls())
    open_editor(browser, site)
    browser.get(f"{site.url}/ivr/{FLOW}/stats?from=2026-03-02&to=2026-03-02")
    wait_until(lambda: browser.execute_script(
        "return document.getElementById('ivr-stats-graph').dataset.state;"), WAIT, "the graph")

    nodes = browser.execute_script(
        "return Array.from(document.querySelectorAll('#ivr-stats-graph g.ivr-node')).map("
        "function (g) { var b = g.querySelector('.ivr-badge text');"
        " return [g.dataset.id, b ? b.textContent : null,"
        " ['drop-none', 'drop-low', 'drop-mid', 'drop-high'].filter("
        "  function (c) { return g.classList.contains(c); })[0]]; });")
    assert sorted(nodes) == [["balance", "1", "drop-low"], ["bye", "1", "drop-low"],
                             ["menu", "4", "drop-mid"], ["sales", "2", "drop-high"],
                             ["welcome", "5", "drop-mid"]]
    assert "5 calls" in browser.find_element(By.ID, "ivr-stats-summary").text
    assert console_errors(browser) == []


def test_given_the_list_then_the_flow_is_shown_with_its_version(browser, site):  # noqa: F811
    open_editor(browser, site)
    browser.get(f"{site.url}/ivr")
    wait_until(lambda: browser.execute_script(
        "return document.getElementById('ivr-index').dataset.state;") == "loaded", WAIT,
        "the flows listed")
    row = browser.execute_script(
        "var r = document.querySelector('tr.ivr-flow[data-name=hotline]');"
        "return r ? Array.from(r.cells).map(function (c) { return c.textContent; }) : null;")
    assert row[:2] == ["hotline", "1"] and row[3] == "flowadmin" and row[4]
