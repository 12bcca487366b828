"""The abandon rate a campaign is held to: abandoned calls over live answers in a rolling period."""

import collections
import dataclasses

DAY = 86400.0


@dataclasses.dataclass(frozen=True)
class AbandonPolicy:
    """A limit on abandoned calls as a share of live answers, measured over a rolling period."""

    limit: float = 0.03
    period: float = 30 * DAY
    name: str = "US FCC"
    source: str = "47 CFR 64.1200(a)(7)"


# 3 % of the calls answered by a person, per campaign over 30 days; a recorded message within 2 s
FCC_US = AbandonPolicy()
# 3 % of live calls per campaign over 24 hours (Ofcom's persistent-misuse policy statement)
OFCOM_UK = AbandonPolicy(limit=0.03, period=DAY, name="UK Ofcom",
                         source="Ofcom statement on persistent misuse, section on abandoned calls")


class AbandonWindow:
    """Live answers of one campaign, each abandoned or not, and their rate over the policy's period."""

    def __init__(self, policy=FCC_US):
        self.policy = policy
        self._answers = collections.deque()  # (time, abandoned), oldest first
        self._drops = 0

    def record(self, now, abandoned):
        """Count a live answer at `now`: connected to an agent, or `abandoned`."""
        self._answers.append((now, bool(abandoned)))
        self._drops += bool(abandoned)

    def _expire(self, now):
        horizon = now - self.policy.period
        while self._answers and self._answers[0][0] <= horizon:
            _, abandoned = self._answers.popleft()
            self._drops -= abandoned

    def counts(self, now):
        """(live answers, abandoned) within the period ending at `now`."""
        self._expire(now)
        return len(self._answers), self._drops

    def rate(self, now):
        """Abandoned over live answers within the period (0.0 before any answer)."""
        answers, drops = self.counts(now)
        return drops / answers if answers else 0.0

    def over_limit(self, now):
        """Whether the rate within the period is above the policy's limit."""
        return self.rate(now) > self.policy.limit
