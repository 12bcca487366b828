"""One relay per web process: the engine's live events, read once, fanned out to every stream.

The source is the bus the engine publishes to when that is Redis (the relay reads the stream
like any live screen, and resumes from the last id it saw after a break), else the engine's
own ``/events`` through the ControlClient, reopened with backoff when it breaks off. Each open
browser stream is a :class:`Listener` with a bounded mailbox; the relay never waits for one.

Threads come from ``threading``: under ``fs-cc web`` (monkey-patched) they are greenlets.
"""

import enum
import logging
import queue
import threading

from fs_cc.bus import BusUnavailable
from fs_cc.control import ControlRefused, ControlUnavailable

logger = logging.getLogger(__name__)

BACKOFF = (0.5, 30.0)  # seconds: first retry, longest wait between retries
BACKLOG = 1000  # events a browser stream may fall behind by before it is cut (it reconnects)


class Notice(enum.Enum):
    """What a stream is told about its source, besides events (the SSE event name)."""

    UNAVAILABLE = "unavailable"  # the engine's stream broke off: what the page shows may be old
    RESYNC = "resync"  # the stream is back after a gap: reload what it shows


class Listener:
    """One stream's mailbox: the relay puts events and notices, the stream takes them."""

    def __init__(self, backlog=BACKLOG):
        self._queue = queue.Queue(maxsize=backlog)
        self.overflowed = False

    def put(self, item):
        """Queue an event or a Notice; a full mailbox marks the listener overflowed."""
        try:
            self._queue.put_nowait(item)
        except queue.Full:  # a browser that stopped reading must not grow our memory
            self.overflowed = True

    def get(self, timeout):
        """The next item, or None after ``timeout`` seconds of quiet."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None


class ControlSource:
    """The engine's ``/events`` through a ControlClient, reopened with backoff when it drops."""

    def __init__(self, client, backoff=BACKOFF):
        self.client = client
        self.backoff = backoff

    def run(self, deliver, stopped):
        """Deliver events (and Notices) until ``stopped`` (a threading.Event) is set."""
        delay = self.backoff[0]
        gap = False

        def opened():
            nonlocal delay, gap
            delay = self.backoff[0]
            if gap:  # what happened while we were away is lost: the screens reload
                deliver(Notice.RESYNC)
                gap = False

        while not stopped.is_set():
            try:
                for event in self.client.events(on_open=opened, stop=stopped):
                    deliver(event)
            except (ControlUnavailable, ControlRefused) as exc:
                logger.warning("engine event stream at %s: %s; retry in %.1f s",
                               self.client.base_url, exc, delay)
            if not gap:
                deliver(Notice.UNAVAILABLE)
                gap = True
            stopped.wait(delay)
            delay = min(delay * 2, self.backoff[1])


class BusSource:
    """A bus's live subscription; ``make_bus()`` builds the bus (a RedisBus) when first needed.

    A RedisBus subscription rides out Redis restarts by itself, from the last id it saw, so
    only opening it is retried here.
    """

    def __init__(self, make_bus, backoff=BACKOFF):
        self.make_bus = make_bus
        self.backoff = backoff

    def run(self, deliver, stopped):
        """Deliver events until ``stopped`` (a threading.Event) is set."""
        delay = self.backoff[0]
        bus = None
        while not stopped.is_set():
            try:
                bus = bus or self.make_bus()
                subscription = bus.subscribe(deliver)
                break
            except BusUnavailable as exc:
                logger.warning("event bus unavailable (%s); retry in %.1f s", exc, delay)
                stopped.wait(delay)
                delay = min(delay * 2, self.backoff[1])
        else:
            return
        stopped.wait()
        subscription.close()


class EventRelay:
    """Reads ``source`` once for the whole process, from the first stream opened, for them all."""

    def __init__(self, source, backlog=BACKLOG, restart_delay=1.0):
        self.source = source
        self.backlog = backlog
        self.restart_delay = restart_delay
        self._listeners = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = None

    def listen(self):
        """A new Listener of every event from now on (starts the relay the first time)."""
        listener = Listener(self.backlog)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="web-event-relay",
                                                daemon=True)
                self._thread.start()
            self._listeners.add(listener)
        return listener

    def forget(self, listener):
        """Stop feeding ``listener`` (its stream ended)."""
        with self._lock:
            self._listeners.discard(listener)

    @property
    def listeners(self):
        """How many streams are fed now."""
        return len(self._listeners)

    def close(self, timeout=5.0):
        """Stop reading the source."""
        self._stopped.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _deliver(self, item):
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener.put(item)

    def _run(self):
        while not self._stopped.is_set():
            try:
                self.source.run(self._deliver, self._stopped)
            except Exception:  # the relay outlives a bug in one read: log, breathe, go on
                logger.exception("web event relay failed; restarting in %.1f s",
                                 self.restart_delay)
                self._stopped.wait(self.restart_delay)
