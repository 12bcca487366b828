"""Publish/subscribe of domain events: in-process (the embedded default) and Redis Streams.

Both keep one ordered log of every event and offer the same two ways to read it:

- ``consume(group, consumer)`` for readers that must not miss anything (the worker): each group
  sees every event once; an event stays pending for its consumer until acknowledged, and comes
  back from ``consume`` until then, so a restarted consumer picks up where it stopped.
- ``subscribe(callback)`` for live screens: events published after subscribing, in order, each
  subscriber fed by its own thread (a greenlet under gevent), so a slow screen delays only itself.

Threads and locks come from ``threading``: gevent's monkey patching makes them greenlets in the
engine, and they stay real threads in a web or worker process that is not patched.
"""

import dataclasses
import logging
import queue
import threading
import time
import typing

import redis

from fs_cc import events
from fs_cc.errors import FsCcError

logger = logging.getLogger(__name__)

STREAM = "events"  # the stream's key after the prefix
DEAD = "events:dead"  # entries no event type could be read from, kept for an upgraded reader


@dataclasses.dataclass(frozen=True, slots=True)
class Delivery:
    """One event handed to a group's consumer; acknowledge it by ``id`` once it is handled."""

    id: str
    event: events.Event
    redelivered: bool = False  # handed to this consumer before and not acknowledged


class BusError(FsCcError):
    """Base of the errors of the bus."""


class BusUnavailable(BusError):
    """The bus's server did not answer (the transport error, translated once here)."""

    def __init__(self, operation, key, cause):
        self.operation = operation
        self.key = key
        self.cause = cause
        super().__init__(f"event bus {operation} on {key} failed: {cause}")


class Subscription(typing.Protocol):
    """A live subscriber; ``close()`` stops its deliveries."""

    def close(self):
        """Stop delivering to the callback (waits a moment for the delivery in progress)."""


class Bus(typing.Protocol):
    """What engine, worker and web may rely on, whichever bus they were given."""

    def publish(self, event):
        """Append ``event`` to the log and hand it to live subscribers; returns its id."""

    def subscribe(self, callback):
        """Call ``callback(event)`` for every event published from now on; returns a Subscription."""

    def consume(self, group, consumer, count=100, block=None):
        """Up to ``count`` Deliveries for ``consumer`` of ``group``: its pending ones, then new ones."""

    def ack(self, group, ids):
        """Acknowledge deliveries (ids or Delivery objects); returns how many were pending."""

    def reclaim(self, group, consumer, min_idle, count=100):
        """Take over entries of ``group`` pending for ``min_idle`` seconds with another consumer."""

    def close(self):
        """Stop every subscription of this bus."""


def _ids(items):
    return [item.id if isinstance(item, Delivery) else str(item) for item in items]


class _Feeder:
    """Feeds one callback from its own queue on its own thread, logging what the callback raises."""

    def __init__(self, callback, on_close=None):
        self._callback = callback
        self._on_close = on_close
        self._queue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=f"bus-subscriber-{id(self):x}",
                                        daemon=True)
        self._thread.start()

    def put(self, event):
        """Queue an event for the callback."""
        self._queue.put(event)

    def close(self, timeout=2.0):
        """Stop after the events already queued."""
        if self._on_close is not None:
            self._on_close(self)
        self._queue.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self):
        while True:
            event = self._queue.get()
            if event is None:
                return
            _deliver(self._callback, event)


def _deliver(callback, event):
    try:
        callback(event)
    except Exception:  # one failing screen must not stop the events for the next one
        logger.exception("bus subscriber %r failed on %s (engine %s seq %s)", callback,
                         event.TYPE, event.engine, event.seq)


@dataclasses.dataclass
class _Group:
    cursor: int  # index in the log of the next entry never delivered to this group
    pending: dict = dataclasses.field(default_factory=dict)  # index -> [consumer, delivered at]


class InProcessBus:
    """The bus of one process: an ordered log in memory, groups and live subscribers over it.

    Like a Redis stream, the log keeps what groups acknowledged (a group created later reads it)
    and drops its oldest entries beyond ``maxlen``, so memory stays bounded.
    """

    def __init__(self, maxlen=100_000, clock=time.monotonic):
        self._maxlen = maxlen
        self._clock = clock
        self._log = []  # entries from index self._base on; those before self._first dropped (None)
        self._base = 0
        self._first = 0  # the index of the oldest entry kept
        self._groups = {}
        self._feeders = []
        self._feeds = ()  # the feeders' queues' put, what publish calls (changed under the lock)
        # never taken twice by one thread, so a plain lock (an RLock is Python code under gevent);
        # publish takes it as it is, without the Condition's Python wrapper around it
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._waiting = 0  # consumers blocked in consume(): a publish wakes them when there are

    def publish(self, event):
        """Append ``event`` to the log and hand it to live subscribers; returns its id."""
        with self._lock:
            log = self._log
            index = self._base + len(log)
            log.append(event)
            if self._maxlen is not None and index + 1 - self._first > self._maxlen:
                self._trim()
            for put in self._feeds:
                put(event)  # under the lock, so every subscriber sees publish order
            if self._waiting:
                self._changed.notify_all()
        return f"0-{index}"

    def subscribe(self, callback):
        """Call ``callback(event)`` for every event published from now on; returns a Subscription."""
        with self._changed:
            feeder = _Feeder(callback, on_close=self._forget)
            self._feeders.append(feeder)
            self._feeds = tuple(feeder._queue.put for feeder in self._feeders)
        return feeder

    def _forget(self, feeder):
        with self._changed:
            if feeder in self._feeders:
                self._feeders.remove(feeder)
                self._feeds = tuple(feeder._queue.put for feeder in self._feeders)

    def consume(self, group, consumer, count=100, block=None):
        """Up to ``count`` Deliveries for ``consumer`` of ``group``: its pending ones, then new ones."""
        deadline = None if block is None else self._clock() + block
        with self._changed:
            state = self._group(group)
            out = [Delivery(f"0-{index}", self._log[index - self._base], True)
                   for index, (owner, _) in sorted(state.pending.items()) if owner == consumer]
            out = out[:count]
            while not out and deadline is not None and state.cursor == self._end():
                remaining = deadline - self._clock()
                if remaining <= 0:
                    break
                self._waiting += 1
                try:
                    self._changed.wait(remaining)
                finally:
                    self._waiting -= 1
            while len(out) < count and state.cursor < self._end():
                index = state.cursor
                state.cursor += 1
                state.pending[index] = [consumer, self._clock()]
                out.append(Delivery(f"0-{index}", self._log[index - self._base]))
            for delivery in out:
                state.pending[int(delivery.id[2:])][1] = self._clock()
        return out

    def ack(self, group, ids):
        """Acknowledge deliveries (ids or Delivery objects); returns how many were pending."""
        with self._changed:
            state = self._group(group)
            done = sum(1 for item in _ids(ids)
                       if state.pending.pop(int(item.partition("-")[2]), None) is not None)
        return done

    def reclaim(self, group, consumer, min_idle, count=100):
        """Take over entries of ``group`` pending for ``min_idle`` seconds with another consumer."""
        now = self._clock()
        with self._changed:
            state = self._group(group)
            out = []
            for index, entry in sorted(state.pending.items()):
                if len(out) < count and now - entry[1] >= min_idle:
                    state.pending[index] = [consumer, now]
                    out.append(Delivery(f"0-{index}", self._log[index - self._base], True))
        return out

    def close(self):
        """Stop every subscription of this bus."""
        for feeder in list(self._feeders):
            feeder.close()

    def _end(self):
        return self._base + len(self._log)

    def _group(self, name):
        # a new group reads the log from its oldest retained entry, like XGROUP CREATE ... 0
        return self._groups.setdefault(name, _Group(cursor=self._first))

    def _trim(self):
        # like a Redis stream: what a group acked stays for groups that come later, up to maxlen
        if self._maxlen is None or self._end() - self._first <= self._maxlen:
            return
        keep_from = self._end() - self._maxlen
        log, base = self._log, self._base
        for index in range(self._first - base, keep_from - base):
            log[index] = None  # let the event go now
        self._first = keep_from
        # and drop the slots now and then: deleting the first entry on every publish, once the log
        # is full, would move the whole list each time
        if keep_from - base > self._maxlen:
            del log[:keep_from - base]
            self._base = keep_from
        for state in self._groups.values():
            state.cursor = max(state.cursor, keep_from)
            for index in [i for i in state.pending if i < keep_from]:
                del state.pending[index]  # trimmed while pending, as XAUTOCLAIM reports it


class RedisBus:
    """The bus over one Redis stream (``<prefix>events``), shared by every engine on that Redis.

    Each entry holds ``type`` and ``data`` (the JSON encoding). ``maxlen`` trims the stream
    (approximately, the cheap way) on each publish: set it well above what a stopped worker
    may fall behind, or None to keep everything.
    """

    def __init__(self, client, prefix="fs_cc:", maxlen=None, poll_interval=1.0):
        self._redis = client
        self.key = f"{prefix}{STREAM}"
        self.dead_key = f"{prefix}{DEAD}"
        self._maxlen = maxlen
        self._poll_ms = max(1, int(poll_interval * 1000))
        self._groups = set()
        self._readers = []
        self._lock = threading.Lock()

    def publish(self, event):
        """Append ``event`` to the stream (XADD); returns its entry id."""
        fields = {"type": event.TYPE, "data": events.encode(event)}
        with self._translated("publish"):
            entry = self._redis.xadd(self.key, fields, maxlen=self._maxlen,
                                     approximate=self._maxlen is not None)
        return _text(entry)

    def subscribe(self, callback):
        """Call ``callback(event)`` for every event published from now on; returns a Subscription."""
        with self._translated("subscribe"):
            # the last id now, not "$" at the first read: what is published in between counts
            last = self._redis.xrevrange(self.key, count=1)
        reader = _StreamReader(self, callback, _text(last[0][0]) if last else "0-0")
        with self._lock:
            self._readers.append(reader)
        return reader

    def consume(self, group, consumer, count=100, block=None):
        """Up to ``count`` Deliveries for ``consumer`` of ``group``: its pending ones, then new ones."""
        self._ensure_group(group)
        with self._translated("consume"):
            try:
                reply = self._redis.xreadgroup(group, consumer, {self.key: "0"}, count=count)
            except redis.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                # the stream was deleted (and its groups with it) since we created the group
                self._groups.discard(group)
                self._ensure_group(group)
                reply = self._redis.xreadgroup(group, consumer, {self.key: "0"}, count=count)
            out = self._deliveries(group, reply, redelivered=True)
            if len(out) < count:
                block_ms = None if block is None else max(1, int(block * 1000))
                if out:
                    block_ms = None  # something to hand back now: do not wait for more
                reply = self._redis.xreadgroup(group, consumer, {self.key: ">"},
                                               count=count - len(out), block=block_ms)
                out += self._deliveries(group, reply, redelivered=False)
        return out

    def ack(self, group, ids):
        """Acknowledge deliveries (XACK); returns how many were pending."""
        ids = _ids(ids)
        if not ids:
            return 0
        with self._translated("ack"):
            return self._redis.xack(self.key, group, *ids)

    def reclaim(self, group, consumer, min_idle, count=100):
        """Take over entries pending for ``min_idle`` seconds with another consumer (XAUTOCLAIM)."""
        self._ensure_group(group)
        with self._translated("reclaim"):
            reply = self._redis.xautoclaim(self.key, group, consumer, int(min_idle * 1000),
                                           start_id="0-0", count=count)
        entries = reply[1]
        return self._deliveries(group, [[self.key, entries]], redelivered=True)

    def close(self):
        """Stop every subscription of this bus (the client stays open: it is the caller's)."""
        with self._lock:
            readers, self._readers = self._readers, []
        for reader in readers:
            reader.close()

    def _ensure_group(self, group):
        if group in self._groups:
            return
        with self._translated("create group"):
            try:
                # "0": a new group reads the whole stream, what was published before it existed too
                self._redis.xgroup_create(self.key, group, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
        self._groups.add(group)

    def _deliveries(self, group, reply, redelivered):
        out = []
        for _, entries in reply or ():
            for entry_id, fields in entries:
                if fields is None:  # trimmed away while pending: nothing left to hand over
                    continue
                event = self.read_entry(entry_id, fields, group)
                if event is not None:
                    out.append(Delivery(_text(entry_id), event, redelivered))
        return out

    def read_entry(self, entry_id, fields, group=None):
        """The event in a stream entry, or None (logged; with ``group``, dead-lettered and acked)."""
        try:
            return events.decode(_text(fields.get(b"data", fields.get("data", b""))))
        except events.EventError as exc:
            logger.error("event bus %s: entry %s unreadable: %s", self.key, _text(entry_id), exc)
            if group is not None:
                # kept aside, not lost: a newer reader may know the type; acked so it blocks nobody
                with self._translated("dead-letter"):
                    self._redis.xadd(self.dead_key, {**fields, "id": _text(entry_id),
                                                     "group": group, "error": str(exc)})
                    self._redis.xack(self.key, group, entry_id)
            return None

    def _translated(self, operation):
        return _Translate(operation, self.key)


class _Translate:
    """Turns redis-py's connection errors into BusUnavailable, in one place."""

    def __init__(self, operation, key):
        self.operation = operation
        self.key = key

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if isinstance(exc, (redis.ConnectionError, redis.TimeoutError)):
            raise BusUnavailable(self.operation, self.key, exc) from exc
        return False


class _StreamReader:
    """A live subscriber of a RedisBus: XREAD BLOCK from the last id seen, on its own thread."""

    def __init__(self, bus, callback, last_id, max_backoff=5.0):
        self._bus = bus
        self._callback = callback
        self._last = last_id
        self._max_backoff = max_backoff
        self._running = True
        self._thread = threading.Thread(target=self._run, name=f"bus-reader-{id(self):x}",
                                        daemon=True)
        self._thread.start()

    def close(self, timeout=5.0):
        """Stop after the read in progress (at most the bus's poll interval)."""
        self._running = False
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self):
        backoff = 0.1
        while self._running:
            try:
                reply = self._bus._redis.xread({self._bus.key: self._last}, count=100,
                                               block=self._bus._poll_ms)
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                # a screen tolerates a pause; from the last id seen it misses nothing retained
                logger.warning("event bus %s: live read failed (%s); retry in %.1f s",
                               self._bus.key, exc, backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            backoff = 0.1
            for _, entries in reply or ():
                for entry_id, fields in entries:
                    self._last = _text(entry_id)
                    event = self._bus.read_entry(entry_id, fields)
                    if event is not None and self._running:
                        _deliver(self._callback, event)


def _text(value):
    return value.decode() if isinstance(value, bytes) else value
