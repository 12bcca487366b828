"""Hand-written doubles for the IVR tests: a call session that follows a script, and an ACD."""

import gevent.event

from fs_cc.esl.errors import CallerHungUp
from fs_cc.esl.protocol import Event
from fs_cc.ivr.runner import DIGITS_VARIABLE


class ScriptedSession:
    """Implements the CallSession methods the runner uses; keys and hang-up come from a script.

    ``keys``: what the caller does at each ``play_and_get_digits``: a key ("1") or "" (nothing).
    ``hang_up_at``: the number of the execute (1-based) during which the caller hangs up.
    """

    def __init__(self, uuid="call-1", caller_number="5551000", destination_number="8000",
                 keys=(), hang_up_at=None):
        self.uuid = uuid
        self.call_uuid = uuid
        self.caller_number = caller_number
        self.caller_name = "Caller"
        self.destination_number = destination_number
        self.keys = list(keys)
        self.hang_up_at = hang_up_at
        self.executed = []
        self.variables = {}
        self.hungup = gevent.event.Event()
        self.hangup_cause = None
        self.hung_up_by_us = None

    @property
    def is_up(self):
        return not self.hungup.is_set()

    def caller_hangs_up(self, cause="NORMAL_CLEARING"):
        self.hangup_cause = cause
        self.hungup.set()

    def execute(self, app, arg=None, *, wait=True, timeout=None):
        if self.hungup.is_set():
            raise CallerHungUp(self.uuid, self.hangup_cause)
        self.executed.append((app, arg))
        if self.hang_up_at is not None and len(self.executed) == self.hang_up_at:
            self.caller_hangs_up("NORMAL_CLEARING")
            raise CallerHungUp(self.uuid, "NORMAL_CLEARING")
        headers = {"Event-Name": "CHANNEL_EXECUTE_COMPLETE", "Unique-ID": self.uuid,
                   "Application": app, "Application-Data": arg or ""}
        if app == "play_and_get_digits":
            key = self.keys.pop(0) if self.keys else ""
            if key:
                headers["variable_" + DIGITS_VARIABLE] = key
        return Event(headers)

    def execute_async(self, app, arg=None):
        self.executed.append((app, arg))

    def hangup(self, cause="NORMAL_CLEARING"):
        self.hung_up_by_us = cause
        if not self.hungup.is_set():
            self.hangup_cause = cause
            self.hungup.set()

    def set_var(self, name, value):
        self.variables[name] = value

    def get_var(self, name, default=None):
        return self.variables.get(name, default)

    def apps(self):
        """Names of the applications executed, in order."""
        return [app for app, _ in self.executed]


class RecordingAcd:
    """Takes enqueued callers and notes them; optionally ends the call like an agent would."""

    def __init__(self, hangup_side=None, hangup_cause=None):
        self.enqueued = []
        self.hangup_side = hangup_side
        self.hangup_cause = hangup_cause

    def enqueue(self, session, queue_name, record):
        self.enqueued.append((session.uuid, queue_name))
        record.queue = queue_name
        record.hangup_side = self.hangup_side
        record.hangup_cause = self.hangup_cause
