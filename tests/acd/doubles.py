"""Hand-written doubles for the ACD tests: a caller held by UUID and a FreeSWITCH behind ESL."""

import re
import time

import gevent
import gevent.event

from fs_cc import events
from fs_cc.esl.dispatch import ChannelWatch
from fs_cc.esl.errors import CommandError, NotConnectedError
from fs_cc.esl.protocol import Event

ORIGINATE_RE = re.compile(r"^originate \{(?P<vars>[^}]*)\}user/(?P<ext>\S+) (?P<app>\S+)$")


def _event(name, uuid, timestamp=None, **headers):
    stamp = timestamp if timestamp is not None else int(time.time() * 1_000_000)
    base = {"Event-Name": name, "Unique-ID": uuid, "Event-Date-Timestamp": str(stamp)}
    base.update({k.replace("_", "-"): v for k, v in headers.items()})
    return Event(base)


class CallerLine:
    """A caller the ACD holds by UUID, with the two ways FreeSWITCH tells of its channel.

    Its own socket (what the IVR runner relays: ``caller_gone``, ``caller_unbridged``) hears
    it always; the inbound link (``FakeSwitch`` watches) only while connected. ``call`` gives the
    facts the ACD emitted about it, and ``result()`` its ticket's QueueResult.
    """

    def __init__(self, acd, switch, emitter, uuid="caller-1", queue="sales",
                 caller_number="5551000", **options):
        self.acd = acd
        self.switch = switch
        self.emitter = emitter
        self.uuid = uuid
        self.caller_number = caller_number
        self.hungup = False
        self.hung_up_by_us = None  # the cause of the ACD's uuid_kill of this channel
        switch.callers[uuid] = self
        self.ticket = acd.enqueue(uuid, queue, caller_number=caller_number, **options)

    def caller_hangs_up(self, cause="NORMAL_CLEARING", timestamp=None):
        """The caller puts the phone down (or FreeSWITCH ends the channel)."""
        if self.hungup:
            return
        self.hungup = True
        event = _event("CHANNEL_HANGUP", self.uuid, timestamp, Hangup_Cause=cause)
        self.switch.emit(event)
        self.acd.caller_gone(self.uuid, cause, event)

    def agent_leg_leaves(self, timestamp=None):
        """The caller's channel sees its bridge end (CHANNEL_UNBRIDGE), as when the agent left."""
        event = _event("CHANNEL_UNBRIDGE", self.uuid, timestamp)
        self.switch.emit(event)
        self.acd.caller_unbridged(self.uuid, event)

    def presses(self, digit):
        """The caller presses a key (a DTMF event on the inbound link)."""
        self.switch.emit(_event("DTMF", self.uuid, None, DTMF_Digit=digit))

    def result(self, timeout=5):
        """The ticket's QueueResult (waits for it)."""
        return self.ticket.get(timeout=timeout)

    def _facts(self, event_class):
        return [e for e in self.emitter.of_call(self.uuid) if isinstance(e, event_class)]

    @property
    def agent(self):
        """The agent who answered, or None."""
        answered = self._facts(events.AnsweredByAgent)
        return answered[0].agent if answered else None

    @property
    def answered_at(self):
        answered = self._facts(events.AnsweredByAgent)
        return answered[0].ts if answered else None

    @property
    def queued_at(self):
        queued = self._facts(events.CallQueued)
        return queued[0].ts if queued else None

    @property
    def queue(self):
        queued = self._facts(events.CallQueued)
        return queued[-1].queue if queued else None


class FakeSwitch:
    """The InboundClient methods the ACD uses, with agent phones that behave as told.

    ``phones`` maps an extension to what its phone does when rung: "answer", a failure cause
    such as "USER_BUSY" (originate answers -ERR), or a number of seconds it rings before answering.
    """

    def __init__(self, phones=None):
        self.phones = dict(phones or {})
        self.commands = []
        self.originates = []  # (extension, variables) in order
        self.up = set()
        self.ringing = {}  # leg uuid -> gevent Event set when the leg is killed
        self.bridges = []
        self.connected = True  # the inbound ESL link; see link_lost / link_back
        self.callers = {}  # uuid -> CallerLine
        self._watches = {}
        self.esl = self  # CallControl's view of the inbound client

    def emit(self, event):
        """Deliver an event to the channel's watches, if the inbound link is up."""
        if not self.connected:
            return
        for watch in list(self._watches.get(event.uuid, [])):
            watch._put(event)

    _emit = emit

    def watch(self, uuid):
        watch = ChannelWatch(uuid, on_close=lambda w: self._watches[uuid].remove(w))
        self._watches.setdefault(uuid, []).append(watch)
        return watch

    def on(self, event_name, handler):
        pass

    def bgapi(self, command, timeout=None):
        self.commands.append(command)
        match = ORIGINATE_RE.match(command)
        assert match, command
        variables = dict(pair.split("=", 1) for pair in match.group("vars").split(","))
        ext, leg = match.group("ext"), variables["origination_uuid"]
        self.originates.append((ext, variables))
        behaviour = self.phones.get(ext, "answer")
        if isinstance(behaviour, (int, float)):
            killed = self.ringing[leg] = gevent.event.Event()
            if killed.wait(behaviour):
                del self.ringing[leg]
                raise CommandError(command, "-ERR ORIGINATOR_CANCEL\n")
            del self.ringing[leg]
        elif behaviour != "answer":
            raise CommandError(command, f"-ERR {behaviour}\n")
        self.up.add(leg)
        self._emit(_event("CHANNEL_ANSWER", leg))
        return f"+OK {leg}\n"

    def link_lost(self):
        """The ESL link drops: every watch is told, commands fail until link_back()."""
        self.connected = False
        for watches in list(self._watches.values()):
            for watch in watches:
                watch._lost()

    def link_back(self):
        """The ESL link is up again."""
        self.connected = True

    def api(self, command, timeout=None):
        if not self.connected:
            raise NotConnectedError()
        self.commands.append(command)
        words = command.split()
        if words[0] == "uuid_exists":
            return "true" if words[1] in self.up else "false"
        if words[0] in ("uuid_setvar", "uuid_broadcast"):
            return "+OK\n"
        if words[0] == "uuid_kill" and words[1] in self.callers:
            caller = self.callers[words[1]]
            if caller.hungup:
                raise CommandError(command, "-ERR No such channel!\n")
            caller.hung_up_by_us = words[2] if len(words) > 2 else "NORMAL_CLEARING"
            caller.caller_hangs_up(caller.hung_up_by_us)
            return "+OK\n"
        if words[0] == "uuid_kill":
            leg = words[1]
            if leg in self.ringing:
                self.ringing[leg].set()
                return "+OK\n"
            if leg not in self.up:
                raise CommandError(command, "-ERR No such channel!\n")
            self.agent_hangs_up(leg, words[2] if len(words) > 2 else "NORMAL_CLEARING")
            return "+OK\n"
        if words[0] == "uuid_break":
            return "+OK\n"
        if words[0] == "uuid_bridge":
            if words[2] not in self.up:
                raise CommandError(command, "-ERR Invalid uuid\n")
            self.bridges.append((words[1], words[2]))
            return f"+OK {words[2]}\n"
        raise AssertionError(f"unexpected api command {command!r}")

    def agent_hangs_up(self, leg, cause="NORMAL_CLEARING", timestamp=None):
        """The agent's leg hangs up (the agent put the phone down, or it was killed)."""
        self.up.discard(leg)
        if not self.connected:
            return  # nobody hears it
        self._emit(_event("CHANNEL_HANGUP", leg, timestamp, Hangup_Cause=cause))

    def leg_of(self, ext):
        """The leg uuid of the latest originate to ``ext``."""
        return [v["origination_uuid"] for e, v in self.originates if e == ext][-1]
