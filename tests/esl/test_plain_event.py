"""PlainEvent reads headers lazily: every look-up must answer what the full reading of the block does."""

import json
import random
from urllib.parse import unquote

import pytest

from fs_cc.esl.protocol import Message, Parser, PlainEvent, _unquote, parse_event
from tests.esl.wire import event_bytes
from tests.fixtures import transcripts

PREFIXES = ("", "fs_cc_", "sip_", "call", "x")


def reference_headers(text):
    """The full reading: split the block into lines (of a name repeated, the first line wins, as
    FreeSWITCH reads an event), then decode each value."""
    head = text.partition("\n\n")[0]
    lines = head.split("\n")
    headers = {}
    if all(": " in line for line in lines):
        for line in lines:
            key, value = line.split(": ", 1)
            headers.setdefault(key, value)
    else:
        for line in lines:
            key, sep, value = line.partition(":")
            if sep:
                headers.setdefault(key, value[1:] if value.startswith(" ") else value)
    return {key: unquote(value) if "%" in value else value for key, value in headers.items()}


def plain(text):
    return parse_event(Message({"Content-Type": "text/event-plain"}, text))


def candidate_keys(text, headers):
    """Names worth asking for: the real ones, every line's possible names, and absent ones."""
    keys = set(headers) | {"Event-Name", "Unique-ID", "Nope", "", "variable_", "variable_nope"}
    for line in text.split("\n"):
        keys.add(line.partition(":")[0])
        keys.add(line.partition(": ")[0])
    return sorted(keys)


def check_agrees(text, rng):
    expected = reference_headers(text)
    keys = candidate_keys(text, expected)
    rng.shuffle(keys)
    event = plain(text)
    for key in keys:  # lazily, in any order
        assert event.get(key, "<absent>") == expected.get(key, "<absent>"), (text, key)
        assert (key in event.headers) == (key in expected), (text, key)
    for at in range(0, len(keys), 3):  # every name once, a few at a time, on a fresh event
        some = tuple(keys[at:at + 3])
        assert plain(text).get_many(some) == tuple(expected.get(key) for key in some), (text, some)
    some = tuple(keys[:12])  # enough for one pass of re over the top
    assert plain(text).get_many(some) == tuple(expected.get(key) for key in some), (text, some)
    for prefix in PREFIXES:
        wanted = {k[9:]: v for k, v in expected.items() if k.startswith("variable_" + prefix)}
        assert plain(text).variables(prefix) == wanted, (text, prefix)
        assert list(plain(text).variables(prefix)) == list(wanted), (text, prefix)  # same order
    assert event.headers == expected
    assert dict(event.headers) == expected and list(event.headers) == list(expected)
    for key in keys:  # and once read whole
        assert event.get(key, "<absent>") == expected.get(key, "<absent>"), (text, key)
    assert event.body == text.partition("\n\n")[2]


def recorded_plain_bodies():
    for path in transcripts():
        for line in path.read_text().splitlines()[1:]:
            message = json.loads(line)
            head, _, body = message["data"].partition("\n\n")
            if message["dir"] == "recv" and "Content-Type: text/event-plain" in head:
                yield body


def test_given_every_recorded_event_when_read_lazily_then_each_header_is_what_the_full_reading_gives():
    rng = random.Random(0)
    bodies = list(recorded_plain_bodies())
    assert len(bodies) > 500
    for body in bodies:
        check_agrees(body, rng)


LINES = ["Event-Name: CHANNEL_CREATE", "Event-Name: CUSTOM", "Unique-ID: u-1", "Unique-ID: u-2",
         "Channel-State: CS_EXECUTE", "Answer-State: answered", "Caller-Caller-ID-Name: Jos%C3%A9%20M",
         "Hangup-Cause: NORMAL_CLEARING", "Hangup-Cause: USER_BUSY", "Name:", "Name:x", "Name: y",
         "Name:: z", "a:b: c", "a: b: c", "no colon here", "", "Content-Length: 4",
         "variable_fs_cc_agent: 1001", "variable_fs_cc_agent: 1002", "variable_fs_cc_queue: VIP%2B",
         "variable_fs_cc_note: line%0AFake: injected", "variable_fs_cc_x:", "variable_fs_cc_y:1",
         "variable_sip_from: 1000%40example.com", "variable_call_uuid: u-1", "variable_bad: 100%",
         "variable_fs_cc_", "variable_: empty name", "X-Tail: after%20the%20variables",
         "variable_uni: caf\u00e9 \u674e", "variable_esc: back\\slash%5C%20\\x41", "Odd-%41: key%"]


@pytest.mark.parametrize("seed", range(40))
def test_given_random_header_blocks_when_read_lazily_then_they_agree_with_the_full_reading(seed):
    rng = random.Random(seed)
    for _ in range(150):
        lines = [rng.choice(LINES) for _ in range(rng.randrange(0, 14))]
        if rng.random() < 0.7:
            lines.sort(key=lambda line: line.startswith("variable_"))  # FreeSWITCH's shape
        text = "\n".join(lines)
        ending = rng.choice(["\n\n", "\n\n", "\n\n", "\n\nbody: text\n", "\n\nx\n\n", "", "\n", "\n\n\n"])
        check_agrees(text + ending, rng)


def test_given_an_event_when_parsed_from_bytes_then_lookups_and_full_reading_match_the_wire_helper():
    headers = {"Event-Name": "CHANNEL_ANSWER", "Unique-ID": "u1", "Caller-Caller-ID-Name": "Zoë + Co: 50%",
               "variable_fs_cc_agent": "1001", "variable_fs_cc_note": "a\nb\n\nc"}
    event = parse_event(Parser().feed(event_bytes(headers))[0])
    assert isinstance(event, PlainEvent)
    assert event.get("Caller-Caller-ID-Name") == "Zoë + Co: 50%"
    assert event.variables("fs_cc_") == {"fs_cc_agent": "1001", "fs_cc_note": "a\nb\n\nc"}
    assert event.name == "CHANNEL_ANSWER" and event.uuid == "u1"
    assert event.headers == headers


def test_given_a_lazy_event_when_headers_are_replaced_then_lookups_use_the_new_ones():
    event = plain("Event-Name: HEARTBEAT\n\n")
    event.headers = {"Event-Name": "CUSTOM", "Event-Subclass": "fs_cc::x"}
    assert event.name == "fs_cc::x"


UNQUOTE_PIECES = ["%", "%%", "a", "F", "0", "9", "G", " ", "\\", "\\x41", "x", "\n", "é", "李", "+",
                  "%C3", "%A9", "%E6%9D", "%e6", "%0A", "%25", "%5C", "%F0%9F%98", "%80", "%FF", "\ud800"]


@pytest.mark.parametrize("seed", range(10))
def test_given_any_text_when_unquoted_then_it_is_what_urllib_gives(seed):
    rng = random.Random(seed)
    for _ in range(3000):
        text = "".join(rng.choice(UNQUOTE_PIECES) for _ in range(rng.randrange(0, 10)))
        assert _unquote(text) == unquote(text), text
