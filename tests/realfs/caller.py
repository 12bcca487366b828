"""A scripted inbound caller on a real FreeSWITCH, played from events and api commands.

The test call is a loopback pair: the A-leg (uuid known in advance through origination_uuid)
parks and is the caller's side; the B-leg runs the public dialplan and reaches the engine's
socket. The caller presses its DTMF on the A-leg (``uuid_send_dtmf``; loopback hands it to the
B-leg) when the B-leg starts a prompt that collects digits, and hangs the A-leg up talk_seconds
after a bridge, or patience_seconds after the start when nobody bridged it.
"""

import logging
import time

import gevent
from gevent.event import Event as Flag
from gevent.queue import Empty, Queue

from fs_cc.emulator.endpoints import parse_dtmf_script
from fs_cc.esl.commands import uuid_kill
from fs_cc.esl.errors import ESLError

logger = logging.getLogger(__name__)

PROMPT_APPS = frozenset({"play_and_get_digits", "read"})
DIGIT_GAP = 0.1  # simulated seconds between two digits, as the emulator's caller
PAUSE = 1.0  # what a `w` in the script waits


class ScriptedCaller:
    """Follows one test call's two loopback legs and plays the caller's part (see module doc).

    dtmf uses the emulator's ``fs_cc_sim_dtmf`` syntax: comma-separated groups, one per prompt,
    ``digits@seconds`` to press after a delay. offer() is fed every event of the switch.
    """

    def __init__(self, client, a_uuid, dtmf="1", talk_seconds=None, patience_seconds=None, speed=1.0):
        self.client = client
        self.a_uuid = a_uuid
        self.b_uuid = None
        self.script = parse_dtmf_script(dtmf)
        self.talk_seconds = talk_seconds
        self.patience_seconds = patience_seconds
        self.speed = speed
        self.prompts = 0
        self.sent = []  # digits sent with uuid_send_dtmf, in order
        self.bridged_at = None
        self.originate_result = None
        self.outcome = None  # why the caller stopped: "talk over", "patience over", "<leg> hung up: CAUSE"...
        self._events = Queue()
        self._finished = Flag()

    @property
    def finished(self):
        """True once the caller stopped following the call."""
        return self._finished.is_set()

    def wait(self, timeout=None):
        """Wait until the caller has finished; True if it has."""
        return self._finished.wait(timeout)

    def offer(self, event):
        """Keep the event if it concerns one of our legs (learning the B-leg on the way)."""
        if self._finished.is_set():
            return
        uuid = event.uuid
        if self.b_uuid is None:
            other = event.variable("other_loopback_leg_uuid")
            if uuid == self.a_uuid and other:
                self.b_uuid = other
            elif other == self.a_uuid:
                self.b_uuid = uuid
        legs = {self.a_uuid, self.b_uuid}
        if (uuid in legs or event.get("Bridge-A-Unique-ID") in legs
                or event.get("Bridge-B-Unique-ID") in legs):
            self._events.put(event)

    def originated(self, result):
        """The originate's reply: +OK <uuid> once the engine answered, or -ERR CAUSE."""
        self.originate_result = result.strip()
        if self.originate_result.startswith("-ERR"):
            self._events.put(self.originate_result)

    def _seconds(self, simulated):
        return simulated / self.speed

    def run(self):
        """Play the caller until a leg hangs up, the originate fails, or our own hangup."""
        deadline = None
        if self.patience_seconds is not None:
            deadline = time.monotonic() + self._seconds(float(self.patience_seconds))
        try:
            while self.outcome is None:
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    item = self._events.get(timeout=timeout)
                except Empty:
                    self.outcome = "patience over" if self.bridged_at is None else "talk over"
                    self._hang_up()
                    break
                if isinstance(item, str):
                    self.outcome = f"originate failed: {item}"
                    break
                deadline = self._handle(item, deadline)
        finally:
            self._finished.set()
        logger.info("test caller %s: %s", self.a_uuid, self.outcome)

    def _handle(self, event, deadline):
        name = event.name
        if name == "CHANNEL_HANGUP" and event.uuid in (self.a_uuid, self.b_uuid):
            leg = "A-leg" if event.uuid == self.a_uuid else "B-leg"
            self.outcome = f"{leg} hung up: {event.get('Hangup-Cause')}"
        elif (name == "CHANNEL_EXECUTE" and event.uuid == self.b_uuid
              and event.get("Application") in PROMPT_APPS):
            self.prompts += 1
            if self.prompts <= len(self.script):
                delay, digits = self.script[self.prompts - 1]
                gevent.spawn(self._press, delay, digits).link_exception(_log_failure)
        elif name == "CHANNEL_BRIDGE" and self.bridged_at is None:
            self.bridged_at = time.monotonic()
            if self.talk_seconds is None:
                return None
            return self.bridged_at + self._seconds(float(self.talk_seconds))
        return deadline

    def _press(self, delay, digits):
        gevent.sleep(self._seconds(delay))
        for digit in digits:
            if self.finished:
                return
            if digit in "wW":
                gevent.sleep(self._seconds(PAUSE))
                continue
            try:
                self.client.api(f"uuid_send_dtmf {self.a_uuid} {digit}")
            except ESLError as exc:
                logger.info("test caller %s: DTMF %s not sent: %s", self.a_uuid, digit, exc)
                return
            self.sent.append(digit)
            gevent.sleep(self._seconds(DIGIT_GAP))

    def _hang_up(self):
        # a caller's BYE ends the channel the engine handles: kill the loopback B-leg itself.
        # Killing the A-leg instead reaches the B-leg through mod_loopback, and the switch then
        # sometimes ends the B-leg's bridge partner (the agent) first (last_bridge_hangup_cause
        # on the B-leg, none on the agent's): who hung up would depend on the simulation
        target = self.b_uuid or self.a_uuid
        try:
            self.client.api(uuid_kill(target, "NORMAL_CLEARING"))
        except ESLError as exc:
            logger.info("test caller %s: hangup: %s", self.a_uuid, exc)


def _log_failure(greenlet):
    logger.error("test caller greenlet failed: %r", greenlet.exception)
