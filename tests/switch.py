"""The switch under test: the in-process emulator by default, a real FreeSWITCH with FS_CC_TEST_ESL.

Integration tests ask a ``Switch`` for its event socket address, tell it where inbound test calls
go (``route_to``), place scripted callers (``place_call``) and shape the agents' phones
(``set_agent``). ``EmulatorSwitch`` drives ``fs_cc.emulator``; ``RealSwitch`` drives a FreeSWITCH
with the fs_cc overlay in test mode (test numbers 5900-5999, loopback agent phones), following
each test call over its own inbound ESL connection.
"""

import abc
import logging
import os
import re
import time
import uuid as uuidlib

import gevent
import pytest

from fs_cc.emulator import Emulator, EmulatorConfig, Phone
from fs_cc.esl.commands import originate, uuid_kill
from fs_cc.esl.errors import AuthenticationError, CommandError, ESLError
from fs_cc.esl.inbound import InboundClient
from tests import polling
from tests.realfs.caller import ScriptedCaller

logger = logging.getLogger(__name__)

ENV = "FS_CC_TEST_ESL"
DEFAULT_SPEED = 10.0  # emulated seconds per real second
TEST_NUMBER = re.compile(r"^59\d\d$")
AGENT_CHANNEL = re.compile(r"(?:fs_cc_agent_|^user/|^sofia/internal/)(\d+)")
ANSWER_DELAY_VAR = "fs_cc_test_agent_answer_delay_ms"
EVENTS = ("CHANNEL_EXECUTE", "CHANNEL_BRIDGE", "CHANNEL_HANGUP")


class SwitchUnavailable(Exception):
    """The configured switch could not be reached or refused our password."""

    def __init__(self, host, port, reason):
        super().__init__(f"no FreeSWITCH event socket at {host}:{port}: {reason}")
        self.host = host
        self.port = port
        self.reason = reason


def parse_esl_target(value):
    """``host:port:password`` (the password may hold colons) -> (host, port, password)."""
    host, sep, rest = (value or "").partition(":")
    port, sep2, password = rest.partition(":")
    if not (host and sep and sep2 and port.isdigit() and password):
        raise ValueError(f"{ENV} must be host:port:password, got {value!r}")
    return host, int(port), password


def wait_until(condition, timeout=10.0, what="condition"):
    """Poll condition() until it is true; AssertionError after timeout seconds."""
    return polling.wait_until(condition, timeout, what)


class Switch(abc.ABC):
    """What an integration test needs from the switch it runs against."""

    real = False
    speed = 1.0
    password = "ClueCon"

    @property
    @abc.abstractmethod
    def esl_address(self):
        """(host, port) of the switch's inbound event socket."""

    def real_seconds(self, simulated):
        """How long simulated seconds take on this switch, in real seconds."""
        return simulated / self.speed

    @abc.abstractmethod
    def route_to(self, host, port):
        """Send inbound test calls to the outbound ESL server at host:port."""

    @abc.abstractmethod
    def place_call(self, did, caller_number="13800138000", dtmf="1", talk_seconds=None,
                   patience_seconds=None):
        """Place a scripted caller to did; return the caller's (A-leg) uuid."""

    @abc.abstractmethod
    def set_agent(self, ext, registered=True, answer_delay=None, reject_cause=None, busy=False,
                  talk_seconds=None):
        """Shape agent ext's phone (pytest.skip where this switch cannot); None keeps the default."""

    @abc.abstractmethod
    def stop(self):
        """Hang up what is left and release the switch."""


class EmulatorSwitch(Switch):
    """The in-process emulator on a free port, with a speed factor."""

    def __init__(self, speed=DEFAULT_SPEED, **options):
        self.speed = speed
        self.emulator = Emulator(EmulatorConfig(port=0, speed=speed, **options))
        self.password = self.emulator.config.password
        self.emulator.start()

    @property
    def esl_address(self):
        """(host, port) the emulator's event socket is bound to."""
        return self.emulator.esl_address

    def route_to(self, host, port):
        """Send the emulator's own callers to host:port (its `socket_target`, read by its dialplan).

        Test calls carrying fs_cc_test_socket (RealSwitch's driver) go there whatever this says.
        """
        self.emulator.config.socket_target = f"{host}:{port}"

    def place_call(self, did, caller_number="13800138000", dtmf="1", talk_seconds=None,
                   patience_seconds=None):
        """The emulator's own scripted caller (the fs_cc_sim_* variables)."""
        return self.emulator.place_call(did, caller_number=caller_number, dtmf=dtmf,
                                        talk_seconds=talk_seconds, patience_seconds=patience_seconds)

    def set_agent(self, ext, registered=True, answer_delay=None, reject_cause=None, busy=False,
                  talk_seconds=None):
        """Replace phone user/ext with one behaving as asked."""
        options = {} if answer_delay is None else {"answer_delay": answer_delay}
        self.emulator.phones.add(Phone(str(ext), registered=registered, busy=busy,
                                       reject_cause=reject_cause, talk_seconds=talk_seconds,
                                       **options))

    def stop(self):
        """Stop the emulator (its channels hang up with SYSTEM_SHUTDOWN)."""
        self.emulator.stop()


class RealSwitch(Switch):
    """A FreeSWITCH with the fs_cc overlay in test mode, driven over its event socket.

    speed scales this driver's own timers (talk, patience, DTMF delays); it is 1 for a real
    switch and only differs when the driver is pointed at the emulator to test it.
    """

    real = True

    def __init__(self, host, port, password, speed=1.0, connect_timeout=5.0):
        self.host, self.port, self.password = host, int(port), password
        self.speed = speed
        self._socket = "127.0.0.1:8084"
        self._callers = {}  # A-leg uuid -> ScriptedCaller
        self._agent_talk = {}  # extension -> simulated seconds before the agent hangs up
        self._agent_kills = set()
        self._saved_globals = {}
        self._answer_delay_ms = None
        self._greenlets = []
        self.client = InboundClient(host, self.port, password, events=EVENTS)
        for name in EVENTS:
            self.client.on(name, self._on_event)
        self.client.start()
        deadline = time.monotonic() + connect_timeout
        while not self.client.wait_connected(timeout=0.05):
            # a refused password will not get better by retrying: give up at once
            if isinstance(self.client.last_error, AuthenticationError) or time.monotonic() > deadline:
                reason = self.client.last_error or "timed out"
                self.client.stop()
                raise SwitchUnavailable(host, port, reason)

    @property
    def esl_address(self):
        """(host, port) from FS_CC_TEST_ESL."""
        return self.host, self.port

    def route_to(self, host, port):
        """Test calls carry fs_cc_test_socket=host:port; the overlay's dialplan sockets there."""
        self._socket = f"{host}:{port}"

    def global_var(self, name):
        """A global variable of the switch, None when unset."""
        try:
            return self.client.api(f"global_getvar {name}").strip()
        except CommandError as exc:
            # an unset variable makes global_getvar write nothing, which api_exec turns into -ERR
            if exc.reason == "no reply":
                return None
            raise

    def problems(self):
        """Why this switch is not a usable test switch (empty when it is)."""
        found = []
        if self.global_var("fs_cc_test_numbers") != "true":
            found.append("fs_cc_test_numbers is not true (install.sh FS_CC_TEST_NUMBERS=true)")
        if self.global_var("fs_cc_agent_endpoint") != "loopback":
            found.append("agents are not loopback phones (install.sh FS_CC_AGENT_ENDPOINT=loopback)")
        return found

    def place_call(self, did, caller_number="13800138000", dtmf="1", talk_seconds=None,
                   patience_seconds=None):
        """Originate loopback/<did>/public &park() and follow the legs with a ScriptedCaller."""
        if not TEST_NUMBER.match(str(did)):
            raise ValueError(f"a real test switch routes only test numbers 5900-5999, not {did!r}")
        a_uuid = str(uuidlib.uuid4())
        caller = ScriptedCaller(self.client, a_uuid, dtmf=dtmf, talk_seconds=talk_seconds,
                                patience_seconds=patience_seconds, speed=self.speed)
        self._callers[a_uuid] = caller
        command = originate(f"loopback/{did}/public", "&park()", {
            "origination_uuid": a_uuid, "origination_caller_id_number": caller_number,
            "fs_cc_test_socket": self._socket})
        self._spawn(caller.run)
        self._spawn(self._originate, caller, command)
        return a_uuid

    def caller(self, a_uuid):
        """The ScriptedCaller following call a_uuid (its b_uuid, prompts, digits sent, outcome)."""
        return self._callers[a_uuid]

    def _originate(self, caller, command):
        try:
            caller.originated(self.client.bgapi(command, timeout=120))
        except ESLError as exc:
            caller.originated(f"-ERR {exc}")

    def set_agent(self, ext, registered=True, answer_delay=None, reject_cause=None, busy=False,
                  talk_seconds=None):
        """Answer delay (one for every agent: a global variable) and hanging up after talk_seconds."""
        if not registered:
            pytest.skip("a real test switch's agents are loopback phones, always registered")
        if reject_cause or busy:
            pytest.skip("a real test switch's loopback agent phones never reject or are busy")
        if answer_delay is not None:
            delay_ms = int(round(answer_delay * 1000))
            if self._answer_delay_ms is not None and self._answer_delay_ms != delay_ms:
                pytest.skip("a real test switch has one answer delay for all agents "
                            f"({ANSWER_DELAY_VAR}); this test needs several")
            if self._answer_delay_ms is None:
                self._set_global(ANSWER_DELAY_VAR, str(delay_ms))
                self._answer_delay_ms = delay_ms
        if talk_seconds is None:
            self._agent_talk.pop(str(ext), None)
        else:
            self._agent_talk[str(ext)] = talk_seconds

    def _set_global(self, name, value):
        if name not in self._saved_globals:
            self._saved_globals[name] = self.global_var(name)
        self.client.api(f"global_setvar {name}={value}")

    def _on_event(self, event):
        for caller in list(self._callers.values()):
            caller.offer(event)
        if event.name == "CHANNEL_BRIDGE" and self._agent_talk:
            self._agent_bridged(event)

    def _agent_bridged(self, event):
        legs = ((event.get("Unique-ID"), event.get("Channel-Name", "")),
                (event.get("Other-Leg-Unique-ID"), event.get("Other-Leg-Channel-Name", "")))
        for uuid, name in legs:
            match = AGENT_CHANNEL.search(name or "")
            if uuid and match and match.group(1) in self._agent_talk and uuid not in self._agent_kills:
                self._agent_kills.add(uuid)
                delay = self.real_seconds(self._agent_talk[match.group(1)])
                self._greenlets.append(gevent.spawn_later(delay, self._hang_up, uuid))
                self._greenlets[-1].link_exception(_log_failure)

    def _hang_up(self, uuid):
        try:
            self.client.api(uuid_kill(uuid, "NORMAL_CLEARING"))
        except ESLError as exc:
            logger.info("hanging up %s: %s", uuid, exc)

    def _spawn(self, func, *args):
        greenlet = gevent.spawn(func, *args)
        greenlet.link_exception(_log_failure)
        self._greenlets.append(greenlet)
        return greenlet

    def stop(self):
        """Hang up our test calls still up, put global variables back, close the connection."""
        try:
            for a_uuid, caller in self._callers.items():
                if not caller.finished and self.client.connected:
                    self._hang_up(a_uuid)
            for name, value in self._saved_globals.items():
                if self.client.connected:
                    # an empty value unsets it again (global_setvar_function in mod_commands.c)
                    self.client.api(f"global_setvar {name}={value or ''}")
        finally:
            gevent.killall(self._greenlets, timeout=2)
            self.client.stop()


def _log_failure(greenlet):
    logger.error("switch driver greenlet failed: %r", greenlet.exception)


def switch_from_env(environ=None, speed=DEFAULT_SPEED, **emulator_options):
    """RealSwitch when FS_CC_TEST_ESL is set (emulator options then skip the test), else EmulatorSwitch."""
    value = (os.environ if environ is None else environ).get(ENV)
    if not value:
        return EmulatorSwitch(speed=speed, **emulator_options)
    if emulator_options:
        pytest.skip(f"needs emulator options {sorted(emulator_options)} ({ENV} is set)")
    return RealSwitch(*parse_esl_target(value))
