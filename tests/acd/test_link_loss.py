"""The ACD when the ESL link drops mid-call, with a double FreeSWITCH: who ended the call, and after."""


import gevent
import pytest

from fs_cc.acd import ACD, AgentStatus, MemoryStore, Queue
from fs_cc.acd.legs import LegEnd, agent_left_first
from fs_cc.callctl import CallControl
from fs_cc.channels import Channel
from fs_cc.emitter import RecordingEmitter
from fs_cc.esl.protocol import Event
from fs_cc.events import HangupSide
from tests.acd.conftest import FakeClock
from tests.acd.doubles import CallerLine, FakeSwitch
from tests.polling import wait_until

AGENT = "1000"
GRACE = 0.2  # the ACD's resync_grace: how long it waits for a resync report before uuid_exists




@pytest.fixture
def store():
    return MemoryStore(clock=FakeClock())


@pytest.fixture
def switch():
    return FakeSwitch()


@pytest.fixture
def acd(store, switch):
    acd = ACD(store, CallControl(switch), [Queue("sales")], RecordingEmitter(), ring_timeout=2,
              retry_delay=0.05, hangup_grace=0.05, resync_grace=GRACE)
    acd.start()
    store.define_agent(AGENT, "Agent", ["sales"])
    acd.login(AGENT)
    yield acd
    acd.stop()


@pytest.fixture
def call(acd, switch, store):
    """A caller connected to the agent: (its line, agent leg uuid)."""
    line = CallerLine(acd, switch, acd._emitter, "caller-1", "sales")
    wait_until(lambda: store.get_agent(AGENT).status is AgentStatus.ON_CALL, what="agent on call")
    return line, switch.leg_of(AGENT)


def vanished_leg(uuid, cause=None, call_uuid="caller-1"):
    """The Channel the engine's resync hands over for an agent leg gone while the link was down."""
    return Channel(uuid, hangup_cause=cause,
                   variables={"fs_cc_call_uuid": call_uuid, "fs_cc_agent": AGENT})


def stamp(name, microseconds, sequence=None):
    headers = {"Event-Name": name, "Unique-ID": "caller-1", "Event-Date-Timestamp": str(microseconds)}
    if sequence is not None:
        headers["Event-Sequence"] = str(sequence)
    return Event(headers)


def ended(microseconds, sequence=None):
    """The LegEnd of an agent leg whose CHANNEL_HANGUP was seen."""
    return LegEnd.from_event(stamp("CHANNEL_HANGUP", microseconds, sequence))


def test_given_link_down_when_resync_reports_agent_leg_gone_then_side_agent_caller_hung_up_agent_available(
        acd, switch, store, call):
    line, leg = call
    switch.link_lost()
    switch.agent_hangs_up(leg)  # unseen: the link is down
    switch.link_back()
    assert acd.agent_legs_vanished([vanished_leg(leg)]) == [leg]
    result = line.result(timeout=2)
    assert (result.agent, result.side, result.cause) == (
        AGENT, HangupSide.AGENT, "NORMAL_CLEARING")
    assert line.hung_up_by_us == "NORMAL_CLEARING"
    assert store.get_agent(AGENT).status is AgentStatus.AVAILABLE
    assert f"uuid_exists {leg}" not in switch.commands  # the report came before the fallback


def test_given_resync_report_knows_the_cause_when_call_ends_then_record_has_it(acd, switch, call):
    line, leg = call
    switch.link_lost()
    switch.link_back()
    acd.agent_legs_vanished([vanished_leg(leg, cause="MEDIA_TIMEOUT")])
    result = line.result(timeout=2)
    assert (result.side, result.cause) == (HangupSide.AGENT, "MEDIA_TIMEOUT")


def test_given_report_of_a_leg_no_call_follows_when_told_then_nothing_changes(acd, switch, store, call):
    line, leg = call
    assert acd.agent_legs_vanished([vanished_leg("someone-else", call_uuid="caller-9")]) == []
    gevent.sleep(0)
    assert not line.ticket.ready()
    assert store.get_agent(AGENT).status is AgentStatus.ON_CALL
    switch.agent_hangs_up(leg)
    result = line.result(timeout=2)


def test_given_link_down_and_no_resync_report_when_back_then_uuid_exists_false_ends_call_as_agent(
        acd, switch, store, call):
    line, leg = call
    switch.link_lost()
    switch.agent_hangs_up(leg)
    gevent.sleep(GRACE * 2)
    assert not line.ticket.ready()  # nothing is decided while the link is down
    switch.link_back()
    result = line.result(timeout=GRACE + 2)
    assert f"uuid_exists {leg}" in switch.commands
    assert (result.side, result.cause) == (HangupSide.AGENT, "NORMAL_CLEARING")
    assert line.hung_up_by_us == "NORMAL_CLEARING"
    assert store.get_agent(AGENT).status is AgentStatus.AVAILABLE


def test_given_agent_leg_survives_the_link_loss_when_agent_hangs_up_later_then_side_agent_with_cause(
        acd, switch, store, call):
    line, leg = call
    switch.link_lost()
    switch.link_back()
    wait_until(lambda: f"uuid_exists {leg}" in switch.commands, GRACE + 2, "uuid_exists")
    assert not line.ticket.ready()
    switch.agent_hangs_up(leg, "CALL_REJECTED")
    result = line.result(timeout=2)
    assert (result.side, result.cause) == (HangupSide.AGENT, "CALL_REJECTED")
    assert store.get_agent(AGENT).status is AgentStatus.AVAILABLE


def test_given_agent_hangs_up_just_after_reconnect_when_call_ends_then_cause_from_its_event(
        acd, switch, call):
    line, leg = call
    switch.link_lost()
    switch.link_back()
    switch.agent_hangs_up(leg, "USER_BUSY")  # seen: its event waits in the watch
    result = line.result(timeout=GRACE + 2)
    assert (result.side, result.cause) == (HangupSide.AGENT, "USER_BUSY")


def test_given_link_drops_again_before_uuid_exists_when_back_then_checked_after_that(
        acd, switch, call):
    line, leg = call
    switch.link_lost()
    switch.link_back()
    switch.link_lost()
    switch.agent_hangs_up(leg)
    gevent.sleep(GRACE * 2)
    assert not line.ticket.ready()
    switch.link_back()
    result = line.result(timeout=GRACE + 2)
    assert result.side == HangupSide.AGENT


def test_given_caller_hangs_up_while_link_down_then_side_caller_and_agent_available(
        acd, switch, store, call):
    line, leg = call
    switch.link_lost()
    line.caller_hangs_up("NORMAL_CLEARING")
    result = line.result(timeout=2)
    assert (result.side, result.cause) == (HangupSide.CALLER, "NORMAL_CLEARING")
    assert store.get_agent(AGENT).status is AgentStatus.AVAILABLE


def test_given_agent_leaves_while_link_down_and_switch_ends_caller_then_unbridge_order_says_agent(
        acd, switch, store, call):
    line, leg = call
    switch.link_lost()
    switch.agent_hangs_up(leg, timestamp=1_000)
    line.agent_leg_leaves(timestamp=1_100)  # the caller's own socket is still up
    line.caller_hangs_up("NORMAL_CLEARING", timestamp=1_200)
    result = line.result(timeout=2)
    assert (result.side, result.cause) == (HangupSide.AGENT, "NORMAL_CLEARING")
    assert line.hung_up_by_us is None
    assert store.get_agent(AGENT).status is AgentStatus.AVAILABLE


def test_given_two_calls_when_one_agent_leg_vanishes_then_only_that_call_ends(acd, switch, store):
    store.define_agent("1001", "Agent 1001", ["sales"])
    acd.login("1001")
    lines = [CallerLine(acd, switch, acd._emitter, uuid, "sales")
             for uuid in ("caller-1", "caller-2")]
    wait_until(lambda: all(line.agent for line in lines), what="both calls connected")
    switch.link_lost()
    switch.link_back()
    gone = next(line for line in lines if line.agent == AGENT)
    acd.agent_legs_vanished([vanished_leg(switch.leg_of(AGENT), call_uuid=gone.uuid)])
    assert gone.result(timeout=2).side == HangupSide.AGENT
    other = next(line for line in lines if line is not gone)
    assert not other.ticket.ready()
    assert store.get_agent(other.agent).status is AgentStatus.ON_CALL
    switch.agent_hangs_up(switch.leg_of(other.agent))
    assert other.result(timeout=GRACE + 2).side == HangupSide.AGENT


@pytest.mark.parametrize("caller_hangup, agent_end, unbridges, agent_first", [
    (None, ended(100), (), True),
    (stamp("CHANNEL_HANGUP", 200), ended(100), (), True),
    (stamp("CHANNEL_HANGUP", 100), ended(200), (), False),
    # FreeSWITCH's event clock moves in 20 ms steps: one tick, the sequence tells
    (stamp("CHANNEL_HANGUP", 100, sequence=501), ended(100, sequence=502), (), False),
    (stamp("CHANNEL_HANGUP", 100, sequence=502), ended(100, sequence=501), (), True),
    # the sequence wins over the timestamps when both are there
    (stamp("CHANNEL_HANGUP", 300, sequence=501), ended(100, sequence=502), (), False),
    (stamp("CHANNEL_HANGUP", 100), LegEnd.from_event(Event({"Event-Name": "CHANNEL_HANGUP"})), (),
     True),
    (stamp("CHANNEL_HANGUP", 200), LegEnd("NORMAL_CLEARING"), (), False),
    (stamp("CHANNEL_HANGUP", 200), None, (), False),
    (stamp("CHANNEL_HANGUP", 200), None, (stamp("CHANNEL_UNBRIDGE", 150),), True),
    (stamp("CHANNEL_HANGUP", 200), LegEnd("X"), (stamp("CHANNEL_UNBRIDGE", 150),), True),
    (stamp("CHANNEL_HANGUP", 200), None, (stamp("CHANNEL_UNBRIDGE", 250),), False),
    (stamp("CHANNEL_HANGUP", 200, 90), None, (stamp("CHANNEL_UNBRIDGE", 200, 89),), True),
    (stamp("CHANNEL_HANGUP", 200, 89), None, (stamp("CHANNEL_UNBRIDGE", 200, 90),), False),
    (Event({"Event-Name": "CHANNEL_HANGUP"}), None, (stamp("CHANNEL_UNBRIDGE", 150),), False),
])
def test_given_what_is_known_of_both_legs_when_deciding_then_the_leg_that_left_first(
        caller_hangup, agent_end, unbridges, agent_first):
    assert agent_left_first(caller_hangup, agent_end, unbridges) is agent_first
