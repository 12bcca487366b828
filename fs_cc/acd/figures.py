"""Live figures per queue for the wallboard: now (waiting, longest wait, agents by state) and
today (offered, answered, abandoned, service level, average speed of answer, handle time).

Today's counts are folded from this engine's own events (an Emitter listener); "today" is the
day in the deployment's display time zone, and the counts start again at its midnight. The
definitions (docs/acd.rst, one place for the wallboard and the API):

- **offered**: callers who joined the queue's line;
- **answered**: those an agent answered; **abandoned**: those who hung up while waiting, of whom
  **short abandons** waited ``short_abandon`` seconds or less; **overflowed**: those who left
  otherwise (max wait, exit key, full, no agents);
- **service level**: answered within the queue's ``service_level`` seconds, divided by the
  callers who finished waiting (answered + abandoned + overflowed) less those who abandoned
  within that threshold; None before any;
- **ASA** (average speed of answer): the mean wait of the answered callers;
- **AHT** (average handle time): the mean of talk (answer to hang-up) plus the agent's wrap-up
  after the call, over the calls whose handling ended today;
- **the last 30 minutes**: answered, abandoned and the service level as above, over the callers
  who finished waiting in the last ``RECENT_SECONDS`` (a sliding window, not the clock's half
  hours).

Every ``every`` seconds, the queues whose figures changed are published as ``queue.figures``
events (kept by no table: the web relays them to wallboards).
"""

import collections
import dataclasses
import datetime
import logging
import time

import gevent

from fs_cc import events
from fs_cc.acd.waiting import Phase
from fs_cc.states import AgentState, QueueOutcome

logger = logging.getLogger(__name__)

SHORT_ABANDON_SECONDS = 5.0
PUBLISH_SECONDS = 2.0
RECENT_SECONDS = 1800.0  # the wallboard's "last 30 minutes"


@dataclasses.dataclass
class Today:
    """One queue's counts of one day."""

    offered: int = 0
    answered: int = 0
    answered_in_sl: int = 0
    abandoned: int = 0
    abandoned_in_sl: int = 0
    short_abandoned: int = 0
    overflowed: int = 0
    answer_wait: float = 0.0  # summed waits of the answered
    handled: int = 0
    handle_seconds: float = 0.0  # summed talk and wrap-up of the handled

    def service_level(self):
        """Answered within the threshold / finished less abandoned within it; None before any."""
        finished = self.answered + self.abandoned + self.overflowed - self.abandoned_in_sl
        return round(self.answered_in_sl / finished, 4) if finished > 0 else None

    def to_dict(self):
        """The day's figures as plain data (averages in seconds, None before any)."""
        return {"offered": self.offered, "answered": self.answered,
                "abandoned": self.abandoned, "short_abandoned": self.short_abandoned,
                "overflowed": self.overflowed, "answered_in_service_level": self.answered_in_sl,
                "service_level": self.service_level(),
                "asa": round(self.answer_wait / self.answered, 3) if self.answered else None,
                "aht": round(self.handle_seconds / self.handled, 3) if self.handled else None}


class Recent:
    """One queue's callers who finished waiting lately: (epoch, outcome, within the threshold)."""

    def __init__(self, window=RECENT_SECONDS):
        self.window = window
        self.finished = collections.deque()

    def add(self, epoch, outcome, in_sl):
        """Note a caller who finished waiting: ``answered``, ``abandoned`` or ``overflowed``."""
        self.finished.append((epoch, outcome, in_sl))

    def expire(self, now):
        """Forget what is older than the window; whether anything was forgotten."""
        dropped = False
        while self.finished and self.finished[0][0] <= now - self.window:
            self.finished.popleft()
            dropped = True
        return dropped

    def to_dict(self, now):
        """answered_30m, abandoned_30m and service_level_30m (None before any)."""
        self.expire(now)
        answered = sum(outcome == "answered" for _, outcome, _ in self.finished)
        abandoned = sum(outcome == "abandoned" for _, outcome, _ in self.finished)
        in_sl = sum(outcome == "answered" and ok for _, outcome, ok in self.finished)
        abandoned_in_sl = sum(outcome == "abandoned" and ok for _, outcome, ok in self.finished)
        finished = len(self.finished) - abandoned_in_sl
        return {"answered_30m": answered, "abandoned_30m": abandoned,
                "service_level_30m": round(in_sl / finished, 4) if finished > 0 else None}


class QueueFigures:
    """Folds an engine's events into per-queue figures; ``figures()`` adds the live state."""

    def __init__(self, acd, tz=datetime.timezone.utc, short_abandon=SHORT_ABANDON_SECONDS,
                 clock=time.time):
        self.acd = acd
        self.tz = tz
        self.short_abandon = short_abandon
        self.clock = clock
        self._day = None
        self._today = collections.defaultdict(Today)
        self._answered = {}  # call uuid -> (queue, agent, answered at)
        self._wrapping = {}  # agent -> (queue, wrap-up began)
        self._queue_of = {}  # call uuid -> the queue it was answered from, until answered
        self._last_queue = {}  # agent -> the queue of its last call (its wrap-up counts there)
        self._changed = set()  # queues whose figures changed since the last publication
        self._recent = collections.defaultdict(Recent)  # queue -> the last 30 minutes
        self._loop = None

    def _counts(self, queue, moment):
        day = moment.astimezone(self.tz).date()
        if day != self._day:
            self._day = day
            self._today.clear()
        self._changed.add(queue)
        return self._today[queue]

    def __call__(self, event):
        """Note one event of the engine (an Emitter listener)."""
        if isinstance(event, events.CallQueued):
            self._counts(event.queue, event.ts).offered += 1
        elif isinstance(event, events.QueueLeft):
            self._left(event)
        elif isinstance(event, events.AnsweredByAgent):
            queue = self._queue_of.pop(event.call_uuid, None)
            if queue is not None:
                self._answered[event.call_uuid] = (queue, event.agent, event.ts)
        elif isinstance(event, events.CallEnded):
            self._queue_of.pop(event.call_uuid, None)
            answered = self._answered.pop(event.call_uuid, None)
            if answered is not None:
                queue, agent, since = answered
                counts = self._counts(queue, event.ts)
                counts.handled += 1
                counts.handle_seconds += max(0.0, (event.ts - since).total_seconds())
                self._last_queue[agent] = queue
        elif isinstance(event, events.AgentStatusChanged):
            self._agent(event)

    def _left(self, event):
        counts = self._counts(event.queue, event.ts)
        definition = self.acd.queue_definition(event.queue)
        threshold = getattr(definition, "service_level", 20.0)
        in_sl = event.waited <= threshold
        recent = self._recent[event.queue]
        if event.outcome is QueueOutcome.ANSWERED:
            counts.answered += 1
            counts.answer_wait += event.waited
            counts.answered_in_sl += in_sl
            self._queue_of[event.call_uuid] = event.queue
            recent.add(event.ts.timestamp(), "answered", in_sl)
        elif event.outcome is QueueOutcome.HUNG_UP:
            counts.abandoned += 1
            counts.abandoned_in_sl += in_sl
            counts.short_abandoned += event.waited <= self.short_abandon
            recent.add(event.ts.timestamp(), "abandoned", in_sl)
        elif event.outcome is not QueueOutcome.UNKNOWN_QUEUE:
            counts.overflowed += 1
            recent.add(event.ts.timestamp(), "overflowed", False)

    def _agent(self, event):
        if event.new is AgentState.WRAP_UP:
            queue = self._last_queue.get(event.agent)
            if queue is not None:
                self._wrapping[event.agent] = (queue, event.ts)
        elif event.old is AgentState.WRAP_UP:
            wrapping = self._wrapping.pop(event.agent, None)
            if wrapping is not None:
                queue, since = wrapping
                self._counts(queue, event.ts).handle_seconds += max(
                    0.0, (event.ts - since).total_seconds())

    def figures(self, queue):
        """A queue's figures now: live state and today's counts."""
        now = self.clock()
        waiting = [caller for caller in list(self.acd.callers.values())
                   if caller.queue == queue and caller.phase is Phase.WAITING]
        agents = collections.Counter(agent.status.value for agent in self.acd.store.list_agents()
                                     if queue in agent.queues)
        today = self._today[queue] if self._day == datetime.datetime.fromtimestamp(
            now, self.tz).date() and queue in self._today else Today()
        return {"queue": queue, "waiting": len(self.acd.store.waiting_callers(queue)),
                "longest_wait": round(max((now - c.since for c in waiting), default=0.0), 3),
                "agents": {state.value: agents.get(state.value, 0) for state in AgentState},
                **today.to_dict(), **self._recent[queue].to_dict(now)}

    # -- publication ------------------------------------------------------------------------

    def start(self, emit, every=PUBLISH_SECONDS):
        """Publish the changed queues' figures every ``every`` seconds with ``emit``."""
        self._loop = gevent.spawn(self._publish_loop, emit, every)
        self._loop.link_exception(lambda g: logger.error("queue figures stopped: %r",
                                                         g.exception))

    def stop(self):
        """Stop publishing."""
        if self._loop is not None:
            self._loop.kill()

    def _publish_loop(self, emit, every):
        while True:
            gevent.sleep(every)
            self.publish(emit)

    def publish(self, emit):
        """Emit one ``queue.figures`` event per queue changed since the last time; how many."""
        now = self.clock()
        # a window that slid past a caller changes the last 30 minutes' figures
        self._changed.update(queue for queue, recent in self._recent.items()
                             if recent.expire(now))
        changed, self._changed = self._changed, set()
        for queue in sorted(changed):
            if self.acd.queue_definition(queue) is not None:
                emit(events.QueueFiguresChanged, **self.figures(queue))
        return len(changed)
