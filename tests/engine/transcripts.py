"""Recorded FreeSWITCH events, parsed the way the engine parses them, for offline tests."""

import json

from fs_cc.esl.protocol import EVENT_PLAIN, Parser, parse_event
from tests.esl.wire import FIXTURES


def recorded_events(name):
    """Every event FreeSWITCH sent on the events connection of a transcript, in order."""
    parser = Parser()
    events = []
    path = FIXTURES / (name if name.endswith(".jsonl") else name + ".jsonl")
    for line in path.read_text().splitlines()[1:]:
        message = json.loads(line)
        if message["dir"] != "recv" or message["conn"] != "events":
            continue
        for framed in parser.feed(message["data"].encode("utf-8")):
            if framed.content_type == EVENT_PLAIN:
                events.append(parse_event(framed))
    return events


def events_until(events, name, uuid=None):
    """The events up to and including the first one called name (about uuid, when given)."""
    for index, event in enumerate(events):
        if event.name == name and (uuid is None or event.uuid == uuid):
            return events[:index + 1]
    raise LookupError(name)
