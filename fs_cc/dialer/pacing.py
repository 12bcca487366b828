"""How many calls to place now: our predictive pacer, progressive and preview (pure, no I/O).

The predictive rule: place one more call only if, should it be answered, the chance that it finds no
agent within the grace is at most ``alpha``. Answers expected by each of four horizons (calls
waiting, calls ringing by their elapsed ring time, the other new calls) are set against the agents
free by then plus the grace (free now, or ending their talk and wrap-up by their elapsed time), in a
normal approximation of the two sums. alpha is the limit, scaled by a correction learnt from the
abandons seen (so that 75 % of the limit is spent), tapering as the campaign's measured rate nears
the limit, and zero when one more abandon (with every answer expected from the calls in flight
abandoned too) would put the rate over the period above it: then only progressive calls are
placed, which cannot be abandoned, and the rate falls back. No agent logged in: no call.
"""

import dataclasses
import enum
import math
import typing

from fs_cc.dialer.abandon import FCC_US, AbandonWindow
from fs_cc.dialer.forecast import Forecast
from fs_cc.dialer.observed import Observed


class Outcome(enum.Enum):
    """What a pacer is told about the campaign's calls and agents."""

    DIALED = "dialed"
    ANSWERED = "answered"  # seconds: how long it rang
    NO_ANSWER = "no_answer"  # seconds: how long it rang before giving up
    CONNECTED = "connected"  # a live answer reached an agent
    ABANDONED = "abandoned"  # a live answer found no agent within the grace
    TALK_ENDED = "talk_ended"  # seconds: the talk time
    WRAP_ENDED = "wrap_ended"  # seconds: the wrap-up time


@dataclasses.dataclass(frozen=True)
class View:
    """The campaign at one instant: its agents and calls, with elapsed seconds of each busy one."""

    now: float
    logged_in: int
    free: int  # logged in, idle, no call on the way to them
    talking: tuple = ()  # elapsed talk seconds of each agent on a call
    wrapping: tuple = ()  # elapsed wrap-up seconds of each agent in wrap-up
    ringing: tuple = ()  # elapsed ring seconds of each call not yet answered
    waiting: int = 0  # answered calls waiting for an agent (within the grace)


class Pacer(typing.Protocol):
    """What the simulator (and later the dialing loop) asks of a pacer."""

    name: str
    interval: float  # seconds between periodic decisions
    on_free: bool  # decide also when an agent frees up
    agent_bound: bool  # calls are placed by agents themselves (preview)

    def observe(self, outcome, now, seconds=0.0):
        """Learn from one outcome."""

    def dials(self, view):
        """How many calls to place now."""

    def mean_level(self):
        """The mean dial level (lines per agent) it ran at, if it has one, else None."""


def _upper_tail(mean, var):
    """P(X >= 1) for an integer X of that mean and variance (normal, continuity-corrected)."""
    sd = math.sqrt(var + 0.05)
    return 0.5 * math.erfc((0.5 - mean) / (sd * math.sqrt(2.0)))


def allowed_share(rate, answers, drops, limit, aim=1.0, taper_from=0.95, in_flight=0.0):
    """The abandon chance a new call may carry: `aim` x limit, tapering to 0 as `rate` nears it.

    Zero when one more abandon, on top of every live answer still expected from the calls in
    flight being abandoned too, would take the rate over the period above the limit.
    """
    if (drops + 1 + in_flight) / (answers + 1 + in_flight) > limit:
        return 0.0
    room = (limit - rate) / ((1.0 - taper_from) * limit)
    return aim * limit * max(0.0, min(1.0, room))


def progressive(view):
    """One call for each free agent that no ringing or waiting call is already headed for."""
    if view.logged_in <= 0:
        return 0
    return max(0, view.free - len(view.ringing) - view.waiting)


class PredictivePacer:
    """Our pacer: the most calls whose answer each finds an agent, but for a share under the limit."""

    name = "ours"
    interval = 1.0  # seconds between periodic decisions
    on_free = True  # decide also when an agent frees up
    agent_bound = False

    def __init__(self, policy=FCC_US, grace=2.0, observed=None, max_lines_per_agent=8.0,
                 aim=0.75, taper_from=0.95, learning=0.003):
        self.policy = policy
        self.grace = grace
        self.observed = observed or Observed()
        self.window = AbandonWindow(policy)
        self.max_lines_per_agent = max_lines_per_agent
        self.aim, self.taper_from, self.learning = aim, taper_from, learning
        # the model's bias, learnt: each abandon lowers the share allowed, each connect raises it,
        # so that in balance aim x limit of the answers are abandoned (a later call overtaking an
        # earlier one takes the agent the earlier one was counted on: the model alone is low)
        self.correction = 1.0
        self._forecast = None
        self._built = -math.inf
        self._seen = 0

    def observe(self, outcome, now, seconds=0.0):
        """Learn from one outcome."""
        obs = self.observed
        self._seen += 1
        if outcome is Outcome.ANSWERED:
            obs.answers.add(True)
            obs.ring_answered.add(seconds)
        elif outcome is Outcome.NO_ANSWER:
            obs.answers.add(False)
            obs.ring_unanswered.add(seconds)
        elif outcome is Outcome.TALK_ENDED:
            obs.talk.add(seconds)
        elif outcome is Outcome.WRAP_ENDED:
            obs.wrap.add(seconds)
        elif outcome is Outcome.CONNECTED:
            self.window.record(now, abandoned=False)
            self._learn(abandoned=False)
        elif outcome is Outcome.ABANDONED:
            self.window.record(now, abandoned=True)
            self._learn(abandoned=True)

    def _learn(self, abandoned):
        target = self.aim * self.policy.limit
        step = self.learning * (target - abandoned) / target
        self.correction = max(0.05, min(3.0, self.correction * math.exp(step)))

    def alpha(self, now, in_flight=0.0):
        """The abandon chance a new call may carry now, `in_flight` live answers still to come."""
        answers, drops = self.window.counts(now)
        rate = drops / answers if answers else 0.0
        share = allowed_share(rate, answers, drops, self.policy.limit, 1.0, self.taper_from,
                              in_flight)
        return share * self.correction

    def mean_level(self):
        """Ours keeps no dial level."""
        return None

    def forecast(self, now):
        """The answer and free-up tables, rebuilt every minute at first, then every five."""
        every = 60.0 if self._seen < 2000 else 300.0
        if now - self._built >= every:
            self._forecast = Forecast(self.observed, self.grace)
            self._built = now
        return self._forecast

    def dials(self, view):
        """How many calls to place now."""
        if view.logged_in <= 0:
            return 0
        safe = progressive(view)
        in_flight = view.waiting + self.observed.answers.value() * len(view.ringing)
        alpha = self.alpha(view.now, in_flight)
        if alpha <= 0.0:
            return safe
        fc = self.forecast(view.now)
        parts = []
        for k in range(len(fc.horizons)):
            dm, dv = fc.demand(k, view.ringing, view.waiting)
            sm, sv = fc.supply(k, view.free, view.talking, view.wrapping)
            parts.append((fc.weights[k], dm - sm, dv + sv, fc.new_answer[k]))

        def risk(d):  # the abandon chance of the d-th new call, if answered
            total = 0.0
            for weight, mean, var, u in parts:
                others = d - 1
                total += weight * _upper_tail(mean + others * u + 1.0, var + others * u * (1 - u))
            return total

        cap = int(self.max_lines_per_agent * view.logged_in) - len(view.ringing)
        if cap <= 0 or risk(1) > alpha:
            return safe
        low, high = 1, 2  # risk(low) <= alpha; find the largest such d
        while high <= cap and risk(high) <= alpha:
            low, high = high, high * 2
        high = min(high, cap + 1)
        while high - low > 1:
            mid = (low + high) // 2
            if risk(mid) <= alpha:
                low = mid
            else:
                high = mid
        return max(low, safe)


class ProgressivePacer:
    """Progressive dialing: a call only for an agent who is free and has no call on the way."""

    name = "progressive"
    interval = 1.0
    on_free = True
    agent_bound = False

    def observe(self, outcome, now, seconds=0.0):
        """Progressive dialing learns nothing."""

    def mean_level(self):
        """Progressive keeps no dial level."""
        return None

    def dials(self, view):
        """One call per uncovered free agent."""
        return progressive(view)


class PreviewPacer:
    """Preview dialing: each agent reads the lead, then dials it and waits on the ringing."""

    name = "preview"
    interval = 1.0
    on_free = False
    agent_bound = True  # the simulator ties each call to the agent who placed it

    def __init__(self, preview_seconds=5.0):
        self.preview_seconds = preview_seconds

    def observe(self, outcome, now, seconds=0.0):
        """Preview dialing learns nothing."""

    def mean_level(self):
        """Preview keeps no dial level."""
        return None

    def dials(self, view):
        """Preview calls are placed by the agents themselves, never by the pacer."""
        return 0
