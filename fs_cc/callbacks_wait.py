"""How long a caller joining a queue now would wait: what a queue node's ``callback_after_wait`` asks.

Estimated from the queue, not a constant: the callers in line ahead, the queue's recent handle
times (an agent answering to the call's end, as this engine's events tell them) and the agents
staffed (logged in, not on break). With nobody staffed the wait is endless.
"""

import collections
import math

from fs_cc import events
from fs_cc.acd.agents import AgentStatus

RECENT = 20  # handle times per queue the average is taken over
DEFAULT_HANDLE_SECONDS = 180.0  # before a queue has any history
NOT_STAFFED = (AgentStatus.LOGGED_OUT, AgentStatus.NOT_READY)


def estimate(ahead, handle_seconds, staffed):
    """Seconds until a caller with ``ahead`` callers before them is answered."""
    if staffed <= 0:
        return math.inf
    return (ahead + 1) * handle_seconds / staffed


class WaitEstimator:
    """An Emitter listener keeping each queue's recent handle times; ``estimated_wait(queue)``."""

    def __init__(self, store, recent=RECENT, default_handle=DEFAULT_HANDLE_SECONDS):
        self.store = store
        self.default_handle = default_handle
        self._recent = collections.defaultdict(lambda: collections.deque(maxlen=recent))
        self._queue_of = {}  # call uuid -> the queue its agent was offered from
        self._answered = {}  # call uuid -> (queue, when answered)

    def __call__(self, event):
        """Note one event (only offers, answers and ends matter)."""
        if isinstance(event, events.OfferedToAgent) and event.queue:
            self._queue_of[event.call_uuid] = event.queue
        elif isinstance(event, events.AnsweredByAgent):
            queue = self._queue_of.get(event.call_uuid)
            if queue is not None:
                self._answered[event.call_uuid] = (queue, event.ts)
        elif isinstance(event, events.CallEnded):
            self._queue_of.pop(event.call_uuid, None)
            answered = self._answered.pop(event.call_uuid, None)
            if answered is not None:
                queue, since = answered
                self._recent[queue].append(max(0.0, (event.ts - since).total_seconds()))

    def handle_seconds(self, queue):
        """The queue's average recent handle time (the default before any call ended)."""
        recent = self._recent.get(queue)
        return sum(recent) / len(recent) if recent else self.default_handle

    def estimated_wait(self, queue):
        """Seconds a caller joining ``queue`` now would wait."""
        staffed = sum(1 for agent in self.store.list_agents()
                      if queue in agent.queues and agent.status not in NOT_STAFFED)
        ahead = len(self.store.waiting_callers(queue))
        return estimate(ahead, self.handle_seconds(queue), staffed)
