"""Waiting in tests: poll a condition with a deadline, never a fixed sleep.

The suite runs under gevent's monkey patching, so these yield to other greenlets while they wait.
"""

import time


def wait_until(condition, timeout=5.0, what="condition", interval=0.01):
    """Poll condition() until it returns a true value and return that; AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(interval)


def poll(condition, timeout=5.0):
    """True as soon as condition() is; False after timeout (for tests that assert either way)."""
    try:
        wait_until(condition, timeout)
    except AssertionError:
        return False
    return True
