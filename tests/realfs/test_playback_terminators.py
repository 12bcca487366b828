"""``playback`` stopped by keys on a real FreeSWITCH: the emulator's scenarios, on the switch.

Runs only with FS_CC_TEST_ESL=host:port:password (tests/README.rst, "Against a real FreeSWITCH");
the scenarios and what they assert are tests/emulator/test_playback_terminators.py's.
"""

import os

import pytest

from tests.emulator.test_playback_terminators import SCENARIOS, PlaybackProbe
from tests.switch import ENV, parse_esl_target

pytestmark = pytest.mark.skipif(not os.environ.get(ENV),
                                reason=f"{ENV} is not set: these tests need a real FreeSWITCH")


@pytest.fixture
def probe():
    probe = PlaybackProbe(*parse_esl_target(os.environ[ENV]))
    yield probe
    probe.stop()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.__name__)
def test_given_real_switch_when_keys_pressed_during_playback_then_as_measured(probe, scenario):
    scenario(probe)
