"""Delivers fired events to the ESL connections whose subscriptions and filters accept them.

A connection bound to one session (an outbound socket's ``myevents``) hears only that session's
events, so the bus keeps those sinks by session UUID: an event is checked against the sinks of
its own call and the unbound ones, not against every call's socket (hundreds at once).
"""

import itertools
import logging

logger = logging.getLogger(__name__)

# `myevents` in outbound mode (mod_event_socket.c): the session's own call events.
MYEVENTS_OUTBOUND = frozenset({
    "CHANNEL_ANSWER", "CHANNEL_APPLICATION", "CHANNEL_BRIDGE", "CHANNEL_CREATE", "CHANNEL_DATA",
    "CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE",
    "CHANNEL_ORIGINATE", "CHANNEL_UUID", "CHANNEL_OUTGOING", "CHANNEL_PARK", "CHANNEL_PROGRESS",
    "CHANNEL_PROGRESS_MEDIA", "CHANNEL_STATE", "CHANNEL_UNBRIDGE", "CHANNEL_UNPARK",
    "DETECTED_SPEECH", "DTMF", "NOTALK", "TALK",
})


# Every event the emulator fires, for `nixevent X` after `event ALL`.
ALL_EVENT_NAMES = frozenset(MYEVENTS_OUTBOUND | {
    "CHANNEL_CALLSTATE", "CHANNEL_DESTROY", "CHANNEL_HOLD", "CHANNEL_UNHOLD", "CALL_UPDATE", "CODEC",
    "API", "BACKGROUND_JOB", "HEARTBEAT", "RE_SCHEDULE", "CUSTOM", "RECORD_START", "RECORD_STOP",
    "PLAYBACK_START", "PLAYBACK_STOP", "MEDIA_BUG_START", "MEDIA_BUG_STOP"})


class Subscription:
    """What one connection listens to: event names, header filters, a session restriction."""

    def __init__(self):
        self.all_events = False
        self.names = set()
        self.subclasses = set()  # CUSTOM subclasses; empty means every CUSTOM event
        self.filters = []  # (header, value)
        self._session_uuid = None
        self._moved = []  # the buses' callbacks, called when session_uuid changes
        self.drop_destroy_state = False

    @property
    def session_uuid(self):
        """The one session whose events pass (myevents of a bound socket), or None: any."""
        return self._session_uuid

    @session_uuid.setter
    def session_uuid(self, value):
        old, self._session_uuid = self._session_uuid, value
        if old != value:
            for moved in list(self._moved):
                moved(old)

    def enable(self, names):
        """Add event names ('ALL' turns on every event); names after CUSTOM are subclasses.

        Returns how many keywords were event names (mod_event_socket's key_count).
        """
        keys, custom = 0, False
        for name in names:
            if custom:
                self.subclasses.add(name)
            elif name.upper() == "ALL":
                self.all_events = True
                keys += 1
            elif name and "::" not in name:
                self.names.add(name.upper())
                keys += 1
                custom = name.upper() == "CUSTOM"
        return keys

    def disable(self, names):
        """Remove event names (nixevent); returns the keyword count."""
        keys, custom = 0, False
        for name in names:
            if custom:
                self.subclasses.discard(name)
            elif name.upper() == "ALL":
                self.all_events = False
                self.names.clear()
                keys += 1
            elif name and "::" not in name:
                keys += 1
                if name.upper() == "CUSTOM":
                    custom = True
                else:
                    if self.all_events:  # nixing one event out of ALL keeps all the others
                        self.all_events = False
                        self.names.update(ALL_EVENT_NAMES)
                    self.names.discard(name.upper())
        return keys

    def clear(self):
        """Stop listening (noevents)."""
        self.all_events = False
        self.names.clear()
        self.subclasses.clear()

    @property
    def active(self):
        """True if any event may pass."""
        return self.all_events or bool(self.names)

    def accepts(self, event):
        """Whether this subscription lets the event through."""
        if not (self.all_events or event.name in self.names):
            return False
        # mod_event_socket event_handler: CUSTOM passes when no subclass was named or it is one.
        if event.name == "CUSTOM" and not self.all_events and self.subclasses \
                and event.get("Event-Subclass") not in self.subclasses:
            return False
        if self.session_uuid is not None:
            if event.uuid != self.session_uuid:
                return False
            # The per-call socket is detached before the channel is destroyed.
            if self.drop_destroy_state and event.name == "CHANNEL_STATE" and event.get("Channel-State") == "CS_DESTROY":
                return False
        if self.filters:
            return any(event.get(h) == v for h, v in self.filters)
        return True


class EventBus:
    """Fan-out of events to registered sinks; a sink is `(subscription, deliver(event))`.

    Sinks are handed an event in the order they were added, as one list would.
    """

    def __init__(self):
        self._order = itertools.count()
        self._anywhere = {}  # handle -> None: the sinks without a session
        self._by_session = {}  # session uuid -> {handle: None}
        self._moved = {}  # handle -> its callback on the subscription
        self.fired = 0

    def add(self, subscription, deliver):
        """Register a sink; returns a handle for remove()."""
        handle = (next(self._order), subscription, deliver)

        def moved(old):
            self._place(handle, old, subscription.session_uuid)

        self._moved[handle] = moved
        subscription._moved.append(moved)
        self._place(handle, None, subscription.session_uuid, new=True)
        return handle

    def remove(self, handle):
        """Unregister a sink."""
        moved = self._moved.pop(handle, None)
        if moved is None:
            return
        subscription = handle[1]
        subscription._moved.remove(moved)
        self._unplace(handle, subscription.session_uuid)

    def _place(self, handle, old, uuid, new=False):
        if not new:
            self._unplace(handle, old)
        if uuid is None:
            self._anywhere[handle] = None
        else:
            self._by_session.setdefault(uuid, {})[handle] = None

    def _unplace(self, handle, uuid):
        if uuid is None:
            self._anywhere.pop(handle, None)
            return
        sinks = self._by_session.get(uuid)
        if sinks is not None:
            sinks.pop(handle, None)
            if not sinks:
                del self._by_session[uuid]

    def fire(self, event):
        """Hand the event to every sink that accepts it."""
        self.fired += 1
        own = self._by_session.get(event.uuid)
        handles = list(self._anywhere)
        if own:
            handles = sorted(handles + list(own)) if handles else list(own)
        for _, subscription, deliver in handles:
            if subscription.accepts(event):
                deliver(event)
