"""A durable spool between the engine and the worker: every domain event, nothing lost.

Each event the engine emits is appended to a local SQLite file before it is published anywhere;
a background greenlet hands the spooled events, in order and in batches, to the worker's task, and
deletes them once the broker has taken them. While the broker is down the flusher retries with
backoff, and an engine restarted after a crash sends what the previous run left.

The spool also keeps, per call in progress, the little the engine needs after a crash: the call's
first event and where it was (queue, agent), updated by the events themselves in the same
transaction (``open_calls``), and when this process was last seen alive.
"""

import datetime
import json
import logging
import sqlite3
import time

import gevent
import gevent.event
import gevent.lock

from fs_cc import events

logger = logging.getLogger(__name__)

BATCH = 500  # events per task message
# a finished callback is remembered this long (seconds): the worker's re-send of a request whose
# end it has not stored yet must not call the customer again after a restart
KEEP_FINISHED_CALLBACKS = 7 * 24 * 3600
FINAL_CALLBACK_STATES = {"callback.completed": "completed", "callback.failed": "failed",
                         "callback.cancelled": "cancelled"}


class CeleryPublisher:
    """Hands batches of encoded events to the worker's task by name, the way the engine reaches it."""

    def __init__(self, broker_url, task_name=events.TASK_STORE_EVENTS):
        from celery import Celery

        self.task_name = task_name
        self._app = Celery("fs_cc-engine", broker=broker_url)
        self._app.conf.broker_connection_retry_on_startup = False
        self._app.conf.broker_transport_options = {"max_retries": 1}

    def __call__(self, batch):
        """Publish one batch (a list of ``events.to_dict`` dicts); raises if the broker refused."""
        self._app.send_task(self.task_name, args=[batch], retry=False)

    def close(self):
        """Release the broker connection pool."""
        self._app.close()


def _where(call, event):
    """The open call's summary after ``event`` (the part a restarted engine needs)."""
    if isinstance(event, events.IvrNodeEntered):
        call["flow"] = event.flow
        call["node"] = event.node
    elif isinstance(event, events.CallQueued):
        call.pop("left_queue", None)
        call["queue"] = event.queue
        call["priority"] = event.priority
        call["skills"] = dict(event.skills)
        call["queued_at"] = event.ts.isoformat()
    elif isinstance(event, events.AnsweredByAgent):
        call["agent"] = event.agent
        call["leg_uuid"] = event.leg_uuid
    elif isinstance(event, events.QueueLeft):
        call["left_queue"] = event.outcome.value
    return call


class Outbox:
    """Spool of domain events, flushed to a publisher in the background (``publish(batch)``)."""

    def __init__(self, path, publish, *, min_delay=0.5, max_delay=30.0, batch=BATCH, linger=1.0,
                 legacy_publish=None):
        self._path = str(path)
        # a spool written by an engine before events: its whole call records go to the old task
        self._legacy_publish = legacy_publish
        # after a wake-up, wait this long for more events: one task per second, not per event
        self._linger = linger
        self._publish = publish
        self._min_delay = min_delay
        self._max_delay = max_delay
        self._batch = batch
        self._db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL with NORMAL survives a killed process (what the spool is for); FULL would add an
        # fsync to every event for a power cut
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS events (seq INTEGER NOT NULL, engine TEXT"
                         " NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (engine, seq))")
        self._db.execute("CREATE TABLE IF NOT EXISTS open_calls (uuid TEXT PRIMARY KEY,"
                         " payload TEXT NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS last_seq (engine TEXT PRIMARY KEY,"
                         " seq INTEGER NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS alive (id INTEGER PRIMARY KEY CHECK (id = 1),"
                         " at REAL NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS finished_callbacks (callback_id TEXT PRIMARY"
                         " KEY, state TEXT NOT NULL, at REAL NOT NULL)")
        self._legacy = self._adopt_legacy()
        self._lock = gevent.lock.RLock()
        self._wake = gevent.event.Event()
        self._greenlet = None
        self._running = False
        self._open = {row[0]: json.loads(row[1]) for row in
                      self._db.execute("SELECT uuid, payload FROM open_calls")}
        self.published = 0  # events handed to the publisher

    def _adopt_legacy(self):
        """Whole call records an older engine left (table ``outbox``); its open calls finished."""
        tables = {row[0] for row in self._db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "outbox" not in tables:
            return False
        if "open_items" in tables:
            # calls the old engine had in progress when it died: ended when it was last seen
            last = self._db.execute("SELECT at FROM alive WHERE id = 1").fetchone()
            for key, payload in list(self._db.execute("SELECT key, payload FROM open_items")):
                record = json.loads(payload)
                ended = (datetime.datetime.fromtimestamp(last[0], datetime.timezone.utc)
                         .isoformat() if last else record.get("started_at"))
                record.update(ended_at=ended, hangup_cause="NORMAL_TEMPORARY_FAILURE",
                              hangup_side="system")
                record.pop("wait_seconds", None)
                record.pop("talk_seconds", None)  # the worker computes them from the times
                with self._db:
                    self._db.execute("BEGIN")
                    self._db.execute("INSERT OR REPLACE INTO outbox (key, payload, attempts, created)"
                                     " VALUES (?, ?, 0, ?)", (key, json.dumps(record), time.time()))
                    self._db.execute("DELETE FROM open_items WHERE key = ?", (key,))
        return self._db.execute("SELECT count(*) FROM outbox").fetchone()[0] > 0

    def legacy_pending(self):
        """How many whole call records of an older engine wait to be published."""
        if not self._legacy:
            return 0
        with self._lock:
            return self._db.execute("SELECT count(*) FROM outbox").fetchone()[0]

    def _flush_legacy(self):
        with self._lock:
            rows = list(self._db.execute("SELECT key, payload FROM outbox ORDER BY created"))
        for key, payload in rows:
            self._legacy_publish(json.loads(payload))
            with self._lock:
                self._db.execute("DELETE FROM outbox WHERE key = ?", (key,))
            self.published += 1
        self._legacy = False

    def last_seq(self, engine):
        """The highest sequence number ``engine`` ever spooled here (0 if none)."""
        with self._lock:
            row = self._db.execute("SELECT seq FROM last_seq WHERE engine = ?", (engine,)).fetchone()
        return row[0] if row else 0

    def append(self, event):
        """Keep ``event`` durably (and the open call's summary with it); wake the flusher."""
        payload = events.encode(event)
        call = event.call_uuid if isinstance(event, events.CallEvent) else None
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.execute("INSERT INTO events (seq, engine, payload) VALUES (?, ?, ?)",
                             (event.seq, event.engine, payload))
            self._db.execute("INSERT OR REPLACE INTO last_seq (engine, seq) VALUES (?, ?)",
                             (event.engine, event.seq))
            if isinstance(event, events.CallEnded):
                self._open.pop(call, None)
                self._db.execute("DELETE FROM open_calls WHERE uuid = ?", (call,))
            elif isinstance(event, events.CallStarted):
                self._open[call] = {"uuid": call, "started": payload}
                self._db.execute("INSERT OR REPLACE INTO open_calls (uuid, payload) VALUES (?, ?)",
                                 (call, json.dumps(self._open[call])))
            elif call in self._open and isinstance(event, (events.CallQueued, events.QueueLeft,
                                                           events.AnsweredByAgent,
                                                           events.IvrNodeEntered)):
                summary = _where(self._open[call], event)
                self._db.execute("UPDATE open_calls SET payload = ? WHERE uuid = ?",
                                 (json.dumps(summary), call))
            final = FINAL_CALLBACK_STATES.get(event.TYPE)
            if final is not None:
                # in the same transaction as the event: a crash keeps both or neither
                self._db.execute("INSERT OR REPLACE INTO finished_callbacks (callback_id, state,"
                                 " at) VALUES (?, ?, ?)", (event.callback_id, final,
                                                           event.ts.timestamp()))
        self._wake.set()

    def open_calls(self):
        """The calls in progress as spooled: {uuid: summary with the encoded CallStarted}."""
        with self._lock:
            return {uuid: dict(summary) for uuid, summary in self._open.items()}

    def finished_callbacks(self, now=None):
        """{callback_id: final state} of the callbacks this engine finished in the last week.

        Older ones are forgotten here (the worker has long stored their end).
        """
        now = time.time() if now is None else now
        with self._lock, self._db:
            self._db.execute("DELETE FROM finished_callbacks WHERE at < ?",
                             (now - KEEP_FINISHED_CALLBACKS,))
            rows = self._db.execute("SELECT callback_id, state FROM finished_callbacks"
                                    " ORDER BY at").fetchall()
        return dict(rows)

    def mark_alive(self):
        """Note that this process is alive (a crash is dated by the last mark)."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO alive (id, at) VALUES (1, ?)", (time.time(),))

    def last_alive(self):
        """Epoch seconds the spool's process was last marked alive (None if never)."""
        with self._lock:
            row = self._db.execute("SELECT at FROM alive WHERE id = 1").fetchone()
        return row[0] if row else None

    def pending(self):
        """How many events (and older engines' records) wait to be published."""
        with self._lock:
            return (self._db.execute("SELECT count(*) FROM events").fetchone()[0]
                    + self.legacy_pending())

    def pending_events(self):
        """The events waiting to be published, in the order they were spooled."""
        with self._lock:
            rows = list(self._db.execute("SELECT payload FROM events ORDER BY rowid"))
        return [events.decode(payload) for (payload,) in rows]

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
            self._linger = 0
            while self.pending() and time.monotonic() < deadline:
                self._wake.set()
                gevent.sleep(0.05)
            self._running = False
            self._wake.set()
            self._greenlet.kill(block=True, timeout=2)
        with self._lock:
            self._db.close()

    def flush_once(self):
        """Publish the pending events in batches, in order; return how many batches failed (0/1)."""
        if self._legacy and self._legacy_publish is not None:
            try:
                self._flush_legacy()
            except Exception as exc:  # any broker failure: keep the records, try again later
                logger.warning("outbox: could not publish an older engine's call record: %s", exc)
                return 1
        while True:
            with self._lock:
                rows = list(self._db.execute("SELECT rowid, payload FROM events ORDER BY rowid"
                                             " LIMIT ?", (self._batch,)))
            if not rows:
                return 0
            batch = [json.loads(payload) for _, payload in rows]
            try:
                self._publish(batch)
            except Exception as exc:  # any broker failure: keep the events, try again later
                logger.warning("outbox: could not publish %s event(s): %s", len(batch), exc)
                return 1  # the broker is down: do not hammer it with the rest
            with self._lock:
                self._db.execute("DELETE FROM events WHERE rowid <= ?", (rows[-1][0],))
            self.published += len(batch)

    def _run(self):
        delay = self._min_delay
        while self._running:
            self._wake.wait()
            if self._linger:
                gevent.sleep(self._linger)
            self._wake.clear()
            if not self._running:
                return
            if self.flush_once():
                gevent.sleep(delay)
                delay = min(delay * 2, self._max_delay)
                self._wake.set()
            else:
                delay = self._min_delay
