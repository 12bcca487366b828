"""A seeded discrete-event simulation of an outbound campaign, driven by a real pacer.

Agents log in and out by a roster; a pacer is asked, on its own interval (and when an agent
frees up, if it wants), how many calls to place. Each call rings (Gamma, shape 4, mean ``ring``)
and is answered by a person with ``answer_rate``; a live answer goes to the agent free longest,
else waits, and is abandoned if no agent frees up within ``grace`` seconds. Talk (lognormal,
sigma 0.5) and wrap-up (lognormal, sigma 0.3) follow. The n-th call placed gets the same draws
whichever pacer placed it, so pacers are compared on the same leads.
"""

import collections
import dataclasses
import heapq
import math
import random

from fs_cc.dialer.abandon import AbandonWindow
from fs_cc.dialer.pacing import Outcome, Pacer, View


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A campaign to simulate: its team, its leads' behaviour, its shift."""

    agents: int = 20
    answer_rate: float = 0.3
    talk: float = 120.0
    wrap: float = 15.0
    ring: float = 20.0
    hours: float = 8.0
    grace: float = 2.0
    seed: int = 1
    talk_sigma: float = 0.5  # of the talk time's logarithm
    wrap_sigma: float = 0.3
    ring_shape: float = 4.0  # of the ring time's Gamma distribution
    roster: tuple = ()  # (login, logout) seconds per agent; default: the whole shift for each

    def ceiling(self):
        """Talk minutes per agent-hour no pacer can pass: talk / (talk + wrap) x 60."""
        return 60.0 * self.talk / (self.talk + self.wrap)


@dataclasses.dataclass
class Result:
    """What one simulated shift gave."""

    pacer: str
    scenario: Scenario
    dials: int = 0
    connects: int = 0
    abandons: int = 0
    talk_seconds: float = 0.0
    wrap_seconds: float = 0.0
    logged_seconds: float = 0.0
    mean_dial_level: float = None
    trace: list = None  # (View, dials placed, abandon counts before) of each decision, if asked

    @property
    def answers(self):
        """Live answers: connected or abandoned."""
        return self.connects + self.abandons

    @property
    def abandon_rate(self):
        """Abandoned over live answers."""
        return self.abandons / self.answers if self.answers else 0.0

    @property
    def agent_hours(self):
        """Logged-in agent-hours."""
        return self.logged_seconds / 3600.0

    @property
    def talk_per_agent_hour(self):
        """Talk minutes per logged-in agent-hour (wrap-up is not talk)."""
        return self.talk_seconds / 60.0 / self.agent_hours if self.logged_seconds else 0.0

    @property
    def occupancy(self):
        """Share of logged-in time spent talking or in wrap-up."""
        busy = self.talk_seconds + self.wrap_seconds
        return busy / self.logged_seconds if self.logged_seconds else 0.0

    @property
    def wait_between_calls(self):
        """Mean seconds an agent is idle (or previewing, or hearing it ring) between two calls."""
        idle = self.logged_seconds - self.talk_seconds - self.wrap_seconds
        return idle / self.connects if self.connects else math.inf

    @property
    def connects_per_hour(self):
        """Calls reaching an agent per hour of the shift, whole team."""
        return self.connects / self.scenario.hours

    @property
    def connects_per_agent_hour(self):
        """Calls reaching an agent per logged-in agent-hour."""
        return self.connects / self.agent_hours if self.logged_seconds else 0.0


class _Agent:
    __slots__ = ("name", "state", "since", "leaving", "logged_since")

    def __init__(self, name):
        self.name, self.state, self.since, self.leaving, self.logged_since = name, "out", 0.0, False, 0.0


class _Call:
    __slots__ = ("answered", "ring", "talk", "wrap", "dialed", "agent", "state")


class Simulation:
    """One shift of a scenario under one pacer."""

    def __init__(self, scenario, pacer: Pacer, trace=False):
        self.s = scenario
        self.pacer = pacer
        self.bound = pacer.agent_bound  # preview: calls belong to an agent
        self.result = Result(pacer.name, scenario, trace=[] if trace else None)
        self.truth = AbandonWindow()
        self._leads = random.Random(f"{scenario.seed}-leads")
        self._events = []
        self._seq = 0
        self.now = 0.0
        self.agents = [_Agent(i) for i in range(scenario.agents)]
        self.free = collections.OrderedDict()  # agent -> None, longest free first
        self.talking, self.wrapping, self.ringing = {}, {}, {}
        self.waiting = collections.deque()
        self._handlers = {"tick": self._on_tick, "login": self._on_login, "logout": self._on_logout,
                          "preview_dial": self._on_preview_dial, "ring_end": self._on_ring_end,
                          "grace_end": self._on_grace_end, "talk_end": self._on_talk_end,
                          "wrap_end": self._on_wrap_end}

    def _at(self, time, kind, item=None):
        self._seq += 1
        heapq.heappush(self._events, (time, self._seq, kind, item))

    def _draw(self):
        s, r, call = self.s, self._leads, _Call()
        call.answered = r.random() < s.answer_rate
        call.ring = r.gammavariate(s.ring_shape, s.ring / s.ring_shape)
        call.talk = r.lognormvariate(math.log(s.talk) - s.talk_sigma ** 2 / 2, s.talk_sigma)
        call.wrap = r.lognormvariate(math.log(s.wrap) - s.wrap_sigma ** 2 / 2, s.wrap_sigma)
        return call

    def run(self):
        """Simulate the shift; the Result."""
        end = self.s.hours * 3600.0
        roster = self.s.roster or [(0.0, end)] * self.s.agents
        for agent, (login, logout) in zip(self.agents, roster):
            self._at(login, "login", agent)
            self._at(min(logout, end), "logout", agent)
        self._at(0.0, "tick")
        while self._events:
            time, _, kind, item = heapq.heappop(self._events)
            if time > end:
                break
            self.now = time
            self._handlers[kind](item)
        self._close(end)
        self.result.mean_dial_level = self.pacer.mean_level()
        return self.result

    def _close(self, end):
        for agent in self.agents:
            if agent.state != "out":
                self.result.logged_seconds += end - agent.logged_since
        for agent, start in self.talking.items():
            self.result.talk_seconds += end - start
        for agent, start in self.wrapping.items():
            self.result.wrap_seconds += end - start

    def view(self):
        """What the pacer sees now."""
        now = self.now
        return View(now=now, logged_in=sum(a.state != "out" for a in self.agents),
                    free=len(self.free),
                    talking=tuple(now - t for t in self.talking.values()),
                    wrapping=tuple(now - t for t in self.wrapping.values()),
                    ringing=tuple(now - c.dialed for c in self.ringing.values()),
                    waiting=len(self.waiting))

    def _decide(self):
        if self.now >= self.s.hours * 3600.0:
            return
        view = self.view()
        n = self.pacer.dials(view)
        if self.result.trace is not None and (n or view.logged_in == 0):
            self.result.trace.append((view, n, self.truth.counts(self.now)))
        for _ in range(n):
            self._dial(None)

    def _dial(self, agent):
        call = self._draw()
        call.dialed, call.agent, call.state = self.now, agent, "ringing"
        self.ringing[id(call)] = call
        self.result.dials += 1
        self.pacer.observe(Outcome.DIALED, self.now)
        self._at(self.now + call.ring, "ring_end", call)

    # events

    def _on_tick(self, _):
        if not self.bound:
            self._decide()
        self._at(self.now + self.pacer.interval, "tick")

    def _on_login(self, agent):
        agent.state, agent.logged_since, agent.leaving = "free", self.now, False
        self._agent_free(agent)

    def _on_logout(self, agent):
        if agent.state == "free":
            self._log_out(agent)
        elif agent.state != "out":
            agent.leaving = True  # once the call in hand and its wrap-up are done

    def _log_out(self, agent):
        self.free.pop(agent, None)
        self.result.logged_seconds += self.now - agent.logged_since
        agent.state = "out"

    def _agent_free(self, agent):
        if agent.leaving:
            self._log_out(agent)
            return
        if self.waiting:
            self._connect(self.waiting.popleft(), agent)
            return
        if self.bound:  # preview: read the next lead, then dial it
            agent.state = "previewing"
            self._at(self.now + self.pacer.preview_seconds, "preview_dial", agent)
            return
        agent.state = "free"
        self.free[agent] = None
        if self.pacer.on_free:
            self._decide()

    def _on_preview_dial(self, agent):
        if agent.leaving or self.now >= self.s.hours * 3600.0:
            self._log_out(agent)
            return
        agent.state = "ringing"
        self._dial(agent)

    def _on_ring_end(self, call):
        del self.ringing[id(call)]
        if not call.answered:
            self.pacer.observe(Outcome.NO_ANSWER, self.now, call.ring)
            if call.agent is not None:
                self._agent_free(call.agent)
            return
        self.pacer.observe(Outcome.ANSWERED, self.now, call.ring)
        if call.agent is not None:
            self._connect(call, call.agent)
        elif self.free:
            agent = next(iter(self.free))
            del self.free[agent]
            self._connect(call, agent)
        else:
            call.state = "waiting"
            self.waiting.append(call)
            self._at(self.now + self.s.grace, "grace_end", call)

    def _on_grace_end(self, call):
        if call.state != "waiting":
            return
        self.waiting.remove(call)
        call.state = "abandoned"
        self.result.abandons += 1
        self.truth.record(self.now, abandoned=True)
        self.pacer.observe(Outcome.ABANDONED, self.now)

    def _connect(self, call, agent):
        call.state = "talking"
        agent.state = "talk"
        self.talking[agent] = self.now
        self.result.connects += 1
        self.truth.record(self.now, abandoned=False)
        self.pacer.observe(Outcome.CONNECTED, self.now)
        self._at(self.now + call.talk, "talk_end", (agent, call))

    def _on_talk_end(self, item):
        agent, call = item
        del self.talking[agent]
        self.result.talk_seconds += call.talk
        self.pacer.observe(Outcome.TALK_ENDED, self.now, call.talk)
        agent.state = "wrap"
        self.wrapping[agent] = self.now
        self._at(self.now + call.wrap, "wrap_end", (agent, call))

    def _on_wrap_end(self, item):
        agent, call = item
        del self.wrapping[agent]
        self.result.wrap_seconds += call.wrap
        self.pacer.observe(Outcome.WRAP_ENDED, self.now, call.wrap)
        self._agent_free(agent)


def simulate(scenario, pacer, trace=False):
    """Run one shift of `scenario` under `pacer`; its Result."""
    return Simulation(scenario, pacer, trace).run()
