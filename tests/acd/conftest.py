"""Store fixtures: every store test runs on the in-process store and on the real Redis."""

import uuid

import pytest
import redis

from fs_cc.acd.store import MemoryStore, RedisStore


class FakeClock:
    """A clock the test moves by hand (epoch seconds)."""

    def __init__(self, start=1_700_000_000.0):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, seconds=1.0):
        self.now += seconds
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def redis_prefix():
    client = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=5)
    prefix = f"fs_cc_test:{uuid.uuid4().hex}:"
    yield client, prefix
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)
    client.close()


@pytest.fixture(params=["memory", "redis"])
def make_store(request, clock):
    """Builds stores sharing one state (two RedisStores = two engines on one Redis)."""
    if request.param == "memory":
        shared = MemoryStore(clock=clock)
        yield lambda: shared
        return
    client, prefix = request.getfixturevalue("redis_prefix")
    yield lambda: RedisStore(client, prefix=prefix, clock=clock)


@pytest.fixture
def store(make_store):
    return make_store()
