"""Hand-written doubles for the ACD tests: a caller's session and a FreeSWITCH behind ESL."""

import re
import time

import gevent
import gevent.event

from fs_cc.esl.dispatch import ChannelWatch
from fs_cc.esl.errors import CallerHungUp, CommandError, NotConnectedError
from fs_cc.esl.protocol import Event

ORIGINATE_RE = re.compile(r"^originate \{(?P<vars>[^}]*)\}user/(?P<ext>\S+) (?P<app>\S+)$")


def _event(name, uuid, timestamp=None, **headers):
    stamp = timestamp if timestamp is not None else int(time.time() * 1_000_000)
    base = {"Event-Name": name, "Unique-ID": uuid, "Event-Date-Timestamp": str(stamp)}
    base.update({k.replace("_", "-"): v for k, v in headers.items()})
    return Event(base)


class CallerSession:
    """The CallSession methods the ACD uses, for a caller waiting in a queue."""

    def __init__(self, uuid="caller-1", caller_number="5551000"):
        self.uuid = uuid
        self.call_uuid = uuid
        self.caller_number = caller_number
        self.caller_name = "Caller"
        self.destination_number = "8000"
        self.executed = []
        self.hungup = gevent.event.Event()
        self.hangup_cause = None
        self.hangup_event = None
        self.hung_up_by_us = None
        self.handlers = {}  # event name -> handlers given to on()
        self.variables = {}  # set with set_var

    @property
    def is_up(self):
        return not self.hungup.is_set()

    def caller_hangs_up(self, cause="NORMAL_CLEARING", timestamp=None):
        if not self.hungup.is_set():
            self.hangup_cause = cause
            self.hangup_event = _event("CHANNEL_HANGUP", self.uuid, timestamp,
                                       Hangup_Cause=cause)
            self.hungup.set()

    def execute(self, app, arg=None, *, wait=True, timeout=None):
        if self.hungup.is_set():
            raise CallerHungUp(self.uuid, self.hangup_cause)
        self.executed.append((app, arg))
        return _event("CHANNEL_EXECUTE_COMPLETE", self.uuid, Application=app)

    def execute_async(self, app, arg=None):
        if self.hungup.is_set():
            raise CallerHungUp(self.uuid, self.hangup_cause)
        self.executed.append((app, arg))
        return "app-uuid"

    def on(self, event_name, handler):
        self.handlers.setdefault(event_name, []).append(handler)

    def set_var(self, name, value):
        self.execute("set", f"{name}={value}")
        self.variables[name] = str(value)

    def agent_leg_leaves(self, timestamp=None):
        """The caller's channel sees its bridge end (CHANNEL_UNBRIDGE), as when the agent left."""
        event = _event("CHANNEL_UNBRIDGE", self.uuid, timestamp)
        for handler in self.handlers.get(event.name, []):
            handler(event)

    def hangup(self, cause="NORMAL_CLEARING"):
        if not self.hungup.is_set():
            self.hung_up_by_us = cause
            self.caller_hangs_up(cause)


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
        self._watches = {}

    def _emit(self, event):
        for watch in list(self._watches.get(event.uuid, [])):
            watch._put(event)

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
