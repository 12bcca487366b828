"""GET /api/events: the engine's live events relayed to browsers, each user seeing what they may.

Real servers throughout: the engine's control server over an in-process bus, the web app served
by gevent's WSGIServer as `fs-cc web` serves it, and Redis for the Redis source.
"""

import contextlib
import dataclasses
import http.client
import json
import urllib.parse
import uuid

import gevent
import pytest
import redis
from gevent.pool import Pool
from gevent.pywsgi import WSGIServer

from fs_cc import events
from fs_cc.acd.agents import Agent, AgentStatus
from fs_cc.bus import RedisBus
from fs_cc.control import ControlClient, ControlServer, sse
from tests.polling import wait_until
from tests.test_control import SECRET, MemoryEngine, serve
from tests.web.support import (create_token, create_user, database_url_for, dispose,
                               empty_tables, login, logout, make_settings)
from web import create_app
from web.auth.tokens import token_service
from web.extensions import db

STATUS_SINCE = 1772438400.0  # 2026-03-02T08:00:00+00:00


def engine_agents():
    """The test engine's agents: 1000 available, 1001 (李娜) on a call."""
    return [Agent("1000", "Agent 1000", ("sales",), AgentStatus.AVAILABLE, STATUS_SINCE),
            Agent("1001", "李娜", ("support", "sales"), AgentStatus.ON_CALL, STATUS_SINCE + 60)]


@pytest.fixture
def engine():
    """(backend, control server) of a real control server over a MemoryEngine and its bus."""
    backend = MemoryEngine(agents=engine_agents())
    server, _ = serve(backend, bus=backend.bus, heartbeat=0.5)
    yield backend, server
    server.stop(timeout=0.2)  # then what still streams is killed
    backend.bus.close()


def build_app(tmp_path, database_url, control_port, config=None, **settings_changes):
    """A testing app with the control secret, quick heartbeats and reconnects; tables emptied."""
    settings = dataclasses.replace(make_settings(tmp_path, database_url, control_port),
                                   control_secret=SECRET, **settings_changes)
    app = create_app(test_config={"TESTING": True, "EVENTS_HEARTBEAT_SECONDS": 0.5,
                                  "EVENTS_RECONNECT_BACKOFF": (0.05, 0.2), **(config or {})},
                     settings=settings)
    empty_tables(app)
    return app


@pytest.fixture
def app(tmp_path, migrated_databases, engine):
    """The web app on the session's SQLite database, its control client on ``engine``."""
    app = build_app(tmp_path, database_url_for(migrated_databases, "sqlite"),
                    engine[1].address[1])
    yield app
    app.extensions["fs_cc_events"].close()
    dispose(app)


@contextlib.contextmanager
def web_server(app):
    """Serve ``app`` as `fs-cc web` does (gevent WSGIServer) on port 0; yields its base URL."""
    server = WSGIServer(("127.0.0.1", 0), app, spawn=Pool(), log=None)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.stop(timeout=0.2)  # then what still streams is killed


@pytest.fixture
def web(app):
    """The base URL of ``app`` served for real."""
    with web_server(app) as url:
        yield url


def token_for(app, role, extension=None):
    """A fresh API token of a new user with ``role``."""
    _, username, _ = create_user(app, role=role, extension=extension)
    return create_token(app, username)


class Stream:
    """A client of /api/events reading frames on its own greenlet."""

    def __init__(self, base_url, token=None, headers=None):
        url = urllib.parse.urlsplit(base_url)
        self.connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        self.connection.request("GET", "/api/events", headers=headers)
        self.response = self.connection.getresponse()
        self.frames = []
        self._reader = gevent.spawn(self._read) if self.response.status == 200 else None

    def _read(self):
        for frame in sse.read_frames(self.response):
            self.frames.append(frame)

    def events(self):
        """The domain events received so far."""
        return [events.decode(frame.data) for frame in self.frames if frame.event is None]

    def notices(self):
        """The names of the named frames (notices) received so far."""
        return [frame.event for frame in self.frames if frame.event is not None]

    def close(self):
        """Hang up."""
        if self._reader is not None:
            self._reader.kill()
        self.connection.close()


@pytest.fixture
def open_stream():
    """open_stream(base_url, token) -> a Stream; all are closed afterwards."""
    streams = []

    def make(*args, **kwargs):
        stream = Stream(*args, **kwargs)
        streams.append(stream)
        return stream

    yield make
    for stream in streams:
        stream.close()


def make_event(backend, event_class, **fields):
    """An event stamped by the test engine."""
    return backend.sequencer.make(event_class, **fields)


def until_heard(bus, backend, streams, agent="1000"):
    """Publish agent.logged_in of ``agent`` until every stream has one (all linked up by then)."""
    def heard():
        bus.publish(make_event(backend, events.AgentLoggedIn, agent=agent, queue="probe"))
        return all(any(isinstance(e, events.AgentLoggedIn) and e.queue == "probe"
                       for e in stream.events()) for stream in streams)

    # a probe every 50 ms until the streams hear one
    wait_until(heard, timeout=10, what="streams linked to the engine", interval=0.05)


def a_call_story(backend, offered_to="1000"):
    """Two calls: one offered to and answered by ``offered_to``, one taken by 1001."""
    mine, other = "call-mine", "call-other"
    return [
        make_event(backend, events.CallStarted, call_uuid=mine, did="4000", caller_number="1"),
        make_event(backend, events.CallQueued, call_uuid=mine, queue="sales", priority=0,
                   skills={}, position=1),  # before the offer: not yet the agent's business
        make_event(backend, events.OfferedToAgent, call_uuid=mine, agent=offered_to,
                   leg_uuid="leg-1", queue="sales"),
        make_event(backend, events.CallStarted, call_uuid=other, did="4000", caller_number="2"),
        make_event(backend, events.AnsweredByAgent, call_uuid=mine, agent=offered_to,
                   leg_uuid="leg-1"),
        make_event(backend, events.OfferedToAgent, call_uuid=other, agent="1001",
                   leg_uuid="leg-2", queue="sales"),
        make_event(backend, events.AgentStatusChanged, agent="1001",
                   old=events.AgentState.RESERVED, new=events.AgentState.ON_CALL, reason="call"),
        make_event(backend, events.CallTransferred, call_uuid=mine,
                   target_kind=events.TransferKind.QUEUE, target="support", by_agent=offered_to),
        make_event(backend, events.CallEnded, call_uuid=other, side=events.HangupSide.CALLER,
                   cause="NORMAL_CLEARING"),
        make_event(backend, events.CallEnded, call_uuid=mine, side=events.HangupSide.AGENT,
                   cause="NORMAL_CLEARING"),
        make_event(backend, events.RecordingStopped, call_uuid=mine, path="/rec/mine.wav"),
        make_event(backend, events.AgentStatusChanged, agent=offered_to,
                   old=events.AgentState.ON_CALL, new=events.AgentState.WRAP_UP, reason="call"),
    ]


def ids(stream_events):
    """(engine, seq) of each event, the probes left out."""
    return [(e.engine, e.seq) for e in stream_events
            if not (isinstance(e, events.AgentLoggedIn) and e.queue == "probe")]


def test_given_a_supervisor_when_streaming_then_every_engine_event_comes_as_sse(
        engine, app, web, open_stream):
    backend, _ = engine
    stream = open_stream(web, token_for(app, "supervisor"))
    assert stream.response.getheader("Content-Type").startswith("text/event-stream")
    until_heard(backend.bus, backend, [stream])
    story = a_call_story(backend)

    for event in story:
        backend.bus.publish(event)
    wait_until(lambda: ids(stream.events())[-1:] == ids(story[-1:]), what="the whole story")

    assert ids(stream.events()) == ids(story)
    assert stream.events()[-len(story):] == story
    frame = stream.frames[-1]
    assert frame.id == f"engine-t:{story[-1].seq}"
    assert json.loads(frame.data)["type"] == "agent.status_changed"


@pytest.mark.parametrize("role", ["admin", "manager"])
def test_given_a_managing_role_when_streaming_then_other_agents_events_come_too(
        engine, app, web, open_stream, role):
    backend, _ = engine
    stream = open_stream(web, token_for(app, role))
    until_heard(backend.bus, backend, [stream], agent="1001")

    ControlClient("http://%s:%s" % engine[1].address, SECRET).set_agent_status("1000", "break")
    wait_until(lambda: any(isinstance(e, events.AgentStatusChanged) for e in stream.events()),
               what="agent.status_changed")

    changed = [e for e in stream.events() if isinstance(e, events.AgentStatusChanged)]
    assert [(e.agent, e.new) for e in changed] == [("1000", events.AgentState.BREAK)]


def test_given_an_agent_when_streaming_then_only_their_extension_and_the_calls_offered_to_them(
        engine, app, web, open_stream):
    backend, _ = engine
    agent = open_stream(web, token_for(app, "agent", extension="1000"))
    other_agent = open_stream(web, token_for(app, "agent", extension="1002"))
    supervisor = open_stream(web, token_for(app, "supervisor"))
    until_heard(backend.bus, backend, [agent, supervisor])
    until_heard(backend.bus, backend, [other_agent], agent="1002")
    story = a_call_story(backend, offered_to="1000")
    end = make_event(backend, events.AgentLoggedOut, agent="1000", queue="sales")
    end_of_1002 = make_event(backend, events.AgentLoggedOut, agent="1002", queue="sales")

    for event in [*story, end, end_of_1002]:
        backend.bus.publish(event)
    for stream, last in ((agent, end), (other_agent, end_of_1002), (supervisor, end_of_1002)):
        wait_until(lambda: last in stream.events(), what="the end of the story")

    seen = [e for e in agent.events() if e in story or e in (end, end_of_1002)]
    names = [(e.TYPE, e.call_uuid if isinstance(e, events.CallEvent) else None) for e in seen]
    assert names == [
        ("call.offered", "call-mine"),
        ("call.answered", "call-mine"),
        ("call.transferred", "call-mine"),
        ("call.ended", "call-mine"),
        ("agent.status_changed", None),  # 1000's own; the recording stopped after the end: not
        ("agent.logged_out", None),
    ]
    assert all(e.agent == "1000" for e in seen if isinstance(e, events.AgentEvent))
    assert [e for e in other_agent.events() if e in story or e == end] == []
    assert [e for e in supervisor.events() if e in story] == story


def test_given_no_login_when_streaming_then_401_json(engine, web):
    stream = Stream(web)
    try:
        assert stream.response.status == 401
        assert json.loads(stream.response.read()) == {"error": "authentication required",
                                                      "field": None}
    finally:
        stream.close()


def test_given_several_browsers_then_one_engine_connection_feeds_them_all(
        engine, app, web, open_stream):
    backend, _ = engine
    streams = [open_stream(web, token_for(app, "supervisor")) for _ in range(3)]
    until_heard(backend.bus, backend, streams)

    assert len(backend.bus._feeders) == 1  # one /events reader: the web process's relay
    assert app.extensions["fs_cc_events"].listeners == 3


def test_given_an_open_stream_when_other_requests_come_then_they_are_served(
        engine, app, web, open_stream):
    backend, _ = engine
    token = token_for(app, "supervisor")
    stream = open_stream(web, token)
    until_heard(backend.bus, backend, [stream])
    url = urllib.parse.urlsplit(web)

    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    try:
        connection.request("GET", "/api/me", headers={"Authorization": f"Bearer {token}"})
        me = connection.getresponse()
        assert me.status == 200 and json.loads(me.read())["role"] == "supervisor"
    finally:
        connection.close()


def test_given_a_stream_that_closes_then_the_relay_stops_feeding_it(engine, app, web,
                                                                    open_stream):
    backend, _ = engine
    stream = open_stream(web, token_for(app, "supervisor"))
    until_heard(backend.bus, backend, [stream])
    relay = app.extensions["fs_cc_events"]

    stream.close()

    def gone():
        backend.bus.publish(make_event(backend, events.AgentLoggedIn, agent="1000", queue="x"))
        return relay.listeners == 0

    wait_until(gone, what="the closed stream forgotten", interval=0.1)


def test_given_the_engine_restarts_then_the_stream_says_so_and_resumes_after_resync(
        engine, app, web, open_stream):
    backend, server = engine
    stream = open_stream(web, token_for(app, "supervisor"))
    until_heard(backend.bus, backend, [stream])
    port = server.address[1]

    server.stop(timeout=0.5)
    wait_until(lambda: "unavailable" in stream.notices(), what="the unavailable notice")
    restarted = serve_on(backend, port)  # the relay reconnects to the address it knows
    try:
        wait_until(lambda: "resync" in stream.notices(), timeout=10, what="the resync notice")
        later = make_event(backend, events.AgentLoggedIn, agent="1001", queue="after")
        wait_until(lambda: backend.bus.publish(later) and later in stream.events(),
                   what="events after the restart")
    finally:
        restarted.stop(timeout=0.5)

    assert stream.notices() == ["unavailable", "resync"]
    assert stream.response.status == 200  # the browser's stream itself never broke


def serve_on(backend, port):
    """A started control server over ``backend`` on a given port (a restarted engine)."""
    server = ControlServer(backend, "127.0.0.1", port, secret=SECRET, bus=backend.bus,
                           heartbeat=0.5)
    server.start()
    return server


# -- the Redis source -------------------------------------------------------------------------

@pytest.fixture
def redis_bus():
    """(client, prefix, RedisBus) on the test Redis, keys deleted afterwards."""
    client = redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=2)
    client.ping()
    prefix = f"fs_cc_test:web_events:{uuid.uuid4().hex}:"
    bus = RedisBus(client, prefix=prefix, poll_interval=0.05)
    yield client, prefix, bus
    bus.close()
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)
    client.close()


def test_given_the_engine_publishes_on_redis_then_the_web_reads_redis_not_the_engine(
        tmp_path, migrated_databases, redis_bus, open_stream):
    _, prefix, bus = redis_bus
    backend = MemoryEngine(agents=engine_agents(), bus=bus)
    # no control server at all: the events must come through Redis
    app = build_app(tmp_path, database_url_for(migrated_databases, "sqlite"), 9,
                    config={"FS_CC_BUS_PREFIX": prefix},
                    redis_url="redis://127.0.0.1:6379/0", state_store="redis")
    try:
        with web_server(app) as web:
            agent = open_stream(web, token_for(app, "agent", extension="1000"))
            until_heard(bus, backend, [agent])
            backend.set_status("1001", "wrap_up")  # not theirs
            backend.set_status("1000", "break", reason="lunch")
            wait_until(lambda: any(isinstance(e, events.AgentStatusChanged)
                                   for e in agent.events()), what="agent.status_changed")
            changed = [e for e in agent.events() if isinstance(e, events.AgentStatusChanged)]
    finally:
        app.extensions["fs_cc_events"].close()
        dispose(app)

    assert [(e.agent, e.new, e.reason) for e in changed] == [
        ("1000", events.AgentState.BREAK, "lunch")]


def test_given_an_open_stream_when_its_token_is_revoked_then_the_stream_ends(
        engine, app, web, open_stream):
    backend, _ = engine
    secret = token_for(app, "supervisor")
    stream = open_stream(web, secret)
    until_heard(backend.bus, backend, [stream])
    with app.app_context():
        service = token_service()
        service.revoke(service.by_secret(secret))
        db.session.commit()
    wait_until(lambda: stream._reader.dead, timeout=5, what="the stream ended by the server")
    again = open_stream(web, secret)
    assert again.response.status == 401


def test_given_an_open_stream_when_its_user_logs_out_elsewhere_then_the_stream_ends(
        engine, app, web, open_stream):
    _, username, password = create_user(app, role="supervisor")
    browser = app.test_client()
    assert login(browser, username, password).status_code == 302
    cookie = browser.get_cookie("session")
    stream = open_stream(web, None, headers={"Cookie": f"session={cookie.value}"})
    assert stream.response.status == 200
    assert logout(browser).status_code == 302  # the same session, ended on the server
    wait_until(lambda: stream._reader.dead, timeout=5, what="the stream ended by the server")
