"""Suite-wide set-up: the engine and the emulator are gevent programs, so the tests run patched."""

from gevent import monkey

monkey.patch_all()

import os  # noqa: E402  (everything after the patching, on purpose)

import pytest  # noqa: E402

from fs_cc.emulator import Emulator, EmulatorConfig  # noqa: E402
# PostgreSQL/Redis availability: under CI or FS_CC_REQUIRE_SERVICES a test that skips for lack of
# one fails instead (hooks defined in tests/services.py, registered by being imported here)
from tests.services import pytest_report_header, pytest_runtest_makereport  # noqa: E402,F401
from tests.engine.support import EMULATOR_SPEED, Proxy  # noqa: E402
from tests.switch import ENV, RealSwitch, switch_from_env  # noqa: E402


def pytest_collection_modifyitems(config, items):
    """With FS_CC_TEST_ESL set, tests marked emulator_only are skipped, saying why."""
    if not os.environ.get(ENV):
        return
    skip = pytest.mark.skip(reason=f"emulator_only: needs simulated behaviour ({ENV} is set)")
    for item in items:
        if item.get_closest_marker("emulator_only"):
            item.add_marker(skip)


@pytest.fixture
def make_switch():
    """make_switch(speed=10, **emulator_options) -> a started Switch; all are stopped afterwards.

    The emulator (EmulatorSwitch) by default; with FS_CC_TEST_ESL=host:port:password a RealSwitch
    (a test that passes emulator options is then skipped).
    """
    switches = []

    def make(**options):
        switch = switch_from_env(**options)
        switches.append(switch)
        if isinstance(switch, RealSwitch):
            problems = switch.problems()
            if problems:
                pytest.fail(f"{ENV} names a switch that is not a test switch: {'; '.join(problems)}")
        return switch

    yield make
    for switch in reversed(switches):
        switch.stop()


@pytest.fixture
def switch(make_switch):
    """The switch under test with default options (emulator at speed 10, or FS_CC_TEST_ESL's)."""
    return make_switch()


@pytest.fixture
def emulator():
    """An in-process emulator on a free port, its simulated time 20x real time."""
    emulator = Emulator(EmulatorConfig(port=0, speed=EMULATOR_SPEED))
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def proxy(emulator):
    """A TCP proxy in front of the emulator's ESL port that a test can cut (ESL link lost)."""
    proxy = Proxy(emulator.esl_address).start()
    yield proxy
    proxy.stop()
