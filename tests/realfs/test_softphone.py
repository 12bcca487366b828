"""The browser softphone on a real FreeSWITCH: headless Chromium registers over WSS and answers.

Runs only with FS_CC_TEST_ESL=host:port:password, the internal profile's WSS binding reachable
and Chromium installed (tests/README.rst). The page is the desktop's own partial
(``desktop/_softphone.html`` and ``static/softphone.js`` with the pinned SIP.js), served by a
small Flask app beside the test with the SIP account the switch holds for its last SIP agent
(``global_getvar fs_cc_sip_agents``: install.sh keeps their sofia_contact() dial string). Chromium
gets a fake microphone (``--use-fake-device-for-media-stream --use-fake-ui-for-media-stream``)
and accepts the switch's self-signed certificate. The agent ticks auto-answer; the switch rings
``user/<ext>`` as the ACD does; the page must answer by itself, the switch must see the channel
answered with WebRTC media, and the page must sign its phone out at the end.
"""

import os
import re
import shutil
import socket
import threading
import uuid as uuidlib

import flask
import gevent
import pytest
from werkzeug.serving import make_server

from fs_cc.esl.commands import uuid_kill
from fs_cc.esl.errors import CommandError, ESLError
from fs_cc.esl.inbound import InboundClient
from tests.polling import wait_until
from tests.switch import ENV, parse_esl_target
from web.desktop import sip_library

WEB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "web")
PAGE = ("<!doctype html><html><head><title>softphone</title></head><body>"
        "{% include 'desktop/_softphone.html' %}</body></html>")
REGISTER_SECONDS = 120  # a run killed before it signs out leaves the agent registered this long
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--use-fake-device-for-media-stream",
                  "--use-fake-ui-for-media-stream", "--ignore-certificate-errors",
                  "--autoplay-policy=no-user-gesture-required")

pytestmark = pytest.mark.skipif(not os.environ.get(ENV),
                                reason=f"{ENV} is not set: this test needs a real FreeSWITCH")


@pytest.fixture
def client():
    client = InboundClient(*parse_esl_target(os.environ[ENV]), events=("CHANNEL_HANGUP_COMPLETE",)).start()
    assert client.wait_connected(timeout=5), f"cannot connect: {client.last_error}"
    yield client
    client.stop()


def wss_address(client):
    """(host, port) of the internal profile's WSS binding; skipped when it has none."""
    status = client.api("sofia status profile internal")
    match = re.search(r"WSS-BIND-URL\s+sips?:[^@\s]+@([^:;\s]+):(\d+)", status)
    if not match:
        pytest.skip("the internal profile has no wss-binding (freeswitch_conf/README.rst, "
                    "\"Browser softphone\")")
    host, port = match.group(1), int(match.group(2))
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        pytest.skip(f"the switch's WSS binding {host}:{port} is not reachable: {exc}")
    return host, port


@pytest.fixture
def agent(client):
    """(extension, domain, password) of the switch's last SIP agent, checked to be free."""
    try:
        agents = client.api("global_getvar fs_cc_sip_agents").strip()
    except CommandError:
        agents = ""
    if agents in ("", "none"):
        pytest.skip("the test switch keeps no agent on SIP (fs_cc_sip_agents, install.sh's "
                    "FS_CC_SIP_AGENTS)")
    ext = agents.split(",")[-1]
    domain = client.api("global_getvar domain").strip()
    contact = client.api(f"sofia_contact {ext}@{domain}").strip()
    if not contact.startswith("error/"):
        pytest.skip(f"agent {ext} is already registered ({contact}): another test's phone?")
    password = client.api(f"user_data {ext}@{domain} param password").strip()
    return ext, domain, password


@pytest.fixture
def library():
    """The pinned SIP.js in the static folder, fetched as ./dev does when it is missing."""
    try:
        sip_library.install()
    except sip_library.LibraryError as exc:
        pytest.skip(f"SIP.js is not fetched and cannot be: {exc}")


@pytest.fixture
def page(client, agent, library):
    """The softphone partial served on 127.0.0.1 with the agent's account; yields its URL."""
    ext, domain, password = agent
    host, port = wss_address(client)
    app = flask.Flask("softphone_page", static_folder=os.path.join(WEB, "static"),
                      template_folder=os.path.join(WEB, "templates"))

    @app.get("/")
    def index():
        softphone = {"mode": "softphone", "config_url": flask.url_for("account"),
                     "library_url": flask.url_for("static", filename=sip_library.ENTRY),
                     "script_url": flask.url_for("static", filename="softphone.js")}
        return flask.render_template_string(PAGE, softphone=softphone)

    @app.get("/account")
    def account():
        return {"extension": ext, "username": ext, "password": password,
                "uri": f"sip:{ext}@{domain}", "display_name": f"Agent {ext}",
                "wss_url": f"wss://{host}:{port}", "ice_servers": [],
                "expires": REGISTER_SECONDS}

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


@pytest.fixture
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    binary = os.environ.get("FS_CC_TEST_CHROMIUM") or shutil.which("chromium")
    driver_path = os.environ.get("FS_CC_TEST_CHROMEDRIVER") or shutil.which("chromedriver")
    if not binary or not driver_path:
        pytest.skip("Chromium is not available (Debian: apt-get install chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    yield driver
    driver.quit()


def state(browser, name):
    """The softphone root's data-<name> (registration, call, quality)."""
    return browser.find_element("id", "softphone").get_attribute(f"data-{name}")


def channel_dump(client, uuid):
    """``uuid_dump``'s headers of a channel, as a dict."""
    lines = client.api(f"uuid_dump {uuid}").splitlines()
    return dict(line.split(": ", 1) for line in lines if ": " in line)


def rtp_sent(browser):
    """Audio packets the page's call has sent so far (0 without a call)."""
    browser.set_script_timeout(5)
    stats = browser.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "document.getElementById('softphone').fsCcSoftphone.stats().then(done, function () { done(null); });")
    return (stats or {}).get("sent", 0)


def console(browser):
    return "\n".join(entry["message"] for entry in browser.get_log("browser"))


def sign_out(browser):
    """The page's own sign-out (what it does on leaving): unregister, close the socket."""
    browser.set_script_timeout(10)
    browser.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "document.getElementById('softphone').fsCcSoftphone.stop().then(done, done);")


def test_given_softphone_registered_with_auto_answer_when_switch_rings_agent_then_page_answers(
        client, agent, page, browser):
    ext, domain, _ = agent
    browser.get(page)
    auto = browser.find_element("id", "softphone-auto-answer")
    if not auto.is_selected():
        auto.click()
    browser.refresh()  # auto-answer is remembered across a reload
    assert browser.find_element("id", "softphone-auto-answer").is_selected()
    try:
        wait_until(lambda: state(browser, "registration") in ("registered", "failed"), 20,
                   "the softphone registering")
        assert state(browser, "registration") == "registered", (
            browser.find_element("id", "softphone-registration").text + "\n" + console(browser))
        contact = client.api(f"sofia_contact {ext}@{domain}").strip()
        assert "transport=ws" in contact, contact

        uuid = str(uuidlib.uuid4())
        hangups = []
        client.on("CHANNEL_HANGUP_COMPLETE",
                  lambda event: hangups.append(event) if event.get("Unique-ID") == uuid else None)
        try:
            reply = client.api(f"originate {{origination_uuid={uuid},originate_timeout=20,"
                               f"ignore_early_media=true}}user/{ext} &park()", timeout=30)
            assert reply.strip().startswith("+OK"), reply
            wait_until(lambda: state(browser, "call") == "connected", 10,
                       "the page showing the call connected")
            dump = channel_dump(client, uuid)
            assert dump.get("Answer-State") == "answered", dump
            assert dump.get("variable_media_webrtc") == "true", dump  # DTLS-SRTP, ICE
            assert dump.get("Channel-Read-Codec-Name") in ("opus", "PCMU", "PCMA"), dump
            assert "Connected" in browser.find_element("id", "softphone-call").text
            # the fake microphone's audio goes out over DTLS-SRTP (a second of it)
            wait_until(lambda: rtp_sent(browser) >= 50, 10, "the page sending audio")
        finally:
            try:
                client.api(uuid_kill(uuid, "NORMAL_CLEARING"))
            except ESLError:
                pass  # it ended on its own
        wait_until(lambda: state(browser, "call") == "idle", 10, "the page seeing the hangup")
        wait_until(lambda: hangups, 10, "the channel's CHANNEL_HANGUP_COMPLETE")
        received = int(hangups[0].get("variable_rtp_audio_in_media_packet_count") or 0)
        assert received > 0, "the switch received none of the page's audio"
    finally:
        sign_out(browser)
    wait_until(lambda: client.api(f"sofia_contact {ext}@{domain}").strip().startswith("error/"),
               10, "the switch forgetting the softphone's registration")
    assert state(browser, "registration") == "stopped"


def test_given_softphone_without_auto_answer_when_agent_answers_mutes_and_hangs_up_then_switch_follows(
        client, agent, page, browser):
    ext, domain, _ = agent
    browser.get(page)
    assert not browser.find_element("id", "softphone-auto-answer").is_selected()
    try:
        wait_until(lambda: state(browser, "registration") in ("registered", "failed"), 20,
                   "the softphone registering")
        assert state(browser, "registration") == "registered", console(browser)

        uuid = str(uuidlib.uuid4())
        hangups = []
        client.on("CHANNEL_HANGUP_COMPLETE",
                  lambda event: hangups.append(event) if event.get("Unique-ID") == uuid else None)
        job = gevent.spawn(client.bgapi, f"originate {{origination_uuid={uuid},originate_timeout=20,"
                           f"origination_caller_id_number=13800138000}}user/{ext} &park()",
                           timeout=30)
        try:
            wait_until(lambda: state(browser, "call") == "ringing", 10, "the page ringing")
            assert "13800138000" in browser.find_element("id", "softphone-call").text
            browser.find_element("id", "softphone-answer").click()
            job.join(timeout=15)
            assert job.ready() and job.value.strip().startswith("+OK"), job.value
            wait_until(lambda: state(browser, "call") == "connected", 10, "the call connected")
            assert channel_dump(client, uuid).get("Answer-State") == "answered"

            mute = browser.find_element("id", "softphone-mute")
            mute.click()
            assert mute.get_attribute("aria-pressed") == "true" and mute.text == "Unmute"
            mute.click()
            assert mute.get_attribute("aria-pressed") == "false"

            browser.find_element("id", "softphone-hangup").click()
            wait_until(lambda: hangups, 10, "the switch hanging the channel up")
            assert hangups[0].get("variable_sip_hangup_disposition") == "recv_bye"
            wait_until(lambda: state(browser, "call") == "idle", 10, "the page back to idle")
        finally:
            job.kill()
            try:
                client.api(uuid_kill(uuid, "NORMAL_CLEARING"))
            except ESLError:
                pass  # hung up by the page
    finally:
        sign_out(browser)
    wait_until(lambda: client.api(f"sofia_contact {ext}@{domain}").strip().startswith("error/"),
               10, "the switch forgetting the softphone's registration")
