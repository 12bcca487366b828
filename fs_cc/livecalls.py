"""The engine's own view of its calls in progress, kept from the events it emits."""

import collections

from fs_cc import events

KEEP_ENDED = 1000  # ended calls whose last view is kept (for the engine's end-of-call log line)


class LiveCalls:
    """Calls this engine handles now: uuid -> a small dict (caller, did, state, queue, agent)."""

    def __init__(self):
        self._calls = {}
        self._ended = collections.OrderedDict()

    def __call__(self, event):
        """Apply one event (an Emitter listener)."""
        if not isinstance(event, events.CallEvent):
            return
        uuid = event.call_uuid
        if isinstance(event, events.CallStarted):
            self._calls[uuid] = {"uuid": uuid, "caller": event.caller_number, "did": event.did,
                                 "started_at": event.ts.isoformat(), "state": "ringing",
                                 "queue": None, "agent": None}
            return
        call = self._calls.get(uuid)
        if call is None and isinstance(event, events.CallAdopted):
            # a call an earlier run started: what it was is in the spool, not here
            call = self._calls[uuid] = {"uuid": uuid, "caller": "", "did": "",
                                        "started_at": event.ts.isoformat(), "state": "adopted",
                                        "queue": event.queue, "agent": None}
        if call is None:
            return
        if isinstance(event, events.CallEnded):
            self._ended[uuid] = self._calls.pop(uuid)
            if len(self._ended) > KEEP_ENDED:
                self._ended.popitem(last=False)
            return
        if event.CALL_STATE is not None:
            call["state"] = event.CALL_STATE.value
        if isinstance(event, events.CallQueued):
            call["queue"] = event.queue
        elif isinstance(event, events.AnsweredByAgent):
            call["agent"] = event.agent

    def __contains__(self, uuid):
        return uuid in self._calls

    def get(self, uuid):
        """One call's view (a copy), or None."""
        call = self._calls.get(uuid)
        return dict(call) if call is not None else None

    def ended(self, uuid):
        """The last view of a call that ended lately ({} if not kept)."""
        return dict(self._ended.get(uuid, {}))

    def all(self):
        """Every call's view (copies), oldest first."""
        return [dict(call) for call in self._calls.values()]
