"""``playback`` stopped by keys (playback_terminators), as measured on FreeSWITCH 1.10.12.

docs/freeswitch-semantics.rst, "``playback`` and its terminators", has the measurements. The
scenarios here are plain functions taking a PlaybackProbe, so that tests/realfs runs the very same
ones on a real switch. Every key is sent with ``uuid_send_dtmf`` to the caller's A-leg once the
previous one showed as a DTMF event on the B-leg's socket (the first once PLAYBACK_START came),
and after the playback a second short playback and a ``play_and_get_digits`` show what it left.
"""

import dataclasses
import typing
import uuid as uuidlib

import gevent
import gevent.event
import pytest

from fs_cc.esl.commands import originate
from fs_cc.esl.inbound import InboundClient
from fs_cc.esl.outbound import OutboundServer
from tests.polling import wait_until
from tests.switch import EmulatorSwitch

TEST_NUMBER = "5950"
LIST = "file_string://silence_stream://3000!silence_stream://3000"  # 6 s, 48000 samples
LONG = "silence_stream://3000"
SHORT = "silence_stream://1500"  # 12000 samples
COLLECT = "1 1 1 500 # silence_stream://100 silence_stream://100 probe_key \\d 500"
WAIT = 15.0  # real seconds for any step of a scenario


@dataclasses.dataclass
class Heard:
    """What the switch said during one scenario."""

    playback: typing.Any = None  # the playback's CHANNEL_EXECUTE_COMPLETE
    stop: typing.Any = None  # its PLAYBACK_STOP (inbound connection), None if there was none
    after: typing.Any = None  # the CHANNEL_EXECUTE_COMPLETE of a second playback
    collected: typing.Optional[str] = None  # what play_and_get_digits read after it
    dtmf: list = dataclasses.field(default_factory=list)  # DTMF events on the socket


class PlaybackProbe:
    """The test's engine: a socket on port 0 that plays a file while keys go to its caller."""

    def __init__(self, host, port, password):
        self.client = InboundClient(host, port, password,
                                    events=("BACKGROUND_JOB", "PLAYBACK_START", "PLAYBACK_STOP"))
        self.client.start()
        assert self.client.wait_connected(timeout=5), f"cannot connect: {self.client.last_error}"
        self.playback_events = []
        self.client.on("PLAYBACK_START", self.playback_events.append)
        self.client.on("PLAYBACK_STOP", self.playback_events.append)
        self.server = OutboundServer("127.0.0.1", 0, self._handle).start()
        self._case = None

    def stop(self):
        self.server.stop(timeout=2)
        self.client.stop()

    def run(self, media, keys, terminators=None):
        """Play media (None: no playback, keys sent between applications); returns Heard."""
        a_uuid = str(uuidlib.uuid4())
        done = gevent.event.AsyncResult()
        self._case = (a_uuid, media, keys, terminators, done)
        self.client.bgapi(originate(f"loopback/{TEST_NUMBER}/public", "&park()", {
            "origination_uuid": a_uuid,
            "fs_cc_test_socket": "%s:%d" % self.server.address}), timeout=WAIT)
        return done.get(timeout=4 * WAIT)

    def _events(self, uuid, name):
        return [e for e in self.playback_events if e.uuid == uuid and e.name == name]

    def _press(self, a_uuid, keys, heard):
        for key in keys:
            seen = len(heard.dtmf)
            self.client.api(f"uuid_send_dtmf {a_uuid} {key}")
            wait_until(lambda: len(heard.dtmf) > seen, WAIT, f"the DTMF event of {key}")

    def _handle(self, session):
        a_uuid, media, keys, terminators, done = self._case
        heard = Heard()
        session.on("DTMF", lambda event: heard.dtmf.append(event.get("DTMF-Digit")))
        try:
            session.execute("answer")
            if terminators is not None:
                session.execute("set", f"playback_terminators={terminators}")
            if media is None:
                self._press(a_uuid, keys, heard)
            else:
                playing = gevent.spawn(session.execute, "playback", media, timeout=WAIT)
                if keys:
                    wait_until(lambda: self._events(session.uuid, "PLAYBACK_START"), WAIT,
                               "PLAYBACK_START")
                    self._press(a_uuid, keys, heard)
                heard.playback = playing.get(timeout=WAIT)
                if heard.playback.get("Application-Response") != "FILE NOT FOUND":
                    heard.stop = wait_until(lambda: self._events(session.uuid, "PLAYBACK_STOP"),
                                            WAIT, "PLAYBACK_STOP")[0]
                else:
                    heard.stop = (self._events(session.uuid, "PLAYBACK_STOP") or [None])[0]
                heard.after = session.execute("playback", "silence_stream://200", timeout=WAIT)
            collect = session.execute("play_and_get_digits", COLLECT, timeout=WAIT)
            heard.collected = collect.variable("probe_key")
            session.hangup()
            done.set(heard)
        except Exception as exc:  # the test gets it, with its traceback
            done.set_exception(exc)


def _stopped_by(heard, key, whole_read=True):
    """The playback ended early on ``key``, as 1.10.12 says it, and left nothing behind.

    whole_read: one medium (not a file_string:// list, whose counters are others), which had
    read one whole block.
    """
    playback = heard.playback
    assert playback.get("Application-Response") == "FILE PLAYED"
    assert playback.variable("playback_terminator_used") == key
    assert heard.stop.get("Playback-Status") == "break"
    assert heard.stop.variable("playback_terminator_used") == key  # set before PLAYBACK_STOP
    offset = int(playback.variable("playback_last_offset_pos"))
    assert 0 < offset < 16384  # stopped within its first 2 s
    if whole_read:
        assert (playback.variable("playback_samples"), playback.variable("playback_ms"),
                playback.variable("playback_seconds")) == ("16384", "2048", "2")
    _nothing_left(heard)


def _nothing_left(heard):
    """The next playback starts without a terminator; no key waits for play_and_get_digits."""
    if heard.after is not None:
        assert heard.after.get("Application-Response") == "FILE PLAYED"
        assert heard.after.variable("playback_terminator_used") is None
    assert heard.collected is None


def stops_on_star_by_default(probe):
    heard = probe.run(LIST, "1*")
    assert heard.dtmf == ["1", "*"]
    _stopped_by(heard, "*", whole_read=False)  # not the "1"; the star ended the whole list


def stops_on_any_key_with_any(probe):
    heard = probe.run(LONG, "5", terminators="any")
    _stopped_by(heard, "5")


def plays_out_with_none(probe):
    heard = probe.run(SHORT, "*5", terminators="none")
    assert heard.dtmf == ["*", "5"]
    playback = heard.playback
    assert playback.get("Application-Response") == "FILE PLAYED"
    assert playback.variable("playback_terminator_used") is None
    assert heard.stop.get("Playback-Status") == "done"
    assert (playback.variable("playback_last_offset_pos"), playback.variable("playback_samples"),
            playback.variable("playback_ms")) == ("12000", "12000", "1500")
    _nothing_left(heard)


def stops_on_a_listed_key_only(probe):
    heard = probe.run(LONG, "19", terminators="#9")
    assert heard.dtmf == ["1", "9"]
    _stopped_by(heard, "9")


def missing_file_is_not_found(probe):
    heard = probe.run("ivr/fs_cc-no-such-prompt.wav", "")
    assert heard.playback.get("Application-Response") == "FILE NOT FOUND"
    assert heard.stop is None
    _nothing_left(heard)


def key_between_applications_is_gone(probe):
    heard = probe.run(None, "5")
    assert heard.dtmf == ["5"]
    assert heard.collected is None


# what tests/realfs/test_playback_terminators.py runs on a real switch
SCENARIOS = (stops_on_star_by_default, stops_on_any_key_with_any, plays_out_with_none,
             stops_on_a_listed_key_only, missing_file_is_not_found, key_between_applications_is_gone)


@pytest.fixture
def probe():
    switch = EmulatorSwitch(speed=1.0)  # real time: the same media and timeouts as on a switch
    probe = PlaybackProbe(*switch.esl_address, switch.password)
    yield probe
    probe.stop()
    switch.stop()


def test_given_no_terminators_when_1_then_star_pressed_then_star_stops_the_whole_list(probe):
    stops_on_star_by_default(probe)


def test_given_terminators_any_when_5_pressed_then_5_stops_it(probe):
    stops_on_any_key_with_any(probe)


def test_given_terminators_none_when_keys_pressed_then_file_plays_out(probe):
    plays_out_with_none(probe)


def test_given_terminators_hash_9_when_1_then_9_pressed_then_9_stops_it(probe):
    stops_on_a_listed_key_only(probe)


def test_given_missing_file_when_played_then_file_not_found_without_playback_events(probe):
    missing_file_is_not_found(probe)


def test_given_key_pressed_between_applications_when_collecting_then_nothing_read(probe):
    key_between_applications_is_gone(probe)
