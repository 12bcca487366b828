"""Dispatcher routing: each handler gets an event once, in order, through its own worker."""

import gevent
import pytest

from fs_cc.esl.dispatch import Dispatcher
from fs_cc.esl.protocol import Event
from tests.esl.wire import poll


@pytest.fixture
def dispatcher():
    dispatcher = Dispatcher("test")
    yield dispatcher
    dispatcher.stop()


def event(name, **headers):
    return Event({"Event-Name": name, **headers})


def test_given_a_handler_on_a_name_and_on_star_when_that_event_comes_then_it_gets_it_once(dispatcher):
    seen = []
    dispatcher.on("CHANNEL_ANSWER", seen.append)
    dispatcher.on("*", seen.append)
    answer, park = event("CHANNEL_ANSWER"), event("CHANNEL_PARK")
    dispatcher.dispatch(answer)
    dispatcher.dispatch(park)
    poll(lambda: len(seen) == 2)
    gevent.sleep(0.01)
    assert seen == [answer, park]


def test_given_named_and_star_handlers_when_events_come_then_each_gets_its_own_in_order(dispatcher):
    named, everything, custom = [], [], []
    dispatcher.on("CHANNEL_CREATE", named.append)
    dispatcher.on("*", everything.append)
    dispatcher.on("fs_cc::note", custom.append)
    flood = [event("CHANNEL_CREATE", **{"Unique-ID": str(i)}) for i in range(3)]
    flood.insert(1, event("CUSTOM", **{"Event-Subclass": "fs_cc::note"}))
    flood.append(Event({}))  # no Event-Name at all: only "*" wants it
    for item in flood:
        dispatcher.dispatch(item)
    poll(lambda: len(everything) == 5)
    assert named == [flood[0], flood[2], flood[3]]
    assert custom == [flood[1]] and everything == flood


def test_given_off_for_one_name_when_it_keeps_another_then_only_that_one_arrives(dispatcher):
    seen = []
    dispatcher.on("CHANNEL_CREATE", seen.append)
    dispatcher.on("CHANNEL_HANGUP", seen.append)
    dispatcher.off("CHANNEL_CREATE", seen.append)
    dispatcher.dispatch(event("CHANNEL_CREATE"))
    hangup = event("CHANNEL_HANGUP")
    dispatcher.dispatch(hangup)
    poll(lambda: seen == [hangup])
