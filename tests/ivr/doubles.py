"""Hand-written doubles for the IVR tests: a call session that follows a script, and an ACD."""

import gevent.event

from fs_cc.acd import QueueResult
from fs_cc.esl.errors import CallerHungUp
from fs_cc.events import HangupSide, QueueOutcome
from fs_cc.esl.protocol import Event
from fs_cc.ivr.runner import DIGITS_VARIABLE
from fs_cc.ivr.nodes_collect import COLLECT_VARIABLE


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
        self.hangup_event = None
        self.hung_up_by_us = None
        self.handlers = {}  # event name -> handlers given to on()

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
                headers["variable_" + COLLECT_VARIABLE] = key  # a collect node's keys
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

    def on(self, event_name, handler):
        self.handlers.setdefault(event_name, []).append(handler)

    def apps(self):
        """Names of the applications executed, in order."""
        return [app for app, _ in self.executed]


class RecordingAcd:
    """Takes enqueued callers and notes them; its tickets resolve as told (by default answered
    by agent 1000, who hangs up), like the ACD's would."""

    def __init__(self, hangup_side=HangupSide.AGENT, hangup_cause="NORMAL_CLEARING",
                 outcome=QueueOutcome.ANSWERED):
        self.enqueued = []
        self.options = []
        self.gone = []
        self.figures = {}  # queue -> {"estimated_wait": s, "agents_available": n}
        self.result = QueueResult(outcome, "1000" if outcome is QueueOutcome.ANSWERED else None,
                                  hangup_side, hangup_cause)

    def enqueue(self, call_uuid, queue_name, **options):
        self.enqueued.append((call_uuid, queue_name))
        self.options.append(options)
        ticket = gevent.event.AsyncResult()
        ticket.set(self.result)
        return ticket

    def caller_gone(self, call_uuid, cause=None, event=None):
        self.gone.append((call_uuid, cause))

    def caller_unbridged(self, call_uuid, event):
        pass

    def queue_figures(self, queue):
        """The figures a test gave for ``queue`` (condition nodes read them)."""
        return self.figures.get(queue, {})


class AnsweringAcd(RecordingAcd):
    """The agent answers and the call ends at once: the runner need not wait for its hangup."""

    def __init__(self, session, **options):
        super().__init__(**options)
        self.session = session

    def enqueue(self, call_uuid, queue_name, **options):
        ticket = super().enqueue(call_uuid, queue_name, **options)
        if self.result.outcome is QueueOutcome.ANSWERED:
            self.session.caller_hangs_up()
        return ticket
