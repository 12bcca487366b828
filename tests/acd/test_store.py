"""The state store contract; every test runs on MemoryStore and on RedisStore (real Redis)."""

import gevent
import pytest

from fs_cc.acd import AgentStatus, InvalidTransition, UnknownAgent

A = AgentStatus


def login(store, clock, *extensions, queues=("sales",)):
    for extension in extensions:
        store.define_agent(extension, f"Agent {extension}", queues)
        store.set_status(extension, A.AVAILABLE)
        clock.advance()


def test_given_new_agent_when_defined_then_logged_out_with_definition(store):
    agent = store.define_agent("1000", "Alice", ["sales", "support"])
    assert (agent.extension, agent.name, agent.queues) == ("1000", "Alice", ("sales", "support"))
    assert store.get_agent("1000").status is A.LOGGED_OUT


def test_given_logged_in_agent_when_redefined_then_status_kept_and_queues_updated(store, clock):
    login(store, clock, "1000", queues=("sales",))
    store.define_agent("1000", "Alice B", ["support"])
    agent = store.get_agent("1000")
    assert (agent.name, agent.queues, agent.status) == ("Alice B", ("support",), A.AVAILABLE)
    assert store.reserve_longest_idle("sales") is None
    assert store.reserve_longest_idle("support").extension == "1000"


def test_given_unknown_extension_when_read_or_changed_then_unknown_agent(store):
    with pytest.raises(UnknownAgent):
        store.get_agent("9999")
    with pytest.raises(KeyError):
        store.set_status("9999", A.AVAILABLE)


def test_given_status_change_when_allowed_then_applied_with_time(store, clock):
    store.define_agent("1000", "Alice", ["sales"])
    clock.advance(5)
    agent = store.set_status("1000", "break")
    assert agent.status is A.BREAK
    assert agent.status_since == clock.now
    assert store.get_agent("1000").status is A.BREAK


def test_given_status_change_when_not_allowed_then_refused_and_unchanged(store):
    store.define_agent("1000", "Alice", ["sales"])
    with pytest.raises(InvalidTransition) as caught:
        store.set_status("1000", A.ON_CALL)
    assert (caught.value.current, caught.value.target) == (A.LOGGED_OUT, A.ON_CALL)
    assert store.get_agent("1000").status is A.LOGGED_OUT


def test_given_agents_idle_since_different_times_when_reserving_then_longest_idle_first(
        store, clock):
    login(store, clock, "1002", "1000", "1001")
    first = store.reserve_longest_idle("sales")
    second = store.reserve_longest_idle("sales")
    assert (first.extension, second.extension) == ("1002", "1000")
    assert store.get_agent("1002").status is A.RESERVED


def test_given_agent_in_other_queue_or_not_available_when_reserving_then_skipped(store, clock):
    login(store, clock, "1000", queues=("support",))
    login(store, clock, "1001")
    store.set_status("1001", A.BREAK)
    store.define_agent("1002", "Carol", ["sales"])  # logged out
    assert store.reserve_longest_idle("sales") is None


def test_given_excluded_agent_when_reserving_then_next_one_taken(store, clock):
    login(store, clock, "1000", "1001")
    assert store.reserve_longest_idle("sales", exclude={"1000"}).extension == "1001"


def test_given_reserved_agent_when_released_then_available_and_idle_from_now(store, clock):
    login(store, clock, "1000", "1001")
    store.reserve_longest_idle("sales")
    clock.advance()
    released = store.release("1000")
    assert released.status is A.AVAILABLE
    assert released.idle_since == clock.now
    assert store.reserve_longest_idle("sales").extension == "1001"


def test_given_available_agent_when_released_then_refused(store, clock):
    login(store, clock, "1000")
    with pytest.raises(InvalidTransition):
        store.release("1000")


def test_given_call_ends_when_agent_back_to_available_then_last_call_end_recorded(store, clock):
    login(store, clock, "1000")
    store.reserve_longest_idle("sales")
    store.set_status("1000", A.ON_CALL)
    clock.advance(30)
    agent = store.set_status("1000", A.AVAILABLE)
    assert agent.last_call_ended_at == clock.now
    assert agent.to_dict()["status"] == "available"


def test_given_agents_when_listed_then_sorted_by_extension(store, clock):
    login(store, clock, "1002", "1000")
    assert [a.extension for a in store.list_agents()] == ["1000", "1002"]


def test_given_callers_when_queued_then_positions_follow_queue_time(store):
    assert store.enqueue_caller("sales", "b", since=20.0) == 1
    assert store.enqueue_caller("sales", "a", since=10.0) == 1
    assert store.enqueue_caller("sales", "c", since=30.0) == 3
    assert store.waiting_callers("sales") == ["a", "b", "c"]
    assert store.caller_position("sales", "b") == 2
    assert store.waiting_callers("support") == []


def test_given_queued_caller_when_dequeued_and_requeued_then_same_place(store):
    for uuid, since in (("a", 1.0), ("b", 2.0), ("c", 3.0)):
        store.enqueue_caller("sales", uuid, since=since)
    assert store.dequeue_caller("sales", "b") is True
    assert store.dequeue_caller("sales", "b") is False
    assert store.caller_position("sales", "b") is None
    store.enqueue_caller("sales", "b", since=2.0)
    assert store.waiting_callers("sales") == ["a", "b", "c"]


def test_given_many_greenlets_and_two_engines_when_reserving_at_once_then_no_agent_twice(
        make_store, clock):
    engines = [make_store(), make_store()]
    login(engines[0], clock, *[str(1000 + i) for i in range(8)])
    jobs = [gevent.spawn(engines[i % 2].reserve_longest_idle, "sales") for i in range(40)]
    gevent.joinall(jobs, timeout=30, raise_error=True)
    taken = [job.value.extension for job in jobs if job.value is not None]
    assert sorted(taken) == [str(1000 + i) for i in range(8)]
    assert all(a.status is A.RESERVED for a in engines[1].list_agents())


def test_given_agents_idle_for_different_times_when_reserving_the_first_fit_then_idle_order(
        store, clock):
    login(store, clock, "1002", "1000", "1001")  # 1002 idle longest, then 1000, then 1001
    store.define_agent("1000", "Agent 1000", ["sales"], {"french": 3})
    taken = store.reserve_first("sales", lambda agent: agent.skills.get("french", 0) >= 2)
    assert taken.extension == "1000" and store.get_agent("1000").status is A.RESERVED
    assert store.reserve_first("sales", lambda agent: True).extension == "1002"
    assert store.reserve_first("sales", lambda agent: agent.extension != "1001") is None
    assert store.reserve_first("support", lambda agent: True) is None
    store.release("1002")  # idle from now: last in line
    assert [store.reserve_first("sales", lambda agent: True).extension for _ in range(2)] == [
        "1001", "1002"]


def test_given_two_engines_when_both_reserve_the_first_fit_then_each_gets_another(make_store,
                                                                                 clock):
    first, second = make_store(), make_store()
    login(first, clock, "1000", "1001")
    a = first.reserve_first("sales", lambda agent: True)
    b = second.reserve_first("sales", lambda agent: True)
    assert {a.extension, b.extension} == {"1000", "1001"}
    assert first.reserve_first("sales", lambda agent: True) is None
