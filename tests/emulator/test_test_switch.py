"""What the real-switch test tier relies on, on the emulator as on the fs_cc overlay in test mode.

Global variables (global_getvar / global_setvar as mod_commands answers), the originate's
variables handed to the loopback B-leg (mod_loopback), test numbers 59xx routed to the originate's
fs_cc_test_socket, and agent phones answering after fs_cc_test_agent_answer_delay_ms.
"""

import socket
import time
import uuid as uuidlib
from urllib.parse import unquote

import pytest

from fs_cc.emulator import Emulator, EmulatorConfig, Phone
from tests.emulator.wire import command, connect

SPEED = 20.0


@pytest.fixture
def make_listener():
    sockets = []

    def make():
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.settimeout(0.05)
        sockets.append(sock)
        return sock

    yield make
    for sock in sockets:
        sock.close()


@pytest.fixture
def engine(make_listener):
    """The listener the emulator's socket_target names."""
    return make_listener()


@pytest.fixture
def emu(engine):
    host, port = engine.getsockname()
    emulator = Emulator(EmulatorConfig(speed=SPEED, socket_target=f"{host}:{port}",
                                       phones=[Phone("1000"), Phone("1001", answer_delay=0.5)]))
    emulator.start()
    yield emulator
    emulator.stop()


class Esl:
    """One inbound connection: esl("api ...") is the api body, esl.bgapi(...) the Reply-Text."""

    def __init__(self, address):
        self.sock, self.reader = connect(address)

    def __call__(self, text):
        return command(self.sock, self.reader, text).body

    def bgapi(self, text):
        return command(self.sock, self.reader, f"bgapi {text}").headers.get("Reply-Text", "")


@pytest.fixture
def esl(emu):
    client = Esl(emu.esl_address)
    yield client
    client.sock.close()


def channel_data(listener, timeout=5.0):
    """Accept the call the emulator's `socket` brings and return its CHANNEL_DATA headers, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            continue
        conn.settimeout(5)
        conn.sendall(b"connect\n\n")
        data = b""
        while b"\n\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        conn.close()
        head = data.decode().partition("\n\n")[0]
        return {key: unquote(value) for key, _, value in
                (line.partition(": ") for line in head.split("\n") if ": " in line)}
    return None


def originate(esl, did, **variables):
    a_uuid = str(uuidlib.uuid4())
    pairs = ",".join(f"{k}={v}" for k, v in dict(origination_uuid=a_uuid, **variables).items())
    reply = esl.bgapi(f"originate {{{pairs}}}loopback/{did}/public &park()")
    assert reply.startswith("+OK Job-UUID"), reply
    return a_uuid


# -- global variables ------------------------------------------------------------------------

def test_given_new_variable_when_global_setvar_then_plus_ok_and_global_getvar_returns_it(esl):
    assert esl("api global_setvar fs_cc_probe=first value") == "+OK"
    assert esl("api global_getvar fs_cc_probe") == "first value"
    # three parts at most: value "a" only if the current value is "b=c", which it is not
    assert esl("api global_setvar fs_cc_probe=a=b=c") == "+OK"
    assert esl("api global_getvar fs_cc_probe") == "first value"


def test_given_variable_when_set_to_empty_then_unset_and_getvar_answers_empty(esl):
    esl("api global_setvar fs_cc_probe=1")
    assert esl("api global_setvar fs_cc_probe=") == "+OK"
    # global_getvar writes nothing; mod_event_socket's api_exec turns that into "-ERR no reply"
    assert esl("api global_getvar fs_cc_probe") == "-ERR no reply\n"
    assert "fs_cc_probe=" not in esl("api global_getvar")


def test_given_expected_value_when_global_setvar_conditional_then_set_only_if_it_holds(esl):
    esl("api global_setvar fs_cc_probe=old")
    assert esl("api global_setvar fs_cc_probe=new=other") == "+OK"
    assert esl("api global_getvar fs_cc_probe") == "old"
    assert esl("api global_setvar fs_cc_probe=new=old") == "+OK"
    assert esl("api global_getvar fs_cc_probe") == "new"


@pytest.mark.parametrize("args", ["", "=value"])
def test_given_no_name_when_global_setvar_then_usage(esl, args):
    assert esl(f"api global_setvar {args}".rstrip()) == "-USAGE: <var>=<value> [=<value2>]\n"


def test_given_no_name_when_global_getvar_then_every_variable_as_name_equals_value_lines(emu, esl):
    lines = esl("api global_getvar").splitlines()
    host, port = emu.config.socket_target.split(":")
    assert "hostname=fs-cc-emulator" in lines and "fs_cc_test_numbers=true" in lines
    assert f"fs_cc_engine_socket={host}:{port}" in lines


def test_given_global_variable_when_channel_has_none_of_that_name_then_uuid_getvar_falls_back(emu, esl):
    esl("api global_setvar fs_cc_probe=from_globals")
    leg = str(uuidlib.uuid4())
    assert esl(f"api originate {{origination_uuid={leg}}}user/1001 &park()") == f"+OK {leg}\n"
    assert esl(f"api uuid_getvar {leg} fs_cc_probe") == "from_globals"
    assert esl(f"api uuid_setvar {leg} fs_cc_probe mine") == "+OK\n"
    assert esl(f"api uuid_getvar {leg} fs_cc_probe") == "mine"


# -- loopback variables and test numbers -----------------------------------------------------

def test_given_originate_variables_when_loopback_b_leg_runs_dialplan_then_it_has_them(esl, make_listener, engine):
    own = make_listener()
    host, port = own.getsockname()
    a_uuid = originate(esl, "5901", origination_caller_id_number="5550001", fs_cc_probe="hello",
                       fs_cc_test_socket=f"{host}:{port}")
    data = channel_data(own)
    assert data is not None, "the call never reached fs_cc_test_socket"
    assert data["Channel-Name"] == "loopback/5901-b"
    assert data["variable_fs_cc_probe"] == "hello"
    assert data["variable_fs_cc_test_socket"] == f"{host}:{port}"
    assert data["variable_origination_uuid"] == a_uuid  # as mod_loopback copies it (03 recording)
    assert data["variable_other_loopback_leg_uuid"] == a_uuid
    assert data["variable_fs_cc_did"] == "5901"
    assert channel_data(engine, timeout=0.3) is None, "the call also reached socket_target"


def test_given_test_number_without_test_socket_when_called_then_socket_target_gets_it(esl, engine):
    originate(esl, "5902", origination_caller_id_number="5550002")
    data = channel_data(engine)
    assert data is not None and data["variable_fs_cc_did"] == "5902"


def test_given_service_number_with_test_socket_when_called_then_socket_target_gets_it(
        esl, engine, make_listener):
    own = make_listener()
    originate(esl, "4000", fs_cc_test_socket="%s:%d" % own.getsockname())
    data = channel_data(engine)
    assert data is not None and data["variable_fs_cc_did"] == "4000"
    assert channel_data(own, timeout=0.3) is None


def test_given_test_numbers_switched_off_when_test_call_then_socket_target_gets_it(esl, engine, make_listener):
    own = make_listener()
    esl("api global_setvar fs_cc_test_numbers=false")
    originate(esl, "5903", fs_cc_test_socket="%s:%d" % own.getsockname())
    assert channel_data(engine) is not None
    assert channel_data(own, timeout=0.3) is None


def test_given_socket_target_changed_after_start_when_called_then_new_target_gets_it(emu, esl, make_listener):
    moved = make_listener()
    emu.config.socket_target = "%s:%d" % moved.getsockname()
    originate(esl, "4000")
    data = channel_data(moved)
    assert data is not None and data["variable_fs_cc_did"] == "4000"


# -- agent phones ------------------------------------------------------------------------------

def ring(esl, ext):
    """Seconds (simulated) that originate user/ext took to be answered."""
    started = time.monotonic()
    reply = esl(f"api originate user/{ext} &park()")
    assert reply.startswith("+OK"), reply
    return (time.monotonic() - started) * SPEED


def test_given_answer_delay_global_when_default_phone_rung_then_answers_after_it(esl):
    assert ring(esl, "1000") < 2.0  # the emulator's default: 1 s
    esl("api global_setvar fs_cc_test_agent_answer_delay_ms=4000")
    assert ring(esl, "1000") >= 3.8


def test_given_answer_delay_global_when_phone_has_its_own_delay_then_its_own_wins(esl):
    esl("api global_setvar fs_cc_test_agent_answer_delay_ms=6000")
    assert ring(esl, "1001") < 3.0


def test_given_answer_delay_global_of_zero_when_phone_rung_then_answers_at_once(esl):
    esl("api global_setvar fs_cc_test_agent_answer_delay_ms=0")
    assert ring(esl, "1000") < 0.8
