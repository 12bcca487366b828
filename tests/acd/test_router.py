"""The router across queues, the queue outcomes and the facts the ACD emits (double FreeSWITCH)."""

import gevent
import pytest

from fs_cc import events
from fs_cc.acd import ACD, AgentStatus, MemoryStore, Queue, RedisStore
from fs_cc.callctl import CallControl
from fs_cc.emitter import RecordingEmitter
from fs_cc.events import OfferFailure, QueueOutcome
from tests.acd.conftest import FakeClock
from tests.acd.doubles import CallerLine, FakeSwitch
from tests.polling import wait_until

A = AgentStatus


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def acds():
    made = []
    yield made
    for acd in made:
        acd.stop()


def make(acds, store, switch=None, queues=("sales", "support")):
    switch = switch or FakeSwitch()
    acd = ACD(store, CallControl(switch), [Queue(name) for name in queues], RecordingEmitter(),
              ring_timeout=2, retry_delay=0.05, hangup_grace=0.05)
    acd.start()
    acds.append(acd)
    return acd, switch


def caller(acd, uuid, queue, **options):
    return CallerLine(acd, acd.ctl.esl, acd._emitter, uuid, queue, **options)


def offered_calls(switch):
    return [variables["fs_cc_call_uuid"] for _, variables in switch.originates]


def test_given_agent_in_two_queues_when_it_frees_then_the_caller_who_waited_longest_wins(
        acds, clock):
    store = MemoryStore(clock=clock)
    acd, switch = make(acds, store)
    store.define_agent("1000", "Ana", ["sales", "support"])
    support_first = caller(acd, "support-1", "support")
    clock.advance(5)
    sales_later = caller(acd, "sales-1", "sales")
    wait_until(lambda: store.waiting_callers("sales") and store.waiting_callers("support"))
    acd.login("1000")
    wait_until(lambda: support_first.agent == "1000", what="support caller connected")
    assert offered_calls(switch) == ["support-1"]
    assert sales_later.agent is None
    support_first.caller_hangs_up()
    wait_until(lambda: sales_later.agent == "1000", what="then the sales caller")
    sales_later.caller_hangs_up()
    assert sales_later.result().outcome is QueueOutcome.ANSWERED


def test_given_a_higher_priority_caller_when_an_agent_frees_then_priority_before_wait(
        acds, clock):
    store = MemoryStore(clock=clock)
    acd, switch = make(acds, store)
    store.define_agent("1000", "Ana", ["sales", "support"])
    early = caller(acd, "early", "sales")
    clock.advance(60)
    vip = caller(acd, "vip", "support", priority=5)
    wait_until(lambda: len(store.waiting_callers("sales") + store.waiting_callers("support")) == 2)
    acd.login("1000")
    wait_until(lambda: vip.agent == "1000", what="the priority caller served first")
    assert early.agent is None
    vip.caller_hangs_up()
    wait_until(lambda: early.agent == "1000")
    early.caller_hangs_up()


def test_given_a_caller_asking_for_a_skill_when_agents_free_then_only_a_qualified_one_rings(
        acds, clock):
    store = MemoryStore(clock=clock)
    acd, switch = make(acds, store)
    store.define_agent("1000", "Ana", ["sales"], {"english": 5})
    store.define_agent("1001", "Li", ["sales"], {"english": 5, "french": 3})
    acd.login("1000")
    clock.advance()
    acd.login("1001")  # idle for less time: longest-idle would pick 1000
    french = caller(acd, "fr-1", "sales", skills={"french": 2})
    wait_until(lambda: french.agent == "1001")
    assert [ext for ext, _ in switch.originates] == ["1001"]
    french.caller_hangs_up()


def test_given_nobody_with_the_skill_when_caller_waits_then_no_agent_is_rung(acds, clock):
    store = MemoryStore(clock=clock)
    acd, switch = make(acds, store)
    store.define_agent("1000", "Ana", ["sales"], {"english": 5})
    acd.login("1000")
    line = caller(acd, "fr-1", "sales", skills={"french": 1})
    assert acd.router.route_caller("fr-1") is False  # the decision itself, not a wait for it
    assert switch.originates == [] and store.waiting_callers("sales") == ["fr-1"]
    line.caller_hangs_up()
    assert line.result().outcome is QueueOutcome.HUNG_UP


def test_given_max_wait_when_no_agent_then_timeout_outcome_music_stopped(acds, clock):
    store = MemoryStore(clock=clock)
    acd, switch = make(acds, store)
    line = caller(acd, "c-1", "sales", max_wait=0.05)
    result = line.result()
    assert result.outcome is QueueOutcome.TIMEOUT and result.side is None
    assert "uuid_break c-1 all" in switch.commands
    assert store.waiting_callers("sales") == [] and acd.callers == {}
    (left,) = acd._emitter.of_type(events.QueueLeft)
    assert left.outcome is QueueOutcome.TIMEOUT


def test_given_exit_key_when_caller_presses_it_then_exit_outcome(acds, clock):
    store = MemoryStore(clock=clock)
    acd, switch = make(acds, store)
    line = caller(acd, "c-1", "sales", exit_key="0")
    wait_until(lambda: store.waiting_callers("sales") == ["c-1"])
    line.presses("5")
    line.caller_hangs_up()  # the watch reads the channel's events in order: 5, then the hangup
    assert line.result().outcome is QueueOutcome.HUNG_UP  # "5" did not take it out of line
    other = caller(acd, "c-2", "sales", exit_key="0")
    wait_until(lambda: store.waiting_callers("sales") == ["c-2"])
    other.presses("0")
    assert other.result().outcome is QueueOutcome.EXIT_KEY
    assert store.waiting_callers("sales") == []


def test_given_a_busy_then_an_answering_agent_when_served_then_the_facts_tell_it_all(
        acds, clock):
    store = MemoryStore(clock=clock)
    acd, switch = make(acds, store, FakeSwitch({"1000": "USER_BUSY"}))
    for ext in ("1000", "1001"):
        store.define_agent(ext, ext, ["sales"])
        acd.login(ext)
        clock.advance()
    line = caller(acd, "c-1", "sales")
    wait_until(lambda: line.agent == "1001")
    switch.agent_hangs_up(switch.leg_of("1001"))
    assert line.result().outcome is QueueOutcome.ANSWERED
    facts = acd._emitter.of_call("c-1")
    kinds = [type(event) for event in facts]
    assert kinds == [events.CallQueued, events.OfferedToAgent, events.OfferFailed,
                     events.OfferedToAgent, events.AnsweredByAgent, events.QueueLeft]
    failed = facts[2]
    assert (failed.agent, failed.cause, failed.hangup_cause) == ("1000", OfferFailure.BUSY,
                                                                 "USER_BUSY")
    assert facts[-1].outcome is QueueOutcome.ANSWERED
    moves = [(e.agent, e.old.value, e.new.value) for e in acd._emitter.of_type(
        events.AgentStatusChanged)]
    assert ("1000", "available", "reserved") in moves and ("1000", "reserved", "available") in moves
    assert moves[-2:] == [("1001", "reserved", "on_call"), ("1001", "on_call", "available")]
    seqs = [event.seq for event in acd._emitter.events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_given_two_engines_on_one_redis_under_load_then_no_agent_is_offered_two_calls(
        acds, redis_prefix):
    """Two ACDs (two engines) share agents in Redis; callers arrive on both; agents free up."""
    client, prefix = redis_prefix
    store_a, store_b = RedisStore(client, prefix=prefix), RedisStore(client, prefix=prefix)
    acd_a, switch_a = make(acds, store_a)
    acd_b, switch_b = make(acds, store_b)
    # what the engines' bus does: an agent freed on one engine wakes the other's router
    for source, target in ((acd_a, acd_b), (acd_b, acd_a)):
        source._emitter.listeners.append(
            lambda event, target=target: isinstance(event, events.AgentStatusChanged)
            and event.new is events.AgentState.AVAILABLE
            and target.agent_available_elsewhere(event.agent))
    agents = [str(1000 + n) for n in range(6)]
    for ext in agents:
        store_a.define_agent(ext, ext, ["sales"])
    lines = []
    for n in range(30):
        acd, switch = (acd_a, switch_a) if n % 2 == 0 else (acd_b, switch_b)
        lines.append(caller(acd, f"c-{n}", "sales"))
    for ext in agents:
        (acd_a if int(ext) % 2 else acd_b).login(ext)
    busy = {}  # agent -> the call it is on, checked at every connection
    overlaps = []

    def serve():
        while any(not line.ticket.ready() for line in lines):
            for line in lines:
                if line.agent and not line.ticket.ready() and not line.hungup:
                    other = busy.get(line.agent)
                    if other is not None and other is not line and not other.ticket.ready():
                        overlaps.append((line.agent, other.uuid, line.uuid))
                    busy[line.agent] = line
                    line.switch.agent_hangs_up(line.switch.leg_of(line.agent))
            gevent.sleep(0.01)

    gevent.spawn(serve).join(timeout=30)
    assert overlaps == []
    results = [line.result(timeout=1) for line in lines]
    assert all(result.outcome is QueueOutcome.ANSWERED for result in results)
    by_agent = {}
    for switch in (switch_a, switch_b):
        for ext, variables in switch.originates:
            by_agent.setdefault(ext, []).append(variables["fs_cc_call_uuid"])
    assert sum(len(calls) for calls in by_agent.values()) == 30  # each caller rung exactly once
    assert sorted(c for calls in by_agent.values() for c in calls) == sorted(
        line.uuid for line in lines)


def test_given_a_priority_raised_while_waiting_when_an_agent_frees_then_that_caller_first(
        acds, clock):
    store = MemoryStore(clock=clock)
    acd, switch = make(acds, store)
    store.define_agent("1000", "Ana", ["sales"])
    first = caller(acd, "first", "sales")
    clock.advance(30)
    second = caller(acd, "second", "sales")
    assert store.waiting_callers("sales") == ["first", "second"]

    assert acd.set_priority("second", 3)["priority"] == 3

    assert store.waiting_callers("sales") == ["second", "first"]
    (changed,) = acd._emitter.of_type(events.CallPriorityChanged)
    assert (changed.call_uuid, changed.queue, changed.priority) == ("second", "sales", 3)
    acd.login("1000")
    wait_until(lambda: second.agent == "1000")
    assert first.agent is None
    second.caller_hangs_up()
    first.caller_hangs_up()


def test_given_the_router_dies_when_callers_wait_then_it_is_started_again_and_serves_them(
        acds, clock):
    store = MemoryStore(clock=clock)
    acd, switch = make(acds, store)
    store.define_agent("1000", "Ana", ["sales"])
    waiting = caller(acd, "sales-1", "sales")
    wait_until(lambda: store.waiting_callers("sales"), what="queued")
    dead = acd.router._greenlet
    dead.kill(RuntimeError("a bug in routing"), block=True)  # as an escaped exception would
    wait_until(lambda: acd.router.restarts == 1, what="the router started again")
    assert acd.router.alive and acd.router._greenlet is not dead
    acd.login("1000")
    wait_until(lambda: waiting.agent == "1000", what="served by the restarted router")
    health = acd.router.health()
    assert (health["alive"], health["restarts"], health["decisions"]) == (True, 1, 1)
    acd.stop()
    assert not acd.router.alive and acd.router.restarts == 1  # a stop asked is no death
