"""Simulated inbound traffic: seeded arrivals of scripted callers."""

import logging
import random
from dataclasses import dataclass, field

import gevent

logger = logging.getLogger(__name__)


@dataclass
class TrafficProfile:
    """Calls per minute, DIDs, menu choice weights, patience and talk ranges (seconds), seed."""
    calls_per_minute: float = 6.0
    dids: list = field(default_factory=lambda: ["4000"])
    menu_weights: dict = field(default_factory=lambda: {"1": 0.6, "2": 0.4})
    patience_seconds: tuple = (30.0, 180.0)
    talk_seconds: tuple = (30.0, 240.0)
    caller_prefix: str = "1380013"
    seed: int = None
    max_calls: int = None
    first_call_seconds: float = None  # simulated seconds before the first call (None: random)


class TrafficGenerator:
    """Places callers as a Poisson process on the emulator's simulated clock."""

    def __init__(self, emulator, profile):
        self.emulator = emulator
        self.profile = profile
        self.rng = random.Random(profile.seed)
        self.placed = []
        self._greenlet = None

    def start(self):
        """Start placing calls in the background."""
        self._greenlet = gevent.spawn(self._run)
        self._greenlet.link_exception(self.emulator.log_failure)

    def stop(self):
        """Stop placing calls."""
        if self._greenlet is not None:
            self._greenlet.kill()
            self._greenlet = None

    def next_call(self):
        """The arguments of the next simulated caller (pure, seeded)."""
        profile = self.profile
        digits = list(profile.menu_weights)
        choice = self.rng.choices(digits, weights=[profile.menu_weights[d] for d in digits])[0] if digits else ""
        return {
            "did": self.rng.choice(profile.dids),
            "caller_number": "%s%04d" % (profile.caller_prefix, self.rng.randrange(10000)),
            "dtmf": choice,
            "patience_seconds": round(self.rng.uniform(*profile.patience_seconds), 1),
            "talk_seconds": round(self.rng.uniform(*profile.talk_seconds), 1),
        }

    def _run(self):
        rate = self.profile.calls_per_minute / 60.0
        first = self.profile.first_call_seconds
        while self.profile.max_calls is None or len(self.placed) < self.profile.max_calls:
            if first is not None and not self.placed:
                self.emulator.clock.sleep(first)  # a demo shows a call at once
            else:
                self.emulator.clock.sleep(self.rng.expovariate(rate) if rate > 0 else 3600)
            call = self.next_call()
            self.placed.append(self.emulator.place_call(**call))
