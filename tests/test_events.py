"""The domain events: one JSON encoding, strict decoding, stable values, call states, stamping."""

import dataclasses
import datetime
import json

import pytest

from fs_cc import events
from fs_cc.acd.agents import AgentStatus
from fs_cc.calls import HangupSide as RecordHangupSide
from fs_cc.events import CallState

T0 = datetime.datetime(2024, 5, 1, 9, 30, tzinfo=datetime.timezone.utc)


def fixed_clock(start=T0):
    """A clock that moves one millisecond a call."""
    ticks = iter(range(10**9))
    return lambda: start + datetime.timedelta(milliseconds=next(ticks))


def make_sequencer(engine="engine-a", start=0):
    """A sequencer on a fixed clock."""
    return events.EventSequencer(engine, start=start, clock=fixed_clock())


def one_of_each(sequencer=None, call_uuid="call-1", agent="1000"):
    """One event of every type, in a call's plausible order, stamped by ``sequencer``."""
    seq = sequencer or make_sequencer()
    call = {"call_uuid": call_uuid}
    return [
        seq.make(events.AgentLoggedIn, agent=agent, queue="sales"),
        seq.make(events.AgentStatusChanged, agent=agent, old=events.AgentState.LOGGED_OUT,
                 new=events.AgentState.AVAILABLE, reason="login"),
        seq.make(events.CallStarted, **call, did="+3222001100", caller_number="+32475000111",
                 caller_name="Ana Lopes"),
        seq.make(events.FlowStarted, **call, flow="main", sha256="ab" * 32, version=3),
        seq.make(events.IvrNodeEntered, **call, flow="main", node="menu"),
        seq.make(events.IvrLookup, **call, flow="main", node="points", source="members",
                 result="found", elapsed_ms=12),
        seq.make(events.IvrInput, **call, flow="main", node="menu", input="7",
                 result="invalid"),
        seq.make(events.IvrInput, **call, flow="main", node="menu", input="1", result="option"),
        seq.make(events.IvrNodeLeft, **call, flow="main", node="menu", input="1",
                 outcome="sales"),
        seq.make(events.CallQueued, **call, queue="sales", priority=5, skills={"fr": 2},
                 position=1),
        seq.make(events.CallPriorityChanged, **call, queue="sales", priority=7),
        seq.make(events.OfferedToAgent, **call, agent="1001", leg_uuid="leg-1", queue="sales"),
        seq.make(events.OfferFailed, **call, agent="1001", leg_uuid="leg-1",
                 cause=events.OfferFailure.NO_ANSWER, hangup_cause="NO_ANSWER"),
        seq.make(events.OfferedToAgent, **call, agent=agent, leg_uuid="leg-2", queue=None),
        seq.make(events.AnsweredByAgent, **call, agent=agent, leg_uuid="leg-2"),
        seq.make(events.RecordingStarted, **call, path="/var/rec/call-1.wav"),
        seq.make(events.CallHeld, **call, by_agent=agent),
        seq.make(events.CallUnheld, **call, by_agent=agent),
        seq.make(events.ConsultStarted, **call, target_kind=events.TransferKind.AGENT,
                 target="1001", leg_uuid="leg-2", by_agent=agent),
        seq.make(events.ConsultEnded, **call, leg_uuid="leg-2", outcome="cancelled",
                 cause="NORMAL_CLEARING", by_agent=agent),
        seq.make(events.ConferenceStarted, **call, room="fs_cc_3way_call-1",
                 agent_leg="leg-1", party_leg="leg-2", by_agent=agent),
        seq.make(events.CallMuted, **call, leg_uuid="leg-1", by_agent=agent),
        seq.make(events.CallUnmuted, **call, leg_uuid="leg-1", by_agent=agent),
        seq.make(events.CallTransferred, **call, target_kind=events.TransferKind.QUEUE,
                 target="support", by_agent=agent),
        seq.make(events.CallQueued, **call, queue="support", priority=0, skills={},
                 position=1),
        seq.make(events.QueueLeft, **call, queue="support", outcome=events.QueueOutcome.TIMEOUT,
                 waited=30.5),
        seq.make(events.CallAdopted, **call, previous_engine="engine-a", queue="support"),
        seq.make(events.RecordingStopped, **call, path="/var/rec/call-1.wav", duration_ms=61000,
                 size=976044, cause="success-silence"),
        seq.make(events.RecordingFailed, **call, path="/var/rec/call-1b.wav",
                 reason="-ERR Cannot locate session!"),
        *message_events(seq, call),
        seq.make(events.CallEnded, **call, side=events.HangupSide.CALLER,
                 cause="NORMAL_CLEARING"),
        seq.make(events.AgentLoggedOut, agent=agent, queue="sales"),
        seq.make(events.QueueFiguresChanged, queue="sales", waiting=2, longest_wait=31.5,
                 agents={"available": 1, "on_call": 3}, offered=40, answered=35, abandoned=4,
                 short_abandoned=1, overflowed=1, answered_in_service_level=30,
                 service_level=0.8108, asa=12.4, aht=245.0),
        *callback_events(seq, call_uuid, agent),
        seq.make(events.FlowVersionLoaded, flow="main", sha256="ab" * 32,
                 text="name: main\nstart: bye\nnodes:\n  bye: {type: hangup}\n",
                 path="/etc/fs_cc/flows/main.yaml", version=None),
    ]


def message_events(seq, call):
    """One IVR message event of every type (web.messages)."""
    node = {"flow": "main"}
    return [
        seq.make(events.MessageRecorded, **call, **node, node="leave", path="/var/rec/m.wav",
                 duration_ms=4000, size=64044, cause="silence"),
        seq.make(events.VoicemailLeft, **call, **node, node="vm", box="queue:support",
                 path="/var/rec/vm.wav", duration_ms=9000, caller_number="+32475000111"),
        seq.make(events.SmsRequested, **call, **node, node="sms", request_id="sms-1",
                 number="+32475000111", text="Hotel Lotus, 88 Nanjing Road / 南京路88号"),
        seq.make(events.SurveyAnswered, **call, **node, node="rate", score=4, agent="1000",
                 queue="sales"),
    ]


def callback_events(seq, call_uuid="call-1", agent="1000"):
    """One callback event of every type, in a request's plausible order."""
    cb = {"callback_id": "cb-1"}
    return [
        seq.make(events.CallbackRequested, **cb, queue="sales", number="+32475000111",
                 since=T0, priority=5, skills={"fr": 2}, call_uuid=call_uuid,
                 caller_number="+32475000111"),
        seq.make(events.CallbackQueued, **cb, queue="sales"),
        seq.make(events.CallbackDispatched, **cb, agent=agent, call_uuid="cb-call-1",
                 leg_uuid="cb-leg-1", attempt=1),
        seq.make(events.CallbackAttempted, **cb, agent=agent, call_uuid="cb-call-1",
                 outcome=events.AttemptOutcome.BUSY, cause="USER_BUSY", attempts=1,
                 retry_at=T0 + datetime.timedelta(minutes=2)),
        seq.make(events.CallbackRescheduled, **cb, not_before=T0 + datetime.timedelta(hours=1),
                 by="supervisor", attempts=1),
        seq.make(events.CallbackCompleted, **cb, agent=agent, call_uuid="cb-call-2", attempts=2),
        seq.make(events.CallbackFailed, callback_id="cb-2", reason="NO_ANSWER", attempts=3),
        seq.make(events.CallbackCancelled, callback_id="cb-3", by="supervisor"),
    ]


def encoded(event, **changes):
    """The JSON dict of ``event`` with ``changes`` (a value of None deletes the key)."""
    data = json.loads(events.encode(event))
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return json.dumps(data)


def test_given_the_factory_when_listing_types_then_every_event_type_is_built():
    assert {type(event) for event in one_of_each()} == set(events.EVENT_TYPES.values())


@pytest.mark.parametrize("event", one_of_each(), ids=lambda event: event.TYPE)
def test_given_an_event_when_encoded_and_decoded_then_it_is_equal(event):
    text = events.encode(event)

    assert json.loads(text)["type"] == event.TYPE
    assert events.decode(text) == event


def test_given_an_event_when_encoded_then_enums_are_values_and_times_have_an_offset():
    event = make_sequencer().make(events.CallEnded, call_uuid="u", side=events.HangupSide.AGENT,
                                  cause="NORMAL_CLEARING")

    data = json.loads(events.encode(event))

    assert data["side"] == "agent"
    assert data["ts"] == "2024-05-01T09:30:00+00:00"


def test_given_an_unknown_type_when_decoding_then_it_is_refused_naming_it():
    with pytest.raises(events.UnknownEventType) as caught:
        events.decode('{"type": "call.teleported", "call_uuid": "u"}')

    assert caught.value.event_type == "call.teleported"


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '{"call_uuid": "u"}', '{"type": 3}'])
def test_given_a_text_that_is_no_event_object_when_decoding_then_it_is_malformed(text):
    with pytest.raises(events.MalformedEvent):
        events.decode(text)


def test_given_an_unknown_field_when_decoding_then_it_is_refused_naming_field_and_type():
    event = one_of_each()[2]

    with pytest.raises(events.UnknownField) as caught:
        events.decode(encoded(event, colour="blue"))

    assert (caught.value.event_type, caught.value.field) == ("call.started", "colour")
    assert "colour" in str(caught.value)


@pytest.mark.parametrize("field", ["did", "call_uuid", "seq", "ts", "engine"])
def test_given_a_missing_field_when_decoding_then_it_is_refused_naming_it(field):
    event = one_of_each()[2]

    with pytest.raises(events.MissingField) as caught:
        events.decode(encoded(event, **{field: None}))

    assert (caught.value.event_type, caught.value.field) == ("call.started", field)


def test_given_a_missing_field_with_a_default_when_decoding_then_the_default_is_used():
    event = one_of_each()[2]

    decoded = events.decode(encoded(event, caller_name=None))

    assert decoded.caller_name == ""


@pytest.mark.parametrize("index, field, value", [
    (15, "side", "martian"),  # not an enum value
    (2, "seq", "7"),  # a text for an int
    (2, "seq", True),  # a bool is no number here
    (2, "ts", "2024-05-01T09:30:00"),  # no offset
    (2, "ts", "yesterday"),
    (5, "skills", ["fr"]),
    (5, "skills", {"fr": "high"}),
    (3, "node", None),  # None where no Optional
])
def test_given_a_wrong_value_when_decoding_then_it_is_refused_naming_the_field(index, field,
                                                                              value):
    event = one_of_each()[index]
    data = json.loads(events.encode(event))
    data[field] = value

    with pytest.raises(events.EventFieldError) as caught:
        events.decode(json.dumps(data))

    assert caught.value.field.split(".")[0] == field
    assert caught.value.event_type == event.TYPE


def test_given_a_naive_time_when_building_an_event_then_it_is_refused():
    with pytest.raises(events.EventFieldError) as caught:
        events.CallEnded(engine="e", seq=1, ts=datetime.datetime(2024, 5, 1), call_uuid="u",
                         side=events.HangupSide.CALLER, cause="NORMAL_CLEARING")

    assert caught.value.field == "ts"


def test_given_an_event_when_changed_then_it_refuses_because_it_is_frozen():
    event = next(e for e in one_of_each() if isinstance(e, events.CallQueued))

    with pytest.raises(dataclasses.FrozenInstanceError):
        event.queue = "other"
    with pytest.raises(TypeError):
        event.skills["fr"] = 9


def test_given_the_enums_when_read_then_their_values_are_stable():
    assert [s.value for s in events.HangupSide] == ["caller", "agent", "system"]
    assert [s.value for s in events.OfferFailure] == [
        "no_answer", "busy", "rejected", "unregistered", "failed", "cancelled"]
    assert [s.value for s in events.CallState] == [
        "ringing", "ivr", "queued", "offering", "connected", "held", "ended"]
    assert [s.value for s in events.TransferKind] == ["agent", "queue", "ivr", "number"]
    assert [s.value for s in events.QueueOutcome] == [
        "answered", "timeout", "exit_key", "full", "no_agents", "closed", "unknown_queue",
        "hung_up", "transferred"]
    assert sorted(events.EVENT_TYPES) == sorted([
        "call.started", "call.ivr_node_entered", "call.ivr_node_left", "call.ivr_input",
        "call.queued", "call.queue_left", "call.priority_changed", "call.adopted",
        "call.offered", "call.offer_failed", "call.answered", "call.transferred", "call.held",
        "call.unheld", "call.muted", "call.unmuted", "call.consult_started",
        "call.consult_ended", "call.conference_started", "call.recording_started", "call.recording_stopped",
        "call.recording_failed", "call.ended",
        "agent.status_changed", "agent.logged_in", "agent.logged_out", "callback.requested",
        "callback.queued", "callback.dispatched", "callback.attempted", "callback.completed",
        "callback.failed", "callback.cancelled", "callback.rescheduled", "queue.figures",
        "call.message_recorded", "call.voicemail_left", "call.sms_requested",
        "call.survey_answered", "call.flow_started", "flow.version_loaded", "call.ivr_lookup"])


def test_given_todays_modules_when_compared_then_the_enums_share_their_values():
    assert [s.value for s in events.AgentState] == [s.value for s in AgentStatus]
    assert RecordHangupSide is events.HangupSide  # the record holds the event's Enum
    assert [s.value for s in events.HangupSide] == ["caller", "agent", "system"]


def test_given_the_worker_task_names_when_read_then_record_call_is_todays_name():
    assert events.TASK_RECORD_CALL == "fs_cc.record_call"
    assert events.TASK_STORE_EVENTS == "fs_cc.store_events"


@pytest.mark.parametrize("cause, failure", [
    ("NO_ANSWER", events.OfferFailure.NO_ANSWER),
    ("NO_USER_RESPONSE", events.OfferFailure.NO_ANSWER),
    ("ORIGINATOR_CANCEL", events.OfferFailure.NO_ANSWER),
    ("USER_BUSY", events.OfferFailure.BUSY),
    ("CALL_REJECTED", events.OfferFailure.REJECTED),
    ("USER_NOT_REGISTERED", events.OfferFailure.UNREGISTERED),
    ("SUBSCRIBER_ABSENT", events.OfferFailure.UNREGISTERED),
    ("-ERR USER_BUSY", events.OfferFailure.BUSY),
    (" no_answer\n", events.OfferFailure.NO_ANSWER),
    ("NORMAL_TEMPORARY_FAILURE", events.OfferFailure.FAILED),
    ("UNALLOCATED_NUMBER", events.OfferFailure.FAILED),
    ("", events.OfferFailure.FAILED),
    (None, events.OfferFailure.FAILED),
])
def test_given_a_hangup_cause_when_mapped_then_the_offer_failure_fits(cause, failure):
    assert events.OfferFailure.from_hangup_cause(cause) is failure


def test_given_a_whole_call_when_folded_then_every_transition_is_allowed():
    state = None
    seen = []
    for event in one_of_each():
        if isinstance(event, events.CallEvent):
            state = events.call_state_after(state, event)
            seen.append(state)

    assert seen[0] is CallState.RINGING
    assert CallState.HELD in seen
    assert state is CallState.ENDED


@pytest.mark.parametrize("current, target", [
    (None, CallState.RINGING),
    (CallState.RINGING, CallState.IVR),
    (CallState.IVR, CallState.QUEUED),
    (CallState.QUEUED, CallState.OFFERING),
    (CallState.OFFERING, CallState.QUEUED),
    (CallState.OFFERING, CallState.CONNECTED),
    (CallState.CONNECTED, CallState.HELD),
    (CallState.HELD, CallState.CONNECTED),
    (CallState.CONNECTED, CallState.QUEUED),
    (CallState.QUEUED, CallState.ENDED),
])
def test_given_an_allowed_transition_when_checked_then_it_passes(current, target):
    events.check_call_transition("u", current, target)


@pytest.mark.parametrize("current, target", [
    (None, CallState.QUEUED),
    (CallState.RINGING, CallState.CONNECTED),
    (CallState.QUEUED, CallState.CONNECTED),
    (CallState.IVR, CallState.HELD),
    (CallState.HELD, CallState.HELD),
    (CallState.ENDED, CallState.RINGING),
    (CallState.ENDED, CallState.ENDED),
])
def test_given_a_refused_transition_when_checked_then_the_error_carries_the_call(current,
                                                                                target):
    with pytest.raises(events.InvalidCallTransition) as caught:
        events.check_call_transition("call-9", current, target, "call.x")

    error = caught.value
    assert (error.call_uuid, error.current, error.target, error.event_type) == (
        "call-9", current, target, "call.x")
    assert "call-9" in str(error)


def test_given_an_ended_call_when_an_answer_arrives_then_it_is_refused_naming_the_event():
    answered = make_sequencer().make(events.AnsweredByAgent, call_uuid="u", agent="1000",
                                     leg_uuid="leg")

    with pytest.raises(events.InvalidCallTransition) as caught:
        events.call_state_after(CallState.ENDED, answered)

    assert caught.value.event_type == "call.answered"


def test_given_an_ended_call_when_its_recording_stops_then_the_state_stays_ended():
    stopped = make_sequencer().make(events.RecordingStopped, call_uuid="u", path="/r.wav")

    assert events.call_state_after(CallState.ENDED, stopped) is CallState.ENDED


def test_given_a_sequencer_when_stamping_then_seq_rises_by_one_and_carries_the_engine():
    stamped = one_of_each(make_sequencer("engine-b"))

    assert [event.seq for event in stamped] == list(range(1, len(stamped) + 1))
    assert {event.engine for event in stamped} == {"engine-b"}
    assert all(event.ts.utcoffset() == datetime.timedelta(0) for event in stamped)


def test_given_a_restarted_engine_when_it_resumes_from_its_last_seq_then_no_number_repeats():
    sequencer = make_sequencer(start=41)

    assert [sequencer.next_seq() for _ in range(3)] == [42, 43, 44]


def test_given_the_real_clock_when_stamping_then_the_time_is_aware_utc():
    event = events.EventSequencer("e").make(events.CallStarted, call_uuid="u", did="1",
                                            caller_number="2")

    assert event.ts.tzinfo is datetime.timezone.utc
