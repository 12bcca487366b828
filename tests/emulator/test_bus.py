"""The emulator's event bus: a socket bound to one call hears that call only, found by its UUID,
and every sink still gets an event in the order the sinks were added."""

from fs_cc.emulator.bus import EventBus, Subscription
from fs_cc.emulator.events import Event


def event(name, uuid):
    return Event(name, [("Event-Name", name), ("Unique-ID", uuid)], uuid=uuid)


def sink(bus, heard, label, names=("CHANNEL_ANSWER",), session=None):
    subscription = Subscription()
    subscription.enable(names)
    subscription.session_uuid = session
    handle = bus.add(subscription, lambda e: heard.append((label, e.uuid)))
    return subscription, handle


def test_given_sockets_bound_to_calls_when_events_fire_then_each_hears_its_own_in_added_order():
    bus, heard = EventBus(), []
    sink(bus, heard, "all-1")
    sink(bus, heard, "a", session="uuid-a")
    sink(bus, heard, "all-2")
    sink(bus, heard, "b", session="uuid-b")
    sink(bus, heard, "a-again", session="uuid-a")

    bus.fire(event("CHANNEL_ANSWER", "uuid-a"))
    bus.fire(event("CHANNEL_ANSWER", "uuid-b"))
    bus.fire(event("CHANNEL_ANSWER", "uuid-c"))

    assert heard == [("all-1", "uuid-a"), ("a", "uuid-a"), ("all-2", "uuid-a"),
                     ("a-again", "uuid-a"),
                     ("all-1", "uuid-b"), ("all-2", "uuid-b"), ("b", "uuid-b"),
                     ("all-1", "uuid-c"), ("all-2", "uuid-c")]


def test_given_a_socket_bound_after_it_subscribed_when_events_fire_then_it_moved_with_its_call():
    # an outbound socket subscribes (myevents) before or after it is told its session
    bus, heard = EventBus(), []
    subscription, handle = sink(bus, heard, "s")
    bus.fire(event("CHANNEL_ANSWER", "uuid-x"))
    subscription.session_uuid = "uuid-a"
    bus.fire(event("CHANNEL_ANSWER", "uuid-x"))
    bus.fire(event("CHANNEL_ANSWER", "uuid-a"))
    subscription.session_uuid = None
    bus.fire(event("CHANNEL_ANSWER", "uuid-y"))
    bus.remove(handle)
    bus.remove(handle)  # twice: nothing happens
    bus.fire(event("CHANNEL_ANSWER", "uuid-a"))

    assert heard == [("s", "uuid-x"), ("s", "uuid-a"), ("s", "uuid-y")]
    assert bus.fired == 5
    subscription.session_uuid = "uuid-z"  # removed: the bus no longer follows it
    bus.fire(event("CHANNEL_ANSWER", "uuid-z"))
    assert heard[-1] == ("s", "uuid-y")
