"""The emulator against FreeSWITCH's source on the ACD's call path (docs/freeswitch-semantics.rst).

A caller of `socket ... async full` (the `public` catch-all: `socket`, then `hangup
NORMAL_TEMPORARY_FAILURE`, as the overlay) is joined by `uuid_bridge` to a parked agent leg;
what happens when one side leaves, and how sendmsg applications meet a playing file.
"""

import uuid as uuidlib

import pytest

from fs_cc.emulator import Emulator, EmulatorConfig, Phone
from tests.emulator.wire import Reader, command, connect, events
from tests.polling import poll


@pytest.fixture
def emulator(listener):
    host, port = listener.getsockname()
    config = EmulatorConfig(speed=50, socket_target="%s:%d" % (host, port),
                            phones=[Phone("1000", answer_delay=1.0)], seed=5)
    emu = Emulator(config)
    emu.start()
    yield emu
    emu.stop()


class Caller:
    """The engine's side of one caller's outbound socket (connect, myevents, linger)."""

    def __init__(self, emulator, listener):
        emulator.place_call("4000", "13800138000")
        listener.settimeout(5)
        self.sock, _ = listener.accept()
        self.reader = Reader(self.sock)
        self.uuid = command(self.sock, self.reader, "connect").headers["Unique-ID"]
        command(self.sock, self.reader, "myevents")
        command(self.sock, self.reader, "linger")

    def execute(self, app, arg="", event_lock=False):
        text = "sendmsg\ncall-command: execute\nexecute-app-name: %s" % app
        if arg:
            text += "\nexecute-app-arg: %s" % arg
        text += "\nevent-uuid: %s" % uuidlib.uuid4()
        if event_lock:
            text += "\nevent-lock: true"
        return command(self.sock, self.reader, text)

    def names(self):
        """(Event-Name, Application) of every event received, in order."""
        return [(e["Event-Name"], e.get("Application")) for e in events(self.reader)]

    def completed(self, app, arg=None):
        return [e for e in events(self.reader, "CHANNEL_EXECUTE_COMPLETE")
                if e.get("Application") == app and (arg is None or e.get("Application-Data") == arg)]

    def hangup_event(self):
        found = events(self.reader, "CHANNEL_HANGUP", self.uuid)
        return found[0] if found else None


def bridged_call(emulator, listener, *variables):
    """A caller on music on hold, the variables set, bridged to agent 1000's parked leg."""
    caller = Caller(emulator, listener)
    caller.execute("answer")
    for variable in variables:
        caller.execute("set", variable)
    caller.execute("playback", "local_stream://moh")
    api_sock, api = connect(emulator.esl_address)
    command(api_sock, api, "event plain CHANNEL_HANGUP")
    agent = str(uuidlib.uuid4())
    reply = command(api_sock, api, "api originate {origination_uuid=%s}user/1000 &park()" % agent)
    assert reply.body == "+OK %s\n" % agent
    command(api_sock, api, "api uuid_break %s all" % caller.uuid)
    assert command(api_sock, api, "api uuid_bridge %s %s" % (caller.uuid, agent)).body == "+OK %s\n" % agent
    assert poll(lambda: events(caller.reader, "CHANNEL_BRIDGE"))
    return caller, agent, (api_sock, api)


def test_given_after_bridge_variables_off_when_agent_hangs_up_then_caller_runs_rest_of_extension(
        emulator, listener):
    # the dialplan sets hangup_after_bridge=true (as freeswitch_conf does); switched off here,
    # FreeSWITCH's default shows: the extension goes on after `socket`, which (as
    # freeswitch_conf's) keeps the caller on hold music for an engine to adopt
    caller, agent, (api_sock, api) = bridged_call(emulator, listener,
                                                  "hangup_after_bridge=false")
    command(api_sock, api, "api uuid_kill %s" % agent)
    # uuid_bridge_on_soft_execute sets CS_EXECUTE: the extension goes on after `socket`
    def hold_music_after_unbridge():
        names = caller.names()
        if ("CHANNEL_UNBRIDGE", None) not in names:
            return False
        return ("CHANNEL_EXECUTE", "playback") in names[names.index(("CHANNEL_UNBRIDGE", None)):]

    assert poll(hold_music_after_unbridge)
    assert caller.hangup_event() is None
    lost = command(api_sock, api, "api uuid_getvar %s fs_cc_engine_lost" % caller.uuid)
    assert lost.body.strip() == "true"
    names = caller.names()
    assert names.index(("CHANNEL_EXECUTE_COMPLETE", "socket")) < names.index(("CHANNEL_EXECUTE", "uuid_bridge"))
    assert names.index(("CHANNEL_EXECUTE", "uuid_bridge")) < names.index(("CHANNEL_BRIDGE", None))
    command(api_sock, api, "api uuid_kill %s" % caller.uuid)
    unbridge = events(caller.reader, "CHANNEL_UNBRIDGE")[0]
    assert unbridge["Bridge-A-Unique-ID"] == caller.uuid and unbridge["Bridge-B-Unique-ID"] == agent
    assert unbridge["variable_bridge_hangup_cause"] == "NORMAL_CLEARING"


def test_given_hangup_after_bridge_when_agent_hangs_up_then_caller_hung_up_with_agents_cause(
        emulator, listener):
    caller, agent, (api_sock, api) = bridged_call(emulator, listener, "hangup_after_bridge=true")
    command(api_sock, api, "api uuid_kill %s NORMAL_UNSPECIFIED" % agent)
    assert poll(caller.hangup_event)
    assert caller.hangup_event()["Hangup-Cause"] == "NORMAL_UNSPECIFIED"
    assert ("CHANNEL_EXECUTE", "hangup") not in caller.names()


def test_given_park_after_bridge_when_agent_hangs_up_then_caller_parked_and_socket_drives_it(
        emulator, listener):
    caller, agent, (api_sock, api) = bridged_call(emulator, listener, "park_after_bridge=true")
    command(api_sock, api, "api uuid_kill %s" % agent)
    def parked_after_unbridge():
        names = caller.names()
        unbridged = ("CHANNEL_UNBRIDGE", None) in names
        return unbridged and ("CHANNEL_PARK", None) in names[names.index(("CHANNEL_UNBRIDGE", None)):]
    assert poll(parked_after_unbridge)
    assert caller.hangup_event() is None
    caller.execute("playback", "silence_stream://100")
    assert poll(lambda: caller.completed("playback", "silence_stream://100"))
    command(caller.sock, caller.reader, "sendmsg\ncall-command: hangup\nhangup-cause: NORMAL_CLEARING")
    assert poll(caller.hangup_event)
    assert caller.hangup_event()["Hangup-Cause"] == "NORMAL_CLEARING"


def test_given_bridged_when_caller_hangs_up_then_agent_leg_hung_up_normal_clearing(
        emulator, listener):
    caller, agent, (api_sock, api) = bridged_call(emulator, listener, "hangup_after_bridge=true")
    command(api_sock, api, "api uuid_kill %s ORIGINATOR_CANCEL" % caller.uuid)
    assert poll(lambda: events(api, "CHANNEL_HANGUP", agent))
    # audio_bridge_on_exchange_media: an answered peer left alone hangs up NORMAL_CLEARING
    assert events(api, "CHANNEL_HANGUP", agent)[0]["Hangup-Cause"] == "NORMAL_CLEARING"


def test_given_music_on_hold_when_another_app_sent_then_it_runs_nested_and_music_goes_on(
        emulator, listener):
    caller = Caller(emulator, listener)
    caller.execute("answer")
    caller.execute("playback", "local_stream://moh")
    caller.execute("playback", "silence_stream://100")
    # switch_ivr_play_file parses queued messages between frames: the second app does not wait
    assert poll(lambda: caller.completed("playback", "silence_stream://100"))
    assert not caller.completed("playback", "local_stream://moh")
    api_sock, api = connect(emulator.esl_address)
    command(api_sock, api, "api uuid_break %s" % caller.uuid)
    assert poll(lambda: caller.completed("playback", "local_stream://moh"))


def test_given_event_lock_on_music_when_another_app_sent_then_it_waits_for_the_music_to_end(
        emulator, listener):
    caller = Caller(emulator, listener)
    caller.execute("answer")
    caller.execute("playback", "local_stream://moh", event_lock=True)
    caller.execute("playback", "silence_stream://100")
    api_sock, api = connect(emulator.esl_address)
    assert poll(lambda: ("CHANNEL_EXECUTE", "playback") in caller.names())
    command(api_sock, api, "api uuid_break %s" % caller.uuid)
    assert poll(lambda: caller.completed("playback", "silence_stream://100"))
    names = [(e["Event-Name"], e.get("Application-Data")) for e in events(caller.reader)]
    assert (names.index(("CHANNEL_EXECUTE_COMPLETE", "local_stream://moh"))
            < names.index(("CHANNEL_EXECUTE", "silence_stream://100")))
