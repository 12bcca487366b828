"""In Debian's headless Chromium: log in, change the password, log out, log in with the new one,
the pages working under the Content-Security-Policy (the browser's console shows no error), and
the Agents page saying that the session ended, with the way back in, once it has.

Real servers: the web app under gevent's WSGIServer as `fs-cc web` serves it, the engine's
control server over an in-memory engine (tests/web/test_events_stream.py's fixtures).
"""


import pytest
from gevent.pool import Pool
from gevent.pywsgi import WSGIServer

from fs_cc.listen import listen
from tests.polling import wait_until
from tests.web.browser import chromium_or_skip
from tests.web.support import FakeClock, create_user
from tests.web.test_events_stream import app, engine  # noqa: F401 (fixtures)

NEW_PASSWORD = "Quartz-plover-7391-tangent"
PAGES = ("/calls", "/agents", "/account/password")


@pytest.fixture
def browser():
    """A headless Chromium keeping its console log, quit afterwards."""
    driver = chromium_or_skip(console_log=True)
    yield driver
    driver.quit()


class Site:
    """``app`` served for real on one port; ``restart()`` serves it again on the same port."""

    def __init__(self, app):
        self.app = app
        self.server = None
        self.port = 0

    def start(self):
        """Serve (again) on the port; returns the base URL."""
        # bound as `fs-cc web` binds (SO_REUSEADDR): the old server's closed streams sit in
        # TIME-WAIT on this port
        self.server = WSGIServer(listen("127.0.0.1", self.port, "--port"), self.app,
                                 spawn=Pool(), log=None)
        self.server.start()
        self.port = self.server.server_port
        return self.url

    def stop(self):
        """Stop serving, cutting the streams still open."""
        self.server.stop(timeout=0.2)

    def restart(self):
        """Stop, then serve again on the same port (the browser's streams reconnect)."""
        self.stop()
        self.start()

    @property
    def url(self):
        """The base URL."""
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def site(app):  # noqa: F811
    """The web app served for real; its Calls page refreshing its calls in progress quickly."""
    app.config["CALLS_LIVE_REFRESH_SECONDS"] = 0.2
    site = Site(app)
    site.start()
    yield site
    site.stop()


def console(browser):
    """The console entries since the last call: [(level, message)]."""
    return [(entry["level"], entry["message"]) for entry in browser.get_log("browser")]


def console_errors(browser):
    """The errors of the console since the last call (a CSP violation is one, SEVERE)."""
    return [message for level, message in console(browser)
            if level == "SEVERE" or "Content Security Policy" in message
            or "Refused to" in message]


def log_in(browser, site, username, password, next_url=None):
    """Fill and send the login form."""
    from selenium.webdriver.common.by import By

    browser.get(f"{site.url}/auth/login" + (f"?next={next_url}" if next_url else ""))
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()


def path_of(browser):
    """The path (and query) of the browser's page."""
    return browser.execute_script("return location.pathname + location.search;")


def text_of(browser, css):
    """The text of the first element matching ``css``, or None."""
    return browser.execute_script(
        "var e = document.querySelector(arguments[0]); return e ? e.textContent : null;", css)


def wait_for_page_scripts(browser, path):
    """Wait until the page's own script has done its first work (its JSON asked, shown)."""
    if path == "/calls":
        # calls.js asks /calls/in-progress every 0.2 s here: a row it drew, not the template's
        wait_until(lambda: browser.execute_script(
            "return performance.getEntriesByType('resource').some(function (e) {"
            "  return e.name.indexOf('/calls/in-progress') >= 0; });"), 10,
            "calls.js asking the calls in progress")
    elif path == "/agents":
        wait_until(lambda: browser.execute_script(
            "var p = document.getElementById('live-state'); return p && p.dataset.state;")
            == "open", 15, "the Agents page's event stream open")


def visit_under_csp(browser, site, path):
    """Open ``path``; assert it is served with the CSP, its scripts ran, the console is clean."""
    browser.get(site.url + path)
    assert path_of(browser) == path
    wait_for_page_scripts(browser, path)
    assert console_errors(browser) == [], path


def test_given_a_password_changed_in_the_browser_then_only_the_new_one_logs_in_and_pages_obey_csp(
        engine, app, site, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    _, username, password = create_user(app, role="supervisor")
    csp = app.test_client().get("/auth/login").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp

    browser.get(f"{site.url}/auth/login")
    assert console_errors(browser) == [], "/auth/login"
    log_in(browser, site, username, password, next_url="/calls")
    wait_until(lambda: path_of(browser) == "/calls", 10, "the Calls page after the login")
    for path in PAGES:
        visit_under_csp(browser, site, path)

    # the account page: the password changed
    browser.find_element(By.ID, "current_password").send_keys(password)
    browser.find_element(By.ID, "password").send_keys(NEW_PASSWORD)
    browser.find_element(By.ID, "confirm").send_keys(NEW_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()
    wait_until(lambda: text_of(browser, "p.flash") == "Your password is changed.", 10,
               "the password changed")
    assert console_errors(browser) == [], "after changing the password"

    # log out through the header's form
    browser.find_element(By.CSS_SELECTOR, "form.who button").click()
    wait_until(lambda: path_of(browser).startswith("/auth/login"), 10, "the login page")
    browser.get(f"{site.url}/calls")
    assert path_of(browser).startswith("/auth/login")  # logged out for real
    console(browser)  # (the redirects of a logged-out browser are not what is checked)

    # the old password no longer opens the door; the refusal is the one error the console shows
    log_in(browser, site, username, password)
    wait_until(lambda: text_of(browser, "main") and "password" in text_of(browser, "main"),
               10, "the refused login")
    assert path_of(browser).startswith("/auth/login")
    errors = console_errors(browser)
    assert len(errors) == 1 and "401" in errors[0], errors

    log_in(browser, site, username, NEW_PASSWORD, next_url="/agents")
    wait_until(lambda: path_of(browser) == "/agents", 10, "the Agents page after the new login")
    assert console_errors(browser) == [], "the login with the new password"
    for path in PAGES:
        visit_under_csp(browser, site, path)
    assert text_of(browser, "form.who span").startswith(username)

    # the check sees what it is for: an inline script, refused by the CSP, is a console error
    browser.execute_script("var s = document.createElement('script');"
                           "s.textContent = 'window.inlineRan = true;';"
                           "document.body.appendChild(s);")
    violations = wait_until(lambda: console_errors(browser), 5, "the CSP violation logged")
    assert "Content Security Policy" in violations[0]
    assert browser.execute_script("return window.inlineRan === undefined;")


def test_given_the_agents_page_open_when_the_session_expires_then_it_says_so_and_links_to_login(
        engine, app, site, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    clock = FakeClock()
    app.config["FS_CC_CLOCK"] = clock
    _, username, password = create_user(app, role="supervisor")
    log_in(browser, site, username, password, next_url="/agents")
    wait_until(lambda: path_of(browser) == "/agents", 10, "the Agents page")
    wait_for_page_scripts(browser, "/agents")
    assert console_errors(browser) == []

    # the login outlives its idle timeout; the stream drops (a restart of the web server) and
    # the browser, reconnecting, is refused: the page asks its JSON, which answers 401
    clock.advance(app.config["SESSION_IDLE_TIMEOUT"] + 1)
    site.restart()

    wait_until(lambda: browser.execute_script(
        "return !document.getElementById('session-expired').hidden;"), 15,
        "the page saying the session expired")
    assert browser.execute_script("return document.getElementById('engine-notice').hidden;")
    assert text_of(browser, "#live-state") == "Live: stopped; your session has expired."
    notice = browser.find_element(By.ID, "session-expired")
    assert "Your session has expired" in notice.text
    link = notice.find_element(By.TAG_NAME, "a")
    assert link.get_attribute("href") == f"{site.url}/auth/login?next=/agents"
    # the console: the stream cut by the restart, then the refused stream and JSON (401s); no
    # script error, no CSP violation
    errors = [message for message in console_errors(browser)
              if not ("/api/events" in message and "ERR_INCOMPLETE_CHUNKED_ENCODING" in message)]
    assert any("/api/agents" in message for message in errors), errors
    assert all("status of 401" in message for message in errors), errors

    link.click()
    wait_until(lambda: path_of(browser).startswith("/auth/login"), 10, "the login page")
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()
    wait_until(lambda: path_of(browser) == "/agents", 10, "back on the Agents page")
    wait_for_page_scripts(browser, "/agents")
    assert browser.execute_script("return document.getElementById('session-expired').hidden;")
