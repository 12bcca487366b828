"""Simulated time: every simulated duration is divided by the speed factor."""

import time

import gevent


class Clock:
    """Scales simulated seconds to real seconds (`speed` 100 makes a 2-minute talk last 1.2 s)."""

    def __init__(self, speed=1.0):
        if speed <= 0:
            raise ValueError("speed must be positive, got %r" % speed)
        self.speed = float(speed)

    def real(self, seconds):
        """Real seconds for a simulated duration."""
        return max(0.0, float(seconds)) / self.speed

    def sleep(self, seconds):
        """Sleep a simulated duration."""
        gevent.sleep(self.real(seconds))

    @staticmethod
    def monotonic():
        """Real monotonic time."""
        return time.monotonic()
