"""A durable spool between the engine and the broker: nothing accepted is lost.

A finished call's record is written to a local SQLite file first, then handed to the broker by a
background greenlet. A record leaves the spool only once the broker has taken it; while the broker
is down the flusher retries with backoff, and an engine restarted after a crash sends what the
previous run had left.
"""

import json
import logging
import sqlite3
import time

import gevent
import gevent.event
import gevent.lock

logger = logging.getLogger(__name__)

RECORD_CALL_TASK = "fs_cc.record_call"


class CeleryPublisher:
    """Hands payloads to Celery by task name, the way the engine reaches the worker."""

    def __init__(self, broker_url, task_name=RECORD_CALL_TASK):
        from celery import Celery

        self.task_name = task_name
        self._app = Celery("fs_cc-engine", broker=broker_url)
        self._app.conf.broker_connection_retry_on_startup = False
        self._app.conf.broker_transport_options = {"max_retries": 1}

    def __call__(self, payload):
        """Publish one payload; raises if the broker did not take it."""
        self._app.send_task(self.task_name, args=[payload], retry=False)

    def close(self):
        """Release the broker connection pool."""
        self._app.close()


class Outbox:
    """Spool of payloads keyed by id (the call UUID), flushed to a publisher in the background."""

    def __init__(self, path, publish, *, min_delay=0.5, max_delay=30.0):
        self._path = str(path)
        self._publish = publish
        self._min_delay = min_delay
        self._max_delay = max_delay
        self._db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("CREATE TABLE IF NOT EXISTS outbox (key TEXT PRIMARY KEY, payload TEXT"
                         " NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL)")
        # work in progress (calls not yet ended) and when this process was last seen alive
        self._db.execute("CREATE TABLE IF NOT EXISTS open_items (key TEXT PRIMARY KEY,"
                         " payload TEXT NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS alive (id INTEGER PRIMARY KEY CHECK (id = 1),"
                         " at REAL NOT NULL)")
        self._lock = gevent.lock.RLock()
        self._wake = gevent.event.Event()
        self._greenlet = None
        self._running = False
        self.published = 0

    def put(self, key, payload):
        """Keep a payload durably (replacing one with the same key) and wake the flusher.

        An open item with the same key is closed by it, in the same transaction.
        """
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.execute("INSERT OR REPLACE INTO outbox (key, payload, attempts, created)"
                             " VALUES (?, ?, 0, ?)", (key, json.dumps(payload), time.time()))
            self._db.execute("DELETE FROM open_items WHERE key = ?", (key,))
        self._wake.set()

    def keep_open(self, items):
        """Snapshot work in progress ({key: payload}) and note that this process is alive.

        If the process dies, :meth:`recover` turns what was open into finished payloads.
        """
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO open_items (key, payload) VALUES (?, ?)",
                                 [(key, json.dumps(payload)) for key, payload in items.items()])
            self._db.execute("INSERT OR REPLACE INTO alive (id, at) VALUES (1, ?)", (time.time(),))

    def recover(self, finish):
        """Close what a dead earlier run left open: ``finish(payload, last_alive)`` -> payload.

        ``last_alive`` is the epoch time the earlier run was last seen alive (None if never).
        Returns the keys recovered.
        """
        with self._lock:
            rows = list(self._db.execute("SELECT key, payload FROM open_items"))
            last = self._db.execute("SELECT at FROM alive WHERE id = 1").fetchone()
        for key, payload in rows:
            self.put(key, finish(json.loads(payload), last[0] if last else None))
        return [key for key, _ in rows]

    def pending(self):
        """Keys still waiting to be published, oldest first."""
        with self._lock:
            return [row[0] for row in self._db.execute("SELECT key FROM outbox ORDER BY created")]

    def start(self):
        """Start the background flusher (it first sends what an earlier run left)."""
        self._running = True
        self._greenlet = gevent.spawn(self._run)
        self._greenlet.link_exception(lambda g: logger.error("outbox flusher died: %s",
                                                              g.exception))
        if self.pending():
            self._wake.set()

    def stop(self, flush_timeout=2.0):
        """Try to flush for a moment, then stop; what is left stays on disk for the next run."""
        if self._greenlet is not None:
            deadline = time.monotonic() + flush_timeout
            while self.pending() and time.monotonic() < deadline:
                self._wake.set()
                gevent.sleep(0.05)
            self._running = False
            self._wake.set()
            self._greenlet.kill(block=True, timeout=2)
        with self._lock:
            self._db.close()

    def flush_once(self):
        """Publish every pending payload once; return how many could not be published."""
        with self._lock:
            rows = list(self._db.execute("SELECT key, payload, attempts FROM outbox"
                                         " ORDER BY created"))
        failed = 0
        for key, payload, attempts in rows:
            try:
                self._publish(json.loads(payload))
            except Exception as exc:  # any broker failure: keep the record, try again later
                failed += 1
                logger.warning("outbox: could not publish %s (attempt %s): %s", key,
                               attempts + 1, exc)
                with self._lock:
                    self._db.execute("UPDATE outbox SET attempts = attempts + 1 WHERE key = ?",
                                     (key,))
                break  # the broker is down: do not hammer it with the rest
            with self._lock:
                # delete only the version we sent; a newer put() with the same key stays
                self._db.execute("DELETE FROM outbox WHERE key = ? AND payload = ?", (key, payload))
            self.published += 1
        return failed

    def _run(self):
        delay = self._min_delay
        while self._running:
            self._wake.wait()
            self._wake.clear()
            if not self._running:
                return
            if self.flush_once():
                gevent.sleep(delay)
                delay = min(delay * 2, self._max_delay)
                self._wake.set()
            else:
                delay = self._min_delay
