"""Event fan-out: one worker greenlet and queue per handler, and per-channel watches."""

import logging
import time

import gevent
from gevent.queue import Empty, Queue

from fs_cc.esl.errors import ConnectionLost, ESLTimeout

logger = logging.getLogger(__name__)

ANY = "*"
BACKLOG_WARNING = 10000


class _Worker:
    """Feeds one handler from its own queue, so a slow handler delays only itself."""

    def __init__(self, handler, label):
        self.handler = handler
        self.names = set()
        self.label = label
        self.queue = Queue()
        self._warned = False
        self.greenlet = gevent.spawn(self._run)
        self.greenlet.link_exception(self._died)

    def _died(self, greenlet):
        logger.error("event worker %s died: %r", self.label, greenlet.exception)

    def put(self, event):
        self.queue.put(event)
        if not self._warned and self.queue.qsize() > BACKLOG_WARNING:
            self._warn()

    def _warn(self):
        self._warned = True
        logger.warning("event handler %s is %d events behind", self.label, self.queue.qsize())

    def _run(self):
        get = self.queue.get
        handler = self.handler
        while True:
            event = get()
            if event is None:
                return
            try:
                handler(event)
            except Exception:
                logger.exception("event handler %s failed on %s (uuid %s)", self.label, event.name, event.uuid)

    def stop(self):
        self.queue.put(None)


class Dispatcher:
    """Routes each Event to the handlers registered for its name (or ``"*"``)."""

    def __init__(self, label="esl"):
        self._label = label
        self._workers = {}  # handler -> _Worker
        self._routes = {}  # event name -> its workers, then the "*" ones it lacks
        self._any = ()  # the workers of "*": what an event of any other name goes to

    def on(self, event_name, handler):
        """Call handler(event) for every event named event_name ("*" for all), in order."""
        worker = self._workers.get(handler)
        if worker is None:
            label = f"{self._label}:{getattr(handler, '__qualname__', repr(handler))}"
            worker = self._workers[handler] = _Worker(handler, label)
        worker.names.add(event_name)
        self._rebuild()

    def off(self, event_name, handler):
        """Stop sending event_name to handler; its worker ends when it has no names left."""
        worker = self._workers.get(handler)
        if worker is None or event_name not in worker.names:
            return
        worker.names.discard(event_name)
        if not worker.names:
            del self._workers[handler]
            worker.stop()
        self._rebuild()

    def _rebuild(self):
        routes = {}
        for worker in self._workers.values():
            for name in worker.names:
                routes.setdefault(name, []).append(worker)
        every = tuple(routes.get(ANY, ()))
        # worked out here, once per on/off, so that dispatch is one look-up per event
        self._routes = {name: tuple(workers) + tuple(w for w in every if w not in workers)
                        for name, workers in routes.items()}
        self._any = every

    def dispatch(self, event):
        """Queue the event to every interested handler; never blocks."""
        for worker in self._routes.get(event.name, self._any):
            queue = worker.queue  # _Worker.put, inline: this runs for every event and handler
            queue.put(event)
            if not worker._warned and queue.qsize() > BACKLOG_WARNING:
                worker._warn()

    def stop(self):
        """End every worker after it has drained what it was given."""
        for worker in self._workers.values():
            worker.stop()
        self._workers.clear()
        self._routes = {}
        self._any = ()


_LOST = object()


class ChannelWatch:
    """A queue of the events of one channel (one Unique-ID), in arrival order."""

    def __init__(self, uuid, on_close=None):
        self.uuid = uuid
        self._queue = Queue()
        self._on_close = on_close
        self.closed = False

    def _put(self, event):
        self._queue.put(event)

    def _lost(self):
        self._queue.put(_LOST)

    def get(self, timeout=None):
        """The next event of the channel; ESLTimeout if none comes in time.

        Raises ConnectionLost once if the ESL connection dropped meanwhile (events may be missing).
        """
        try:
            item = self._queue.get(timeout=timeout)
        except Empty:
            raise ESLTimeout(f"an event of channel {self.uuid}", timeout) from None
        if item is _LOST:
            raise ConnectionLost()
        return item

    def wait_for(self, names, timeout=None):
        """Skip events until one named in names (a name or several) arrives; return it."""
        wanted = {names} if isinstance(names, str) else set(names)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                event = self.get(timeout=remaining)
            except ESLTimeout:
                raise ESLTimeout(f"{'/'.join(sorted(wanted))} on channel {self.uuid}", timeout) from None
            if event.name in wanted:
                return event

    def close(self):
        """Stop collecting events for this channel."""
        if not self.closed:
            self.closed = True
            if self._on_close is not None:
                self._on_close(self)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
