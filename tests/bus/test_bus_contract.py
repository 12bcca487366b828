"""One contract for both buses: order, the encoding, durable groups, live subscribers."""

import threading

from fs_cc import events
from fs_cc.bus import InProcessBus, RedisBus
from tests.polling import wait_until
from tests.test_events import make_sequencer, one_of_each

GROUP = "worker"


def call_events(sequencer, call_uuid, count):
    """``count`` IVR events of one call."""
    return [sequencer.make(events.IvrNodeEntered, call_uuid=call_uuid, flow="main",
                           node=f"node-{n}") for n in range(count)]


def consume_all(bus, consumer, group=GROUP, count=7, rounds=50):
    """Consume and acknowledge until nothing is left; the deliveries in the order received."""
    received = []
    for _ in range(rounds):
        batch = bus.consume(group, consumer, count=count)
        if not batch:
            return received
        assert bus.ack(group, batch) == len(batch)
        received += batch
    raise AssertionError(f"still consuming after {rounds} rounds")


class Collector:
    """A live subscriber's callback that keeps what it got."""

    def __init__(self):
        self.events = []
        self._lock = threading.Lock()

    def __call__(self, event):
        with self._lock:
            self.events.append(event)

    def wait_for(self, count):
        """Wait until ``count`` events arrived; return them."""
        wait_until(lambda: len(self.events) >= count, what=f"{count} live events")
        return list(self.events)


def test_given_two_calls_interleaved_when_consumed_then_each_calls_order_is_kept(bus):
    sequencer = make_sequencer()
    published = [event for pair in zip(call_events(sequencer, "a", 20),
                                       call_events(sequencer, "b", 20)) for event in pair]
    for event in published:
        bus.publish(event)

    received = [delivery.event for delivery in consume_all(bus, "w1")]

    assert received == published
    for call in ("a", "b"):
        nodes = [event.node for event in received if event.call_uuid == call]
        assert nodes == [f"node-{n}" for n in range(20)]


def test_given_every_event_type_when_sent_through_the_bus_then_each_comes_back_equal(bus):
    published = one_of_each()
    live = Collector()
    subscription = bus.subscribe(live)
    for event in published:
        bus.publish(event)

    consumed = [delivery.event for delivery in consume_all(bus, "w1")]

    assert consumed == published
    assert live.wait_for(len(published)) == published
    subscription.close()


def test_given_a_consumer_that_stopped_before_acking_when_restarted_then_it_resumes(make_bus):
    sequencer = make_sequencer()
    published = call_events(sequencer, "a", 10)
    first = make_bus()
    for event in published:
        first.publish(event)
    taken = first.consume(GROUP, "w1", count=6)
    assert first.ack(GROUP, taken[:4]) == 4  # then the worker dies before acking 2 of them

    restarted = make_bus()  # same group, same consumer name, a new process
    received = consume_all(restarted, "w1", count=3)

    assert [d.event for d in received] == published[4:]
    assert [d.redelivered for d in received[:2]] == [True, True]
    assert not any(d.redelivered for d in received[2:])
    # nothing is acked twice: the first four are no longer pending
    assert restarted.ack(GROUP, taken[:4]) == 0
    assert restarted.consume(GROUP, "w1") == []


def test_given_no_consumer_running_when_events_are_published_then_all_arrive_later(make_bus):
    engine = make_bus()
    published = call_events(make_sequencer(), "a", 25)
    for event in published:
        engine.publish(event)  # the worker is down; its group does not even exist yet

    worker = make_bus()
    received = consume_all(worker, "w1", count=10)

    assert [d.event for d in received] == published


def test_given_a_subscriber_when_events_follow_then_it_gets_those_after_subscribing(bus):
    sequencer = make_sequencer()
    before = call_events(sequencer, "a", 3)
    after = call_events(sequencer, "b", 5)
    for event in before:
        bus.publish(event)
    live = Collector()
    subscription = bus.subscribe(live)

    for event in after:
        bus.publish(event)

    assert live.wait_for(len(after)) == after
    subscription.close()


def test_given_a_closed_subscription_when_events_follow_then_it_gets_no_more(bus):
    sequencer = make_sequencer()
    live = Collector()
    subscription = bus.subscribe(live)
    bus.publish(call_events(sequencer, "a", 1)[0])
    live.wait_for(1)

    subscription.close()
    bus.publish(call_events(sequencer, "b", 1)[0])
    control = Collector()
    closing = bus.subscribe(control)
    bus.publish(call_events(sequencer, "c", 1)[0])
    control.wait_for(1)  # a later event reached a live subscriber, so the closed one had time

    assert [event.call_uuid for event in live.events] == ["a"]
    closing.close()


def test_given_a_failing_subscriber_when_events_follow_then_the_next_one_still_arrives(bus):
    sequencer = make_sequencer()
    got = Collector()

    def fragile(event):
        got(event)
        if len(got.events) == 1:
            raise RuntimeError("screen broke")

    subscription = bus.subscribe(fragile)
    published = call_events(sequencer, "a", 2)
    for event in published:
        bus.publish(event)

    assert got.wait_for(2) == published
    subscription.close()


def test_given_two_consumers_in_one_group_when_both_consume_then_they_split_the_work(bus):
    published = call_events(make_sequencer(), "a", 30)
    for event in published:
        bus.publish(event)

    first, second = [], []
    for _ in range(10):
        for consumer, into in (("w1", first), ("w2", second)):
            batch = bus.consume(GROUP, consumer, count=4)
            bus.ack(GROUP, batch)
            into += batch

    ids_first = {d.id for d in first}
    ids_second = {d.id for d in second}
    assert first and second
    assert not ids_first & ids_second
    assert sorted((d.event for d in first + second), key=lambda e: e.seq) == published


def test_given_two_groups_when_both_consume_then_each_sees_every_event(bus):
    published = call_events(make_sequencer(), "a", 5)
    for event in published:
        bus.publish(event)

    assert [d.event for d in consume_all(bus, "w1", group="journal")] == published
    assert [d.event for d in consume_all(bus, "w1", group="reports")] == published


def test_given_a_dead_consumer_when_another_reclaims_then_it_takes_the_pending_ones(bus):
    published = call_events(make_sequencer(), "a", 4)
    for event in published:
        bus.publish(event)
    bus.consume(GROUP, "dead", count=3)

    reclaimed = bus.reclaim(GROUP, "alive", min_idle=0)

    assert [d.event for d in reclaimed] == published[:3]
    assert all(d.redelivered for d in reclaimed)
    assert [d.event for d in bus.consume(GROUP, "dead")] == [published[3]]
    assert bus.ack(GROUP, reclaimed) == 3


def test_given_a_recent_pending_entry_when_reclaimed_with_a_long_idle_then_it_stays(bus):
    bus.publish(call_events(make_sequencer(), "a", 1)[0])
    bus.consume(GROUP, "busy")

    assert bus.reclaim(GROUP, "other", min_idle=60) == []


def test_given_nothing_new_when_consuming_with_block_then_an_event_published_meanwhile_arrives(
        bus):
    event = call_events(make_sequencer(), "a", 1)[0]
    assert bus.consume(GROUP, "w1") == []
    timer = threading.Timer(0.1, bus.publish, args=[event])
    timer.start()

    batch = bus.consume(GROUP, "w1", block=5)

    timer.join()
    assert [d.event for d in batch] == [event]


def test_given_an_entry_no_event_can_be_read_from_when_consumed_then_it_is_set_aside(
        redis_prefix):
    client, prefix = redis_prefix
    bus = RedisBus(client, prefix=prefix)
    good = call_events(make_sequencer(), "a", 1)[0]
    client.xadd(bus.key, {"type": "call.teleported", "data": '{"type": "call.teleported"}'})
    bus.publish(good)

    received = consume_all(bus, "w1")

    assert [d.event for d in received] == [good]
    dead = client.xrange(bus.dead_key)
    assert len(dead) == 1 and b"call.teleported" in dead[0][1][b"error"]
    assert client.xpending(bus.key, GROUP)["pending"] == 0


def test_given_a_maxlen_when_a_group_never_reads_then_the_in_process_log_stays_bounded():
    bus = InProcessBus(maxlen=10)
    sequencer = make_sequencer()
    bus.consume(GROUP, "w1")  # the group exists, then stops reading
    published = call_events(sequencer, "a", 25)
    for event in published:
        bus.publish(event)

    assert [d.event for d in consume_all(bus, "w1")] == published[-10:]


def test_given_a_new_group_when_created_late_then_it_reads_the_retained_log(bus):
    published = call_events(make_sequencer(), "a", 3)
    for event in published:
        bus.publish(event)
    consume_all(bus, "w1", group="journal")

    assert [d.event for d in consume_all(bus, "w1", group="late")] == published


def test_given_the_stream_was_deleted_when_consuming_again_then_the_group_is_recreated(
        redis_prefix):
    client, prefix = redis_prefix
    bus = RedisBus(client, prefix=prefix)
    bus.consume(GROUP, "w1")
    client.delete(bus.key)
    event = call_events(make_sequencer(), "a", 1)[0]
    bus.publish(event)

    assert [d.event for d in consume_all(bus, "w1")] == [event]
