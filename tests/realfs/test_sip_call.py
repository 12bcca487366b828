"""The end-to-end call over SIP on a real FreeSWITCH: a sipp caller, a sipp agent phone, the engine.

Runs only with FS_CC_TEST_ESL=host:port:password and sipp installed (tests/README.rst, "A SIP
call"). Nothing goes through loopback:

- the agent is a SIP phone: one sipp (``sipp/agent_answer.xml``, ``-rtp_echo``) waits for the
  switch's INVITE, another (``sipp/agent_register.xml``) registers it on the internal profile as
  the test switch's SIP agent (``global_getvar fs_cc_sip_agents``, 1019 by default: install.sh
  keeps that agent's sofia_contact() dial string while the others ring loopback phones), with the
  password the switch holds for it (``user_data <ext>@<domain> param password``);
- the engine runs in-process: main.yaml, queue sales with only that agent logged in, its ESL
  client on the real switch, its outbound socket on a free port (never 8084);
- the caller is a third sipp (``sipp/caller.xml``) calling test number 5905 on the external
  profile with the header ``X-FS-CC-Test-Socket: 127.0.0.1:<the engine's port>`` (the public
  dialplan's extension fs_cc_test_numbers_sip_engine sockets there); it presses 1 with an
  RFC 2833 telephone-event once the welcome prompt is over, talks a few seconds and sends BYE.

The ACD rings ``user/<ext>`` as in production, the directory turns that into the registered
contact, and the call record must say: queue sales, that agent, "menu:1" then "sales", talk time,
hung up by the caller.
"""

import datetime
import os
import pathlib
import re
import shutil
import socket
import subprocess
import time
import uuid as uuidlib
import wave

import pytest

from fs_cc.config import EslTarget
from fs_cc.engine import Engine
from fs_cc.esl.commands import uuid_kill
from fs_cc.esl.errors import CommandError, ESLError
from fs_cc.esl.inbound import InboundClient
from fs_cc.ivr import load_flow
from fs_cc.sounds import SHIPPED_SOUNDS, candidates, sound_prefix
from tests.engine.support import RecordingPublisher, engine_settings
from tests.switch import ENV, RealSwitch, parse_esl_target, wait_until

SIPP = shutil.which("sipp")
SCENARIOS = pathlib.Path(__file__).resolve().parent / "sipp"
FLOW = pathlib.Path(__file__).resolve().parents[2] / "ivr_flows" / "main.yaml"
# where distributions put the RTP captures sipp ships (Debian's sip-tester; sipp's source tree)
PCAP_DIRS = ("/usr/share/sip-tester", "/usr/share/sipp", "/usr/share/sipp/pcap",
             "/usr/local/share/sipp/pcap", "/usr/local/share/sipp")
PCAPS = ("dtmf_2833_1.pcap", "g711a.pcap")
DID = "5905"
CALLER = "13800138000"
TALK_MS = 6000  # the caller talks this long after pressing 1 (the agent answers at once)
KEY_AFTER_WELCOME = 1.5  # seconds into the menu prompt the caller presses 1
# the agent's binding outlives the test (about 15 s) but not by much if a run is killed before
# it unregisters: until then the next run finds the agent registered and skips
REGISTRATION_SECONDS = 120
EVENTS = ("CHANNEL_EXECUTE", "CHANNEL_ANSWER", "CHANNEL_BRIDGE", "CHANNEL_HANGUP_COMPLETE", "DTMF")


def pcap_dir():
    """The folder holding sipp's dtmf_2833_1.pcap and g711a.pcap, or None."""
    for folder in PCAP_DIRS:
        if all(os.path.isfile(os.path.join(folder, name)) for name in PCAPS):
            return folder
    return None


pytestmark = [
    pytest.mark.skipif(not os.environ.get(ENV), reason=f"{ENV} is not set: this test needs a real FreeSWITCH"),
    pytest.mark.skipif(SIPP is None, reason="sipp is not installed (Debian: apt-get install sip-tester)"),
    pytest.mark.skipif(SIPP is not None and pcap_dir() is None,
                       reason=f"sipp's RTP captures {', '.join(PCAPS)} not found in {', '.join(PCAP_DIRS)}"),
]


def free_udp_port(span=1):
    """A UDP port on 127.0.0.1 free a moment ago, with the span-1 ports after it free as well."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            if port + span > 65535:
                continue
            others = []
            try:
                for offset in range(1, span):
                    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    others.append(other)
                    other.bind(("127.0.0.1", port + offset))
            except OSError:
                continue
            finally:
                for other in others:
                    other.close()
            return port
    raise AssertionError("no free UDP port range on 127.0.0.1")


def udp_port_taken(port):
    """True once something (sipp) has bound the UDP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def profile_address(client, name):
    """(ip, port) of a sofia profile, from `sofia status`."""
    text = client.api("sofia status")
    match = re.search(rf"^\s*{re.escape(name)}\s+profile\s+sip:[^@\s]+@([^:\s]+):(\d+)", text, re.MULTILINE)
    assert match, f"no sofia profile {name!r} on the switch:\n{text}"
    return match.group(1), int(match.group(2))


def seconds_before_first_menu(flow, prefix):
    """How long the flow plays before its first menu starts: the play nodes from the start on.

    Each sound is measured in the first of FreeSWITCH's candidate paths found under prefix (the
    switch's sound_prefix, read on this host: the tests run on the switch's host), else in the
    prompts fs_cc ships (what install.sh copies onto a switch without the sound pack).
    """
    total, node = 0.0, flow.node(flow.start)
    while node.type_name == "play":
        for sound in node.prompts:
            paths = candidates(sound, prefix) + candidates(sound, sound_prefix(SHIPPED_SOUNDS))
            path = next((p for p in paths if os.path.isfile(p)), None)
            assert path, f"cannot measure {sound}: none of {paths} exists"
            with wave.open(path) as audio:
                total += audio.getnframes() / audio.getframerate()
        node = flow.node(node.next)
    assert node.type_name == "menu", f"the flow reaches {node.type_name} node {node.id} before a menu"
    return total


class Sipp:
    """One sipp process on a scenario of tests/realfs/sipp: one call (-m 1), -timeout bounded,
    logs (screen, unexpected messages, every message) under tmp; stop() kills it."""

    def __init__(self, name, tmp_path, scenario, *args, timeout=60, cwd=None):
        self.name = name
        self.screen = tmp_path / f"sipp-{name}.out"
        self.errors = tmp_path / f"sipp-{name}-errors.log"
        self.messages = tmp_path / f"sipp-{name}-messages.log"
        self.argv = [SIPP, *args, "-sf", str(SCENARIOS / scenario), "-m", "1", "-nostdin",
                     "-timeout", f"{timeout}s", "-timeout_error",
                     "-trace_err", "-error_file", str(self.errors),
                     "-trace_msg", "-message_file", str(self.messages)]
        self.timeout = timeout
        with open(self.screen, "wb") as screen:
            self.process = subprocess.Popen(self.argv, cwd=cwd or tmp_path, stdout=screen,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    @property
    def running(self):
        """True while the process runs."""
        return self.process.poll() is None

    def wait(self, timeout=None):
        """The exit status once it ended (0: its call succeeded); None while it still runs after
        timeout (default: its own -timeout and a margin)."""
        try:
            return self.process.wait(self.timeout + 5 if timeout is None else timeout)
        except subprocess.TimeoutExpired:
            return None

    def report(self):
        """What went wrong, as sipp logged it: unexpected messages, the last screen."""
        parts = [f"sipp {self.name}: exit {self.process.poll()}"]
        for path in (self.errors, self.screen):
            if path.exists():
                parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}")
        return "\n".join(parts)

    def stop(self):
        """Terminate (then kill) the process if it still runs."""
        if self.running:
            self.process.terminate()
            try:
                self.process.wait(3)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class SipAgentPhone:
    """The test switch's SIP agent as a registered sipp phone answering with RTP echo."""

    def __init__(self, client, tmp_path, ext, domain, registrar):
        self.client = client
        self.tmp_path = tmp_path
        self.ext = ext
        self.domain = domain
        self.registrar = registrar  # (ip, port) of the internal profile
        self.call_id = f"fs-cc-sip-agent-{uuidlib.uuid4().hex}"
        self.port = free_udp_port()
        self.media_port = free_udp_port(span=4)  # -rtp_echo binds it and +2, RTCP +1 and +3
        self.phone = None
        self.registered = False
        self._credentials = tmp_path / "agent-credentials.csv"

    def contact(self):
        """The switch's registered contact for the agent (error/user_not_registered when none)."""
        return self.client.api(f"sofia_contact {self.ext}@{self.domain}").strip()

    def start(self, timeout=60):
        """Start the phone, then register it; returns once the switch has its contact."""
        self.phone = Sipp("agent", self.tmp_path, "agent_answer.xml", "-i", "127.0.0.1",
                          "-bind_local", "-p", str(self.port), "-mi", "127.0.0.1",
                          "-mp", str(self.media_port), "-rtp_echo",
                          # 200 to an INFO, NOTIFY, OPTIONS or UPDATE in the call (the switch
                          # sends this agent no message-waiting NOTIFY out of it: install.sh)
                          "-aa", timeout=timeout)
        wait_until(lambda: udp_port_taken(self.port) or not self.phone.running, 10,
                   "the agent's sipp listening")
        assert self.phone.running, self.phone.report()
        password = self.client.api(f"user_data {self.ext}@{self.domain} param password").strip()
        assert password, f"the switch holds no password for {self.ext}@{self.domain}"
        # the password stays out of any command line: sipp reads it from a file only we can read
        fd = os.open(self._credentials, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as csv:
            csv.write(f"SEQUENTIAL\n{self.ext};{self.domain};"
                      f"[authentication username={self.ext} password={password}]\n")
        register = self._register(expires=REGISTRATION_SECONDS, cseq=1)
        self.registered = True
        assert register.process.returncode == 0, f"REGISTER of {self.ext} failed\n{register.report()}"
        wait_until(lambda: f":{self.port}" in self.contact(), 5, f"{self.ext}'s contact on the switch")

    def _register(self, expires, cseq):
        """Run agent_register.xml to its end; returns the finished Sipp."""
        name = "register" if expires else "unregister"
        sipp = Sipp(name, self.tmp_path, "agent_register.xml", "%s:%d" % self.registrar,
                    "-i", "127.0.0.1", "-bind_local", "-p", str(free_udp_port()),
                    "-inf", str(self._credentials), "-cid_str", self.call_id,
                    "-key", "contact_port", str(self.port), "-key", "expires", str(expires),
                    "-key", "cseq1", str(cseq), "-key", "cseq2", str(cseq + 1), timeout=15)
        try:
            sipp.wait()
        finally:
            sipp.stop()
        return sipp

    def stop(self):
        """Stop the phone and remove its registration (only ours: it is found by our Call-ID)."""
        if self.phone is not None:
            self.phone.stop()
        try:
            if self.registered and self._register(expires=0, cseq=10).process.returncode != 0:
                # the switch forgets a binding by its Call-ID: ours alone, nobody else's
                self.client.api(f"sofia profile internal flush_inbound_reg {self.call_id}")
        finally:
            if self._credentials.exists():
                self._credentials.unlink()


class CallWatch:
    """Follows our caller's channel and the legs the ACD opens for it, from the switch's events."""

    def __init__(self, client, call_id):
        self.client = client
        self.call_id = call_id  # the caller sipp's Call-ID
        self.caller_uuid = None
        self.legs = set()  # every uuid of our call, for clean-up
        self.log = []  # (seconds, channel name, what) for failure messages
        self.digits = []  # (digit, DTMF-Source) the caller's channel got
        self.bridges = []  # (channel name, other leg's channel name)
        self.rtp_in = {}  # channel name -> RTP audio packets the switch got on it, at its hangup
        self.started = time.monotonic()
        for name in EVENTS:
            client.on(name, self._on_event)

    def _on_event(self, event):
        uuid = event.uuid
        if self.caller_uuid is None and event.variable("sip_call_id") == self.call_id:
            self.caller_uuid = uuid
        if uuid != self.caller_uuid and (self.caller_uuid is None
                                         or event.variable("fs_cc_call_uuid") != self.caller_uuid):
            return
        self.legs.add(uuid)
        what = event.name
        if event.name == "CHANNEL_EXECUTE":
            what += " " + (event.get("Application") or "")
        elif event.name == "DTMF":
            digit = event.get("DTMF-Digit")
            self.digits.append((digit, event.get("DTMF-Source")))
            what += f" {digit} from {event.get('DTMF-Source')}"
        elif event.name == "CHANNEL_BRIDGE":
            self.bridges.append((event.get("Channel-Name"), event.get("Other-Leg-Channel-Name")))
        elif event.name == "CHANNEL_HANGUP_COMPLETE":
            what += " " + (event.get("Hangup-Cause") or "")
            self.rtp_in[event.get("Channel-Name")] = int(event.variable("rtp_audio_in_packet_count") or 0)
        self.log.append((round(time.monotonic() - self.started, 2), event.get("Channel-Name"), what))

    def story(self):
        """What the switch said about our call, one event a line."""
        return "\n".join(f"{t:7.2f} {name} {what}" for t, name, what in self.log)

    def hang_up_leftovers(self):
        """uuid_kill our call's channels still up (never anybody else's)."""
        for uuid in self.legs:
            try:
                self.client.api(uuid_kill(uuid, "NORMAL_CLEARING"))
            except ESLError:
                pass  # -ERR No such channel: it ended on its own


@pytest.fixture
def target():
    target = parse_esl_target(os.environ[ENV])
    switch = RealSwitch(*target)  # SwitchUnavailable (an error, not a skip) when unreachable
    try:
        problems = switch.problems()
    finally:
        switch.stop()
    if problems:
        pytest.fail(f"{ENV} names a switch that is not a test switch: {'; '.join(problems)}")
    return target


@pytest.fixture
def client(target):
    client = InboundClient(*target, events=EVENTS).start()
    assert client.wait_connected(timeout=5), f"cannot connect: {client.last_error}"
    yield client
    client.stop()


@pytest.fixture
def sip_agent(client):
    """(extension, domain) of the switch's SIP agent, checked to be free and rung through sofia."""
    try:
        agents = client.api("global_getvar fs_cc_sip_agents").strip()
    except CommandError as exc:  # unset: global_getvar writes nothing, which reads as -ERR no reply
        if exc.reason != "no reply":
            raise
        agents = ""
    if agents in ("", "none"):
        pytest.fail("the test switch keeps no agent on SIP (fs_cc_sip_agents): re-run "
                    "freeswitch_conf/install.sh (FS_CC_SIP_AGENTS, default 1019), then reloadxml")
    ext = agents.split(",")[0]
    domain = client.api("global_getvar domain").strip()
    dial_string = client.api(f"user_data {ext}@{domain} param dial-string").strip()
    if "sofia_contact" not in dial_string:
        pytest.fail(f"agent {ext}'s dial-string is {dial_string!r}, not sofia_contact(): "
                    "re-run freeswitch_conf/install.sh and reloadxml")
    contact = client.api(f"sofia_contact {ext}@{domain}").strip()
    if not contact.startswith("error/"):
        pytest.skip(f"agent {ext} is already registered ({contact}): another run of this test?")
    return ext, domain


@pytest.fixture
def phone(client, sip_agent, tmp_path):
    ext, domain = sip_agent
    phone = SipAgentPhone(client, tmp_path, ext, domain, profile_address(client, "internal"))
    try:
        yield phone
    finally:
        phone.stop()


@pytest.fixture
def engine(target, sip_agent, tmp_path):
    """The real engine in-process: main.yaml, only the SIP agent, in sales, logged in."""
    host, port, password = target
    ext, _ = sip_agent
    settings = engine_settings(
        tmp_path / "engine", host, port, esl=EslTarget(host, port, password), ivr_flow=FLOW,
        outbound_host="127.0.0.1", outbound_port=0, ring_timeout=20, agents_auto_login=True,
        agents=[{"extension": ext, "name": f"SIP agent {ext}", "queues": ["sales"]}])
    (tmp_path / "engine").mkdir()
    publisher = RecordingPublisher()
    engine = Engine(settings, publisher=publisher)
    engine.start()
    try:
        assert engine.esl.wait_connected(10), f"engine cannot reach the switch: {engine.esl.last_error}"
        wait_until(lambda: engine.resyncs >= 1, 10, "the engine's first resync")
        assert engine.outbound.address[1] != 8084
        yield engine, publisher
    finally:
        engine.stop()


def test_given_sip_agent_registered_when_sip_caller_presses_1_then_agent_answers_and_record_is_complete(
        client, phone, engine, tmp_path):
    engine, publisher = engine
    phone.start()
    statuses = {a["extension"]: a["status"] for a in engine.agents()}
    assert statuses == {phone.ext: "available"}

    flow = load_flow(FLOW)
    welcome = seconds_before_first_menu(flow, client.api("global_getvar sound_prefix").strip())
    # sipp plays its captures from pcap/ under its working directory
    (tmp_path / "pcap").mkdir()
    for name in PCAPS:
        os.symlink(os.path.join(pcap_dir(), name), tmp_path / "pcap" / name)
    call_id = f"fs-cc-sip-caller-{uuidlib.uuid4().hex}"
    watch = CallWatch(client, call_id)
    caller = None
    try:
        caller = Sipp("caller", tmp_path, "caller.xml", "%s:%d" % profile_address(client, "external"),
                      "-i", "127.0.0.1", "-bind_local", "-p", str(free_udp_port()),
                      "-mi", "127.0.0.1", "-mp", str(free_udp_port(span=4)), "-s", DID,
                      "-cid_str", call_id, "-key", "caller", CALLER,
                      "-key", "test_socket", "127.0.0.1:%d" % engine.outbound.address[1],
                      "-key", "dtmf_delay", str(int((welcome + KEY_AFTER_WELCOME) * 1000)),
                      "-key", "talk_ms", str(TALK_MS), timeout=45)
        assert caller.wait() == 0, f"{caller.report()}\n--- switch\n{watch.story()}"
        # the switch hangs the agent up right after the caller: its sipp ends its one call
        assert phone.phone.wait(20) == 0, f"{phone.phone.report()}\n--- switch\n{watch.story()}"

        records = wait_until(lambda: [p for p in publisher.payloads if p.get("uuid")], 20,
                             "the call record")
    finally:
        if caller is not None:
            caller.stop()
        watch.hang_up_leftovers()

    (record,) = records
    story = f"{record}\n--- switch\n{watch.story()}"
    assert record["uuid"] == watch.caller_uuid, story
    assert (record["caller_number"], record["did"]) == (CALLER, DID), story
    assert ("1", "RTP") in watch.digits, story  # RFC 2833, not SIP INFO nor inband
    assert record["ivr_path"] == ["welcome", "menu", "menu:1", "sales"], story
    assert record["queue"] == "sales", story
    assert record["agent"] == phone.ext, story
    # the ACD's user/<ext> reached the registered phone through the directory's sofia_contact()
    assert any(a.startswith("sofia/external/") and b.startswith(f"sofia/internal/{phone.ext}@")
               for pair in watch.bridges for a, b in (pair, pair[::-1])), story
    # both phones sent media: the caller its recording, the agent the echo of what it heard
    wait_until(lambda: len(watch.rtp_in) >= 2, 5, "both legs' hangup")
    assert all(packets > 0 for packets in watch.rtp_in.values()), f"{watch.rtp_in}\n{story}"
    answered, ended = (datetime.datetime.fromisoformat(record[k]) for k in ("answered_at", "ended_at"))
    assert ended > answered, story
    assert 0 < record["talk_seconds"] <= TALK_MS / 1000 + 1, story
    assert record["hangup_side"] == "caller", story
    assert record["hangup_cause"] == "NORMAL_CLEARING", story
    wait_until(lambda: engine.agents()[0]["status"] == "available", 10, "the agent available again")
