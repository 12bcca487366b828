"""Several engines on one Redis: who runs where, who owns which call, and commands that follow."""

import uuid

import pytest
import redis

from fs_cc.control import ControlClient, ControlServer
from fs_cc.control import commands as cmd
from fs_cc.control.engines import EngineRouter
from fs_cc.registry import EngineRegistry
from tests.polling import wait_until

SECRET = "registry-test-secret"


@pytest.fixture
def registry():
    client = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=5)
    prefix = f"fs_cc_test:{uuid.uuid4().hex}:"
    yield EngineRegistry(client, prefix=prefix, ttl=0.5)
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)
    client.close()


class Backend:
    """An engine's ControlBackend that notes the commands it carries out."""

    def __init__(self, name):
        self.name = name
        self.executed = []

    def agents(self):
        return [{"extension": "1000", "name": "Ana", "queues": ["sales"], "status": "available",
                 "status_since": None, "last_call_ended_at": None, "skills": {}}]

    def queues(self):
        return []

    def calls(self):
        return [{"uuid": f"{self.name}-call", "caller": "555", "did": "4000",
                 "started_at": None, "legs": []}]

    def execute(self, command):
        self.executed.append(command)
        return {"engine": self.name}


@pytest.fixture
def engines():
    """Two engines' control servers: {name: (backend, url)}."""
    started = {}
    for name in ("a", "b"):
        backend = Backend(name)
        server = ControlServer(backend, "127.0.0.1", 0, secret=SECRET)
        server.start()
        started[name] = (backend, server, "http://%s:%s" % server.address)
    yield {name: (backend, url) for name, (backend, _, url) in started.items()}
    for _, server, _ in started.values():
        server.stop(timeout=1)


def test_given_engines_announced_when_one_stops_renewing_then_it_is_no_longer_listed(registry):
    registry.announce("a", "http://10.0.0.1:8022")
    registry.announce("b", "http://10.0.0.2:8022")
    assert registry.engines() == {"a": "http://10.0.0.1:8022", "b": "http://10.0.0.2:8022"}
    registry.withdraw("b")
    assert registry.engines() == {"a": "http://10.0.0.1:8022"}
    wait_until(lambda: registry.engines() == {}, 3, "a's announcement expired")


def test_given_a_call_owned_when_asked_then_its_engine_until_it_ends(registry):
    registry.own_call("call-1", "b")
    assert registry.owner("call-1") == "b" and registry.owner("call-2") is None
    registry.release_call("call-1")
    assert registry.owner("call-1") is None


def test_given_two_engines_when_commanding_then_each_command_reaches_the_right_engine(
        registry, engines):
    (backend_a, url_a), (backend_b, url_b) = engines["a"], engines["b"]
    registry.announce("a", url_a)
    registry.announce("b", url_b)
    registry.own_call("call-on-b", "b")
    router = EngineRouter(ControlClient(url_a, SECRET), registry, SECRET)

    assert router.execute(cmd.HangupCall(call_uuid="call-on-b")) == {"engine": "b"}
    assert [type(c) for c in backend_b.executed] == [cmd.HangupCall]
    assert backend_a.executed == []
    assert router.execute(cmd.HangupCall(call_uuid="not-owned")) == {"engine": "a"}
    for command in (cmd.HoldCall(call_uuid="call-on-b"), cmd.MuteCall(call_uuid="call-on-b"),
                    cmd.ConsultCall(call_uuid="call-on-b", target_kind=cmd.TransferKind.AGENT,
                                    target="1001")):
        assert router.execute(command) == {"engine": "b"}  # every control of b's call
    assert backend_a.executed == [cmd.HangupCall(call_uuid="not-owned")]

    router.reload_catalog()
    assert isinstance(backend_a.executed[-1], cmd.ReloadCatalog)
    assert isinstance(backend_b.executed[-1], cmd.ReloadCatalog)
    assert sorted(call["uuid"] for call in router.calls()) == ["a-call", "b-call"]
    assert router.agents()[0]["extension"] == "1000"


def test_given_an_engine_whose_announcement_expired_then_it_is_not_asked(registry, engines):
    (backend_a, url_a), (backend_b, url_b) = engines["a"], engines["b"]
    registry.announce("a", url_a)
    registry.announce("b", url_b)
    registry.withdraw("b")
    router = EngineRouter(ControlClient(url_a, SECRET), registry, SECRET)

    router.reload_catalog()

    assert len(backend_a.executed) == 1 and backend_b.executed == []
    assert [call["uuid"] for call in router.calls()] == ["a-call"]


def test_given_no_registry_when_commanding_then_the_configured_engine_answers(engines):
    backend_a, url_a = engines["a"]
    router = EngineRouter(ControlClient(url_a, SECRET))

    router.execute(cmd.HangupCall(call_uuid="anything"))

    assert [type(c) for c in backend_a.executed] == [cmd.HangupCall]


def test_given_engines_sharing_redis_when_a_call_starts_and_ends_then_its_owner_is_noted(
        tmp_path):
    from fs_cc import events
    from fs_cc.engine import Engine
    from tests.engine.support import RecordingPublisher, engine_settings

    from fs_cc.acd.store import RedisStore
    from fs_cc.bus import RedisBus

    settings = engine_settings(tmp_path, "127.0.0.1", 9, state_store="redis",
                               redis_url="redis://127.0.0.1:6379/0")
    client = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=5)
    prefix = f"fs_cc_test:{uuid.uuid4().hex}:"
    engine = Engine(settings, publisher=RecordingPublisher(), bus=RedisBus(client, prefix=prefix),
                    store=RedisStore(client, prefix=prefix + "acd:"))
    call = f"registry-test-{uuid.uuid4().hex}"
    try:
        engine.emitter.emit(events.CallStarted, call_uuid=call, did="4000", caller_number="555")
        assert engine.registry.owner(call) == engine.id
        engine.emitter.emit(events.CallEnded, call_uuid=call, side=events.HangupSide.CALLER,
                            cause="NORMAL_CLEARING")
        assert engine.registry.owner(call) is None
    finally:
        engine.registry.client.delete(f"fs_cc:call:{call}")
        engine.outbox.stop(flush_timeout=0)
        for key in client.scan_iter(match=prefix + "*"):
            client.delete(key)
        client.close()
