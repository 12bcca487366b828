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


# -- strategies, levels, counters and live fields in both stores ------------------------------

from fs_cc.acd.strategy import STRATEGIES  # noqa: E402


def test_given_levels_when_reserving_then_level_one_first_whatever_the_idle_time(store, clock):
    store.define_agent("1000", "A", ["sales"], levels={"sales": 2})
    store.set_status("1000", A.AVAILABLE)  # idle longest, but level 2
    clock.advance()
    store.define_agent("1001", "B", ["sales"], levels={"sales": 1})
    store.set_status("1001", A.AVAILABLE)
    assert store.reserve_first("sales", lambda agent: True).extension == "1001"
    assert store.reserve_longest_idle("sales").extension == "1000"


def test_given_skills_when_reserving_the_best_then_best_score_and_reserved(store, clock):
    login(store, clock, "1000", "1001", "1002")
    store.define_agent("1000", "A", ["sales"], {"en": 4})
    store.define_agent("1001", "B", ["sales"], {"en": 9})
    store.define_agent("1002", "C", ["sales"], {"en": 9, "zh": 3})
    chosen = store.reserve_best("sales", {"en": 4}, STRATEGIES["longest-idle"])
    assert chosen.extension == "1001" and store.get_agent("1001").status is A.RESERVED
    assert store.reserve_best("sales", {"en": 4, "zh": 2},
                              STRATEGIES["longest-idle"]).extension == "1002"
    assert store.reserve_best("sales", {"en": 5}, STRATEGIES["longest-idle"]) is None


def test_given_round_robin_when_two_engines_reserve_in_turn_then_the_cursor_is_shared(
        make_store, clock):
    first, second = make_store(), make_store()
    login(first, clock, "1000", "1001", "1002")
    robin = STRATEGIES["round-robin"]
    order = []
    for store in (first, second, first, second):
        agent = store.reserve_best("sales", {}, robin)
        order.append(agent.extension)
        store.release(agent.extension)
    assert order == ["1000", "1001", "1002", "1000"]


def test_given_answers_and_talk_when_counted_then_fewest_calls_and_least_talk_read_them(
        make_store, clock):
    store, other = make_store(), make_store()
    login(store, clock, "1000", "1001")
    for _ in range(2):
        store.record_answer("1000")
    store.record_talk("1001", 300.0)
    store.record_talk("1001", 0.5)
    agent = other.get_agent("1000")  # as another engine reads it
    assert (agent.calls_answered, agent.calls_in_last_hour(clock()), agent.no_answers) == (2, 2, 0)
    assert other.get_agent("1001").talk_seconds == 300.5
    assert other.reserve_best("sales", {}, STRATEGIES["fewest-calls"]).extension == "1001"
    assert other.reserve_best("sales", {}, STRATEGIES["least-talk-time"]).extension == "1000"


def test_given_missed_offers_then_counted_in_a_row_until_an_answer(store, clock):
    login(store, clock, "1000")
    assert [store.record_no_answer("1000") for _ in range(3)] == [1, 2, 3]
    assert store.record_answer("1000").no_answers == 0


def test_given_a_login_after_a_logout_then_the_counters_start_again(store, clock):
    login(store, clock, "1000")
    store.record_answer("1000")
    store.record_talk("1000", 60.0)
    store.set_status("1000", A.LOGGED_OUT)
    agent = store.set_status("1000", A.AVAILABLE)
    assert (agent.calls_answered, agent.talk_seconds) == (0, 0.0)


def test_given_an_unregistered_phone_then_never_reserved_until_registered(store, clock):
    login(store, clock, "1000")
    store.change("1000", registered=False)
    assert store.reserve_longest_idle("sales") is None
    assert store.reserve_agent("1000") is None
    assert store.get_agent("1000").to_dict()["registered"] is False
    store.change("1000", registered=True)
    assert store.reserve_longest_idle("sales").extension == "1000"


def test_given_a_stray_live_field_then_value_error(store, clock):
    login(store, clock, "1000")
    with pytest.raises(ValueError, match="not a live agent field: status"):
        store.change("1000", status=A.ON_CALL)


def test_given_not_ready_with_a_reason_then_kept_until_the_next_move(store, clock):
    login(store, clock, "1000")
    assert store.set_status("1000", A.NOT_READY, reason="lunch").reason == "lunch"
    assert store.get_agent("1000").reason == "lunch"
    assert store.set_status("1000", A.NOT_READY, reason="meeting").reason == "meeting"
    assert store.set_status("1000", A.AVAILABLE).reason is None
