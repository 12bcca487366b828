"""A closed queue (outside its opening hours, or closed by an admin): the queue node takes its
``closed`` exit at once, told apart from ``no_agents`` (open, nobody there); on the switch with
the real ACD."""

import datetime

import pytest

from fs_cc import events
from fs_cc.acd import MemoryStore, build_acd
from fs_cc.acd.queue_def import QueueSettingError, parse_queue
from fs_cc.callctl import CallControl
from fs_cc.callflow import CallHandler
from fs_cc.emitter import RecordingEmitter
from fs_cc.errors import ConfigError
from fs_cc.esl.inbound import InboundClient
from fs_cc.esl.outbound import OutboundServer
from fs_cc.events import QueueOutcome
from fs_cc.ivr import parse_flow
from fs_cc.ivr.runner import FlowRunner
from tests.switch import wait_until

EVENTS = ("CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE",
          "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "BACKGROUND_JOB")
FLOW = """\
start: route
nodes:
  route:
    type: menu
    prompt: ivr/ivr-welcome_to_freeswitch.wav
    options: {"1": shop, "2": desk, "3": help}
    default: shut
  shop:
    type: queue
    queue: shop
    outcomes: {closed: shut, no_agents: nobody}
  desk:
    type: queue
    queue: desk
    outcomes: {closed: shut, no_agents: nobody}
  help:
    type: queue
    queue: help
    outcomes: {closed: shut, no_agents: nobody}
  shut: {type: hangup, cause: CALL_REJECTED}
  nobody: {type: hangup, cause: USER_BUSY}
"""


def _around_today():
    today = datetime.datetime.now(datetime.timezone.utc).date()
    return [str(today + datetime.timedelta(days=d)) for d in (-1, 0, 1)]


ALL_WEEK = {"tz": "UTC", "mon-sun": "00:00-24:00"}
QUEUES = [
    {"name": "shop", "hours": dict(ALL_WEEK, holidays=_around_today())},  # closed: a holiday
    {"name": "desk", "closed": True, "hours": ALL_WEEK},  # closed by an admin
    {"name": "help", "hours": ALL_WEEK, "overflow": {"no_agents": "hangup"}},  # open, unstaffed
]


@pytest.fixture
def stack(switch):
    """FLOW on the switch's calls with a real ACD and nobody logged in; the finished calls."""
    emitter = RecordingEmitter()
    esl = InboundClient(*switch.esl_address, switch.password, events=EVENTS)
    esl.start()
    assert esl.wait_connected(timeout=5)
    acd = build_acd(MemoryStore(), CallControl(esl), {
        "queues": QUEUES, "agents": [{"extension": "1001", "queues": ["shop", "desk", "help"]}],
        "ring_timeout": 5}, emitter)
    acd.start()
    runner = FlowRunner(parse_flow(FLOW, "closed.yaml", queues={"shop", "desk", "help"}), acd,
                        emitter)
    handler = CallHandler(lambda did: runner, emitter)
    done = []
    server = OutboundServer("127.0.0.1", 0, lambda s: done.append(handler.handle(s))).start()
    switch.route_to(*server.address)
    yield switch, emitter, done
    server.stop(timeout=1)
    acd.stop()
    esl.stop()


@pytest.mark.parametrize("key, queue, outcome, exit_node, cause", [
    ("1", "shop", QueueOutcome.CLOSED, "shut", "CALL_REJECTED"),  # outside its hours
    ("2", "desk", QueueOutcome.CLOSED, "shut", "CALL_REJECTED"),  # closed by an admin
    ("3", "help", QueueOutcome.NO_AGENTS, "nobody", "USER_BUSY"),  # open, nobody staffs it
])
def test_given_a_queue_closed_or_unstaffed_when_a_caller_is_sent_there_then_its_own_exit_at_once(
        stack, key, queue, outcome, exit_node, cause):
    switch, emitter, done = stack
    switch.place_call("5901", dtmf=key)
    wait_until(lambda: done, timeout=10 + switch.real_seconds(20), what="the call to end")
    [ended] = done
    assert ended.cause == cause
    [left] = emitter.of_type(events.QueueLeft)
    assert (left.queue, left.outcome) == (queue, outcome)
    assert emitter.of_type(events.CallQueued) == []  # nobody waited, no music on hold
    assert (queue, exit_node) in [(e.node, e.outcome) for e in emitter.of_type(events.IvrNodeLeft)]


def test_given_queue_hours_then_checked_as_the_condition_nodes_and_kept_as_plain_data():
    queue = parse_queue({"name": "q", "hours": {"tz": "Asia/Shanghai", "mon-fri": "09:00-18:00",
                                                "holidays": ["2026-10-01"]}})
    monday_10_shanghai = datetime.datetime(2026, 12, 7, 2, 0, tzinfo=datetime.timezone.utc)
    assert not queue.closed_at(monday_10_shanghai.timestamp())
    assert queue.closed_at(monday_10_shanghai.timestamp() + 9 * 3600)  # 19:00 there
    assert queue.closed_at(datetime.datetime(2026, 10, 1, 3, tzinfo=datetime.timezone.utc)
                           .timestamp())  # a holiday
    assert parse_queue(queue.to_dict()) == queue  # the catalog's round trip
    assert queue.to_dict()["hours"]["mon"] == ["09:00-18:00"]
    assert not parse_queue({"name": "q"}).closed_at(0)  # no hours: always open


@pytest.mark.parametrize("hours, message", [
    ({"mon-fri": "09:00-18:00"}, "hours: needs 'tz'"),
    ({"tz": "UTC", "mon-fri": "9-18"}, "bad time range '9-18'"),
    ({"tz": "UTC", "mon-fri": "09:00-18:00", "holidays_file": "x.txt"}, "list the dates"),
])
def test_given_bad_queue_hours_then_the_setting_is_named(hours, message):
    with pytest.raises(QueueSettingError) as caught:
        parse_queue({"name": "q", "hours": hours}, "queues[0]")
    assert caught.value.field == "hours" and message in str(caught.value)
    assert str(caught.value).startswith("queues[0].hours: ")


def test_given_closed_outcome_then_the_flow_knows_it_and_an_unknown_one_is_refused():
    assert parse_flow(FLOW, "ok.yaml").node("shop").on["closed"] == "shut"
    with pytest.raises(ConfigError, match="unknown outcome 'shut'"):
        parse_flow(FLOW.replace("{closed: shut, no_agents: nobody}", "{shut: shut}", 1), "b.yaml")
