"""The engine's spool keeps call records until the broker has taken them."""

import gevent

from fs_cc.outbox import Outbox
from tests.polling import wait_until


class FlakyBroker:
    """A publisher that refuses while down and records what it accepted."""

    def __init__(self, up=True):
        self.up = up
        self.accepted = []

    def __call__(self, payload):
        if not self.up:
            raise ConnectionRefusedError("broker down")
        self.accepted.append(payload)




def test_given_broker_up_when_record_put_then_published_and_removed(tmp_path):
    broker = FlakyBroker()
    outbox = Outbox(tmp_path / "o.sqlite", broker, min_delay=0.01)
    outbox.start()
    outbox.put("u1", {"uuid": "u1"})
    wait_until(lambda: broker.accepted == [{"uuid": "u1"}])
    assert outbox.pending() == []
    outbox.stop()


def test_given_broker_down_when_engine_restarts_then_record_survives_and_is_sent(tmp_path):
    broker = FlakyBroker(up=False)
    outbox = Outbox(tmp_path / "o.sqlite", broker, min_delay=0.01, max_delay=0.02)
    outbox.start()
    outbox.put("u1", {"uuid": "u1", "queue": "sales"})
    wait_until(lambda: outbox.flush_once() == 1)
    outbox.stop(flush_timeout=0.05)
    assert broker.accepted == []

    broker.up = True
    restarted = Outbox(tmp_path / "o.sqlite", broker, min_delay=0.01)
    assert restarted.pending() == ["u1"]
    restarted.start()
    wait_until(lambda: broker.accepted == [{"uuid": "u1", "queue": "sales"}])
    assert restarted.pending() == []
    restarted.stop()


def test_given_broker_comes_back_when_flusher_retries_then_records_sent_in_order(tmp_path):
    broker = FlakyBroker(up=False)
    outbox = Outbox(tmp_path / "o.sqlite", broker, min_delay=0.01, max_delay=0.02)
    outbox.start()
    for n in range(3):
        outbox.put(f"u{n}", {"uuid": f"u{n}"})
    gevent.sleep(0)
    broker.up = True
    wait_until(lambda: len(broker.accepted) == 3)
    assert [p["uuid"] for p in broker.accepted] == ["u0", "u1", "u2"]
    outbox.stop()


def test_given_calls_open_when_engine_dies_then_next_run_finishes_and_sends_them(tmp_path):
    broker = FlakyBroker()
    first = Outbox(tmp_path / "o.sqlite", broker)
    first.keep_open({"u1": {"uuid": "u1", "ended_at": None}, "u2": {"uuid": "u2"}})
    first.put("u2", {"uuid": "u2", "ended_at": "done"})  # u2 ended normally
    # the process dies here: no stop(), nothing flushed by a flusher

    def finish(payload, last_alive):
        return dict(payload, ended_at=last_alive, hangup_side="system")

    restarted = Outbox(tmp_path / "o.sqlite", broker, min_delay=0.01)
    assert restarted.recover(finish) == ["u1"]
    restarted.start()
    wait_until(lambda: len(broker.accepted) == 2)
    by_uuid = {p["uuid"]: p for p in broker.accepted}
    assert by_uuid["u2"]["ended_at"] == "done"
    assert by_uuid["u1"]["hangup_side"] == "system" and by_uuid["u1"]["ended_at"] > 0
    assert restarted.recover(finish) == []
    restarted.stop()
