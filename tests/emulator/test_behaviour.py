"""Behaviour of the emulator's endpoints, speed factor, traffic, bridge failures and playback."""

import time

import gevent
import pytest

from fs_cc.emulator import Emulator, EmulatorConfig, Gateway, Phone, TrafficProfile
from fs_cc.emulator.cli import build_parser, config_from_args
from fs_cc.emulator.traffic import TrafficGenerator
from tests.emulator.wire import Reader, command, connect, events
from tests.polling import poll as _poll


@pytest.fixture
def emulator(listener):
    host, port = listener.getsockname()
    config = EmulatorConfig(speed=50, socket_target="%s:%d" % (host, port),
                            phones=[Phone("1000", answer_delay=1.0), Phone("1001", registered=False),
                                    Phone("1002", busy=True), Phone("1003", no_answer=True),
                                    Phone("1004", reject_cause="CALL_REJECTED")],
                            gateways=[Gateway("pstn", answer_probability=1.0, busy_probability=0.0,
                                              ring_seconds=(1, 2), unallocated_prefixes=("999",))],
                            seed=7)
    emu = Emulator(config)
    emu.start()
    yield emu
    emu.stop()




class Engine:
    """A minimal outbound-socket peer: connect, myevents, then sendmsg helpers."""

    def __init__(self, listener):
        listener.settimeout(5)
        self.sock, _ = listener.accept()
        self.reader = Reader(self.sock)
        self.data = command(self.sock, self.reader, "connect").headers
        command(self.sock, self.reader, "myevents")
        command(self.sock, self.reader, "linger")

    def execute(self, app, arg=""):
        text = "sendmsg\ncall-command: execute\nexecute-app-name: %s" % app
        if arg:
            text += "\nexecute-app-arg: %s" % arg
        return command(self.sock, self.reader, text)

    def completed(self, app):
        return [e for e in events(self.reader, "CHANNEL_EXECUTE_COMPLETE") if e.get("Application") == app]


@pytest.mark.parametrize("endpoint,cause", [
    ("user/1001", "USER_NOT_REGISTERED"), ("user/1002", "USER_BUSY"),
    ("{originate_timeout=5}user/1003", "NO_ANSWER"), ("user/1004", "CALL_REJECTED"),
    ("user/4444", "SUBSCRIBER_ABSENT"), ("sofia/gateway/pstn/999123", "UNALLOCATED_NUMBER"),
    ("sofia/gateway/nowhere/123", "INVALID_GATEWAY"), ("error/user_busy", "USER_BUSY"),
])
def test_given_unreachable_endpoint_when_originated_then_err_cause(emulator, endpoint, cause):
    sock, reader = connect(emulator.esl_address)
    reply = command(sock, reader, "api originate %s &park()" % endpoint)
    assert reply.body == "-ERR %s\n" % cause


def test_given_registered_phone_when_originated_then_answers_after_scaled_delay(emulator):
    sock, reader = connect(emulator.esl_address)
    started = time.monotonic()
    reply = command(sock, reader, "api originate user/1000 &park()")
    elapsed = time.monotonic() - started
    assert reply.body.startswith("+OK ")
    assert elapsed < 1.0  # 1 s answer delay at speed 50 is 20 ms
    uuid = reply.body.split()[1]
    assert command(sock, reader, "api uuid_exists %s" % uuid).body == "true"
    assert command(sock, reader, "api uuid_kill %s" % uuid).body == "+OK\n"
    assert _poll(lambda: uuid not in emulator.channels)


def test_given_gateway_customer_when_originated_then_answers(emulator):
    sock, reader = connect(emulator.esl_address)
    reply = command(sock, reader, "api originate sofia/gateway/pstn/13912345678 &park()")
    assert reply.body.startswith("+OK ")


def test_given_simulated_caller_when_ivr_asks_then_digits_pressed_and_talk_ends_call(emulator, listener):
    sock, reader = connect(emulator.esl_address)
    command(sock, reader, "event plain CHANNEL_HANGUP_COMPLETE")
    a_uuid = emulator.place_call("4000", "13800138000", dtmf="7", talk_seconds=5, patience_seconds=600)
    engine = Engine(listener)
    assert engine.data["Caller-Caller-ID-Number"] == "13800138000"
    engine.execute("answer")
    engine.execute("play_and_get_digits", "1 1 3 5000 # silence_stream://500 silence_stream://250 choice \\d 2000")
    assert _poll(lambda: engine.completed("play_and_get_digits"))
    assert engine.completed("play_and_get_digits")[0]["variable_choice"] == "7"
    assert [e["DTMF-Digit"] for e in events(engine.reader, "DTMF")] == ["7"]
    engine.execute("bridge", "user/1000")
    assert _poll(lambda: events(reader, "CHANNEL_HANGUP_COMPLETE", a_uuid))


def test_given_impatient_caller_when_never_bridged_then_hangs_up(emulator, listener):
    a_uuid = emulator.place_call("4000", "13800138001", patience_seconds=10)
    engine = Engine(listener)
    engine.execute("answer")
    engine.execute("playback", "local_stream://moh")
    assert _poll(lambda: engine.completed("playback"))
    assert engine.completed("playback")[0]["Application-Response"] == "PLAYBACK ERROR"
    assert _poll(lambda: a_uuid not in emulator.channels)


def test_given_moh_playing_when_uuid_break_then_playback_completes(emulator, listener):
    emulator.place_call("4000", "13800138002")
    engine = Engine(listener)
    uuid = engine.data["Unique-ID"]
    engine.execute("answer")
    engine.execute("playback", "local_stream://moh")
    assert _poll(lambda: events(engine.reader, "CHANNEL_EXECUTE"))
    gevent.sleep(0.05)
    assert not engine.completed("playback")
    sock, reader = connect(emulator.esl_address)
    # break_function answers +OK (recorded: 20_playback_events)
    assert command(sock, reader, "api uuid_break %s" % uuid).body == "+OK\n"
    assert _poll(lambda: engine.completed("playback"))
    assert engine.completed("playback")[0]["Application-Response"] == "FILE PLAYED"


def test_given_bridge_to_busy_phone_without_continue_on_fail_then_caller_hung_up(emulator, listener):
    emulator.place_call("4000", "13800138003")
    engine = Engine(listener)
    engine.execute("answer")
    engine.execute("bridge", "user/1002")
    assert _poll(lambda: events(engine.reader, "CHANNEL_HANGUP"))
    assert events(engine.reader, "CHANNEL_HANGUP")[0]["Hangup-Cause"] == "USER_BUSY"


def test_given_continue_on_fail_when_bridge_fails_then_disposition_set_and_call_stays(emulator, listener):
    emulator.place_call("4000", "13800138004")
    engine = Engine(listener)
    engine.execute("answer")
    engine.execute("set", "continue_on_fail=true")
    engine.execute("bridge", "{originate_timeout=3}user/1003")
    assert _poll(lambda: engine.completed("bridge"))
    assert engine.completed("bridge")[0]["variable_originate_disposition"] == "NO_ANSWER"
    assert not events(engine.reader, "CHANNEL_HANGUP")


def test_given_speed_factor_when_heartbeat_due_then_arrives_scaled(listener):
    emu = Emulator(EmulatorConfig(speed=100, heartbeat_seconds=20))
    emu.start()
    try:
        sock, reader = connect(emu.esl_address)
        command(sock, reader, "event plain HEARTBEAT")
        assert _poll(lambda: events(reader, "HEARTBEAT"), timeout=2.0)
    finally:
        emu.stop()


def test_given_flood_command_when_subscribed_then_n_events_arrive(emulator):
    sock, reader = connect(emulator.esl_address)
    command(sock, reader, "event plain CHANNEL_STATE")
    assert command(sock, reader, "api fs_cc_flood 2000").body == "+OK 2000\n"
    assert _poll(lambda: len(events(reader, "CHANNEL_STATE")) >= 2000)
    assert not reader.framing_errors


def test_given_seed_when_traffic_generated_then_same_calls(emulator):
    profile = TrafficProfile(calls_per_minute=60, dids=["4000", "4001"], seed=42)
    first = [TrafficGenerator(emulator, profile).next_call() for _ in range(1)]
    gen_a, gen_b = TrafficGenerator(emulator, profile), TrafficGenerator(emulator, profile)
    assert [gen_a.next_call() for _ in range(5)] == [gen_b.next_call() for _ in range(5)]
    assert first[0]["did"] in ("4000", "4001")


def test_given_traffic_profile_when_running_then_calls_reach_engine(listener):
    host, port = listener.getsockname()
    emu = Emulator(EmulatorConfig(speed=100, socket_target="%s:%d" % (host, port),
                                  traffic=TrafficProfile(calls_per_minute=60, seed=1, max_calls=2)))
    emu.start()
    try:
        listener.settimeout(5)
        conn, _ = listener.accept()
        conn.sendall(b"connect\n\n")
        assert conn.recv(100).startswith(b"Event-Name: CHANNEL_DATA")
        conn.close()
    finally:
        emu.stop()


def test_given_cli_flags_when_parsed_then_config_built():
    args = build_parser().parse_args(["--port", "0", "--speed", "10", "--agents", "1000-1004",
                                      "--socket", "127.0.0.1:9999", "--traffic-cpm", "30", "--seed", "3"])
    config = config_from_args(args)
    assert (config.port, config.speed, len(config.phones)) == (0, 10.0, 5)
    assert config.traffic.calls_per_minute == 30
    assert config.socket_target == "127.0.0.1:9999"
    assert Emulator(config).global_var("fs_cc_engine_socket") == "127.0.0.1:9999"


def test_given_events_within_one_tick_when_stamped_then_same_timestamp_and_sequence_orders_them(
        emulator):
    from fs_cc.emulator.events import TICK_US, now_us
    first, second = emulator.factory.simple("HEARTBEAT"), emulator.factory.simple("HEARTBEAT")
    stamps = [int(dict(e.headers)["Event-Date-Timestamp"]) for e in (first, second)]
    sequences = [int(dict(e.headers)["Event-Sequence"]) for e in (first, second)]
    if stamps[0] != stamps[1]:  # the two fell on either side of a tick: try once more
        first, second = emulator.factory.simple("HEARTBEAT"), emulator.factory.simple("HEARTBEAT")
        stamps = [int(dict(e.headers)["Event-Date-Timestamp"]) for e in (first, second)]
    assert stamps[0] == stamps[1]
    assert sequences[1] == sequences[0] + 1
    before = now_us()
    assert _poll(lambda: now_us() > before, timeout=1), "the event clock never moved"
    assert (now_us() - before) % TICK_US == 0


def test_given_missing_sound_when_played_then_file_not_found_at_once(emulator, listener):
    emulator.place_call("4000", "13800138010")
    engine = Engine(listener)
    engine.execute("answer")
    engine.execute("playback", "ivr/no-such-prompt.wav")
    assert _poll(lambda: engine.completed("playback"))
    assert engine.completed("playback")[0]["Application-Response"] == "FILE NOT FOUND"
    engine.execute("playback", "digits/1.wav")  # shipped: found under sound_prefix
    assert _poll(lambda: len(engine.completed("playback")) == 2)
    assert engine.completed("playback")[1]["Application-Response"] == "FILE PLAYED"


def test_given_menu_prompt_missing_when_caller_presses_a_key_then_no_key_is_read(emulator, listener):
    # FreeSWITCH's switch_ivr_read gives up before collecting when its prompt cannot be opened
    emulator.place_call("4000", "13800138011", dtmf="1", patience_seconds=600)
    engine = Engine(listener)
    engine.execute("answer")
    engine.execute("play_and_get_digits",
                   "1 1 3 5000 # ivr/no-such-menu.wav silence_stream://250 choice \\d 2000")
    assert _poll(lambda: engine.completed("play_and_get_digits"))
    done = engine.completed("play_and_get_digits")[0]
    assert "variable_choice" not in done
    assert done["variable_read_result"] == "failure"


def test_given_file_string_with_one_missing_file_when_menu_plays_then_keys_are_read(emulator, listener):
    emulator.place_call("4000", "13800138012", dtmf="2", patience_seconds=600)
    engine = Engine(listener)
    engine.execute("answer")
    engine.execute("play_and_get_digits", "1 1 3 5000 # file_string://ivr/no-such.wav!digits/2.wav "
                   "silence_stream://250 choice \\d 2000")
    assert _poll(lambda: engine.completed("play_and_get_digits"))
    assert engine.completed("play_and_get_digits")[0]["variable_choice"] == "2"


def test_given_first_call_at_once_when_traffic_starts_then_the_first_caller_comes_without_waiting(listener):
    host, port = listener.getsockname()
    args = build_parser().parse_args(["--port", "0", "--speed", "1", "--traffic-cpm", "0.1",
                                      "--first-call-seconds", "0", "--socket", "%s:%d" % (host, port)])
    config = config_from_args(args)
    assert config.traffic.first_call_seconds == 0
    emu = Emulator(config)
    emu.start()
    try:
        # at 0.1 calls a minute a random first wait is ten minutes on average
        generator = TrafficGenerator(emu, config.traffic)
        generator.start()
        assert _poll(lambda: generator.placed, timeout=2)
        listener.settimeout(5)
        sock, _ = listener.accept()
        sock.close()
    finally:
        emu.stop()
