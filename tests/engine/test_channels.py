"""ChannelTracker offline: recorded FreeSWITCH 1.10.12 events and `show channels as json` rows."""

import json

import pytest

from fs_cc.channels import ChannelTracker, Phase, ResyncError
from fs_cc.esl.protocol import Event
from tests.engine.transcripts import events_until, recorded_events

# 03: originate loopback/9196 (A leg 8e2c..., parked) <-> its loopback partner 6961... (echo test)
A03, B03 = "8e2c9cea-2f12-424c-865b-e06779d97604", "6961cebd-2e9f-4461-abca-b8d2cc6a4a79"
# 04: two parked loopback calls joined by uuid_bridge b60d... 863d..., then b60d... killed
A04, B04 = "b60d775f-2c9d-4cc7-994a-04194da5a5c4", "863dfba0-e52b-4248-bd34-e4fbf095d8b4"
PARTNERS04 = {"ea1cb562-349a-4c30-a181-5c373c7ae6ce", "a5bb4073-5ead-46d9-bfdf-ec24b058d5b0"}


def feed(tracker, events):
    for event in events:
        tracker.handle(event)
    return tracker


def show_channels(*rows):
    if not rows:
        return '{"row_count": 0}\n'
    return json.dumps({"row_count": len(rows), "rows": list(rows)}) + "\n"


def row(uuid, callstate="ACTIVE", **extra):
    data = {"uuid": uuid, "direction": "inbound", "created": "2026-11-22 18:29:12",
            "created_epoch": "1795372152", "name": f"sofia/internal/{uuid[:4]}", "state": "CS_EXECUTE",
            "cid_name": "", "cid_num": "5551234", "dest": "5901", "application": "park",
            "callstate": callstate, "call_uuid": uuid}
    data.update(extra)
    return data


def test_given_recorded_call_when_created_then_both_legs_tracked_ringing_with_numbers():
    events = recorded_events("03_call_lifecycle_events")
    tracker = feed(ChannelTracker(), events_until(events, "CHANNEL_CREATE", B03))
    a_leg, b_leg = tracker.get(A03), tracker.get(B03)
    assert (a_leg.phase, b_leg.phase) == (Phase.RINGING, Phase.RINGING)
    assert a_leg.name == "loopback/9196-a" and a_leg.direction == "outbound"
    assert b_leg.direction == "inbound" and b_leg.destination_number == "9196"
    assert a_leg.partner == B03 and b_leg.partner == A03
    assert a_leg.created_at > 1.7e9 and a_leg.answered_at is None


def test_given_recorded_call_when_answered_and_parked_then_answered_time_and_park_kept():
    events = recorded_events("03_call_lifecycle_events")
    tracker = feed(ChannelTracker(), events_until(events, "CHANNEL_PARK", A03))
    a_leg = tracker.get(A03)
    assert a_leg.phase is Phase.ANSWERED and a_leg.answer_state == "answered"
    assert a_leg.parked and a_leg.answered_at >= a_leg.created_at
    assert [len(call) for call in tracker.calls()] == [2]


def test_given_recorded_call_when_hung_up_then_cause_kept_until_destroy_forgets_it():
    events = recorded_events("03_call_lifecycle_events")
    tracker = feed(ChannelTracker(), events_until(events, "CHANNEL_HANGUP_COMPLETE", A03))
    a_leg = tracker.get(A03)
    assert a_leg.phase is Phase.HUNGUP and a_leg.hangup_cause == "NORMAL_CLEARING"
    assert not a_leg.parked  # CHANNEL_UNPARK followed the hangup
    feed(tracker, events[len(events_until(events, "CHANNEL_HANGUP_COMPLETE", A03)):])
    assert len(tracker) == 0 and tracker.calls() == []


def test_given_recorded_uuid_bridge_when_bridged_then_both_legs_point_at_each_other():
    events = recorded_events("04_bridge_events")
    tracker = feed(ChannelTracker(), events_until(events, "CHANNEL_BRIDGE"))
    a_leg, b_leg = tracker.get(A04), tracker.get(B04)
    assert (a_leg.bridged_to, b_leg.bridged_to) == (B04, A04)
    assert a_leg.phase is Phase.BRIDGED and b_leg.phase is Phase.BRIDGED
    calls = tracker.calls()
    assert len(calls) == 1 and {leg.uuid for leg in calls[0]} == {A04, B04} | PARTNERS04


def test_given_recorded_bridge_when_one_leg_hangs_up_then_unbridged_and_all_gone_at_the_end():
    events = recorded_events("04_bridge_events")
    tracker = feed(ChannelTracker(), events_until(events, "CHANNEL_UNBRIDGE"))
    a_leg = tracker.get(A04)
    assert a_leg.bridged_to is None and a_leg.phase is Phase.HUNGUP
    assert B04 not in tracker or tracker.get(B04).bridged_to is None
    feed(tracker, events[len(events_until(events, "CHANNEL_UNBRIDGE")):])
    assert len(tracker) == 0


def test_given_fs_cc_variables_on_an_agent_leg_when_created_then_they_are_kept():
    create = recorded_events("03_call_lifecycle_events")
    headers = dict(events_until(create, "CHANNEL_CREATE", A03)[-1].headers)
    headers.update({"variable_fs_cc_agent": "1001", "variable_fs_cc_call_uuid": "caller-1",
                    "variable_fs_cc_queue": "sales"})
    tracker = ChannelTracker()
    tracker.handle(Event(headers))
    leg = tracker.get(A03)
    assert leg.variables == {"fs_cc_agent": "1001", "fs_cc_call_uuid": "caller-1", "fs_cc_queue": "sales"}
    assert leg.agent == "1001"
    assert leg.to_dict()["variables"]["fs_cc_queue"] == "sales"


def test_given_events_for_unknown_channels_when_handled_then_hangups_ignored_and_answer_adopts():
    events = recorded_events("03_call_lifecycle_events")
    by_name = {event.name: event for event in events if event.uuid == A03}
    tracker = ChannelTracker()
    for name in ("CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY", "CHANNEL_UNPARK",
                 "CHANNEL_UNBRIDGE"):
        if name in by_name:
            tracker.handle(by_name[name])
    tracker.handle(Event({"Event-Name": "CHANNEL_ANSWER"}))  # no Unique-ID at all
    assert len(tracker) == 0 and tracker.unknown_events >= 4
    tracker.handle(by_name["CHANNEL_ANSWER"])
    assert tracker.get(A03).phase is Phase.ANSWERED and tracker.get(A03).name == "loopback/9196-a"


def test_given_destroyed_channel_when_a_late_event_arrives_then_it_is_not_revived():
    events = recorded_events("03_call_lifecycle_events")
    tracker = feed(ChannelTracker(), events)
    park = next(event for event in events if event.name == "CHANNEL_PARK")
    tracker.handle(park)
    assert A03 not in tracker


def test_given_other_event_names_when_handled_then_ignored_and_counted():
    tracker = ChannelTracker()
    tracker.handle(Event({"Event-Name": "HEARTBEAT"}))
    tracker.handle(Event({"Event-Name": "CHANNEL_STATE", "Unique-ID": A03}))
    assert len(tracker) == 0 and tracker.events_seen == 2


def test_given_tracked_channels_when_resync_lacks_one_then_it_is_returned_as_vanished():
    events = recorded_events("04_bridge_events")
    tracker = feed(ChannelTracker(), events_until(events, "CHANNEL_BRIDGE"))
    live = [row(uuid) for uuid in (A04, *PARTNERS04)]
    vanished = tracker.resync(show_channels(*live))
    assert [channel.uuid for channel in vanished] == [B04]
    assert tracker.get(A04).bridged_to is None and tracker.get(A04).phase is Phase.ANSWERED
    assert B04 not in tracker


def test_given_empty_view_when_resync_has_rows_then_channels_are_learned_from_them():
    tracker = ChannelTracker()
    vanished = tracker.resync(show_channels(row("u-1", callstate="RINGING"), row("u-2", dest="1000")))
    assert vanished == []
    first, second = tracker.get("u-1"), tracker.get("u-2")
    assert first.phase is Phase.RINGING and second.phase is Phase.ANSWERED
    assert second.caller_number == "5551234" and second.destination_number == "1000"
    assert second.created_at == 1795372152.0
    assert second.to_dict()["created_at"].startswith("2026-11-22T")


def test_given_no_channels_when_switch_has_none_then_resync_empties_the_view():
    events = recorded_events("03_call_lifecycle_events")
    tracker = feed(ChannelTracker(), events_until(events, "CHANNEL_PARK", A03))
    vanished = tracker.resync(show_channels())
    assert {channel.uuid for channel in vanished} == {A03, B03}
    assert len(tracker) == 0
    tracker.handle(next(e for e in events if e.name == "CHANNEL_HANGUP" and e.uuid == A03))
    assert len(tracker) == 0


def test_given_channel_created_after_the_request_when_snapshot_lacks_it_then_it_is_kept():
    events = recorded_events("03_call_lifecycle_events")
    tracker = ChannelTracker()
    since = tracker.seq
    feed(tracker, events_until(events, "CHANNEL_CREATE", A03))
    assert tracker.resync(show_channels(), since=since) == []
    assert A03 in tracker


def test_given_channel_destroyed_while_request_travelled_when_snapshot_has_it_then_not_revived():
    events = recorded_events("03_call_lifecycle_events")
    tracker = feed(ChannelTracker(), events)
    tracker.resync(show_channels(row(A03)))
    assert A03 not in tracker


@pytest.mark.parametrize("text", ["-ERR no reply\n", "[1, 2]", '{"rows": "x"}', ""])
def test_given_garbage_when_resync_then_resync_error_carries_the_text(text):
    with pytest.raises(ResyncError) as info:
        ChannelTracker().resync(text)
    assert info.value.text == text[:200]


def _recorded_event_messages():
    """Every text/event-plain message of every transcript, framed as the engine frames them."""
    from tests.fixtures import transcripts
    from fs_cc.esl.protocol import EVENT_PLAIN, Parser
    for path in transcripts():
        parser = Parser()
        for line in path.read_text().splitlines()[1:]:
            message = json.loads(line)
            if message["dir"] == "recv":
                for framed in parser.feed(message["data"].encode()):
                    if framed.content_type == EVENT_PLAIN:
                        yield path.name, framed


def _state(tracker):
    channels = [channel.to_dict() | {"seq": channel.seq, "partner": channel.partner}
                for channel in tracker.channels()]
    return channels, tracker.seq, tracker.events_seen, tracker.unknown_events


def test_given_every_recorded_event_when_read_lazily_or_from_a_dict_then_the_tracker_moves_the_same():
    from fs_cc.esl.protocol import parse_event
    lazy, eager = {}, {}
    for name, message in _recorded_event_messages():
        eager.setdefault(name, ChannelTracker()).handle(Event(dict(parse_event(message).headers)))
        lazy.setdefault(name, ChannelTracker()).handle(parse_event(message))
        assert _state(lazy[name]) == _state(eager[name]), name  # after every event
    assert len(lazy) > 10 and sum(tracker.seq for tracker in lazy.values()) > 100
