"""Shared test support for the web app and the worker: databases, apps, factories."""

import datetime
import html
import itertools
import re
import secrets
import types
import uuid as uuid_module

import psycopg2
import pytest
import sqlalchemy as sa
from psycopg2 import sql

from fs_cc import events
from fs_cc.acd import ACD, MemoryStore, Queue
from fs_cc.acd.agents import UnknownAgent
from fs_cc.acd.callbacks import CallbackDesk
from fs_cc.actions import EngineActions
from fs_cc.callctl import CallControl
from fs_cc.config import Settings
from fs_cc.control import CommandRefused, commands
from fs_cc.emitter import RecordingEmitter
from tests.acd.doubles import FakeSwitch
from web import create_app, db_upgrade
from web.auth.services import UserService
from web.calls.services import CallRecordService, parse_record
from web.extensions import db

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
UTC = datetime.timezone.utc
BASE_TIME = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
CONTROL_SECRET = "test-control-secret"  # the engine fixture's, given to every test app
# strong enough for web.security.check_secret_key (a weak one stops the app)
TEST_SECRET_KEY = "d2b8e1f07c4a9b36e5f18a0c7d4e2b91a6f3c8e05b7d1a4f"


def postgres_available():
    """Whether the test PostgreSQL at 127.0.0.1:5432 answers."""
    try:
        psycopg2.connect(PG_ADMIN_DSN, connect_timeout=2).close()
    except psycopg2.OperationalError:
        return False
    return True


def create_pg_database():
    """Create a fresh, uniquely named PostgreSQL database; return its name."""
    name = f"fs_cc_test_{secrets.token_hex(6)}"
    run_pg_admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def drop_pg_database(name):
    """Drop a database made by create_pg_database, closing whatever still uses it."""
    run_pg_admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def run_pg_admin(statement):
    """Run one statement on the admin database, outside a transaction."""
    connection = psycopg2.connect(PG_ADMIN_DSN, connect_timeout=5)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def make_settings(tmp_path, database_url, control_port=8022):
    """fs_cc Settings confined to ``tmp_path``."""
    var_dir = tmp_path / "var"
    var_dir.mkdir(parents=True, exist_ok=True)
    return Settings(var_dir=var_dir, database_url=database_url,
                    broker_url=f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}", redis_url=None,
                    secret_key=TEST_SECRET_KEY, control_secret=CONTROL_SECRET,
                    control_port=control_port)


def make_app(tmp_path, database_url, control_port=8022, **config):
    """A testing Flask app on ``database_url``."""
    # a cheap hash: the suite's users log in hundreds of times (the app's default is scrypt,
    # tests/web/test_auth.py checks it)
    config.setdefault("PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")
    return create_app(test_config={"TESTING": True, **config},
                      settings=make_settings(tmp_path, database_url, control_port))


def empty_tables(app):
    """Delete every row, keeping the migrated schema."""
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()


@pytest.fixture(scope="session")
def migrated_databases(tmp_path_factory):
    """One migrated database per dialect for the session: {"sqlite": url, "postgresql": url}."""
    urls = {"sqlite": f"sqlite:///{tmp_path_factory.mktemp('db') / 'fs_cc.sqlite'}"}
    pg_name = None
    if postgres_available():
        pg_name = create_pg_database()
        urls["postgresql"] = PG_URL.format(name=pg_name)
    for url in urls.values():
        app = make_app(tmp_path_factory.mktemp("migrate"), url)
        db_upgrade(app)
        with app.app_context():
            db.engine.dispose()
    yield urls
    if pg_name is not None:
        drop_pg_database(pg_name)


def database_url_for(migrated_databases, dialect):
    """The session's migrated database of ``dialect``, or skip when it is not available."""
    if dialect not in migrated_databases:
        pytest.skip(f"no {dialect} database available")
    return migrated_databases[dialect]


def app_on(tmp_path, url, **kwargs):
    """A testing app on an already migrated ``url``, emptied first; dispose it after use."""
    app = make_app(tmp_path, url, **kwargs)
    empty_tables(app)
    return app


def dispose(app):
    """Close the app's database connections."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


_counter = itertools.count(1)


def create_user(app, role="agent", username=None, password="secret-pw", extension=None):
    """Create a user (fresh name unless given); return (user_id, username, password)."""
    username = username or f"user{next(_counter)}"
    with app.app_context():
        user = UserService(db.session).create(username, password, role=role,
                                              extension=extension)
        return user.id, username, password


def create_token(app, username, name=None, expires_days=None):
    """The secret of a new API token of ``username`` (named ``name``, fresh when not given)."""
    from web.auth.tokens import token_service

    with app.app_context():
        user = UserService(db.session).by_username(username)
        _, secret = token_service(actor="test").create(
            user, name or f"token {next(_counter)}", expires_days=expires_days)
        return secret


def record_payload(**overrides):
    """An engine payload (``CallRecord.to_dict()`` shape) with fresh values, then ``overrides``."""
    number = next(_counter)
    started = overrides.pop("started", BASE_TIME + datetime.timedelta(minutes=number))
    payload = {
        "uuid": str(uuid_module.uuid4()),
        "caller_number": f"1390000{number:04d}",
        "did": "4008001234",
        "ivr_path": ["welcome", "main_menu", "sales"],
        "queue": "sales",
        "agent": "1000",
        "started_at": started.isoformat(),
        "queued_at": (started + datetime.timedelta(seconds=10)).isoformat(),
        "answered_at": (started + datetime.timedelta(seconds=25)).isoformat(),
        "ended_at": (started + datetime.timedelta(seconds=85)).isoformat(),
        "hangup_cause": "NORMAL_CLEARING",
        "hangup_side": "caller",
        "wait_seconds": 15.0,
        "talk_seconds": 60.0,
        "flow": None,
        "flow_version": None,
    }
    payload.update(overrides)
    return payload


def create_record(app, **overrides):
    """Store a call record built by record_payload; return its payload."""
    payload = record_payload(**overrides)
    with app.app_context():
        CallRecordService(db.session).store(parse_record(payload))
    return payload


def count_rows(app, uuid=None):
    """How many call records (with ``uuid`` when given) the database holds."""
    from web.calls.models import CallRecord

    with app.app_context():
        query = sa.select(sa.func.count()).select_from(CallRecord)
        if uuid is not None:
            query = query.where(CallRecord.uuid == uuid)
        return db.session.execute(query).scalar_one()


CSRF_TOKEN = re.compile(r'name="csrf[-_]token" (?:value|content)="([^"]+)"')


def csrf_token(client, url="/auth/login"):
    """The CSRF token of ``client``'s session, read from the page at ``url`` (its meta tag).

    Every page extending base.html carries it; the login page shows it to anyone.
    """
    response = client.get(url)
    match = CSRF_TOKEN.search(response.get_data(as_text=True))
    if match is None:
        raise AssertionError(f"no CSRF token on {url} ({response.status_code})")
    return html.unescape(match.group(1))


def post_form(client, url, data=None, **kwargs):
    """POST ``data`` to ``url`` as a browser's form would, with the session's CSRF token."""
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client))
    return client.post(url, data=data, **kwargs)


def csrf_headers(client, headers=None):
    """``headers`` plus the X-CSRFToken a page's script sends with a session-cookie JSON call."""
    return {**(headers or {}), "X-CSRFToken": csrf_token(client)}


def client_from(app, address):
    """A test client of ``app`` whose requests come from the client address ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def login(client, username, password, next_url=None):
    """Log ``client`` in through the form (with its CSRF token); return the response."""
    data = {"username": username, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return post_form(client, "/auth/login", data)


def logout(client):
    """Log ``client`` out through the form in the page header; return the response."""
    return post_form(client, "/auth/logout")


class FakeClock:
    """A clock for the app's ``FS_CC_CLOCK``: stands still until the test moves it."""

    def __init__(self, start=BASE_TIME):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, seconds):
        """Move the clock ``seconds`` forward."""
        self.now += datetime.timedelta(seconds=seconds)


class CallbackEngine:
    """The engine's callback side as it runs: a real ACD and CallbackDesk behind the engine's own
    command handlers (fs_cc.actions.EngineActions), on a FakeSwitch.

    ``agents`` (extensions of sales) are defined, not logged in, so nothing is dialled unless a
    test logs one in; ``phones`` are the FakeSwitch's. ``batch()`` hands what it emitted since
    the last call on, as the worker's task receives it.
    """

    def __init__(self, queues=("sales", "support"), engine_id="engine-a", agents=(),
                 phones=None):
        self.emitter = RecordingEmitter(events.EventSequencer(engine_id))
        store = MemoryStore()
        for extension in agents:
            store.define_agent(extension, f"Agent {extension}", ("sales",))
        self.switch = FakeSwitch(phones)
        self.acd = ACD(store, CallControl(self.switch), [Queue(q) for q in queues],
                       self.emitter, ring_timeout=2, retry_delay=0.05, hangup_grace=0.05)
        self.acd.start()
        self.desk = CallbackDesk(self.acd, dial="user/{number}")
        settings = Settings(var_dir=None, database_url="", broker_url="", redis_url=None,
                            secret_key="")  # the defaults: the dial string of outbound calls
        self.actions = EngineActions(types.SimpleNamespace(acd=self.acd, callbacks=self.desk,
                                                           settings=settings))
        self._handed = 0

    def execute(self, command):
        """What the engine answers a callback.* command (or the domain error it raises)."""
        return self.actions.execute(command)

    def batch(self):
        """The events emitted since the last batch, as ``events.to_dict`` dicts."""
        batch = [events.to_dict(event) for event in self.emitter.events[self._handed:]]
        self._handed = len(self.emitter.events)
        return batch

    def stop(self):
        """End the phones still ringing, stop the ACD's router."""
        for ended in list(self.switch.ringing.values()):
            ended.set()
        self.acd.stop()


CALLBACK_COMMANDS = (commands.QueueCallback, commands.CancelCallback)  # reschedule is a queue
CALLBACK_NUMBER = "13800138000"


class CallbackFacts:
    """Stamps callback events as one engine does: its id, its next seq, BASE_TIME + seconds."""

    def __init__(self, engine="engine-a", start=0):
        self.engine = engine
        self._seq = itertools.count(start + 1)

    def at(self, seconds, event_class, callback_id="cb-1", **fields):
        """An ``event_class`` event of ``callback_id`` at BASE_TIME + ``seconds``, as sent."""
        return events.to_dict(event_class(
            engine=self.engine, seq=next(self._seq),
            ts=BASE_TIME + datetime.timedelta(seconds=seconds), callback_id=callback_id,
            **fields))

    def requested(self, seconds=0, callback_id="cb-1", **fields):
        """The CallbackRequested of a caller who waited 60 s in sales (priority 2, skill fr 3)."""
        values = {"queue": "sales", "number": CALLBACK_NUMBER,
                  "since": BASE_TIME + datetime.timedelta(seconds=seconds - 60), "priority": 2,
                  "skills": {"fr": 3}, "call_uuid": "call-1", "caller_number": "02155550000"}
        values.update(fields)
        return self.at(seconds, events.CallbackRequested, callback_id, **values)


class EngineBackend:
    """A fs_cc.control.ControlBackend standing in for the engine behind the real control server.

    ``callbacks`` (a CallbackEngine) answers the callback.* commands as the engine does; every
    command received is kept in ``received``.
    """

    def __init__(self, agents=(), queues=(), callbacks=None):
        self.agent_list = list(agents)
        self.queue_list = list(queues)
        self.callbacks = callbacks
        self.received = []

    def agents(self):
        """Agents as the engine reports them."""
        return self.agent_list

    def queues(self):
        """Queues as the engine reports them."""
        return self.queue_list

    def calls(self):
        """No calls in progress."""
        return []

    def call_context(self, uuid):
        """No call is known."""
        raise commands.UnknownTarget("call_uuid", uuid)

    def execute(self, command):
        """agent.set_status moves an agent; callback.* go to ``callbacks``; others are refused."""
        self.received.append(command)
        if isinstance(command, CALLBACK_COMMANDS) and self.callbacks is not None:
            return self.callbacks.execute(command)
        if not isinstance(command, commands.SetAgentStatus):
            raise CommandRefused("type", f"{command.TYPE} is not simulated here")
        for agent in self.agent_list:
            if agent["extension"] == command.agent:
                agent["status"] = command.status
                return agent
        raise UnknownAgent(command.agent)


def closed_port():
    """A loopback port nothing listens on (bound, read back and released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
