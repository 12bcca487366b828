"""One inbound call travels switch → engine (IVR, ACD) → agent → worker → database → web.

Every fs_cc part runs as its own real process on free ports, the way `fs-cc up` runs them.

- ``[emulator]`` (without FS_CC_TEST_ESL): the switch is an `fs-cc emulator` process and its own
  simulated caller (the fs_cc_sim_* variables) places the call to a service number.
- ``[real]``: with FS_CC_TEST_ESL=host:port:password the switch is that real FreeSWITCH (the
  fs_cc overlay in test mode, tests/README.rst), no emulator runs, and RealSwitch's scripted
  caller places a test call (5901, fs_cc_test_socket = the engine's outbound port, DTMF with
  uuid_send_dtmf, hang-up after the talk time). Without FS_CC_TEST_ESL the same driver runs
  against an `fs-cc emulator` process told it is a test switch, so this path runs every time.
"""

import hashlib
import html
import json
import os
import pathlib
import sqlite3
import urllib.parse
import urllib.request
import wave

import pytest

from fs_cc.esl.inbound import InboundClient
from tests.e2e.procs import Processes, free_port, port_open, wait_until
from tests.switch import ENV, RealSwitch, parse_esl_target
from tests.web.support import CSRF_TOKEN

SPEED = 20  # simulated seconds per real second in the emulator
CALLER = "13800138000"
AGENTS = {str(n) for n in range(1000, 1010)}  # the engine's default agents, logged in at start


class EmulatorCaller:
    """The emulator process's own simulated caller, scripted by fs_cc_sim_* variables."""

    did = "4000"  # a service number: the emulator sends every public number to the engine
    talk_seconds = 40  # simulated: 2 s at SPEED
    timeout = 60

    def __init__(self, esl_port):
        self.esl_port = esl_port

    def esl_url(self):
        """The emulator's event socket, for the engine."""
        return f"127.0.0.1:{self.esl_port}:ClueCon"

    def place(self, outbound_port):
        """The same command places a test call on a real FreeSWITCH; the fs_cc_sim_* variables
        script the emulator's caller (press 1, talk 40 simulated seconds, then hang up)."""
        esl = InboundClient("127.0.0.1", self.esl_port, "ClueCon", events=("BACKGROUND_JOB",))
        esl.start()
        try:
            assert esl.wait_connected(10)
            reply = esl.bgapi(f"originate {{origination_caller_id_number={CALLER},fs_cc_sim_dtmf=1,"
                              f"fs_cc_sim_talk_seconds={self.talk_seconds}}}loopback/{self.did}/public"
                              " &park()", timeout=30)
            assert reply.startswith("+OK"), reply
        finally:
            esl.stop()

    def stop(self):
        """Nothing to release: the emulator process is stopped with the others."""


class RealCaller:
    """RealSwitch's scripted caller on a real test switch: DTMF by uuid_send_dtmf, then hang up."""

    did = "5901"  # a test number: the overlay sends it to the originate's fs_cc_test_socket
    talk_seconds = 3
    timeout = 120  # real prompts are played in real time

    def __init__(self, target):
        self.target = target
        self.switch = RealSwitch(*target)  # SwitchUnavailable (an error, not a skip) when unreachable
        problems = self.switch.problems()
        if problems:
            self.switch.stop()
            pytest.fail(f"{ENV} names a switch that is not a test switch: {'; '.join(problems)}")
        self.a_uuid = None

    def esl_url(self):
        """The real switch's event socket, for the engine."""
        return "%s:%d:%s" % self.target

    def place(self, outbound_port):
        """originate {fs_cc_test_socket=127.0.0.1:<engine>}loopback/5901/public &park()."""
        self.switch.route_to("127.0.0.1", outbound_port)
        self.a_uuid = self.switch.place_call(self.did, caller_number=CALLER, dtmf="1",
                                             talk_seconds=self.talk_seconds)

    def stop(self):
        """Hang up what the test left and close the driver's connection."""
        self.switch.stop()


def emulator_process(procs, port, *extra):
    """Start `fs-cc emulator` on port (speed SPEED, agents 1000-1009) and wait until it listens."""
    procs.start("emulator", "emulator", "--host", "127.0.0.1", "--port", str(port),
                "--password", "ClueCon", "--speed", str(SPEED), "--traffic-cpm", "0",
                "--agents", "1000-1009", *extra)
    wait_until(lambda: port_open(port), 20, "emulator listening")


def stand_in_test_switch(tmp_path):
    """An emulator process standing in for the real test switch; returns (Processes, target).

    Its socket_target stays at the default 127.0.0.1:8084, so the call reaches the engine only
    through fs_cc_test_socket. The emulator's phones are not loopback ones: setting
    fs_cc_agent_endpoint=loopback only lets RealSwitch.problems() accept it.
    """
    (tmp_path / "switch").mkdir()
    procs = Processes(tmp_path / "switch", {})
    port = free_port()
    emulator_process(procs, port)
    esl = InboundClient("127.0.0.1", port, "ClueCon").start()
    try:
        assert esl.wait_connected(10)
        esl.api("global_setvar fs_cc_agent_endpoint=loopback")
    finally:
        esl.stop()
    return procs, ("127.0.0.1", port, "ClueCon")


@pytest.fixture(params=["emulator", "real"])
def caller(request, tmp_path):
    value = os.environ.get(ENV)
    switch_procs = None
    if request.param == "emulator":
        if value:
            pytest.skip(f"{ENV} is set: the call goes through that FreeSWITCH ([real])")
        caller = EmulatorCaller(free_port())
    elif value:
        caller = RealCaller(parse_esl_target(value))
    else:
        switch_procs, target = stand_in_test_switch(tmp_path)
        caller = RealCaller(target)
    try:
        yield caller
    finally:
        caller.stop()
        if switch_procs is not None:
            switch_procs.stop_all()


@pytest.fixture
def stack(tmp_path, caller):
    ports = {name: free_port() for name in ("outbound", "control", "web")}
    var = tmp_path / "var"
    procs = Processes(tmp_path, {
        "FS_CC_VAR_DIR": str(var),
        "FS_CC_ESL_URL": caller.esl_url(),
        "FS_CC_OUTBOUND_PORT": str(ports["outbound"]),
        "FS_CC_CONTROL_PORT": str(ports["control"]),
        "FS_CC_WEB_PORT": str(ports["web"]),
        "FS_CC_AGENTS_AUTO_LOGIN": "1",
        "FS_CC_RECORD_CALLS": "stereo",
        "FS_CC_RECORDINGS_DIR": str(tmp_path / "recordings"),
    })
    try:
        upgrade = procs.run("db", "upgrade")
        assert upgrade.returncode == 0, upgrade.stderr
        demo = json.loads(procs.run("user", "demo").stdout)
        if isinstance(caller, EmulatorCaller):
            emulator_process(procs, caller.esl_port, "--socket", f"127.0.0.1:{ports['outbound']}")
        procs.start("engine", "engine")
        procs.start("worker", "worker")
        procs.start("web", "web", "--host", "127.0.0.1", "--port", str(ports["web"]))
        wait_until(lambda: port_open(ports["outbound"]) and port_open(ports["control"]), 20,
                   "engine listening")
        wait_until(lambda: port_open(ports["web"]), 30, "web listening")
        yield procs, ports, demo, var
    finally:
        procs.stop_all()


def stack_root(var):
    """The test's folder (the stack's var/ is in it)."""
    return var.parent


def get_json(url, token):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read().decode("utf-8"))


def test_given_full_stack_when_caller_presses_1_then_record_reaches_db_page_and_api(stack, caller):
    procs, ports, demo, var = stack
    caller.place(ports["outbound"])

    api = f"http://127.0.0.1:{ports['web']}/api/calls"
    calls = wait_until(lambda: get_json(api, demo["token"])["calls"], caller.timeout,
                       "call record on /api/calls" + "\n" + procs.log("engine")[-3000:])
    call = calls[0]
    assert call["caller_number"] == CALLER
    assert call["did"] == caller.did
    assert call["queue"] == "sales"
    assert call["agent"] in AGENTS
    assert "sales" in "".join(call["ivr_path"] if isinstance(call["ivr_path"], list)
                              else [call["ivr_path"]])
    assert call["talk_seconds"] > 0
    assert call["hangup_cause"]
    assert call["hangup_side"] == "caller"

    with sqlite3.connect(var / "fs_cc.sqlite") as db:
        rows = db.execute("SELECT uuid, queue, agent FROM call_records").fetchall()
    assert rows == [(call["uuid"], "sales", call["agent"])]

    # the answered call was recorded in stereo where the switch writes, and the worker stored the
    # file's size and checksum (the emulator writes silence of the call's length, as a WAV)
    def stored_recording():
        with sqlite3.connect(var / "fs_cc.sqlite") as db:
            return db.execute("SELECT call_uuid, queue, agent, mode, status, path, size_bytes,"
                              " sha256 FROM recordings WHERE status != 'recording'").fetchall()
    [(uuid, queue, agent, mode, status, path, size, sha)] = wait_until(
        stored_recording, 30, "the call's recording stored" + "\n" + procs.log("worker")[-2000:])
    assert (uuid, queue, agent, mode, status) == (call["uuid"], "sales", call["agent"], "stereo",
                                                  "stored")
    recording = pathlib.Path(path)
    assert recording.parent.parent.parent == stack_root(var) / "recordings"
    assert recording.name == f"{call['uuid']}.wav" and recording.parent.name == "sales"
    assert size == recording.stat().st_size and sha == hashlib.sha256(recording.read_bytes()).hexdigest()
    with wave.open(str(recording), "rb") as handle:
        assert handle.getnchannels() == 2

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    form = opener.open(f"http://127.0.0.1:{ports['web']}/auth/login", timeout=5).read().decode()
    token = html.unescape(CSRF_TOKEN.search(form).group(1))
    login = urllib.parse.urlencode({"username": demo["username"], "password": demo["password"],
                                    "csrf_token": token}).encode()
    opener.open(f"http://127.0.0.1:{ports['web']}/auth/login", login, timeout=5)
    page = opener.open(f"http://127.0.0.1:{ports['web']}/calls", timeout=5).read().decode()
    assert CALLER in page and call["agent"] in page and "sales" in page

    agents = get_json(f"http://127.0.0.1:{ports['web']}/api/agents", demo["token"])
    statuses = {a["extension"]: a["status"] for a in agents["agents"]}
    assert statuses[call["agent"]] == "available"  # back to available after the hangup
