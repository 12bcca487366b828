"""Simulated far ends: agent phones, PSTN customers behind gateways, scripted inbound callers."""

import logging
import re
from dataclasses import dataclass

import gevent

from fs_cc.emulator.channel import WakeReason

logger = logging.getLogger(__name__)

ANSWER_DELAY_VAR = "fs_cc_test_agent_answer_delay_ms"  # the overlay's loopback agent phones read it
DEFAULT_ANSWER_DELAY = 1.0  # simulated seconds


@dataclass
class Phone:
    """An agent phone `user/<extension>`; answer_delay None answers as answer_delay() says."""
    extension: str
    registered: bool = True
    busy: bool = False
    answer_delay: float = None
    no_answer: bool = False
    reject_cause: str = None
    auto_answer: bool = False
    talk_seconds: float = None
    dial_string: str = None  # the directory user's dial-string; None: the domain's (sofia_contact)


@dataclass
class Gateway:
    """A PSTN gateway; its customers answer, ring out, are busy, unallocated or machines."""
    name: str
    answer_probability: float = 0.8
    busy_probability: float = 0.05
    ring_seconds: tuple = (2.0, 8.0)
    unallocated_prefixes: tuple = ()
    machine_probability: float = 0.0
    greeting_seconds: float = 6.0
    talk_seconds: tuple = None
    down: bool = False
    beep: bool = False
    machine_silence_seconds: float = 5.0


def default_phones():
    """user/1000 .. user/1019, registered, answering after the switch's default delay."""
    return [Phone(str(ext)) for ext in range(1000, 1020)]


class PhoneBook:
    """Agent phones by extension, changeable while running (`emulator.phones['1001'].busy = True`)."""

    def __init__(self, phones):
        self._phones = {p.extension: p for p in phones}

    def __getitem__(self, extension):
        return self._phones[str(extension)]

    def get(self, extension):
        """The phone or None."""
        return self._phones.get(str(extension))

    def add(self, phone):
        """Add or replace a phone."""
        self._phones[phone.extension] = phone

    def __iter__(self):
        return iter(self._phones.values())

    def __len__(self):
        return len(self._phones)


def answer_delay(phone, switch):
    """Simulated seconds before the phone answers.

    Its own answer_delay when it has one; else the global fs_cc_test_agent_answer_delay_ms, which
    a test switch's loopback agent phones sleep before answering (freeswitch_conf/dialplan/default),
    so one global_setvar shapes the agents of either switch; else DEFAULT_ANSWER_DELAY.
    """
    if phone.answer_delay is not None:
        return phone.answer_delay
    value = switch.global_var(ANSWER_DELAY_VAR)
    try:
        return max(0.0, float(value) / 1000.0)
    except (TypeError, ValueError):
        return DEFAULT_ANSWER_DELAY


def run_phone(channel, phone):
    """Far end of a phone leg: answer after the delay (or never, or reject), talk, hang up."""
    clock = channel.switch.clock
    delay = answer_delay(phone, channel.switch)
    if phone.reject_cause:
        clock.sleep(min(delay, 0.5))
        channel.hangup(phone.reject_cause)
        return
    channel.ring_ready()
    if phone.no_answer:
        return
    if not phone.auto_answer:
        reason = channel.wait(delay)
        if reason == WakeReason.HANGUP:
            return
    channel.answer()
    if phone.talk_seconds is not None:
        talk_after_bridge(channel, phone.talk_seconds)


def talk_after_bridge(channel, talk_seconds):
    """Hang up talk_seconds after the leg is bridged."""
    while not channel.hungup and channel.bridged_to is None:
        channel.state_changed.clear()
        channel.state_changed.wait(0.05)
    if not channel.hungup:
        gevent.sleep(channel.switch.clock.real(talk_seconds))
        channel.hangup("NORMAL_CLEARING")


def gateway_outcome(gateway, number, rng):
    """Decide what a PSTN number does: ('answer'|'machine'|'busy'|'no_answer'|'unallocated', ring)."""
    if gateway.down:
        return "down", 0.0
    if any(number.startswith(p) for p in gateway.unallocated_prefixes):
        return "unallocated", 0.5
    low, high = gateway.ring_seconds
    ring = rng.uniform(low, high)
    roll = rng.random()
    if roll < gateway.busy_probability:
        return "busy", min(ring, 1.0)
    if roll < gateway.busy_probability + gateway.answer_probability:
        if rng.random() < gateway.machine_probability:
            return "machine", ring
        return "answer", ring
    return "no_answer", ring


def run_customer(channel, gateway, outcome, ring, rng):
    """Far end of a gateway leg."""
    clock = channel.switch.clock
    if outcome == "unallocated":
        clock.sleep(ring)
        channel.hangup("UNALLOCATED_NUMBER")
        return
    if outcome == "busy":
        clock.sleep(ring)
        channel.hangup("USER_BUSY")
        return
    channel.ring_ready()
    if outcome == "no_answer":
        return
    if channel.wait(ring) == WakeReason.HANGUP:
        return
    channel.answer()
    if outcome == "machine":
        run_machine(channel, gateway)
        return
    if gateway.talk_seconds:
        talk_after_bridge(channel, rng.uniform(*gateway.talk_seconds))


def run_machine(channel, gateway):
    """An answering machine: greeting, optional beep, then silence until it gives up.

    Real deployments detect it with mod_avmd (a CUSTOM `avmd::beep` event after the greeting) or
    AMD on the greeting's length. The emulator sets `fs_cc_sim_machine=true` at answer (ground truth
    for tests), `fs_cc_sim_machine_greeting_seconds`, then `fs_cc_sim_machine_state` greeting ->
    silence; with `beep` it fires `avmd::beep` as mod_avmd does (avmd_fire_event, mod_avmd.c).
    """
    channel.set_var("fs_cc_sim_machine", "true")
    channel.set_var("fs_cc_sim_machine_greeting_seconds", gateway.greeting_seconds)
    channel.set_var("fs_cc_sim_machine_state", "greeting")
    if channel.wait(gateway.greeting_seconds) == WakeReason.HANGUP:
        return
    channel.set_var("fs_cc_sim_machine_state", "silence")
    if gateway.beep:
        switch = channel.switch
        channel.set_var("avmd_detect", "TRUE")
        switch.fire(switch.factory.custom_channel("avmd::beep", channel, [
            ("Beep-Status", "DETECTED"), ("Frequency", "1000.000000"),
            ("Frequency-variance", "0.000000"), ("Amplitude", "1000.000000"),
            ("Amplitude-variance", "0.000000"), ("Detection-start-time", "0"),
            ("Detection-stop-time", "0"), ("Detection-time", "0"), ("Total-time", "0")]))
    if channel.wait(gateway.machine_silence_seconds) != WakeReason.HANGUP:
        channel.hangup("NORMAL_CLEARING")


_DTMF_GROUP = re.compile(r"^([0-9*#wW]+)(?:@([0-9.]+))?$")


def parse_dtmf_script(script):
    """`1,23@1.5,w4` -> [(delay, '1'), (1.5, '23'), (delay, 'w4')]: one group per prompt."""
    groups = []
    for part in (script or "").split(","):
        part = part.strip()
        if not part:
            continue
        match = _DTMF_GROUP.match(part)
        if not match:
            raise ValueError("bad fs_cc_sim_dtmf group %r" % part)
        groups.append((float(match.group(2)) if match.group(2) else 0.3, match.group(1)))
    return groups


def run_caller(a_leg, b_leg):
    """The simulated inbound caller on a loopback A-leg, scripted by fs_cc_sim_* variables.

    fs_cc_sim_dtmf: comma-separated groups, one per prompt the B-leg plays (play_and_get_digits or
    read); `digits@seconds` presses after that delay (default 0.3 s), `w` inside waits 1 s.
    fs_cc_sim_patience_seconds: hang up if not bridged by then. fs_cc_sim_talk_seconds: hang up that
    long after being bridged.
    """
    clock = a_leg.switch.clock
    script = parse_dtmf_script(a_leg.get_var("fs_cc_sim_dtmf"))
    patience = a_leg.get_var("fs_cc_sim_patience_seconds")
    talk = a_leg.get_var("fs_cc_sim_talk_seconds")
    start = clock.monotonic()
    patience_deadline = start + clock.real(float(patience)) if patience else None
    bridged_at = None
    seen_prompts = 0
    while not a_leg.hungup and not b_leg.hungup:
        now = clock.monotonic()
        if b_leg.bridged_to is not None and bridged_at is None:
            bridged_at = now
        if bridged_at is not None:
            if talk is not None and now - bridged_at >= clock.real(float(talk)):
                a_leg.hangup("NORMAL_CLEARING")
                return
        elif patience_deadline is not None and now >= patience_deadline:
            a_leg.hangup("NORMAL_CLEARING")
            return
        if b_leg.prompts_started > seen_prompts:
            seen_prompts = b_leg.prompts_started
            if seen_prompts <= len(script):
                delay, digits = script[seen_prompts - 1]
                gevent.spawn(_press, a_leg, b_leg, delay, digits).link_exception(_log_failure)
        b_leg.state_changed.clear()
        b_leg.state_changed.wait(0.02)


def _press(a_leg, b_leg, delay, digits):
    clock = a_leg.switch.clock
    clock.sleep(delay)
    for digit in digits:
        if digit in "wW":
            clock.sleep(1.0)
            continue
        if b_leg.hungup:
            return
        b_leg.receive_dtmf(digit)
        clock.sleep(0.1)


def _log_failure(greenlet):
    logger.error("simulated endpoint failed: %r", greenlet.exception)
