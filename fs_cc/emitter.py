"""Where the engine's facts leave it: stamped, spooled durably, then published on the bus."""

import logging

from fs_cc import events
from fs_cc.bus import BusError

logger = logging.getLogger(__name__)


class Emitter:
    """Builds each event (engine id, next seq, time), appends it to the outbox, publishes it.

    The outbox comes first: an event the bus lost is still stored by the worker, and one the
    spool refused never reached a screen that would then disagree with the reports.
    """

    def __init__(self, sequencer, outbox=None, bus=None, listeners=()):
        self.sequencer = sequencer
        self.outbox = outbox
        self.bus = bus
        # called at once with each event, in this greenlet: the engine's own views of its calls
        self.listeners = list(listeners)

    @property
    def engine(self):
        """The id of the engine whose events these are."""
        return self.sequencer.engine

    def emit(self, event_class, **fields):
        """Build, spool and publish one event; returns it."""
        event = self.sequencer.make(event_class, **fields)
        self.put(event)
        return event

    def put(self, event):
        """Spool and publish an event built elsewhere (e.g. dated to when a dead engine was last seen)."""
        if self.outbox is not None:
            self.outbox.append(event)
        for listener in self.listeners:
            listener(event)
        if self.bus is not None:
            try:
                self.bus.publish(event)
            except BusError as exc:  # live screens miss it; the worker still gets it from the spool
                logger.warning("event %s seq %s not published on the bus: %s", event.TYPE,
                               event.seq, exc)
        return event


class RecordingEmitter(Emitter):
    """An Emitter that also keeps every event in memory (tests, and the benchmark's count)."""

    def __init__(self, sequencer=None, outbox=None, bus=None, listeners=()):
        super().__init__(sequencer or events.EventSequencer("test-engine"), outbox, bus,
                         listeners)
        self.events = []

    def put(self, event):
        self.events.append(event)
        return super().put(event)

    def of_type(self, event_class):
        """The kept events of one class, in order."""
        return [event for event in self.events if isinstance(event, event_class)]

    def of_call(self, call_uuid):
        """The kept events of one call, in order."""
        return [event for event in self.events
                if isinstance(event, events.CallEvent) and event.call_uuid == call_uuid]
