"""The shipped seed flows (hotel, membership, complaint) on scripted callers.

The membership hotline asks a real local HTTP server for the points (the shipped data source
``points_by_card``, pointed at it); text prompts are spoken by the real speech cache.
"""

import dataclasses
import datetime
import pathlib
import zoneinfo

import pytest

from fs_cc import events, journal
from fs_cc.emitter import RecordingEmitter
from fs_cc.events import QueueOutcome
from fs_cc.ivr import load_flow
from fs_cc.ivr.datasources import DataSources, load_sources, sources_path
from fs_cc.ivr.nodes_say import say_text
from fs_cc.ivr.runner import FlowOutcome, FlowRunner
from fs_cc.ivr.speech import PromptCache, prepare_speech
from tests.callbacks.test_callback_node import RecordingRequests
from tests.ivr.doubles import RecordingAcd, ScriptedSession
from tests.ivr.test_lookup import GOLD, MembersApi
from tests.ivr.test_transfer import AnsweringAcd, Stack

FLOWS = pathlib.Path(__file__).resolve().parents[2] / "ivr_flows"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def speech_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("sounds")


def seed(name, speech_dir):
    """The shipped flow ``name``, its text prompts spoken into ``speech_dir``."""
    flow = load_flow(FLOWS / f"{name}.yaml", queues={"sales", "support"})
    prepare_speech(flow, PromptCache(speech_dir))
    return flow


@pytest.fixture
def members_api():
    api = MembersApi().start()
    yield api
    api.stop()


def shipped_sources(api):
    """The shipped data sources, with points_by_card's URL on the test's API."""
    sources = load_sources(sources_path(FLOWS))
    sources["points_by_card"] = dataclasses.replace(sources["points_by_card"], url=api.url)
    return DataSources(sources)


def run(flow, session, acd=None, services=None, callbacks=None, clock=None):
    acd = acd or AnsweringAcd(session)
    emitter = RecordingEmitter()
    emitter.emit(events.CallStarted, call_uuid=session.uuid, did="8000",
                 caller_number=session.caller_number)
    options = {} if clock is None else {"clock": clock}
    result = FlowRunner(flow, acd, emitter, services=services, callbacks=callbacks,
                        **options).run(session)
    return result, journal.fold(emitter.events), acd, emitter


def played(session):
    return [arg for app, arg in session.executed if app == "playback"]


# -- membership ----------------------------------------------------------------------------

def test_given_gold_card_when_membership_hotline_runs_then_points_spoken_and_queued_first(
        speech_dir, members_api):
    flow = seed("membership", speech_dir)
    session = ScriptedSession(keys=[GOLD])
    result, record, acd, emitter = run(flow, session, services={
        "data_sources": shipped_sources(members_api)})
    assert result.outcome is FlowOutcome.QUEUED
    assert record.ivr_path == ["welcome", "card", "card:valid", "find_points", "points",
                               "points_again", "vip", "gold_priority", "agent"]
    assert members_api.paths == [f"/members/{GOLD}"]
    assert session.variables["points"] == "1200" and session.variables["tier"] == "gold"
    assert acd.enqueued == [("call-1", "support")] and acd.options[0]["priority"] == 5
    # "您的积分是 {points} 分。": the fixed words, then 1200 read as a Chinese number, then 分
    cache = flow.speech.cache
    spoken_points = cache.sound_name(say_text("number", "1200", "zh"), "zh")
    points_prompt = played(session)[1]
    assert points_prompt.startswith("file_string://") and spoken_points in points_prompt
    assert points_prompt.split("!")[0].endswith(cache.sound_name("您的积分是", "zh"))
    assert played(session)[2] == spoken_points  # the say node: the same words, cached once
    assert [e.result for e in emitter.of_type(events.IvrLookup)] == ["found"]


def test_given_unknown_card_when_membership_hotline_runs_then_told_and_queued_normally(
        speech_dir, members_api):
    flow = seed("membership", speech_dir)
    session = ScriptedSession(keys=["62000404"])
    result, record, acd, _ = run(flow, session, services={
        "data_sources": shipped_sources(members_api)})
    assert record.ivr_path[-3:] == ["find_points", "unknown_card", "agent"]
    assert acd.options[0]["priority"] == 0 and "points" not in session.variables


def test_given_points_system_down_when_membership_hotline_runs_then_apology_and_agent(
        speech_dir, members_api):
    flow = seed("membership", speech_dir)
    sources = shipped_sources(members_api)
    members_api.stop()
    result, record, acd, _ = run(flow, ScriptedSession(keys=[GOLD]),
                                 services={"data_sources": sources})
    assert record.ivr_path[-3:] == ["find_points", "lookup_failed", "agent"]
    assert acd.enqueued == [("call-1", "support")]


def test_given_no_card_keyed_when_membership_hotline_runs_then_straight_to_an_agent(speech_dir):
    flow = seed("membership", speech_dir)
    result, record, acd, _ = run(flow, ScriptedSession(keys=["", "", ""]))
    assert record.ivr_path == ["welcome", "card", "card:timeout", "card:timeout",
                               "card:timeout", "agent"]


def test_given_no_agent_answers_when_membership_hotline_runs_then_sorry_and_bye(
        speech_dir, members_api):
    flow = seed("membership", speech_dir)
    result, record, _, _ = run(flow, ScriptedSession(keys=["62000404"]),
                               acd=RecordingAcd(outcome=QueueOutcome.TIMEOUT),
                               services={"data_sources": shipped_sources(members_api)})
    assert record.ivr_path[-3:] == ["agent", "sorry", "bye"]
    assert result.outcome is FlowOutcome.FLOW_HUNG_UP


def test_given_membership_hotline_on_the_emulator_when_gold_card_keyed_then_queued(
        switch, speech_dir, members_api):
    flow = seed("membership", speech_dir)
    # nobody serves the queue: the call ends in the flow, not after an agent's talk
    emitter, acd = RecordingEmitter(), RecordingAcd(outcome=QueueOutcome.NO_AGENTS)
    runner = FlowRunner(flow, acd, emitter, services={
        "data_sources": shipped_sources(members_api)})
    stack = Stack(switch, lambda did: runner, emitter)
    try:
        _, record = stack.call(dtmf=f"{GOLD}#", talk_seconds=5)
    finally:
        stack.stop()
    assert record.ivr_path[-6:] == ["points_again", "vip", "gold_priority", "agent", "sorry",
                                    "bye"]
    assert acd.options[0]["priority"] == 5


# -- hotel ---------------------------------------------------------------------------------

def at(year, month, day, hour):
    return lambda: datetime.datetime(year, month, day, hour, tzinfo=SHANGHAI).timestamp()


OPEN = at(2026, 12, 3, 10)
NIGHT = at(2026, 12, 3, 2)
NEW_YEAR = at(2026, 2, 17, 10)


@pytest.mark.parametrize("key, queue, path_end", [
    ("1", "sales", ["menu:1", "reservations"]),
    ("0", "support", ["menu:0", "front_desk"]),
])
def test_given_open_hours_when_caller_chooses_then_that_desk(speech_dir, key, queue, path_end):
    result, record, acd, _ = run(seed("hotel", speech_dir), ScriptedSession(keys=[key]),
                                 clock=OPEN)
    assert record.ivr_path == ["hours", "welcome", "menu"] + path_end
    assert acd.enqueued == [("call-1", queue)]


def test_given_room_service_does_not_answer_when_chosen_then_front_desk(speech_dir):
    session = ScriptedSession(keys=["2"])
    result, record, acd, emitter = run(seed("hotel", speech_dir), session, clock=OPEN)
    assert ("bridge", "user/1010") in session.executed
    assert record.ivr_path[-2:] == ["room_service", "front_desk"]
    assert acd.enqueued == [("call-1", "support")]
    assert [(e.target_kind.value, e.target) for e in emitter.of_type(events.CallTransferred)] \
        == [("agent", "1010")]


def test_given_silent_caller_when_hotel_menu_runs_then_front_desk(speech_dir):
    result, record, acd, _ = run(seed("hotel", speech_dir), ScriptedSession(keys=["", "", ""]),
                                 clock=OPEN)
    assert record.ivr_path[-1] == "front_desk" and acd.enqueued == [("call-1", "support")]


@pytest.mark.parametrize("clock", [NIGHT, NEW_YEAR], ids=["night", "new_year"])
def test_given_closed_when_caller_calls_then_callback_recorded(speech_dir, clock):
    requests = RecordingRequests()
    session = ScriptedSession(caller_number="13800138000", keys=["1"])
    result, record, acd, _ = run(seed("hotel", speech_dir), session, callbacks=requests,
                                 clock=clock)
    assert record.ivr_path == ["hours", "closed", "offer_callback", "offer_callback:1",
                               "goodbye", "bye"]
    assert [(r["queue"], r["number"]) for r in requests.requests] == [
        ("support", "13800138000")]
    assert acd.enqueued == []


# -- complaint -----------------------------------------------------------------------------

def test_given_service_complaint_when_answered_then_queued_first_with_its_type(speech_dir):
    session = ScriptedSession(keys=["1"])
    result, record, acd, _ = run(seed("complaint", speech_dir), session,
                                 callbacks=RecordingRequests(wait=30))
    assert result.outcome is FlowOutcome.QUEUED
    assert record.ivr_path == ["welcome", "menu", "menu:1", "service", "queue"]
    assert session.variables["complaint_type"] == "service"
    assert acd.options[0]["priority"] == 2 and acd.options[0]["exit_key"] == "9"


def test_given_long_estimated_wait_when_complaint_queued_then_callback_keeps_place(speech_dir):
    requests = RecordingRequests(wait=900)
    session = ScriptedSession(caller_number="13800138000", keys=["2", "1"])
    result, record, acd, _ = run(seed("complaint", speech_dir), session, callbacks=requests)
    assert record.ivr_path == ["welcome", "menu", "menu:2", "product", "queue",
                               "callback_intro", "offer_callback", "offer_callback:1",
                               "recorded", "bye"]
    assert acd.enqueued == []  # offered before joining the line
    assert requests.requests[0]["queue"] == "support"


@pytest.mark.parametrize("outcome, path_end", [
    (QueueOutcome.TIMEOUT, ["queue", "callback_intro", "offer_callback"]),
    (QueueOutcome.EXIT_KEY, ["queue", "callback_intro", "offer_callback"]),
    (QueueOutcome.NO_AGENTS, ["queue", "closed", "bye"]),
])
def test_given_queue_outcome_when_complaint_waits_then_its_exit(speech_dir, outcome, path_end):
    session = ScriptedSession(keys=["3"])  # then no key at the callback offer
    result, record, _, _ = run(seed("complaint", speech_dir), session,
                               acd=RecordingAcd(outcome=outcome),
                               callbacks=RecordingRequests(wait=30))
    path = [step for step in record.ivr_path if not step.startswith("offer_callback:")]
    assert path[4:4 + len(path_end)] == path_end  # after welcome, menu, menu:3, other
    assert session.variables["complaint_type"] == "other"
    assert result.outcome is FlowOutcome.FLOW_HUNG_UP
