"""The engine's control interface over real HTTP on a loopback port: commands, secret, events."""

import base64
import http.client
import json
import time
import xml.etree.ElementTree as ET

import gevent
import pytest

from fs_cc import events
from fs_cc.acd.agents import (Agent, AgentStatus, InvalidStatus, InvalidTransition, UnknownAgent,
                              UnknownQueue, check_transition)
from fs_cc.bus import InProcessBus
from fs_cc.catalog import AgentDef, Catalog
from fs_cc.control import (CommandRefused, ControlBackend, ControlClient, ControlRefused,
                           ControlServer, ControlUnavailable, UnknownTarget, commands)
from fs_cc.directory import LOOPBACK_DIAL_STRING, sip_password
from fs_cc.errors import ConfigError
from tests.polling import wait_until

SECRET = "test-control-secret"


class MemoryEngine:
    """A ControlBackend over agents in memory: the ACD's own status rules, events on ``bus``.

    It answers the shapes the engine sends (commands.AgentView, QueueView, CallView).
    """

    def __init__(self, agents=None, queues=("sales", "support"), bus=None, engine="engine-t"):
        self.bus = bus if bus is not None else InProcessBus()
        self.sequencer = events.EventSequencer(engine)
        if agents is None:
            agents = [Agent("1000", "Agent 1000", ("sales",)),
                      Agent("1001", "Agent 1001", ("support", "sales"), AgentStatus.AVAILABLE)]
        self.by_extension = {agent.extension: agent for agent in agents}
        self.queue_names = list(queues)
        self.call_list = []
        self.executed = []
        self.published = []

    def publish(self, event_class, **fields):
        """Stamp, keep and publish an event on the bus, as the engine's emitter would."""
        event = self.sequencer.make(event_class, **fields)
        self.published.append(event)
        self.bus.publish(event)
        return event

    def agents(self):
        """Each agent as the engine lists it, by extension."""
        return [self.by_extension[ext].to_dict() for ext in sorted(self.by_extension)]

    def queues(self):
        """Each queue's figures as the engine sends them."""
        out = []
        for name in self.queue_names:
            members = [a for a in self.by_extension.values() if name in a.queues]
            out.append({"name": name, "strategy": "longest-idle", "waiting": 0,
                        "agents_available": sum(a.status is AgentStatus.AVAILABLE
                                                for a in members),
                        "agents_logged_in": sum(a.status is not AgentStatus.LOGGED_OUT
                                                for a in members)})
        return out

    def calls(self):
        """The calls in progress set by the test."""
        return self.call_list

    def call_context(self, uuid):
        """No call's context is kept here."""
        raise UnknownTarget("call_uuid", uuid)

    def execute(self, command):
        """Agent statuses and logins for real; calls are unknown; the rest is recorded."""
        self.executed.append(command)
        if isinstance(command, commands.SetAgentStatus):
            return self.set_status(command.agent, command.status, command.reason)
        if isinstance(command, (commands.AgentLogin, commands.AgentLogout)):
            agent = self._agent(command.agent)
            if command.queue not in self.queue_names:
                raise UnknownQueue(command.queue)
            kind = (events.AgentLoggedIn if isinstance(command, commands.AgentLogin)
                    else events.AgentLoggedOut)
            self.publish(kind, agent=agent.extension, queue=command.queue)
            return agent.to_dict()
        if isinstance(command, (commands.TransferCall, commands.HangupCall,
                                commands.SuperviseCall)):
            raise UnknownTarget("call_uuid", command.call_uuid)
        return {"done": command.TYPE}

    def set_status(self, extension, status, reason=""):
        """Move an agent as the ACD would, publishing agent.status_changed."""
        agent = self._agent(extension)
        target = AgentStatus.parse(status)
        check_transition(agent.extension, agent.status, target)
        old, agent.status, agent.status_since = agent.status, target, time.time()
        self.publish(events.AgentStatusChanged, agent=agent.extension,
                     old=events.AgentState(old.value), new=events.AgentState(target.value),
                     reason=reason)
        return agent.to_dict()

    def _agent(self, extension):
        if extension not in self.by_extension:
            raise UnknownAgent(extension)
        return self.by_extension[extension]


class RaisingBackend(MemoryEngine):
    """A backend whose execute raises what the test gives it."""

    def __init__(self, error):
        super().__init__()
        self.error = error

    def execute(self, command):
        raise self.error


def serve(backend, secret=SECRET, bus=None, heartbeat=15.0):
    """A started ControlServer on port 0; returns (server, base URL)."""
    server = ControlServer(backend, "127.0.0.1", 0, secret=secret, bus=bus, heartbeat=heartbeat)
    server.start()
    return server, "http://%s:%s" % server.address


@pytest.fixture
def engine():
    """(backend, server, client) of a control server over a MemoryEngine with an event bus."""
    backend = MemoryEngine()
    server, url = serve(backend, bus=backend.bus, heartbeat=0.2)
    yield backend, server, ControlClient(url, SECRET)
    server.stop(timeout=1)
    backend.bus.close()


def raw(server, method, path, body=None, headers=None):
    """(status, headers dict with lowercase names, body bytes) of one hand-made request."""
    connection = http.client.HTTPConnection(*server.address, timeout=5)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def authorized(**headers):
    """Headers with the right secret, then ``headers``."""
    return {"Authorization": f"Bearer {SECRET}", **headers}


COMMAND = commands.encode(commands.SetAgentStatus(agent="1000", status="available"))


# -- reads and commands -----------------------------------------------------------------------

def test_given_the_test_engine_then_it_is_a_control_backend():
    assert isinstance(MemoryEngine(), ControlBackend)


def test_given_engine_when_agents_and_queues_listed_then_live_states_in_the_engines_shape(engine):
    _, _, client = engine

    agents = client.agents()
    queues = client.queues()

    assert [(a["extension"], a["status"]) for a in agents] == [("1000", "logged_out"),
                                                               ("1001", "available")]
    assert queues[0] == {"name": "sales", "strategy": "longest-idle", "waiting": 0,
                         "agents_available": 1, "agents_logged_in": 1}
    assert client.calls() == []


def test_given_agent_when_status_set_then_the_engine_gets_a_typed_command(engine):
    backend, _, client = engine

    agent = client.set_agent_status("1000", "break", reason="lunch")

    assert agent["extension"] == "1000" and agent["status"] == "not_ready"
    assert backend.executed == [commands.SetAgentStatus(agent="1000", status="break",
                                                        reason="lunch")]


def test_given_any_command_when_executed_then_the_result_comes_back(engine):
    backend, _, client = engine

    assert client.reload_catalog() == {"done": "catalog.reload"}
    assert client.execute(commands.EndWrapUp(agent="1001")) == {"done": "agent.end_wrap_up"}
    assert backend.executed == [commands.ReloadCatalog(), commands.EndWrapUp(agent="1001")]


@pytest.mark.parametrize("error, status, field", [
    (UnknownAgent("9999"), 404, "agent"),
    (UnknownQueue("nowhere"), 404, "queue"),
    (InvalidStatus("dancing"), 400, "status"),
    (InvalidTransition("1000", AgentStatus.LOGGED_OUT, AgentStatus.ON_CALL), 409, "status"),
    (UnknownTarget("call_uuid", "call-9"), 404, "call_uuid"),
    (CommandRefused("call_uuid", "call call-1 is not bridged"), 409, "call_uuid"),
])
def test_given_a_domain_error_when_executing_then_its_class_decides_status_and_field(
        error, status, field):
    server, url = serve(RaisingBackend(error))
    try:
        with pytest.raises(ControlRefused) as caught:
            ControlClient(url, SECRET).execute(commands.EndWrapUp(agent="1000"))
    finally:
        server.stop(timeout=1)

    assert (caught.value.status, caught.value.field) == (status, field)
    assert caught.value.error == str(error)


@pytest.mark.parametrize("bug", [KeyError("1000"), ValueError("bad status"), TypeError("oops")])
def test_given_a_builtin_error_from_a_bug_when_executing_then_500_not_a_refusal(bug):
    server, url = serve(RaisingBackend(bug))
    try:
        with pytest.raises(ControlRefused) as caught:
            ControlClient(url, SECRET).execute(commands.EndWrapUp(agent="1000"))
    finally:
        server.stop(timeout=1)

    assert (caught.value.status, caught.value.error, caught.value.field) == (
        500, "internal error", None)


def test_given_the_real_status_rules_when_refused_then_each_error_names_its_field(engine):
    _, _, client = engine
    cases = [(("9999", "available"), 404, "agent"), (("1000", "dancing"), 400, "status"),
             (("1000", "on_call"), 409, "status")]
    for (extension, status), code, field in cases:
        with pytest.raises(ControlRefused) as caught:
            client.set_agent_status(extension, status)
        assert (caught.value.status, caught.value.field) == (code, field), (extension, status)
    with pytest.raises(ControlRefused) as queue:
        client.execute(commands.AgentLogin(agent="1000", queue="nowhere"))
    assert (queue.value.status, queue.value.field) == (404, "queue")


@pytest.mark.parametrize("body, field", [
    ('{"type": "agent.set_status", "agent": "1000"}', "status"),
    ('{"type": "agent.set_status", "agent": "1000", "status": "break", "x": 1}', "x"),
    ('{"type": "call.supervise", "call_uuid": "u", "supervisor": "2000", "mode": "shout"}',
     "mode"),
    ('{"type": "agent.dance", "agent": "1000"}', "type"),
    ("this is not json", "type"),
])
def test_given_a_bad_command_body_when_posted_then_400_naming_the_field(engine, body, field):
    backend, server, _ = engine

    status, _, answer = raw(server, "POST", "/commands", body,
                            authorized(**{"Content-Type": "application/json"}))

    assert status == 400
    assert json.loads(answer)["field"] == field
    assert backend.executed == []


def test_given_the_old_status_route_when_posted_then_it_is_gone(engine):
    _, server, _ = engine

    status, _, _ = raw(server, "POST", "/agents/1000/status", '{"status": "available"}',
                       authorized(**{"Content-Type": "application/json"}))

    assert status == 404


def test_given_no_engine_when_client_asks_then_unavailable():
    client = ControlClient("http://127.0.0.1:9", SECRET, timeout=0.5)
    with pytest.raises(ControlUnavailable):
        client.agents()


# -- the secret and browsers ------------------------------------------------------------------

def test_given_no_secret_when_building_the_server_then_refused():
    with pytest.raises(ConfigError):
        ControlServer(MemoryEngine(), "127.0.0.1", 0, secret="")


@pytest.mark.parametrize("header", [None, "Bearer wrong-secret", f"Basic {SECRET}",
                                    f"Bearer {SECRET}x", "Bearer "])
@pytest.mark.parametrize("method, path", [("GET", "/agents"), ("GET", "/queues"),
                                          ("GET", "/calls"), ("GET", "/events"),
                                          ("POST", "/commands")])
def test_given_no_or_a_wrong_secret_when_asking_then_401(engine, header, method, path):
    backend, server, _ = engine
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Authorization"] = header

    status, answer_headers, _ = raw(server, method, path,
                                    COMMAND if method == "POST" else None, headers)

    assert status == 401
    assert answer_headers["www-authenticate"].startswith("Bearer")
    assert backend.executed == []


def test_given_a_client_with_a_wrong_secret_then_refused_401():
    backend = MemoryEngine()
    server, url = serve(backend)
    try:
        with pytest.raises(ControlRefused) as caught:
            ControlClient(url, "not-the-secret").set_agent_status("1000", "available")
    finally:
        server.stop(timeout=1)
    assert caught.value.status == 401 and backend.executed == []


def test_given_no_secret_when_asking_health_then_it_answers(engine):
    _, server, _ = engine

    status, _, body = raw(server, "GET", "/health")

    assert (status, json.loads(body)) == (200, {"ok": True})


@pytest.mark.parametrize("browser_header", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-origin"},
    {"Sec-Fetch-Mode": "no-cors"},
])
@pytest.mark.parametrize("method, path", [("POST", "/commands"), ("GET", "/agents"),
                                          ("GET", "/events"), ("GET", "/health")])
def test_given_a_browsers_headers_even_with_the_secret_then_403(engine, browser_header, method,
                                                                 path):
    backend, server, _ = engine

    status, headers, _ = raw(server, method, path, COMMAND if method == "POST" else None,
                             authorized(**{"Content-Type": "application/json"},
                                        **browser_header))

    assert status == 403
    assert backend.executed == []
    assert not [name for name in headers if name.startswith("access-control-")]


@pytest.mark.parametrize("content_type", [
    None, "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x", "application/json-patch+json", "application/jsonx"])
def test_given_a_body_that_is_not_declared_json_when_posted_then_415_and_nothing_done(
        engine, content_type):
    backend, server, _ = engine
    headers = authorized()
    if content_type is not None:
        headers["Content-Type"] = content_type

    status, _, body = raw(server, "POST", "/commands", COMMAND, headers)

    assert status == 415
    assert json.loads(body)["field"] == "Content-Type"
    assert backend.executed == []


def test_given_a_form_post_when_posted_then_refused_and_the_agent_untouched(engine):
    backend, server, client = engine

    status, _, _ = raw(server, "POST", "/commands", "type=agent.set_status&agent=1000",
                       authorized(**{"Content-Type": "application/x-www-form-urlencoded"}))

    assert status == 415
    assert client.agents()[0]["status"] == "logged_out"


@pytest.mark.parametrize("path", ["/commands", "/agents", "/events", "/health", "/nowhere"])
def test_given_a_preflight_when_asked_then_405_and_no_cors_header(engine, path):
    _, server, _ = engine

    status, headers, _ = raw(server, "OPTIONS", path, headers=authorized(**{
        "Access-Control-Request-Method": "POST"}))

    assert status == 405
    assert not [name for name in headers if name.startswith("access-control-")]


def test_given_every_route_when_answered_then_no_cors_header_ever(engine):
    _, server, _ = engine
    answers = [raw(server, "GET", path, headers=authorized())
               for path in ("/agents", "/queues", "/calls", "/health", "/nowhere")]
    answers.append(raw(server, "POST", "/commands", COMMAND,
                       authorized(**{"Content-Type": "application/json"})))
    answers.append(raw(server, "GET", "/commands", headers=authorized()))

    assert [status for status, _, _ in answers] == [200, 200, 200, 200, 404, 200, 405]
    for _, headers, _ in answers:
        assert not [name for name in headers if name.startswith("access-control-")]


# -- events -----------------------------------------------------------------------------------

def open_stream(server, secret=SECRET):
    """(connection, response) of GET /events, after its first frame (subscribed by then)."""
    connection = http.client.HTTPConnection(*server.address, timeout=5)
    connection.request("GET", "/events", headers={"Authorization": f"Bearer {secret}"})
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type").startswith("text/event-stream")
    assert response.readline().startswith(b": ")
    assert response.readline() == b"\n"
    return connection, response


def read_frame(response):
    """The lines of the next frame that is not a comment."""
    while True:
        lines = []
        while (line := response.readline().decode()) != "\n":
            lines.append(line.rstrip("\n"))
        if not all(line.startswith(":") for line in lines):
            return lines


def test_given_a_stream_when_the_bus_publishes_then_one_frame_per_event_with_engine_seq_id(
        engine):
    backend, server, _ = engine
    connection, response = open_stream(server)
    try:
        backend.set_status("1000", "available", "login")
        frame = read_frame(response)
    finally:
        connection.close()

    event_id, data = frame
    sent = json.loads(data[len("data: "):])
    assert event_id == f"id: engine-t:{sent['seq']}"
    assert sent["type"] == "agent.status_changed"
    assert (sent["agent"], sent["old"], sent["new"]) == ("1000", "logged_out", "available")
    assert data == "data: " + events.encode(events.decode(data[len("data: "):]))


def test_given_a_quiet_bus_when_streaming_then_a_comment_heartbeat_comes(engine):
    _, server, _ = engine
    connection, response = open_stream(server)
    try:
        assert response.readline() == b": heartbeat\n"  # the fixture's heartbeat is 0.2 s
    finally:
        connection.close()


def test_given_the_client_when_a_command_changes_an_agent_then_events_tell_it(engine):
    backend, _, client = engine
    received = []
    stream = client.events()

    def read():
        for event in stream:
            received.append(event)

    reader = gevent.spawn(read)
    try:
        # until the stream is open, events published are not for it: publish until one arrives
        wait_until(lambda: backend.bus.publish(backend.sequencer.make(
            events.AgentLoggedIn, agent="1001", queue="sales")) and received, what="stream")
        client.set_agent_status("1000", "break", reason="lunch")
        wait_until(lambda: any(isinstance(e, events.AgentStatusChanged) for e in received),
                   what="agent.status_changed")
    finally:
        reader.kill()

    changed = next(e for e in received if isinstance(e, events.AgentStatusChanged))
    assert (changed.agent, changed.old, changed.new, changed.reason) == (
        "1000", events.AgentState.LOGGED_OUT, events.AgentState.BREAK, "lunch")
    assert changed.engine == "engine-t"


def test_given_a_closed_stream_then_its_bus_subscription_ends(engine):
    backend, server, _ = engine
    connection, _ = open_stream(server)
    assert len(backend.bus._feeders) == 1

    connection.close()
    backend.set_status("1000", "available")  # the write that finds the reader gone

    wait_until(lambda: not backend.bus._feeders, what="subscription closed")


def test_given_the_engine_stops_when_streaming_then_the_client_says_unavailable():
    backend = MemoryEngine()
    server, url = serve(backend, bus=backend.bus, heartbeat=0.1)
    stream = ControlClient(url, SECRET).events()
    outcome = []

    def read():
        try:
            for _ in stream:
                pass
        except ControlUnavailable as exc:
            outcome.append(exc)

    reader = gevent.spawn(read)
    wait_until(lambda: backend.bus._feeders, what="stream open")
    server.stop(timeout=0.5)
    reader.join(5)

    assert outcome and isinstance(outcome[0], ControlUnavailable)
    wait_until(lambda: not backend.bus._feeders, what="the stream's subscription closed")


def test_given_an_engine_without_a_bus_when_streaming_then_503():
    server, _ = serve(MemoryEngine(), bus=None)
    try:
        status, _, body = raw(server, "GET", "/events", headers=authorized())
    finally:
        server.stop(timeout=1)
    assert status == 503 and json.loads(body)["error"] == "this engine publishes no events"


# -- the directory mod_xml_curl fetches -------------------------------------------------------

DIRECTORY = "/freeswitch/directory?domain=127.0.0.1&agent_endpoint=loopback&sip_agents=1019"
# what mod_xml_curl 1.10.12 posted for `originate user/1050` (measured, docs/freeswitch-semantics)
LOOKUP = ("hostname=vm&section=directory&tag_name=domain&key_name=name&key_value=127.0.0.1"
          "&action=user_call&key=id&user=1050&domain=127.0.0.1")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def directory_catalog(*extensions):
    """A catalog holding (enabled) agents ``extensions``."""
    return Catalog.build([], [AgentDef(ext, f"Agent {ext}", ("sales",), {}, {"sales": 1})
                              for ext in extensions], {}, None, 1)


def basic(user="fs_cc", password=SECRET, **headers):
    """Headers with HTTP Basic credentials, as mod_xml_curl's gateway-credentials send them."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", **FORM, **headers}


@pytest.fixture
def switch_facing():
    """(server, catalogs): a control server whose directory reads ``catalogs[-1]`` each time."""
    catalogs = [directory_catalog("1050")]
    server = ControlServer(MemoryEngine(), "127.0.0.1", 0, secret=SECRET,
                           catalog=lambda: catalogs[-1])
    server.start()
    yield server, catalogs
    server.stop(timeout=1)


def test_given_the_switchs_credentials_when_a_catalog_agent_is_looked_up_then_its_entry(
        switch_facing):
    server, _ = switch_facing

    status, headers, body = raw(server, "POST", DIRECTORY, LOOKUP, basic())

    assert status == 200
    assert headers["content-type"].startswith("text/xml")
    assert headers["cache-control"] == "no-store"
    user = ET.fromstring(body).find(
        "section[@name='directory']/domain[@name='127.0.0.1']/groups/group/users/user[@id='1050']")
    params = {p.get("name"): p.get("value") for p in user.iter("param")}
    assert params == {"password": sip_password(SECRET, "1050"),
                      "dial-string": LOOPBACK_DIAL_STRING}


@pytest.mark.parametrize("form", [
    LOOKUP.replace("user=1050", "user=1051"),                 # not in the catalog
    LOOKUP.replace("key_value=127.0.0.1", "key_value=example.com"),
    LOOKUP.replace("section=directory", "section=dialplan"),
    "hostname=vm&section=directory&tag_name=domain&key_name=name&key_value=127.0.0.1"
    "&purpose=gateways",
])
def test_given_a_lookup_of_no_catalog_agent_when_posted_then_the_not_found_document(
        switch_facing, form):
    server, _ = switch_facing

    status, _, body = raw(server, "POST", DIRECTORY, form, basic())

    assert status == 200
    assert ET.fromstring(body).find("section[@name='result']/result").get("status") == "not found"


def test_given_the_catalog_reloaded_when_looked_up_again_then_the_new_catalog_answers(
        switch_facing):
    server, catalogs = switch_facing
    assert b'id="1050"' in raw(server, "POST", DIRECTORY, LOOKUP, basic())[2]

    catalogs.append(directory_catalog("1051"))  # what catalog.reload does to engine.catalog

    assert b"not found" in raw(server, "POST", DIRECTORY, LOOKUP, basic())[2]


@pytest.mark.parametrize("headers", [
    FORM,                                                     # no credentials
    basic(password="wrong-secret"),
    basic(user="admin"),
    basic(password=SECRET + "x"),
    {"Authorization": f"Bearer {SECRET}", **FORM},            # the other routes' scheme
    {"Authorization": "Basic not-base64!", **FORM},
])
def test_given_no_or_wrong_credentials_when_the_directory_is_asked_then_401_and_no_entry(
        switch_facing, headers):
    server, _ = switch_facing

    status, answer_headers, body = raw(server, "POST", DIRECTORY, LOOKUP, headers)

    assert status == 401
    assert b"password" not in body and b"1050" not in body
    # no Basic challenge: a browser would offer to remember what its user types
    assert "basic" not in answer_headers.get("www-authenticate", "").lower()


def test_given_the_directorys_basic_credentials_when_used_elsewhere_then_401(switch_facing):
    server, _ = switch_facing

    status, _, _ = raw(server, "GET", "/agents", headers=basic())

    assert status == 401


@pytest.mark.parametrize("browser_header", [{"Origin": "null"},
                                            {"Origin": "http://127.0.0.1:5000"},
                                            {"Sec-Fetch-Site": "cross-site"},
                                            {"Sec-Fetch-Mode": "navigate"}])
def test_given_a_browsers_form_even_with_the_credentials_when_posted_then_403(
        switch_facing, browser_header):
    server, _ = switch_facing

    status, _, body = raw(server, "POST", DIRECTORY, LOOKUP, basic(**browser_header))

    assert status == 403 and b"1050" not in body


@pytest.mark.parametrize("method, content_type, status", [
    ("GET", None, 405),
    ("POST", "application/json", 415),
    ("POST", "multipart/form-data; boundary=x", 415),
    ("POST", "application/x-www-form-urlencoded; charset=utf-8", 200),
])
def test_given_the_directory_route_when_asked_another_way_then_refused_or_served(
        switch_facing, method, content_type, status):
    server, _ = switch_facing
    headers = basic()
    if content_type is None:
        del headers["Content-Type"]
    else:
        headers["Content-Type"] = content_type

    answered, _, _ = raw(server, method, DIRECTORY, LOOKUP if method == "POST" else None, headers)

    assert answered == status


def test_given_a_binding_url_describing_the_switch_wrongly_when_posted_then_400_naming_it(
        switch_facing):
    server, _ = switch_facing

    status, _, body = raw(server, "POST", "/freeswitch/directory?agent_endpoint=pigeon", LOOKUP,
                          basic())

    assert status == 400 and json.loads(body)["field"] == "agent_endpoint"


def test_given_an_engine_without_a_catalog_when_the_directory_is_asked_then_503():
    server, _ = serve(MemoryEngine())
    try:
        status, _, _ = raw(server, "POST", DIRECTORY, LOOKUP, basic())
    finally:
        server.stop(timeout=1)

    assert status == 503
