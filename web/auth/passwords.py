"""The password policy: long enough, not the user's name, not a known or guessable one.

Guessability is zxcvbn's estimate (its dictionaries hold the most common leaked passwords,
names, words and keyboard patterns), given the user's own names so that "alice2026" is weak
for alice. Every refusal is a WeakPassword naming the field ``password``.
"""

import dataclasses
import secrets

import zxcvbn

from web.errors import WebError

DEFAULT_MIN_LENGTH = 10
MAX_LENGTH = 128  # zxcvbn's work grows with the length; no one types more
MIN_SCORE = 3  # zxcvbn 0-4: 3 is "safely unguessable", 10^8 guesses or more
SHORTEST_NAME_CHECKED = 3  # a one-letter user name would forbid every password holding it


class WeakPassword(WebError):
    """A password the policy refuses; the message says why."""

    status = 400

    def __init__(self, message, field="password"):
        super().__init__(message, field=field)


@dataclasses.dataclass(frozen=True)
class PasswordPolicy:
    """What a new password must be."""

    min_length: int = DEFAULT_MIN_LENGTH
    min_score: int = MIN_SCORE

    def check(self, password, username=None, other_inputs=(), field="password"):
        """Return ``password`` when the policy accepts it; raise WeakPassword otherwise."""
        if not isinstance(password, str) or not password:
            raise WeakPassword(f"{field}: required", field)
        if len(password) < self.min_length:
            raise WeakPassword(f"{field}: at least {self.min_length} characters", field)
        if len(password) > MAX_LENGTH:
            raise WeakPassword(f"{field}: at most {MAX_LENGTH} characters", field)
        lowered = password.lower()
        if username and len(username) >= SHORTEST_NAME_CHECKED and username.lower() in lowered:
            raise WeakPassword(f"{field}: must not contain the user name", field)
        inputs = [name for name in (username, *other_inputs) if name]
        verdict = zxcvbn.zxcvbn(password, user_inputs=inputs, max_length=MAX_LENGTH)
        if verdict["score"] < self.min_score:
            why = verdict["feedback"]["warning"] or "it is too easy to guess"
            hint = " ".join(verdict["feedback"]["suggestions"])
            raise WeakPassword(f"{field}: too easy to guess: {why.rstrip('.')}."
                               + (f" {hint}" if hint else ""), field)
        return password


def policy_for(config):
    """The policy an app's config asks for (``PASSWORD_MIN_LENGTH``, default 10)."""
    return PasswordPolicy(min_length=int(config.get("PASSWORD_MIN_LENGTH", DEFAULT_MIN_LENGTH)))


def random_password(policy=PasswordPolicy()):
    """A fresh random password the policy accepts (20 URL-safe characters, or the minimum)."""
    length = min(MAX_LENGTH, max(20, policy.min_length))
    for _ in range(100):
        candidate = secrets.token_urlsafe(MAX_LENGTH)[:length]
        try:
            return policy.check(candidate)
        except WeakPassword:  # a random string may, rarely, look like a pattern
            continue
    raise WeakPassword(f"no random password of {length} characters passes the policy")
