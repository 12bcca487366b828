"""The ACD with a double FreeSWITCH: who gets rung, retries, abandons, hangup sides, control."""

import time

import gevent
import pytest

from fs_cc import events
from fs_cc.acd import ACD, AgentStatus, InvalidTransition, MemoryStore, Queue, UnknownAgent
from fs_cc.acd import build_acd
from fs_cc.callctl import CallControl
from fs_cc.emitter import RecordingEmitter
from fs_cc.errors import ConfigError
from fs_cc.events import HangupSide, QueueOutcome
from tests.acd.conftest import FakeClock
from tests.acd.doubles import CallerLine, FakeSwitch
from tests.polling import wait_until

A = AgentStatus




@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def store(clock):
    return MemoryStore(clock=clock)


def make_acd(store, switch, clock, logged_in=("1000", "1001", "1002"), queues=None):
    queues = queues or [Queue("sales"), Queue("support")]
    acd = ACD(store, CallControl(switch), queues, RecordingEmitter(),
              ring_timeout=2, retry_delay=0.05, hangup_grace=0.05)
    acd.start()
    ROUTERS.append(acd)
    for ext in ("1000", "1001", "1002"):
        store.define_agent(ext, f"Agent {ext}", ["sales"])
    for ext in logged_in:
        acd.login(ext)
        clock.advance()
    return acd


ROUTERS = []


@pytest.fixture(autouse=True)
def _stop_routers():
    yield
    while ROUTERS:
        ROUTERS.pop().stop()


def start_call(acd, uuid="caller-1", queue="sales", **options):
    return CallerLine(acd, acd.ctl.esl, acd._emitter, uuid, queue, **options)


def connected(call):
    return lambda: call.agent is not None


def test_given_agents_idle_when_caller_queues_then_longest_idle_rung_and_bridged(store, clock):
    switch = FakeSwitch()
    acd = make_acd(store, switch, clock, logged_in=("1001", "1000", "1002"))
    call = start_call(acd)
    wait_until(connected(call), what="agent connected")
    assert call.agent == "1001"
    assert call.queue == "sales" and call.queued_at <= call.answered_at
    # hangup_after_bridge before the music: FreeSWITCH ends the caller when the agent leaves
    setvar = switch.commands.index("uuid_setvar caller-1 hangup_after_bridge true")
    assert switch.commands[setvar + 1] == "uuid_broadcast caller-1 local_stream://moh aleg"
    ext, variables = switch.originates[0]
    assert ext == "1001"
    assert variables["fs_cc_call_uuid"] == "caller-1"
    assert variables["origination_caller_id_number"] == "5551000"
    assert variables["originate_timeout"] == "2"
    assert switch.bridges == [("caller-1", variables["origination_uuid"])]
    assert "uuid_break caller-1 all" in switch.commands
    assert store.get_agent("1001").status is A.ON_CALL
    switch.agent_hangs_up(variables["origination_uuid"])
    result = call.result()


def test_given_agent_hangs_up_first_when_call_ends_then_side_agent_and_agent_available(
        store, clock):
    switch = FakeSwitch()
    acd = make_acd(store, switch, clock)
    call = start_call(acd)
    wait_until(connected(call))
    switch.agent_hangs_up(switch.leg_of(call.agent), "NORMAL_CLEARING")
    result = call.result()
    assert (result.side, result.cause) == (HangupSide.AGENT, "NORMAL_CLEARING")
    assert call.hung_up_by_us == "NORMAL_CLEARING"
    agent = store.get_agent(call.agent)
    assert agent.status is A.AVAILABLE and agent.last_call_ended_at is not None


def test_given_caller_hangs_up_during_talk_when_call_ends_then_side_caller_and_leg_killed(
        store, clock):
    switch = FakeSwitch()
    acd = make_acd(store, switch, clock)
    call = start_call(acd)
    wait_until(connected(call))
    leg = switch.leg_of(call.agent)
    call.caller_hangs_up("NORMAL_CLEARING")
    result = call.result()
    assert (result.side, result.cause) == (HangupSide.CALLER, "NORMAL_CLEARING")
    assert f"uuid_kill {leg} NORMAL_CLEARING" in switch.commands
    assert leg not in switch.up
    assert store.get_agent(call.agent).status is A.AVAILABLE


def test_given_caller_hangup_seen_first_but_agent_hung_up_earlier_then_side_agent(store, clock):
    switch = FakeSwitch()
    acd = make_acd(store, switch, clock)
    acd.hangup_grace = 2.0
    call = start_call(acd)
    wait_until(connected(call))
    now = int(time.time() * 1_000_000)
    # FreeSWITCH hung the caller up because the agent left; the caller's socket was faster
    call.caller_hangs_up("NORMAL_CLEARING", timestamp=now + 500)
    gevent.sleep(0.01)
    switch.agent_hangs_up(switch.leg_of(call.agent), "NORMAL_CLEARING", timestamp=now)
    result = call.result()
    assert result.side == HangupSide.AGENT


def test_given_caller_hangs_up_and_switch_ends_agent_leg_then_side_caller(store, clock):
    switch = FakeSwitch()
    acd = make_acd(store, switch, clock)
    acd.hangup_grace = 2.0
    call = start_call(acd)
    wait_until(connected(call))
    now = int(time.time() * 1_000_000)
    call.caller_hangs_up("NORMAL_CLEARING", timestamp=now)
    switch.agent_hangs_up(switch.leg_of(call.agent), "NORMAL_CLEARING", timestamp=now + 300)
    result = call.result()
    assert result.side == HangupSide.CALLER


def test_given_agent_leg_end_heard_before_earlier_caller_hangup_then_side_caller(store, clock):
    switch = FakeSwitch()
    acd = make_acd(store, switch, clock)
    acd.hangup_grace = 2.0
    call = start_call(acd)
    wait_until(connected(call))
    now = int(time.time() * 1_000_000)
    # the caller hung up first and FreeSWITCH then ended the agent leg, but the event socket
    # carrying the agent leg delivered its hangup before the caller's own socket did
    switch.agent_hangs_up(switch.leg_of(call.agent), "NORMAL_CLEARING", timestamp=now + 300)
    gevent.sleep(0.05)
    call.caller_hangs_up("NORMAL_CLEARING", timestamp=now)
    result = call.result()
    assert (result.side, result.cause) == (HangupSide.CALLER, "NORMAL_CLEARING")


def test_given_first_agent_busy_when_caller_queues_then_next_agent_rung_and_first_released(
        store, clock):
    switch = FakeSwitch({"1000": "USER_BUSY", "1001": "USER_NOT_REGISTERED"})
    acd = make_acd(store, switch, clock)
    call = start_call(acd)
    wait_until(connected(call))
    assert [ext for ext, _ in switch.originates] == ["1000", "1001", "1002"]
    assert call.agent == "1002"
    assert store.get_agent("1000").status is A.AVAILABLE
    assert store.get_agent("1001").status is A.AVAILABLE
    call.caller_hangs_up()
    result = call.result()


def test_given_every_agent_fails_when_caller_waits_then_they_are_rung_again_after_a_delay(
        store, clock):
    switch = FakeSwitch({"1000": "NO_ANSWER"})
    # the queue never sets an agent not ready for missed offers (max_no_answer 0)
    acd = make_acd(store, switch, clock, logged_in=("1000",),
                   queues=[Queue("sales", max_no_answer=0)])
    call = start_call(acd)
    wait_until(lambda: len(switch.originates) >= 3, what="three attempts")
    call.caller_hangs_up("ORIGINATOR_CANCEL")
    result = call.result()
    assert call.agent is None
    assert result.side == HangupSide.CALLER
    assert store.get_agent("1000").status is A.AVAILABLE


def test_given_no_agent_available_when_caller_abandons_then_dequeued_and_side_caller(
        store, clock):
    switch = FakeSwitch()
    acd = make_acd(store, switch, clock, logged_in=())
    call = start_call(acd)
    wait_until(lambda: acd.queues()[0]["waiting"] == 1, what="caller waiting")
    call.caller_hangs_up("ORIGINATOR_CANCEL")
    result = call.result()
    assert (result.side, result.cause) == (HangupSide.CALLER, "ORIGINATOR_CANCEL")
    assert call.answered_at is None and call.agent is None
    assert store.waiting_callers("sales") == []
    assert switch.originates == []


def test_given_caller_abandons_while_agent_rings_then_leg_killed_and_agent_released(
        store, clock):
    switch = FakeSwitch({"1000": 30})
    acd = make_acd(store, switch, clock, logged_in=("1000",))
    call = start_call(acd)
    wait_until(lambda: switch.ringing, what="agent ringing")
    assert store.get_agent("1000").status is A.RESERVED
    leg = switch.leg_of("1000")
    call.caller_hangs_up("ORIGINATOR_CANCEL")
    result = call.result()
    assert f"uuid_kill {leg} ORIGINATOR_CANCEL" in switch.commands
    assert store.get_agent("1000").status is A.AVAILABLE
    assert call.agent is None and result.side == HangupSide.CALLER
    assert store.waiting_callers("sales") == []


def test_given_caller_waiting_when_agent_logs_in_then_agent_rung_at_once(store, clock):
    switch = FakeSwitch()
    acd = make_acd(store, switch, clock, logged_in=())
    # no polling: only the login's wake-up can connect the call
    call = start_call(acd)
    wait_until(lambda: store.waiting_callers("sales") == ["caller-1"])
    acd.login("1002")
    wait_until(connected(call), timeout=2)
    assert call.agent == "1002"
    call.caller_hangs_up()
    result = call.result()


def test_given_two_callers_and_one_agent_when_agent_frees_then_first_caller_first(store, clock):
    switch = FakeSwitch()
    acd = make_acd(store, switch, clock, logged_in=())
    first = start_call(acd, "caller-1")
    wait_until(lambda: store.waiting_callers("sales") == ["caller-1"])
    clock.advance()
    second = start_call(acd, "caller-2")
    wait_until(lambda: store.waiting_callers("sales") == ["caller-1", "caller-2"])
    acd.login("1000")
    wait_until(connected(first))
    assert second.agent is None
    first.caller_hangs_up()
    first.result()
    wait_until(connected(second))
    assert [v["fs_cc_call_uuid"] for _, v in switch.originates] == ["caller-1", "caller-2"]
    second.caller_hangs_up()
    second.result()


def test_given_agent_leg_gone_before_bridge_when_bridging_then_next_agent(store, clock):
    switch = FakeSwitch()
    acd = make_acd(store, switch, clock, logged_in=("1000", "1001"))
    real_bgapi = switch.bgapi

    def answer_then_drop_first(command, timeout=None):
        reply = real_bgapi(command, timeout)
        if len(switch.originates) == 1:
            switch.agent_hangs_up(switch.leg_of("1000"))
        return reply

    switch.bgapi = answer_then_drop_first
    call = start_call(acd)
    wait_until(connected(call))
    assert call.agent == "1001"
    assert store.get_agent("1000").status is A.AVAILABLE
    call.caller_hangs_up()
    result = call.result()


def test_given_unknown_queue_when_enqueued_then_outcome_unknown_queue_and_nothing_waits(
        store, clock):
    acd = make_acd(store, FakeSwitch(), clock)
    call = start_call(acd, queue="billing")
    assert call.result().outcome is QueueOutcome.UNKNOWN_QUEUE
    (left,) = acd._emitter.of_type(events.QueueLeft)
    assert (left.queue, left.outcome) == ("billing", QueueOutcome.UNKNOWN_QUEUE)
    assert acd.callers == {} and store.waiting_callers("billing") == []


def test_given_agents_when_listed_then_control_dicts(store, clock):
    acd = make_acd(store, FakeSwitch(), clock, logged_in=("1000",))
    listed = {a["extension"]: a for a in acd.agents()}
    assert listed["1000"]["status"] == "available"
    assert listed["1001"]["status"] == "logged_out"
    assert listed["1000"]["queues"] == ["sales"]
    assert listed["1000"]["status_since"].startswith("2023-11-14T22:13:20")
    assert acd.queues() == [
        {"name": "sales", "strategy": "longest-idle", "waiting": 0, "agents_available": 1,
         "agents_logged_in": 1},
        {"name": "support", "strategy": "longest-idle", "waiting": 0, "agents_available": 0,
         "agents_logged_in": 0}]


def test_given_control_requests_when_applied_then_checked_and_idempotent(store, clock):
    acd = make_acd(store, FakeSwitch(), clock, logged_in=())
    assert acd.login("1000")["status"] == "available"
    assert acd.login("1000")["status"] == "available"
    assert acd.set_status("1000", "BREAK")["status"] == "not_ready"  # the old name reads
    assert acd.logout("1000")["status"] == "logged_out"
    with pytest.raises(ValueError):
        acd.set_status("1000", "on_call")
    with pytest.raises(KeyError):
        acd.login("4242")
    with pytest.raises(UnknownAgent):
        acd.logout("4242")
    acd.login("1001")
    store.reserve_longest_idle("sales")
    # a ringing agent who logs out does so once the offer ends
    assert acd.logout("1001")["status"] == "reserved"
    assert store.get_agent("1001").after_call == "logged_out"
    with pytest.raises(InvalidTransition):
        acd.set_status("1001", "reserved")


def test_given_config_when_built_then_queues_and_agents_defined(store):
    acd = build_acd(store, CallControl(FakeSwitch()), {
        "queues": [{"name": "sales", "strategy": "longest-idle"},
                   {"name": "support", "moh": "local_stream://default"}],
        "agents": [{"extension": 1000, "name": "Alice", "queues": ["sales", "support"]}],
        "ring_timeout": 15, "retry_delay": None}, RecordingEmitter())
    assert acd.ring_timeout == 15
    assert [q["name"] for q in acd.queues()] == ["sales", "support"]
    assert store.get_agent("1000").queues == ("sales", "support")
    assert acd._queues["support"].moh == "local_stream://default"


@pytest.mark.parametrize("config, message", [
    ({"queues": [{"name": "sales", "strategy": "fastest"}]}, "unknown queue strategy 'fastest'"),
    ({"queues": ["sales"], "agents": [{"extension": "1000", "queues": ["salez"]}]},
     "agent 1000 is in unknown queue 'salez'"),
    ({"queues": ["sales", "sales"]}, "queue 'sales' is defined twice"),
    ({"queues": [{"name": "sales", "colour": "red"}]}, "unknown field(s): colour"),
    ({"queues": ["sales"], "agents": [{"name": "Bob"}]}, "needs an 'extension'"),
    ({"queues": ["sales"], "ring_timout": 5}, "unknown ACD setting(s): ring_timout"),
])
def test_given_bad_config_when_built_then_config_error(store, config, message):
    with pytest.raises(ConfigError) as caught:
        build_acd(store, CallControl(FakeSwitch()), config, RecordingEmitter())
    assert message in str(caught.value)
