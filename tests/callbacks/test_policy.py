"""The callback's pure parts: the state machine, the retry policy, outcomes and numbers."""

import itertools

import pytest

from fs_cc.callbacks import (TRANSITIONS, AttemptOutcome, CallbackState, InvalidCallbackTransition,
                             InvalidNumber, RetryPolicy, check_transition, is_callable_number,
                             normalize_number)
from fs_cc.errors import ConfigError

S = CallbackState
ALLOWED = {
    (S.PENDING, S.PENDING), (S.PENDING, S.IN_PROGRESS), (S.PENDING, S.CANCELLED),
    (S.PENDING, S.FAILED), (S.IN_PROGRESS, S.PENDING), (S.IN_PROGRESS, S.COMPLETED),
    (S.IN_PROGRESS, S.FAILED), (S.FAILED, S.PENDING), (S.CANCELLED, S.PENDING),
}


@pytest.mark.parametrize("current,target", sorted(ALLOWED, key=str))
def test_given_an_allowed_move_when_checked_then_it_passes(current, target):
    check_transition("cb-1", current, target)


@pytest.mark.parametrize("current,target", sorted(
    set(itertools.product(S, S)) - ALLOWED, key=str))
def test_given_a_forbidden_move_when_checked_then_refused_naming_both_states(current, target):
    with pytest.raises(InvalidCallbackTransition) as caught:
        check_transition("cb-1", current, target)
    assert (caught.value.current, caught.value.target, caught.value.field) == (
        current, target, "state")
    assert current.value in str(caught.value) and target.value in str(caught.value)


def test_given_the_table_then_a_completed_callback_is_final():
    assert TRANSITIONS[S.COMPLETED] == frozenset()
    assert set(TRANSITIONS) == set(S)


@pytest.mark.parametrize("cause,outcome", [
    ("USER_BUSY", AttemptOutcome.BUSY), ("-ERR USER_BUSY", AttemptOutcome.BUSY),
    ("NO_ANSWER", AttemptOutcome.NO_ANSWER), ("ORIGINATOR_CANCEL", AttemptOutcome.NO_ANSWER),
    ("NO_USER_RESPONSE", AttemptOutcome.NO_ANSWER), ("UNALLOCATED_NUMBER", AttemptOutcome.FAILED),
    ("BRIDGE_FAILED", AttemptOutcome.FAILED), ("", AttemptOutcome.FAILED),
])
def test_given_a_customer_cause_when_read_then_its_outcome(cause, outcome):
    assert AttemptOutcome.of_customer(cause) is outcome


def test_given_a_policy_when_customer_fails_then_delays_in_turn_until_attempts_run_out():
    policy = RetryPolicy(4, (60.0, 300.0))
    busy = AttemptOutcome.BUSY
    assert [policy.retry_delay(busy, "USER_BUSY", n) for n in (1, 2, 3, 4)] == [
        60.0, 300.0, 300.0, None]


def test_given_a_wrong_number_when_customer_fails_then_no_retry():
    policy = RetryPolicy(5, (10.0,))
    assert policy.retry_delay(AttemptOutcome.FAILED, "UNALLOCATED_NUMBER", 1) is None
    assert policy.retry_delay(AttemptOutcome.FAILED, "NORMAL_TEMPORARY_FAILURE", 1) == 10.0


def test_given_an_agent_miss_when_asked_then_back_at_once_whatever_the_attempts():
    policy = RetryPolicy(1, (10.0,))
    assert policy.retry_delay(AttemptOutcome.AGENT_NO_ANSWER, "NO_ANSWER", 5) == 0.0
    assert policy.retry_delay(AttemptOutcome.CONNECTED, "", 1) is None


@pytest.mark.parametrize("attempts,delays,problem", [
    (0, "60", "callback_max_attempts"), (True, "60", "callback_max_attempts"),
    (3, "soon", "callback_retry_delays"), (3, "", "callback_retry_delays"),
    (3, "60,-1", "callback_retry_delays"),
])
def test_given_bad_settings_when_parsed_then_refused_naming_the_setting(attempts, delays,
                                                                       problem):
    with pytest.raises(ConfigError) as caught:
        RetryPolicy.parse(attempts, delays)
    assert problem in str(caught.value)


def test_given_settings_text_when_parsed_then_policy():
    assert RetryPolicy.parse(2, "30, 90") == RetryPolicy(2, (30.0, 90.0))


@pytest.mark.parametrize("text,number", [
    ("+32 475 00-01.11", "+32475000111"), ("(555) 700-0111", "5557000111"), ("123", "123"),
])
def test_given_a_written_number_when_normalized_then_digits(text, number):
    assert normalize_number(text) == number


@pytest.mark.parametrize("text,reason", [
    ("12", "3 to 20 digits"), ("5551234;x=1", "only digits"), ("555*1234", "only digits"),
    ("1" * 21, "3 to 20 digits"), ("", "only digits"),
])
def test_given_a_bad_number_when_normalized_then_refused_naming_the_field(text, reason):
    with pytest.raises(InvalidNumber) as caught:
        normalize_number(text, field="number")
    assert caught.value.field == "number" and reason in caught.value.reason


def test_given_hidden_caller_ids_when_checked_then_not_callable():
    assert [is_callable_number(n) for n in ("", "anonymous", "0000000000", "5551234")] == [
        False, False, False, True]
