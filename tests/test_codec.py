"""The one JSON text of events and commands: compact, keys sorted, UTF-8, times as isoformat writes them."""

import datetime
import json
import random

import pytest

from fs_cc import codec, events
from fs_cc.control import commands

UTC = datetime.timezone.utc


def reference(data):
    """What the text must be, byte for byte: json's, with the times isoformat writes."""
    return json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False,
                      default=datetime.datetime.isoformat)


def started(name, ts):
    return events.CallStarted(engine="e1", seq=7, ts=ts, call_uuid="u-1", did="4000",
                              caller_number="+8613800138000", caller_name=name)


@pytest.mark.parametrize("name", ["José Müller", "李小龙", "Zoë \"Q\" \\ +", "tab\there\nnew", "\x7f", ""])
def test_given_a_name_outside_ascii_when_encoded_then_it_is_written_as_it_is_and_reads_back(name):
    event = started(name, datetime.datetime(2026, 12, 6, 21, 0, 0, 123456, tzinfo=UTC))

    text = events.encode(event)

    assert text == reference(events.to_dict(event))
    assert all(char in text for char in name if ord(char) > 0x7f)  # not as \\uXXXX
    assert events.decode(text) == event


def test_given_random_times_when_encoded_then_each_is_what_isoformat_writes():
    rng = random.Random(12)
    for _ in range(2000):
        ts = datetime.datetime.fromtimestamp(rng.uniform(0, 4e9), UTC)
        if rng.random() < 0.2:
            ts = ts.replace(microsecond=0)  # isoformat leaves the fraction out then
        data = json.loads(events.encode(started("x", ts)))
        assert data["ts"] == ts.isoformat()


def test_given_a_time_with_another_offset_when_encoded_then_its_offset_is_kept():
    offset = datetime.timezone(datetime.timedelta(hours=8, minutes=30, seconds=15))
    event = started("x", datetime.datetime(2026, 3, 1, 8, 0, tzinfo=offset))

    assert json.loads(events.encode(event))["ts"] == "2026-03-01T08:00:00+08:30:15"
    assert events.decode(events.encode(event)) == event


def test_given_a_lone_surrogate_when_encoded_then_it_is_escaped_so_the_text_has_utf8():
    event = started("bad \ud800 name é", datetime.datetime(2026, 1, 1, tzinfo=UTC))

    text = events.encode(event)

    assert text.encode("utf-8")  # no UnicodeEncodeError: the outbox and Redis can take it
    assert "\\ud800" in text and "\\u00e9" in text
    assert events.decode(text) == event


def test_given_a_text_an_earlier_version_wrote_ascii_only_when_decoded_then_it_is_the_same_event():
    event = started("José", datetime.datetime(2026, 1, 1, 9, 30, tzinfo=UTC))
    old_text = json.dumps(events.to_dict(event), separators=(",", ":"), sort_keys=True)

    assert "\\u00e9" in old_text
    assert events.decode(old_text) == event


def test_given_floats_and_nested_mappings_when_dumped_then_json_writes_them_as_ever():
    data = {"b": 1e-05, "a": {"z": "é", "y": [1, 2.5]}, "c": 2 ** 70}

    assert codec.dumps(data) == reference(data)


def test_given_a_command_when_encoded_then_it_is_written_the_events_way():
    command = commands.SetAgentStatus(agent="1001", status="available", reason="réunion")

    text = commands.encode(command)

    assert text == reference(commands.to_dict(command))
    assert "réunion" in text
    assert commands.decode(text) == command
