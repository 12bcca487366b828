"""Chances, read from what was observed, that a ringing call answers or a busy agent frees up (pure).

Each is tabulated by elapsed whole second for a few horizons, so a pacing decision is lookups.
"""

import math

STEP = 2.0  # seconds per row of the tables
RING_ROWS = 90  # 3 minutes of ringing
BUSY_ROWS = 450  # 15 minutes of talk or wrap-up
# the answered ring time is split into four equally likely parts, each stood for by its middle
HORIZON_QUANTILES = (0.125, 0.375, 0.625, 0.875)


TAIL = 5  # samples left above the elapsed time under which the tail is extrapolated


def _conditional(dist, elapsed, extra):
    """P(elapsed < D <= elapsed + extra | D > elapsed).

    Past the last few samples the remaining duration is taken as exponential with the sample's
    mean excess over its 90th percentile: a call already longer than most is not about to end.
    """
    if extra <= 0:
        return 0.0
    alive = dist.survival(elapsed)
    if alive * len(dist.values) < TAIL:
        return 1.0 - math.exp(-extra / dist.tail_mean_excess())
    return (dist.cdf(elapsed + extra) - dist.cdf(elapsed)) / alive


class Forecast:
    """Lookup tables of answer and free-up chances for the horizons of one observation snapshot."""

    def __init__(self, observed, grace):
        p = observed.answers.value()
        answered, unanswered = observed.ring_answered, observed.ring_unanswered
        talk, wrap = observed.talk, observed.wrap
        self.answer_rate = p
        self.horizons = tuple(max(0.5, answered.quantile(q)) for q in HORIZON_QUANTILES)
        self.weights = (1.0 / len(self.horizons),) * len(self.horizons)
        # a new call is answered by horizon h with p * P(ring <= h)
        self.new_answer = tuple(p * answered.cdf(h) for h in self.horizons)
        mean_wrap = wrap.mean()
        self.ring, self.talk, self.wrap = [], [], []
        for h in self.horizons:
            ring_row = []
            for row in range(RING_ROWS):
                e = row * STEP
                alive = p * answered.survival(e) + (1 - p) * unanswered.survival(e)
                gain = p * (answered.cdf(e + h) - answered.cdf(e))
                ring_row.append(gain / alive if alive > 0 else 0.0)
            self.ring.append(ring_row)
            # an agent serves a call answered at h if free by h + grace: talk, then its wrap-up
            self.talk.append([_conditional(talk, row * STEP, h + grace - mean_wrap)
                              for row in range(BUSY_ROWS)])
            self.wrap.append([_conditional(wrap, row * STEP, h + grace) for row in range(BUSY_ROWS)])

    @staticmethod
    def _sum(table, elapsed, rows):
        mean = var = 0.0
        for e in elapsed:
            q = table[min(rows - 1, int(e / STEP))]
            mean += q
            var += q * (1.0 - q)
        return mean, var

    def demand(self, k, ringing, waiting):
        """(mean, variance) of answers by horizon k: calls waiting now plus those ringing."""
        mean, var = self._sum(self.ring[k], ringing, RING_ROWS)
        return waiting + mean, var

    def supply(self, k, free, talking, wrapping):
        """(mean, variance) of agents able to take a call answered at horizon k."""
        m1, v1 = self._sum(self.talk[k], talking, BUSY_ROWS)
        m2, v2 = self._sum(self.wrap[k], wrapping, BUSY_ROWS)
        return free + m1 + m2, v1 + v2
