"""Bus fixtures: every contract test runs on the in-process bus and on a real Redis."""

import uuid

import pytest
import redis

from fs_cc.bus import InProcessBus, RedisBus
from tests.services import REDIS_URL, START_HINT, services_required

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def redis_or_skip():
    """A client of the test Redis; skip without one, or fail when CI/FS_CC_REQUIRE_SERVICES says."""
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=5,
                         socket_connect_timeout=2)
    try:
        client.ping()
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        client.close()
        reason = f"Redis at {REDIS_URL} is not available ({exc})"
        if services_required():
            pytest.fail(f"{reason}; it is required (CI or FS_CC_REQUIRE_SERVICES is set):"
                        f" {START_HINT}", pytrace=False)
        pytest.skip(reason)
    return client


@pytest.fixture
def redis_prefix():
    """(client, prefix) unique to the test; its keys are deleted afterwards."""
    client = redis_or_skip()
    prefix = f"fs_cc_test:bus:{uuid.uuid4().hex}:"
    yield client, prefix
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)
    client.close()


@pytest.fixture(params=["inprocess", "redis"])
def make_bus(request):
    """make_bus() -> a bus over one shared log: a new RedisBus object each call (a restarted
    process), the same InProcessBus (the process that holds it lives on)."""
    made = []
    if request.param == "inprocess":
        shared = InProcessBus()
        made.append(shared)

        def make():
            return shared
    else:
        client, prefix = request.getfixturevalue("redis_prefix")

        def make():
            bus = RedisBus(client, prefix=prefix, poll_interval=0.05)
            made.append(bus)
            return bus
    yield make
    for bus in made:
        bus.close()


@pytest.fixture
def bus(make_bus):
    """The bus under test."""
    return make_bus()
