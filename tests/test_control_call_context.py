"""GET /calls/<uuid> over a real control server: one call's context, the secret, the routing."""

import http.client
import json
import uuid as uuidlib

import pytest
import redis

from fs_cc import events
from fs_cc.control import (ControlBackend, ControlClient, ControlRefused, ControlServer,
                           UnknownTarget)
from fs_cc.control.engines import EngineRouter
from fs_cc.livecalls import LiveCalls
from fs_cc.registry import EngineRegistry

SECRET = "call-context-secret"
CALL = "0d6c4b7e-5a1f-4c2e-9d3b-7f8e9a0b1c2d"


class LiveBackend:
    """A ControlBackend whose calls are a real LiveCalls fed the events the test emits."""

    def __init__(self, name="a"):
        self.name = name
        self.live = LiveCalls()
        self.sequencer = events.EventSequencer(f"engine-{name}")
        self.asked = []

    def emit(self, event_class, **fields):
        """Stamp an event and fold it, as the engine's emitter does with its listeners."""
        self.live(self.sequencer.make(event_class, **fields))

    def agents(self):
        return []

    def queues(self):
        return []

    def calls(self):
        return []

    def call_context(self, uuid):
        self.asked.append(uuid)
        context = self.live.context(uuid)
        if context is None:
            raise UnknownTarget("call_uuid", uuid)
        return context

    def execute(self, command):
        return {"engine": self.name}


def ring(backend, call_uuid=CALL, caller="5551234"):
    """A call through the IVR into sales, its agent's phone ringing."""
    backend.emit(events.CallStarted, call_uuid=call_uuid, did="5901", caller_number=caller)
    backend.emit(events.IvrNodeEntered, call_uuid=call_uuid, flow="main", node="menu")
    backend.emit(events.IvrInput, call_uuid=call_uuid, flow="main", node="menu", input="1",
                 result="option")
    backend.emit(events.IvrNodeEntered, call_uuid=call_uuid, flow="main", node="sales")
    backend.emit(events.CallQueued, call_uuid=call_uuid, queue="sales", priority=0, skills={},
                 position=1)
    backend.emit(events.OfferedToAgent, call_uuid=call_uuid, agent="1000", leg_uuid="leg-1",
                 queue="sales")


def start(backend):
    server = ControlServer(backend, "127.0.0.1", 0, secret=SECRET)
    server.start()
    return server, "http://%s:%s" % server.address


@pytest.fixture
def served():
    """(backend, server, client) of a control server over a LiveBackend."""
    backend = LiveBackend()
    server, url = start(backend)
    yield backend, server, ControlClient(url, SECRET)
    server.stop(timeout=1)


def raw(server, method, path, headers=None):
    """(status, body as JSON) of one hand-made request."""
    connection = http.client.HTTPConnection(*server.address, timeout=5)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def bearer(secret=SECRET, **headers):
    return {"Authorization": f"Bearer {secret}", **headers}


def test_given_the_backend_double_then_it_is_a_control_backend():
    assert isinstance(LiveBackend(), ControlBackend)


def test_given_a_ringing_call_when_the_client_asks_then_its_context_comes_back(served):
    backend, server, client = served
    ring(backend)

    context = client.call(CALL)

    assert context == backend.live.context(CALL)
    assert (context["caller"], context["queue"], context["offered_to"]) == ("5551234", "sales",
                                                                            "1000")
    assert context["ivr"] == {"flow": "main", "path": ["menu", "sales"],
                              "inputs": [{"node": "menu", "input": "1", "result": "option"}]}
    assert raw(server, "GET", f"/calls/{CALL}", bearer()) == (200, {"call": context})


def test_given_an_ended_call_when_asked_then_its_last_context_with_state_ended(served):
    backend, _, client = served
    ring(backend)
    backend.emit(events.CallEnded, call_uuid=CALL, side=events.HangupSide.CALLER,
                 cause="NORMAL_CLEARING")

    assert client.call(CALL)["state"] == "ended"


def test_given_an_unknown_call_when_asked_then_404_naming_the_field(served):
    _, server, client = served

    with pytest.raises(ControlRefused) as refused:
        client.call("nobody")

    assert (refused.value.status, refused.value.field) == (404, "call_uuid")
    assert refused.value.error == str(UnknownTarget("call_uuid", "nobody"))
    assert raw(server, "GET", "/calls/nobody", bearer()) == (
        404, {"error": "no call_uuid 'nobody'", "field": "call_uuid"})


def test_given_a_uuid_with_reserved_characters_when_the_client_asks_then_it_is_quoted(served):
    backend, _, client = served

    with pytest.raises(ControlRefused) as refused:
        client.call("a b?c")

    assert refused.value.status == 404 and backend.asked == ["a b?c"]


@pytest.mark.parametrize("path", ["/calls/a/b", f"/calls/{CALL}/", "/calls/", "/calls//x"])
def test_given_a_path_that_is_not_one_call_when_asked_then_404_and_the_backend_untouched(
        served, path):
    backend, server, _ = served
    ring(backend)

    status, body = raw(server, "GET", path, bearer())

    assert status == 404 and body["error"] == f"no such resource {path}"
    assert backend.asked == []


def test_given_a_slash_in_the_uuid_when_the_client_asks_then_refused_not_another_route(served):
    backend, _, client = served

    with pytest.raises(ControlRefused) as refused:
        client.call("a/b")

    # the server sees the decoded path, two segments: no call route, the backend is not asked
    assert refused.value.status == 404 and backend.asked == []


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": f"Basic {SECRET}"}])
def test_given_no_or_a_wrong_secret_when_asking_for_a_call_then_401_and_nothing_told(
        served, headers):
    backend, server, _ = served
    ring(backend)

    status, body = raw(server, "GET", f"/calls/{CALL}", headers)

    assert status == 401 and "call" not in body and backend.asked == []


def test_given_a_client_without_the_secret_when_asking_then_refused_401(served):
    backend, server, _ = served
    ring(backend)
    client = ControlClient("http://%s:%s" % server.address, "")

    with pytest.raises(ControlRefused) as refused:
        client.call(CALL)

    assert refused.value.status == 401


@pytest.mark.parametrize("browser", [{"Origin": "http://evil.example"},
                                     {"Sec-Fetch-Site": "cross-site"}])
def test_given_a_browser_even_with_the_secret_when_asking_for_a_call_then_403(served, browser):
    backend, server, _ = served
    ring(backend)

    status, _ = raw(server, "GET", f"/calls/{CALL}", bearer(**browser))

    assert status == 403 and backend.asked == []


def test_given_a_post_to_a_call_then_405(served):
    _, server, _ = served

    status, _ = raw(server, "POST", f"/calls/{CALL}", bearer())

    assert status == 405


# -- several engines: the router asks the owner, then the others ----------------------------

@pytest.fixture
def registry():
    client = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=5)
    prefix = f"fs_cc_test:{uuidlib.uuid4().hex}:"
    yield EngineRegistry(client, prefix=prefix, ttl=5)
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)
    client.close()


@pytest.fixture
def two_engines(registry):
    """Backends a and b behind their own control servers, announced; (a, b, router)."""
    started = []
    for name in ("a", "b"):
        backend = LiveBackend(name)
        server, url = start(backend)
        registry.announce(name, url)
        started.append((backend, server, url))
    router = EngineRouter(ControlClient(started[0][2], SECRET), registry, SECRET)
    yield started[0][0], started[1][0], router
    for _, server, _ in started:
        server.stop(timeout=1)


def test_given_a_call_owned_by_another_engine_when_routed_then_its_owner_answers(
        registry, two_engines):
    backend_a, backend_b, router = two_engines
    ring(backend_b)
    registry.own_call(CALL, "b")

    assert router.call(CALL) == backend_b.live.context(CALL)
    assert backend_a.asked == []


def test_given_a_call_no_longer_in_the_registry_when_routed_then_the_engine_that_knows_it(
        registry, two_engines):
    backend_a, backend_b, router = two_engines
    ring(backend_b)  # ended calls and ringing callbacks are not (or no longer) owned there

    assert router.call(CALL)["caller"] == "5551234"
    assert backend_a.asked == [CALL] and backend_b.asked == [CALL]


def test_given_a_call_no_engine_knows_when_routed_then_404(two_engines):
    _, _, router = two_engines

    with pytest.raises(ControlRefused) as refused:
        router.call("nobody")

    assert (refused.value.status, refused.value.field) == (404, "call_uuid")


def test_given_no_registry_when_routed_then_the_configured_engine_answers(served):
    backend, _, client = served
    ring(backend)

    assert EngineRouter(client).call(CALL) == backend.live.context(CALL)
