"""The engine's own view of its calls in progress, kept from the events it emits.

Besides what the calls page lists (caller, did, state, queue, agent), each call keeps what the
agent desktop's screen pop shows the moment the agent's phone rings: who calls, the IVR path and
keys, which queue, since when and how long the caller waited (:meth:`LiveCalls.context`).

A callback's call has no ``CallStarted`` while the agent's phone rings (fs_cc.acd.callback_offer
starts it once the agent answers): its view is made from ``CallbackDispatched``, the customer's
number asked of ``callback_customer`` (the event names only the request).
"""

import collections
import dataclasses
import datetime
import enum
import typing

from fs_cc import events
from fs_cc.acd.callback_offer import CALLBACK_DID

KEEP_ENDED = 1000  # ended calls whose last view is kept (the end-of-call log line, wrap-up pops)
KEEP_IVR = 200  # IVR nodes and inputs kept per call (the latest): a looping caller stays small


class CallOrigin(enum.Enum):
    """How a call came to this engine."""

    INBOUND = "inbound"  # a caller reached the engine (the dialplan's socket)
    CALLBACK = "callback"  # the engine called a customer back
    ADOPTED = "adopted"  # an earlier run of the engine started it


class CallbackCustomer(typing.NamedTuple):
    """Who a callback request calls back, and since when they wait (their place in line)."""

    number: str
    since: typing.Optional[datetime.datetime] = None


@dataclasses.dataclass(eq=False)
class _Call:
    """One call as the events told it (only LiveCalls changes it)."""

    uuid: str
    started_at: datetime.datetime
    state: str
    origin: CallOrigin
    caller: str = ""
    caller_name: str = ""
    did: str = ""
    queue: typing.Optional[str] = None
    agent: typing.Optional[str] = None
    offered_to: typing.Optional[str] = None
    queued_at: typing.Optional[datetime.datetime] = None
    waited: typing.Optional[float] = None
    flow: typing.Optional[str] = None
    path: collections.deque = dataclasses.field(
        default_factory=lambda: collections.deque(maxlen=KEEP_IVR))
    inputs: collections.deque = dataclasses.field(
        default_factory=lambda: collections.deque(maxlen=KEEP_IVR))
    attempt: bool = False  # a callback attempt whose agent's phone rings: it ends if missed

    def view(self):
        """The calls page's small dict: uuid, caller, did, started_at, state, queue, agent."""
        return {"uuid": self.uuid, "caller": self.caller, "did": self.did,
                "started_at": self.started_at.isoformat(), "state": self.state,
                "queue": self.queue, "agent": self.agent}

    def context(self):
        """What the engine knows of the call, JSON-safe (lists and dicts are copies)."""
        return {**self.view(), "caller_name": self.caller_name, "offered_to": self.offered_to,
                "queued_at": None if self.queued_at is None else self.queued_at.isoformat(),
                "waited": self.waited, "origin": self.origin.value,
                "ivr": {"flow": self.flow, "path": list(self.path),
                        "inputs": [dict(item) for item in self.inputs]}}

    def waited_until(self, moment):
        """Seconds from the first queue to ``moment`` (None when it never queued)."""
        if self.queued_at is None:
            return self.waited
        return round(max(0.0, (moment - self.queued_at).total_seconds()), 3)


class LiveCalls:
    """Calls this engine handles now (an Emitter listener), and the last view of those that ended.

    ``callback_customer(callback_id)`` -> a CallbackCustomer or None: the customer a callback
    attempt calls, for the view of its call (None: the caller stays "" until its CallStarted).
    """

    def __init__(self, callback_customer=None):
        self._calls = {}
        self._ended = collections.OrderedDict()
        self._callback_customer = callback_customer

    def __call__(self, event):
        """Apply one event (an Emitter listener)."""
        if isinstance(event, events.CallbackDispatched):
            self._dispatched(event)
            return
        if not isinstance(event, events.CallEvent):
            return
        uuid = event.call_uuid
        call = self._calls.get(uuid)
        if isinstance(event, events.CallStarted):
            if call is None:  # a callback's call is known from its dispatch already
                call = self._calls[uuid] = _Call(
                    uuid, event.ts, "ringing",
                    CallOrigin.CALLBACK if event.did == CALLBACK_DID else CallOrigin.INBOUND)
            call.caller, call.caller_name, call.did = (event.caller_number, event.caller_name,
                                                       event.did)
            call.attempt = False
        elif call is None and isinstance(event, events.CallAdopted):
            # a call an earlier run started: what it was is in the spool, not here
            call = self._calls[uuid] = _Call(uuid, event.ts, "adopted", CallOrigin.ADOPTED,
                                             queue=event.queue)
            return
        if call is None:
            return
        if isinstance(event, events.CallEnded):
            self._end(uuid)
            return
        if event.CALL_STATE is not None:
            call.state = event.CALL_STATE.value
        self._fold(call, event)
        if call.attempt and isinstance(event, events.OfferFailed):
            # a callback attempt the agent missed has no CallEnded: its next attempt is a new call
            self._end(uuid)

    def _dispatched(self, event):
        # the agent's phone is about to ring for a callback: the desktop's pop needs the call now
        if event.call_uuid in self._calls:
            return
        customer = (self._callback_customer(event.callback_id)
                    if self._callback_customer is not None else None)
        self._calls[event.call_uuid] = _Call(
            event.call_uuid, event.ts, "ringing", CallOrigin.CALLBACK, did=CALLBACK_DID,
            caller=customer.number if customer is not None else "",
            queued_at=customer.since if customer is not None else None, attempt=True)

    @staticmethod
    def _fold(call, event):
        if isinstance(event, (events.IvrNodeEntered, events.FlowStarted)):
            call.flow = event.flow
            if isinstance(event, events.IvrNodeEntered):
                call.path.append(event.node)
        elif isinstance(event, events.IvrInput):  # a secret collect's keys come masked
            call.inputs.append({"node": event.node, "input": event.input,
                                "result": event.result})
        elif isinstance(event, events.CallQueued):
            call.queue = event.queue
            if call.queued_at is None:
                call.queued_at = event.ts
        elif isinstance(event, events.QueueLeft):
            call.queue = call.queue or event.queue
            if call.queued_at is None and event.outcome is events.QueueOutcome.ANSWERED:
                call.waited = event.waited  # the ACD's count when no queueing was seen here
        elif isinstance(event, events.OfferedToAgent):
            call.offered_to = event.agent
            call.queue = event.queue or call.queue
            call.waited = call.waited_until(event.ts)
        elif isinstance(event, events.OfferFailed):
            call.offered_to = None
        elif isinstance(event, events.AnsweredByAgent):
            call.agent = event.agent
            call.waited = call.waited_until(event.ts)

    def _end(self, uuid):
        call = self._calls.pop(uuid)
        call.state = events.CallState.ENDED.value
        self._ended[uuid] = call
        while len(self._ended) > KEEP_ENDED:
            self._ended.popitem(last=False)

    def __contains__(self, uuid):
        return uuid in self._calls

    def get(self, uuid):
        """One call's view (a copy), or None."""
        call = self._calls.get(uuid)
        return call.view() if call is not None else None

    def ended(self, uuid):
        """The last view of a call that ended lately ({} if not kept)."""
        call = self._ended.get(uuid)
        return call.view() if call is not None else {}

    def all(self):
        """Every call's view (copies), oldest first."""
        return [call.view() for call in self._calls.values()]

    def context(self, uuid):
        """What the engine knows of a call in progress or lately ended (state "ended"), or None.

        A dict of uuid, caller, caller_name, did, state, queue, agent, offered_to, started_at,
        queued_at, waited, ivr ({"flow", "path", "inputs"}) and origin.
        """
        call = self._calls.get(uuid) or self._ended.get(uuid)
        return call.context() if call is not None else None
