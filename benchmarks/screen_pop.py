"""The screen-pop delay: from the engine's OfferedToAgent (the agent's phone rings) to the pop
rendered in the agent's desktop, in a real browser over the whole stack.

The stack: the emulator and a real Engine in this process (as the engine tests run them, at
simulated speed ``SPEED``), `fs-cc web` as a process of its own on the same SQLite database (its
live events from the engine's control /events, its commands to the control port with the
secret), and Debian's headless Chromium logged in as agent 1000 on /desktop. The CRM holds
``--customers`` generated customers (benchmarks/crm_search.py's generator), and each caller has
a few past calls, so the lookup and the timeline are real queries.

``--calls`` calls are placed one after another through the IVR (menu 1: sales); each is
answered by the simulated phone and ends before the next. For each call the page records (in
``#desktop``'s data attributes, set by web/static/desktop.js) when the offer arrived over SSE
and when the pop was rendered (``Date.now()``), and how long the pop's fetch + render took; the
engine's own event gives the offer's ``ts``. Everything runs on one machine, so the clocks agree.

Printed: p50/p95/max of ring -> rendered, ring -> the event in the page (delivery: outbox, bus,
control /events, the web's relay, SSE), and the pop's fetch + render (the page's performance.now()).
Nothing about time is asserted.

    .venv/bin/python benchmarks/screen_pop.py [--calls 30] [--customers 10000]
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import pathlib  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
import uuid as uuidlib  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from benchmarks.crm_search import CUSTOMER_COLUMNS, generate  # noqa: E402
from fs_cc import events  # noqa: E402
from fs_cc.config import EslTarget, Settings  # noqa: E402
from fs_cc.emulator import Emulator, EmulatorConfig  # noqa: E402
from fs_cc.emulator.dialplan import Dialplan, default_dialplan  # noqa: E402
from fs_cc.engine import Engine  # noqa: E402
from web import create_app, db_upgrade  # noqa: E402
from web.auth.services import UserService  # noqa: E402
from web.calls.services import CallRecordService, parse_record  # noqa: E402
from web.crm.models import Customer, CustomerPhone  # noqa: E402
from web.extensions import db  # noqa: E402

SPEED = 20.0  # simulated seconds per real second
AGENT = "1000"
DID = "5901"  # the default dialplan's IVR number (main flow; 1 is sales)
ANSWER_DELAY = 10  # simulated seconds the phone rings (0.5 s real)
TALK = 10  # simulated seconds the caller talks once bridged
PAST_CALLS = 3  # earlier calls of each caller: the pop's timeline
UNKNOWN_EVERY = 5  # every fifth call is from a number no customer has
SECRET_KEY = "0b6f2e9d4c1a8f73e5b02d9c6a4f1e8b7d3c0a5f2e9b6d1c"
CONTROL_SECRET = "screen-pop-benchmark-control-secret"
PASSWORD = "bench-password-1"
CALL_DEADLINE = 30.0  # real seconds for one call to pop and end
BATCH = 2000


class BenchmarkFailed(Exception):
    """The benchmark could not measure what it means to: the message says why."""


def wait_until(condition, seconds, what, interval=0.01):
    """Poll condition() until it is true (and return it); BenchmarkFailed after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise BenchmarkFailed(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(interval)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Discard:
    """The engine's publisher (the worker's side): nothing is stored, the desktop reads drafts."""

    def __call__(self, batch):
        pass

    def close(self):
        pass


class Offers:
    """An emitter listener after the engine's own: the ts of each OfferedToAgent, by call."""

    def __init__(self):
        self.ts = {}

    def __call__(self, event):
        if isinstance(event, events.OfferedToAgent):
            self.ts[event.call_uuid] = event.ts


# -- the database ---------------------------------------------------------------------------

def web_settings(tmp, database_url, control_port=8022):
    var = tmp / "web"
    var.mkdir(exist_ok=True)
    return Settings(var_dir=var, database_url=database_url,
                    broker_url=f"sqla+sqlite:///{tmp / 'broker.sqlite'}", redis_url=None,
                    secret_key=SECRET_KEY, control_secret=CONTROL_SECRET,
                    control_port=control_port)


def _customer_values(row):
    values = dict(zip(CUSTOMER_COLUMNS, row, strict=True))
    values["birthday"] = datetime.date.fromisoformat(values["birthday"])
    values["custom"] = json.loads(values["custom"])
    for name in ("created_at", "updated_at"):
        values[name] = datetime.datetime.fromisoformat(values[name]).replace(
            tzinfo=datetime.UTC)
    return values


def load_crm(app, count, rng):
    """``count`` generated customers with their phones; returns every mobile (digits)."""
    mobiles = []
    customers, phones = [], []
    with app.app_context():
        for row, numbers, _tags, _vehicle in generate(count, rng):
            customers.append(_customer_values(row))
            for position, (e164, digits, kind) in enumerate(numbers):
                phones.append({"customer_id": row[0], "e164": e164, "digits": digits,
                               "kind": kind, "label": "", "position": position})
                if kind == "mobile":
                    mobiles.append(digits)
            if len(customers) >= BATCH:
                _flush(customers, phones)
        _flush(customers, phones)
        db.session.commit()
    return mobiles


def _flush(customers, phones):
    if customers:
        db.session.execute(sa.insert(Customer), customers)
    if phones:
        db.session.execute(sa.insert(CustomerPhone), phones)
    customers.clear()
    phones.clear()


def past_calls(app, numbers, rng):
    """A few earlier answered calls of each number (what the pop's last contacts list)."""
    now = datetime.datetime.now(datetime.UTC)
    with app.app_context():
        service = CallRecordService(db.session)
        for number in numbers:
            for _ in range(PAST_CALLS):
                started = now - datetime.timedelta(days=rng.randrange(1, 300),
                                                   seconds=rng.randrange(86400))
                service.store(parse_record({
                    "uuid": str(uuidlib.uuid4()), "caller_number": number, "did": DID,
                    "ivr_path": ["welcome", "menu", "sales"], "queue": "sales",
                    "agent": str(rng.randrange(1001, 1010)), "started_at": started.isoformat(),
                    "queued_at": (started + datetime.timedelta(seconds=12)).isoformat(),
                    "answered_at": (started + datetime.timedelta(seconds=30)).isoformat(),
                    "ended_at": (started + datetime.timedelta(seconds=200)).isoformat(),
                    "hangup_cause": "NORMAL_CLEARING", "hangup_side": "caller",
                    "wait_seconds": 18.0, "talk_seconds": 170.0, "flow": None,
                    "flow_version": None}))


def prepare_database(tmp, customers, calls, rng):
    """Migrate, load the CRM, create the agent's user; returns (url, username, callers)."""
    url = f"sqlite:///{tmp / 'fs_cc.sqlite'}"
    app = create_app(settings=web_settings(tmp, url))
    db_upgrade(app)
    began = time.perf_counter()
    mobiles = load_crm(app, customers, rng)
    loaded = time.perf_counter() - began
    callers = []
    for index in range(calls):
        if index % UNKNOWN_EVERY == UNKNOWN_EVERY - 1:
            callers.append(f"021{rng.randrange(10 ** 8):08d}")  # a Shanghai landline, no one's
        else:
            callers.append(mobiles[rng.randrange(len(mobiles))])
    past_calls(app, [number for number in callers if not number.startswith("021")], rng)
    with app.app_context():
        UserService(db.session).create("agent1000", PASSWORD, role="agent", extension=AGENT)
        db.session.remove()
        db.engine.dispose()
    print(f"CRM: {customers:,} customers loaded in {loaded:.1f} s; "
          f"{len(callers)} callers ({sum(c.startswith('021') for c in callers)} unknown)")
    return url, "agent1000", callers


# -- the processes --------------------------------------------------------------------------

def start_switch_and_engine(tmp):
    emulator = Emulator(EmulatorConfig(port=0, speed=SPEED))
    emulator.start()
    emulator.phones[AGENT].answer_delay = ANSWER_DELAY
    var = tmp / "engine"
    var.mkdir()
    settings = Settings(
        var_dir=var, database_url="sqlite://", broker_url="memory://", redis_url=None,
        secret_key=SECRET_KEY, control_secret=CONTROL_SECRET, control_port=0, outbound_port=0,
        esl=EslTarget(*emulator.esl_address, "ClueCon"), ring_timeout=120,
        agents_auto_login=True,
        agents=[{"extension": AGENT, "name": "Agent 1000", "queues": ["sales"]}],
        queues=[{"name": "sales", "strategy": "longest-idle"},
                {"name": "support", "strategy": "longest-idle"}])
    engine = Engine(settings, publisher=Discard())
    offers = Offers()
    engine.emitter.listeners.append(offers)
    engine.start()
    target = "{}:{}".format(*engine.outbound.address)
    emulator.config.socket_target = target
    emulator.dialplan = Dialplan(default_dialplan(target))
    if not engine.esl.wait_connected(10):
        raise BenchmarkFailed("the engine did not connect to the emulator")
    wait_until(lambda: engine.agents()[0]["status"] == "available", 10, "agent 1000 logged in")
    return emulator, engine, offers


def start_web(tmp, database_url, control_port):
    """`fs-cc web` on a free port, as its own process; returns (process, base URL)."""
    port = free_port()
    env = dict(os.environ, FS_CC_DATABASE_URL=database_url, FS_CC_SECRET_KEY=SECRET_KEY,
               FS_CC_CONTROL_SECRET=CONTROL_SECRET, FS_CC_CONTROL_PORT=str(control_port),
               FS_CC_VAR_DIR=str(tmp / "web"),
               FS_CC_BROKER_URL=f"sqla+sqlite:///{tmp / 'broker.sqlite'}")
    env.pop("REDIS_URL", None)
    fs_cc = pathlib.Path(sys.executable).with_name("fs-cc")
    with open(tmp / "web.log", "wb") as log:  # the child keeps its own copy of the file
        process = subprocess.Popen([str(fs_cc), "web", "--port", str(port)], env=env,
                                   stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT))
    base = f"http://127.0.0.1:{port}"

    def answers():
        if process.poll() is not None:
            raise BenchmarkFailed(f"fs-cc web exited ({process.returncode}); see {tmp}/web.log")
        try:
            return urllib.request.urlopen(base + "/auth/login", timeout=2).status == 200
        except OSError:
            return False

    wait_until(answers, 30, "fs-cc web to answer", interval=0.1)
    return process, base


def chromium():
    """Debian's headless Chromium through the system chromedriver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser = os.environ.get("FS_CC_TEST_CHROMIUM") or shutil.which("chromium")
    driver = os.environ.get("FS_CC_TEST_CHROMEDRIVER") or shutil.which("chromedriver")
    if not browser or not driver:
        raise BenchmarkFailed("Chromium is not available (apt-get install chromium "
                              "chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run"):
        options.add_argument(argument)
    return webdriver.Chrome(options=options, service=Service(executable_path=driver))


def open_desktop(browser, base, username):
    from selenium.webdriver.common.by import By

    browser.get(f"{base}/auth/login?next=/desktop")
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()
    wait_until(lambda: browser.execute_script(
        "var p = document.getElementById('live-state'); return p && p.dataset.state;")
        == "open", 20, "the desktop's event stream open")
    wait_until(lambda: browser.execute_script(
        "return document.getElementById('agent-status').textContent;") == "available", 10,
        "the desktop to show the agent available")


READ_POP = """
var root = document.getElementById('desktop'), pop = document.getElementById('pop');
return {call: pop.hidden ? null : pop.dataset.call, offerTs: root.dataset.offerTs || null,
        receivedAt: Number(root.dataset.offerReceivedAt || 0),
        renderedAt: Number(root.dataset.popRenderedAt || 0),
        popMs: Number(root.dataset.popMs || -1),
        known: document.getElementById('pop-new').hidden};
"""


# -- the measurement ------------------------------------------------------------------------

def one_call(emulator, engine, offers, browser, caller, last_rendered):
    """Place a call from ``caller``; (ring->rendered, ring->received, fetch+render ms, known)."""
    before = set(offers.ts)
    emulator.place_call(DID, caller_number=caller, dtmf="1", talk_seconds=TALK)
    [uuid] = wait_until(lambda: list(set(offers.ts) - before), CALL_DEADLINE,
                        f"the offer of a call from {caller}")
    ts = offers.ts[uuid]

    def rendered():
        seen = browser.execute_script(READ_POP)
        return seen if (seen["call"] == uuid and seen["renderedAt"] > last_rendered) else None

    seen = wait_until(rendered, CALL_DEADLINE, f"the pop of call {uuid}")
    if seen["offerTs"] != ts.isoformat():
        raise BenchmarkFailed(f"the page saw the offer at {seen['offerTs']}, the engine at "
                              f"{ts.isoformat()}")
    ring_ms = ts.timestamp() * 1000.0
    wait_until(lambda: uuid not in engine.live, CALL_DEADLINE, f"call {uuid} to end")
    wait_until(lambda: engine.agents()[0]["status"] == "available", CALL_DEADLINE,
               "the agent available again")
    return (seen["renderedAt"] - ring_ms, seen["receivedAt"] - ring_ms, seen["popMs"],
            seen["known"], seen["renderedAt"])


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def show(label, values):
    print(f"  {label:<38} p50 {statistics.median(values):7.1f}  "
          f"p95 {percentile(values, 0.95):7.1f}  max {max(values):7.1f}  ms")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="fs_cc_screen_pop_"))
    emulator = engine = web = browser = None
    try:
        database_url, username, callers = prepare_database(tmp, args.customers, args.calls,
                                                           rng)
        emulator, engine, offers = start_switch_and_engine(tmp)
        web, base = start_web(tmp, database_url, engine.control.address[1])
        browser = chromium()
        open_desktop(browser, base, username)
        rows, last = [], 0
        for caller in callers:
            *row, last = one_call(emulator, engine, offers, browser, caller, last)
            rows.append(row)
        total = [row[0] for row in rows]
        delivery = [row[1] for row in rows]
        fetch = [row[2] for row in rows]
        known = [row[0] for row in rows if row[3]]
        unknown = [row[0] for row in rows if not row[3]]
        print(f"screen pop over {len(rows)} calls, one after another (emulator x{SPEED:g}, "
              f"engine in this process, fs-cc web in its own, headless Chromium):")
        show("ring (OfferedToAgent ts) -> rendered", total)
        show("ring -> event in the page (SSE)", delivery)
        show("pop fetch + render (data-pop-ms)", fetch)
        if known:
            show(f"ring -> rendered, known callers ({len(known)})", known)
        if unknown:
            show(f"ring -> rendered, new callers ({len(unknown)})", unknown)
        return 0
    except BenchmarkFailed as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if browser is not None:
            browser.quit()
        if web is not None:
            web.terminate()
            try:
                web.wait(10)
            except subprocess.TimeoutExpired:
                web.kill()
        if engine is not None:
            engine.stop()
        if emulator is not None:
            emulator.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
