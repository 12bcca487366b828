"""The password policy: long enough, not the user name, not a common or guessable password."""

import pytest

from web.auth.passwords import MAX_LENGTH, PasswordPolicy, WeakPassword, policy_for, random_password


def refusal(password, username="li.na", policy=PasswordPolicy(), **kwargs):
    with pytest.raises(WeakPassword) as caught:
        policy.check(password, username, **kwargs)
    assert caught.value.field == kwargs.get("field", "password")
    assert caught.value.status == 400
    return caught.value.message


@pytest.mark.parametrize("password, words", [
    ("", "required"),
    ("Xk9#mq2!", "at least 10 characters"),
    ("x" * (MAX_LENGTH + 1), f"at most {MAX_LENGTH}"),
    ("password123", "too easy to guess"),
    ("qwertyuiop", "too easy to guess"),
    ("1qaz2wsx3edc", "too easy to guess"),
    ("adminadmin", "too easy to guess"),
    ("aaaaaaaaaaaa", "too easy to guess"),
    ("20262026202620", "too easy to guess"),
])
def test_given_a_short_common_or_patterned_password_then_refused_naming_the_field(password, words):
    assert words in refusal(password)


def test_given_a_password_holding_the_user_name_then_refused_whatever_its_case():
    assert "user name" in refusal("Li.Na-Quartz-Violin-91", username="li.na")


def test_given_the_users_display_name_in_the_password_then_it_counts_against_it():
    PasswordPolicy().check("Zhangwei2026!", "agent7")  # strong for a stranger
    assert "too easy to guess" in refusal("zhangwei2026", username="agent7",
                                          other_inputs=("Zhangwei",))


def test_given_a_long_unusual_password_then_accepted_and_returned():
    policy = PasswordPolicy()

    assert policy.check("violet-harbor-quartz-71", "li.na") == "violet-harbor-quartz-71"
    assert policy.check("长城外古道边芳草碧连天", "li.na")  # any script counts


def test_given_a_longer_minimum_in_the_config_then_the_policy_applies_it():
    policy = policy_for({"PASSWORD_MIN_LENGTH": 16})

    assert policy.min_length == 16
    assert "at least 16" in refusal("violet-harbor-9", policy=policy)
    assert policy_for({}).min_length == 10


def test_given_a_field_name_then_the_refusal_names_that_field():
    assert refusal("short", field="new_password").startswith("new_password:")


def test_given_random_passwords_then_each_passes_the_policy_and_they_differ():
    policy = PasswordPolicy(min_length=24)

    made = {random_password(policy) for _ in range(5)}

    assert len(made) == 5
    for password in made:
        assert len(password) >= 24 and policy.check(password) == password
