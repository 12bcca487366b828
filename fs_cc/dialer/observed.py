"""What a campaign has measured of its calls: answer rate, ring, talk and wrap-up times (pure)."""

import bisect
import collections


class Distribution:
    """The last `size` observed durations, with a prior standing in until `trusted` of them exist."""

    def __init__(self, prior_mean, size=400, trusted=20):
        # the prior: exponential quantiles around its mean (memoryless, so it assumes little)
        self._prior = sorted(prior_mean * q for q in
                             (0.05, 0.16, 0.29, 0.45, 0.63, 0.86, 1.14, 1.5, 2.0, 3.0))
        self._order = collections.deque()
        self._sorted = []
        self.size = size
        self.trusted = trusted

    def add(self, value):
        """Remember one observed duration (the oldest is forgotten past `size`)."""
        self._order.append(value)
        bisect.insort(self._sorted, value)
        if len(self._order) > self.size:
            old = self._order.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]

    @property
    def values(self):
        """The sorted sample in use: the observations once trusted, else the prior."""
        return self._sorted if len(self._sorted) >= self.trusted else self._prior

    def cdf(self, x):
        """P(duration <= x)."""
        values = self.values
        return bisect.bisect_right(values, x) / len(values)

    def survival(self, x):
        """P(duration > x)."""
        return 1.0 - self.cdf(x)

    def tail_mean_excess(self):
        """Mean seconds by which the top tenth of the sample passes its 90th percentile."""
        values = self.values
        top = values[int(0.9 * len(values)):]
        return max(1.0, sum(v - top[0] for v in top) / len(top))

    def mean(self):
        """The mean of the sample in use."""
        values = self.values
        return sum(values) / len(values)

    def quantile(self, q):
        """The q-quantile of the sample in use."""
        values = self.values
        return values[min(len(values) - 1, int(q * len(values)))]


class Rate:
    """A success share over the last `size` trials, starting from a prior worth `weight` trials."""

    def __init__(self, prior, size=500, weight=20):
        self._trials = collections.deque()
        self._successes = 0
        self.prior = prior
        self.size = size
        self.weight = weight

    def add(self, success):
        """Count one trial."""
        self._trials.append(bool(success))
        self._successes += bool(success)
        if len(self._trials) > self.size:
            self._successes -= self._trials.popleft()

    def value(self):
        """The estimated share."""
        return (self._successes + self.prior * self.weight) / (len(self._trials) + self.weight)


class Observed:
    """The campaign's measured call behaviour, as the predictive pacer reads it."""

    def __init__(self, answer_rate=0.2, ring=20.0, talk=180.0, wrap=20.0):
        self.answers = Rate(answer_rate)
        self.ring_answered = Distribution(ring)
        self.ring_unanswered = Distribution(ring)
        self.talk = Distribution(talk)
        self.wrap = Distribution(wrap)
