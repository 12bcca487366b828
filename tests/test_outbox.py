"""The engine's spool keeps every event until the broker has taken it, and knows the open calls."""

import time

import gevent

from fs_cc import events
from fs_cc.outbox import Outbox
from tests.polling import wait_until


class FlakyBroker:
    """A publisher that refuses while down and records the batches it accepted."""

    def __init__(self, up=True):
        self.up = up
        self.accepted = []

    def __call__(self, batch):
        if not self.up:
            raise ConnectionRefusedError("broker down")
        self.accepted.append(batch)

    def events(self):
        """Every accepted event, decoded, in order."""
        return [events.from_dict(item) for batch in self.accepted for item in batch]


def started(sequencer, uuid):
    return sequencer.make(events.CallStarted, call_uuid=uuid, did="4000", caller_number="555")


def test_given_broker_up_when_event_appended_then_published_and_removed(tmp_path):
    broker = FlakyBroker()
    outbox = Outbox(tmp_path / "o.sqlite", broker, min_delay=0.01, linger=0)
    outbox.start()
    event = started(events.EventSequencer("e1"), "u1")
    outbox.append(event)
    wait_until(lambda: broker.events() == [event])
    assert outbox.pending() == 0
    outbox.stop()


def test_given_broker_down_when_engine_restarts_then_events_survive_and_are_sent(tmp_path):
    broker = FlakyBroker(up=False)
    outbox = Outbox(tmp_path / "o.sqlite", broker, min_delay=0.01, max_delay=0.02, linger=0)
    outbox.start()
    seq = events.EventSequencer("e1")
    sent = [started(seq, "u1"), seq.make(events.CallQueued, call_uuid="u1", queue="sales",
                                         priority=0, skills={}, position=1)]
    for event in sent:
        outbox.append(event)
    wait_until(lambda: outbox.flush_once() == 1)
    outbox.stop(flush_timeout=0.05)
    assert broker.accepted == []

    broker.up = True
    restarted = Outbox(tmp_path / "o.sqlite", broker, min_delay=0.01, linger=0)
    assert restarted.pending() == 2 and restarted.pending_events() == sent
    assert restarted.last_seq("e1") == 2 and restarted.last_seq("other") == 0
    restarted.start()
    wait_until(lambda: broker.events() == sent)
    assert restarted.pending() == 0
    restarted.stop()


def test_given_many_events_when_flushed_then_sent_in_order_in_batches(tmp_path):
    broker = FlakyBroker(up=False)
    outbox = Outbox(tmp_path / "o.sqlite", broker, min_delay=0.01, max_delay=0.02, batch=4, linger=0)
    outbox.start()
    seq = events.EventSequencer("e1")
    sent = [started(seq, f"u{n}") for n in range(10)]
    for event in sent:
        outbox.append(event)
    gevent.sleep(0)
    broker.up = True
    wait_until(lambda: len(broker.events()) == 10)
    assert broker.events() == sent
    assert [len(batch) for batch in broker.accepted] == [4, 4, 2]
    outbox.stop()


def test_given_calls_open_when_engine_dies_then_next_run_knows_them_and_where_they_were(
        tmp_path):
    broker = FlakyBroker(up=False)
    first = Outbox(tmp_path / "o.sqlite", broker)
    seq = events.EventSequencer("e1")
    first.append(started(seq, "u1"))
    first.append(seq.make(events.CallQueued, call_uuid="u1", queue="sales", priority=3,
                          skills={"fr": 2}, position=1))
    first.append(seq.make(events.AnsweredByAgent, call_uuid="u1", agent="1000", leg_uuid="l1"))
    first.append(started(seq, "u2"))
    first.append(seq.make(events.CallEnded, call_uuid="u2", side=events.HangupSide.CALLER,
                          cause="NORMAL_CLEARING"))
    first.mark_alive()
    # the process dies here: no stop(), nothing flushed

    restarted = Outbox(tmp_path / "o.sqlite", broker)
    (call,) = restarted.open_calls().values()
    assert (call["uuid"], call["queue"], call["priority"], call["skills"], call["agent"]) == (
        "u1", "sales", 3, {"fr": 2}, "1000")
    assert events.decode(call["started"]).call_uuid == "u1"
    assert restarted.last_alive() is not None
    assert restarted.pending() == 5


def test_given_a_spool_of_an_older_engine_when_started_then_its_records_and_open_calls_go_out(
        tmp_path):
    """An engine from before the events kept whole records (table outbox) and open calls."""
    import json
    import sqlite3

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE outbox (key TEXT PRIMARY KEY, payload TEXT NOT NULL, attempts"
                   " INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL)")
        db.execute("CREATE TABLE open_items (key TEXT PRIMARY KEY, payload TEXT NOT NULL)")
        db.execute("CREATE TABLE alive (id INTEGER PRIMARY KEY CHECK (id = 1), at REAL NOT NULL)")
        db.execute("INSERT INTO outbox VALUES ('u1', ?, 0, 1.0)",
                   (json.dumps({"uuid": "u1", "hangup_side": "caller"}),))
        db.execute("INSERT INTO open_items VALUES ('u2', ?)", (json.dumps(
            {"uuid": "u2", "queue": "sales", "started_at": "2026-11-30T10:00:00+00:00"}),))
        db.execute("INSERT INTO alive VALUES (1, 1796000000.0)")
    records = []
    outbox = Outbox(path, FlakyBroker(), legacy_publish=records.append, min_delay=0.01, linger=0)
    assert outbox.pending() == 2
    outbox.start()
    wait_until(lambda: len(records) == 2)
    by_uuid = {record["uuid"]: record for record in records}
    assert by_uuid["u1"] == {"uuid": "u1", "hangup_side": "caller"}
    assert (by_uuid["u2"]["hangup_side"], by_uuid["u2"]["hangup_cause"]) == (
        "system", "NORMAL_TEMPORARY_FAILURE")
    assert by_uuid["u2"]["ended_at"] == "2026-11-30T00:53:20+00:00"  # when it was last alive
    assert outbox.pending() == 0
    outbox.stop()


def test_given_events_in_quick_succession_when_lingering_then_one_batch(tmp_path):
    broker = FlakyBroker()
    outbox = Outbox(tmp_path / "o.sqlite", broker, min_delay=0.01, linger=0.2)
    outbox.start()
    seq = events.EventSequencer("e1")
    for n in range(5):
        outbox.append(started(seq, f"u{n}"))
    wait_until(lambda: len(broker.events()) == 5)
    assert len(broker.accepted) == 1
    outbox.stop()


def test_given_callbacks_finished_when_engine_dies_then_next_run_knows_their_ends(tmp_path):
    # the ends may never have reached the worker: a restarted engine must not call them again
    broker = FlakyBroker(up=False)
    first = Outbox(tmp_path / "o.sqlite", broker)
    seq = events.EventSequencer("e1")
    first.append(seq.make(events.CallbackCompleted, callback_id="cb-1", agent="1000",
                          call_uuid="c1", attempts=1))
    first.append(seq.make(events.CallbackFailed, callback_id="cb-2", reason="NO_ANSWER",
                          attempts=3))
    first.append(seq.make(events.CallbackCancelled, callback_id="cb-3", by="lead"))
    first.append(seq.make(events.CallbackQueued, callback_id="cb-4", queue="sales"))

    restarted = Outbox(tmp_path / "o.sqlite", broker)
    assert restarted.finished_callbacks() == {"cb-1": "completed", "cb-2": "failed",
                                              "cb-3": "cancelled"}
    # a week later they are forgotten (the worker has long stored them)
    assert restarted.finished_callbacks(now=time.time() + 8 * 24 * 3600) == {}
    assert Outbox(tmp_path / "o.sqlite", broker).finished_callbacks() == {}
