"""RealSwitch's scripted caller (originate, uuid_send_dtmf, uuid_kill) against the emulator, always.

The emulator accepts the same commands a real FreeSWITCH does, so the driver the real-switch
tier depends on is exercised in every run; with FS_CC_TEST_ESL set the same tests also run
against that switch.
"""

import os
import time
import uuid as uuidlib

import pytest

from fs_cc.esl.commands import originate, uuid_kill
from fs_cc.esl.errors import CallerHungUp
from fs_cc.esl.outbound import OutboundServer
from tests.switch import (ANSWER_DELAY_VAR, DEFAULT_SPEED, ENV, EmulatorSwitch, RealSwitch,
                          parse_esl_target, wait_until)

DID = "5903"
COLLECT = "1 1 1 3000 # tone_stream://%(200,0,600) silence_stream://250 fs_cc_choice \\d 1500"


class Engine:
    """A tiny engine: answers, collects one digit, then runs what the test asks; keeps what it saw."""

    def __init__(self, then):
        self.then = then
        self.calls = []
        self.server = OutboundServer("127.0.0.1", 0, self._handle).start()

    def _handle(self, session):
        call = {"uuid": session.uuid, "caller": session.caller_number,
                "did": session.data.variable("fs_cc_did") or session.destination_number}
        self.calls.append(call)
        session.execute("answer")
        call["choice"] = session.execute("play_and_get_digits", COLLECT).variable("fs_cc_choice")
        try:
            self.then(session)
            session.wait_for("CHANNEL_HANGUP", timeout=120)
        except CallerHungUp:
            pass
        call["ended"] = time.monotonic()


def bridge_then_hang_up(session):
    """Ring user/1000 and, once that bridge ends, hang the caller up."""
    session.execute("bridge", "user/1000")
    session.hangup()


@pytest.fixture(params=["emulator", "real"])
def driver(request):
    """A RealSwitch on the emulator (speed 10), or on FS_CC_TEST_ESL's switch."""
    if request.param == "real":
        if not os.environ.get(ENV):
            pytest.skip(f"{ENV} is not set: no real FreeSWITCH to drive")
        real = RealSwitch(*parse_esl_target(os.environ[ENV]))
        yield real
        real.stop()
        return
    emulator = EmulatorSwitch(speed=DEFAULT_SPEED)
    # no route_to on the emulator: it sends test numbers to the originate's fs_cc_test_socket,
    # as the overlay does, and its own socket_target stays at the default 127.0.0.1:8084
    real = RealSwitch(*emulator.esl_address, emulator.password, speed=DEFAULT_SPEED)
    yield real
    real.stop()
    emulator.stop()


@pytest.fixture
def serve(driver):
    """serve(then) -> an Engine on port 0 receiving the driver's test calls."""
    engines = []

    def start(then):
        engine = Engine(then)
        engines.append(engine)
        driver.route_to(*engine.server.address)
        return engine

    yield start
    for engine in engines:
        engine.server.stop(timeout=1)


def test_given_menu_then_bridge_when_caller_scripted_then_digit_arrives_and_caller_hangs_up_after_talk(
        driver, serve):
    engine = serve(bridge_then_hang_up)
    a_uuid = driver.place_call(DID, caller_number="5550001", dtmf="2", talk_seconds=4)
    caller = driver.caller(a_uuid)
    assert caller.wait(timeout=20 + driver.real_seconds(10)), "the caller never finished"
    wait_until(lambda: engine.calls and "ended" in engine.calls[0], what="engine saw the hangup")
    call = engine.calls[0]
    assert (call["caller"], call["did"], call["choice"]) == ("5550001", DID, "2")
    assert caller.b_uuid == call["uuid"] and caller.sent == ["2"] and caller.prompts == 1
    assert caller.outcome == "talk over"
    assert caller.originate_result.startswith("+OK")
    assert call["ended"] - caller.bridged_at >= driver.real_seconds(4) * 0.9


def test_given_impatient_caller_when_engine_never_bridges_then_caller_hangs_up_after_patience(driver, serve):
    engine = serve(lambda session: session.execute("playback", "silence_stream://-1", wait=False))
    a_uuid = driver.place_call(DID, dtmf="7", patience_seconds=6)
    started = time.monotonic()
    caller = driver.caller(a_uuid)
    assert caller.wait(timeout=20 + driver.real_seconds(6)), "the caller never finished"
    wait_until(lambda: engine.calls and "ended" in engine.calls[0], what="engine saw the hangup")
    assert engine.calls[0]["choice"] == "7"
    assert caller.outcome == "patience over" and caller.bridged_at is None
    assert time.monotonic() - started >= driver.real_seconds(6) * 0.9


def test_given_agent_talk_time_when_bridged_then_agent_leg_hangs_up_before_the_caller(driver, serve):
    driver.set_agent("1000", talk_seconds=2)
    engine = serve(bridge_then_hang_up)
    a_uuid = driver.place_call(DID, dtmf="1", talk_seconds=120)
    caller = driver.caller(a_uuid)
    assert caller.wait(timeout=20 + driver.real_seconds(10)), "the caller never finished"
    assert caller.bridged_at is not None
    assert caller.outcome.endswith("hung up: NORMAL_CLEARING"), caller.outcome
    wait_until(lambda: engine.calls and "ended" in engine.calls[0], what="engine saw the hangup")


def test_given_number_outside_test_range_when_placing_then_value_error(driver):
    with pytest.raises(ValueError, match="5900-5999"):
        driver.place_call("8000")


def test_given_agent_answer_delay_when_agent_rung_then_phone_answers_after_it(driver):
    driver.set_agent("1000", answer_delay=3)  # the global fs_cc_test_agent_answer_delay_ms on either switch
    leg = str(uuidlib.uuid4())
    started = time.monotonic()
    reply = driver.client.bgapi(originate("user/1000", "&park()", {"origination_uuid": leg}), timeout=20)
    elapsed = time.monotonic() - started
    try:
        assert reply.strip() == f"+OK {leg}"
        assert elapsed >= driver.real_seconds(3) * 0.9
        assert driver.global_var(ANSWER_DELAY_VAR) == "3000"
    finally:
        driver.client.api(uuid_kill(leg))


def test_given_unset_global_when_driver_set_answer_delay_then_stop_unsets_it_again():
    emulator = EmulatorSwitch(speed=DEFAULT_SPEED)
    try:
        real = RealSwitch(*emulator.esl_address, emulator.password, speed=DEFAULT_SPEED)
        real.set_agent("1000", answer_delay=2)
        assert emulator.emulator.global_var(ANSWER_DELAY_VAR) == "2000"
        real.stop()
        assert emulator.emulator.global_var(ANSWER_DELAY_VAR) is None
    finally:
        emulator.stop()
