"""ACD routing: how long a decision takes, and how soon a queued caller's agent is rung.

FreeSWITCH's mod_callcenter runs one dispatch thread that polls its SQL tables every 100 ms and,
for each waiting member, queries every tier agent; the ACD rebuilt around one router per engine
(fs_cc.acd.router) wakes on facts instead and looks only at the available agents of a queue and
the heads of the lines. These figures say what that buys, in three parts:

1. Decision latency, pure (no sockets), on MemoryStore and on RedisStore (a real Redis, keys
   under a prefix of this run, deleted at the end): 10,000 agents over 20 queues of uneven
   popularity, each in 1-3 queues, every one speaking English (levels 3-9), some also Spanish,
   French, German or legal; 2,000 callers waiting with priorities (mostly 0), waits of up to
   10 minutes and skill requests (most none or English, some Spanish, French, German, legal).
   Each decision is timed alone, on a ``Router`` whose ``dispatch`` only records the match;
   the offer's outcome is then applied, untimed, as a real offer would:

   (a) ``route_agent``: every agent busy (on a call or a break), one becomes available and is
       matched with the best caller of all its queues; it then goes on the call and a new
       caller replaces the one served, so 2,000 keep waiting. That new caller's
       ``route_caller`` (nobody free) is timed too: (a').
   (b) ``route_caller``: 2,000 English-only agents available, the 2,000 waiting callers all
       asking for a skill none of them has (a specialist backlog: they stay in line and the
       router must look past them), and a caller of the usual mix arrives: most get an agent,
       who is then put back (available again), the rest are taken out of line again.

   The garbage collector's full collections during each scenario are counted: they make
   the maxima.

   The same is run again in a **skills world**: 200 queues, every agent with 5 of 40 skills at
   levels 1-10 and a level (tier) 1-3 in each of its queues, callers asking 1-2 skills with
   minimum levels, the queues' strategies a mix of all of them (longest-idle, fewest-calls,
   round-robin, least-talk-time, top-down, fewest-calls-last-hour, random); the backlog of (b)
   asks for rare skills at levels 8-10 that none of the available agents has.

2. Caller queued -> the agent's originate sent, against the emulator in a separate process
   (speed 10: agent phones answer after 20 ms and talk 100 ms, real time). This process runs
   what the engine runs for it: InboundClient (the engine's event subscription) + CallControl
   + ACD on a MemoryStore with its router, and an Emitter that publishes on an InProcessBus
   (no outbox, no subscriber), so building and publishing each event is counted. Callers
   arrive at 20/s (Poisson) for 15 s at 10, 100 and 1,000 agents (in two queues): each is a
   loopback channel made with an originate on a second connection (``loopback/9196/default``:
   its B-leg answers, so the originate returns; the emulator's ``park`` extension never
   answers, and that originate would wait for its timeout); the clock starts when the
   originate returned, just before ``acd.enqueue``, and stops when a CallControl subclass's
   ``originate`` is called for that caller (the bgapi goes onto the socket right after, under
   the originate limiter). A caller who joined a queue with every agent of it busy (the ACD's
   own status events and the store say so) waited for an agent: it is counted and left out.
   Printed with the figure: the steps (``acd.enqueue`` itself, which puts the caller in line
   and wakes the router, while the channel's preparation (``hangup_after_bridge``, the music)
   runs beside it; -> dispatch; -> originate), and the api round trip of a probe on a
   connection of its own meanwhile, what the switch takes to answer. The emulator sets
   TCP_NODELAY on its ESL sockets as FreeSWITCH's mod_event_socket does (without it a reply
   written right after an event waits for the client's delayed ACK, about 40 ms on Linux).

3. Backlog: 100 callers waiting in one queue, 1,000 agents on break (phones that talk for an
   hour, so no call ends during the phase); agents are made available one by one, each 50 ms
   after the previous one's originate, so every offer is separate. Latency per offer:
   ``acd.set_status(ext, "available")`` -> originate sent for a caller; and this process's CPU
   seconds (``time.process_time``) over the phase divided by the offers: everything the
   process did meanwhile, the answers, bridges and events of the offers included.

Logging stays at WARNING (an engine writing INFO lines would add their cost). ``--quick`` runs
smaller sizes for a fast check. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/acd_routing.py [--quick] [--redis redis://127.0.0.1:6379/0]
"""

from gevent import monkey

monkey.patch_all()  # the ACD, the ESL clients and redis-py all run as greenlets, as in the engine

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import gc  # noqa: E402
import math  # noqa: E402
import pathlib  # noqa: E402
import random  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid as uuidlib  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402
import redis  # noqa: E402
from gevent.pool import Pool  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fs_cc import events  # noqa: E402
from fs_cc.acd import ACD, AgentStatus, MemoryStore, Queue, RedisStore  # noqa: E402
from fs_cc.acd.router import Router  # noqa: E402
from fs_cc.acd.waiting import Caller, Phase  # noqa: E402
from fs_cc.bus import InProcessBus  # noqa: E402
from fs_cc.callctl import CallControl  # noqa: E402
from fs_cc.emitter import Emitter  # noqa: E402
from fs_cc.engine import ENGINE_EVENTS  # noqa: E402
from fs_cc.esl.inbound import InboundClient  # noqa: E402

SEED = 2024
S = AgentStatus
PASSWORD = "ClueCon"
SPEED = 10  # emulator speed: 0.2 s simulated answer delay -> 20 ms, 1 s of talk -> 100 ms
SHORT_PHONES = 1000  # part 2's phones: extensions 1000-1999, short calls
LONG_PHONES = 5000  # part 3's phones: extensions 5000-5999, calls that outlast the phase
ARRIVALS_PER_SECOND = 20.0
OFFER_SPACING = 0.05  # part 3: real seconds after an offer's originate before the next agent
MOH_CALLER = "loopback/9196/default"  # the emulator's echo extension answers: originate returns

FULL = {"agents": 10_000, "queues": 20, "skills_queues": 200, "waiting": 2_000, "samples": 2_000,
        "available": 2_000, "sizes": (10, 100, 1_000), "seconds": 15.0,
        "backlog_callers": 100, "backlog_agents": 1_000}
QUICK = {"agents": 2_000, "queues": 20, "skills_queues": 40, "waiting": 400, "samples": 300,
         "available": 400, "sizes": (10, 100), "seconds": 4.0,
         "backlog_callers": 20, "backlog_agents": 200}

REFERENCES = {
    "pure": "target: in-process p99 < 1 ms, Redis p99 < 5 ms",
    "latency": ("reference: FreeSWITCH mod_callcenter offers after median 40-60 ms, p99 100-120 ms"
                " (its dispatch thread polls every 100 ms); target for ours: p99 <= 5 ms"),
    "backlog": ("reference: mod_callcenter needs 650 ms per offer at 95 % of a core here;"
                " target: flat and <= 5 ms"),
}


class BenchmarkFailed(Exception):
    """The benchmark could not measure what it means to: the message says why."""


def wait_until(predicate, seconds, what):
    """Poll ``predicate`` until it holds; after ``seconds``, BenchmarkFailed naming ``what``."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() >= deadline:
            raise BenchmarkFailed(f"timed out after {seconds:.0f} s waiting for {what}")
        gevent.sleep(0.02)


def figures(seconds):
    """'median … p99 … max …' of durations in seconds, shown in ms."""
    if not seconds:
        return "no samples"
    return (f"median {median_ms(seconds):7.3f} ms  p99 {p99_ms(seconds):7.3f} ms"
            f"  max {max(seconds) * 1000.0:7.3f} ms")


def median_ms(seconds):
    """The median of durations in seconds, in ms (nan when there are none)."""
    return sorted(seconds)[len(seconds) // 2] * 1000.0 if seconds else float("nan")


def p99_ms(seconds):
    """The 99th percentile (nearest rank) of durations in seconds, in ms (nan when none)."""
    if not seconds:
        return float("nan")
    return sorted(seconds)[max(0, math.ceil(0.99 * len(seconds)) - 1)] * 1000.0


# -- a population -------------------------------------------------------------------------------
LANGUAGES = (("es", 0.20), ("fr", 0.10), ("de", 0.05))
SPECIALIST = ("es", "fr", "de", "legal")


@dataclasses.dataclass
class CallerSpec:
    """A caller to enqueue: what it asks for and since when it waits."""

    call_uuid: str
    queue: str
    priority: int
    skills: dict
    since: float


class Population:
    """Agents and callers drawn from one seeded generator, queues of uneven popularity."""

    def __init__(self, queues, seed=SEED):
        self.rng = random.Random(seed)
        self.queues = [f"q{n:02d}" for n in range(queues)]
        self.weights = [1.0 / (n + 1) ** 0.7 for n in range(queues)]

    def _uuid(self):
        return str(uuidlib.UUID(int=self.rng.getrandbits(128), version=4))

    def _queue(self):
        return self.rng.choices(self.queues, self.weights)[0]

    def agent(self, extension):
        """(extension, queues, skills): 1-3 queues, English for all, some other skills."""
        count = self.rng.choices((1, 2, 3), (50, 35, 15))[0]
        queues = []
        while len(queues) < count:
            queue = self._queue()
            if queue not in queues:
                queues.append(queue)
        skills = {"en": self.rng.randint(3, 9)}
        for skill, share in LANGUAGES + (("legal", 0.03),):
            if self.rng.random() < share:
                skills[skill] = self.rng.randint(1, 5 if skill == "legal" else 9)
        return extension, tuple(queues), skills

    def caller(self, since=None, specialist=False):
        """A caller of the usual mix (or one asking for a specialist skill)."""
        rng = self.rng
        if specialist:
            wanted = rng.choice(SPECIALIST)
            skills = {wanted: rng.randint(1, 3 if wanted == "legal" else 6)}
        else:
            draw = rng.random()
            if draw < 0.55:
                skills = {}
            elif draw < 0.75:
                skills = {"en": rng.randint(1, 6)}
            elif draw < 0.85:
                skills = {"es": rng.randint(1, 6)}
            elif draw < 0.91:
                skills = {"fr": rng.randint(1, 6)}
            elif draw < 0.95:
                skills = {"de": rng.randint(1, 6)}
            elif draw < 0.98:
                skills = {"legal": rng.randint(1, 3)}
            else:
                skills = {"es": rng.randint(1, 6), "legal": rng.randint(1, 3)}
        priority = rng.choices((0, 1, 2, 3, 5, 9), (85, 6, 4, 2, 2, 1))[0]
        moment = time.time() - rng.uniform(0, 600) if since is None else since
        return CallerSpec(self._uuid(), self._queue(), priority, skills, moment)


SKILLS = tuple(f"s{n:02d}" for n in range(40))  # products, languages, channels...
RARE = SKILLS[-4:]  # skills no generalist has: a specialist backlog asks for them
STRATEGY_MIX = (("longest-idle", 40), ("fewest-calls", 15), ("round-robin", 15),
                ("least-talk-time", 10), ("top-down", 10), ("fewest-calls-last-hour", 5),
                ("random", 5))


class SkillsPopulation(Population):
    """The skills world: every agent has 5 skills with levels 1-10 and a level (tier) in each of
    its 1-3 queues; callers ask 1-2 skills with minimum levels; queues mix the strategies."""

    def agent(self, extension):
        """(extension, {queue: level}, skills)."""
        rng = self.rng
        count = rng.choices((1, 2, 3), (50, 35, 15))[0]
        queues = {}
        while len(queues) < count:
            queues.setdefault(self._queue(), rng.choices((1, 2, 3), (70, 20, 10))[0])
        pool = SKILLS[:-len(RARE)] if rng.random() < 0.9 else SKILLS
        skills = {name: rng.randint(1, 10) for name in rng.sample(pool, 5)}
        return extension, queues, skills

    def caller(self, since=None, specialist=False):
        rng = self.rng
        if specialist:
            skills = {rng.choice(RARE): rng.randint(8, 10)}
        else:
            names = rng.sample(SKILLS[:-len(RARE)], rng.choices((1, 2), (70, 30))[0])
            skills = {name: rng.randint(1, 8) for name in names}
        priority = rng.choices((0, 1, 2, 3, 5, 9), (85, 6, 4, 2, 2, 1))[0]
        moment = time.time() - rng.uniform(0, 600) if since is None else since
        return CallerSpec(self._uuid(), self._queue(), priority, skills, moment)

    def strategy(self, queue):
        """The queue's strategy, drawn from STRATEGY_MIX."""
        names, weights = zip(*STRATEGY_MIX)
        return random.Random(f"{SEED}:{queue}").choices(names, weights)[0]

    @staticmethod
    def generalist(skills):
        """Whether an agent with ``skills`` can never serve the specialist backlog."""
        return not set(skills) & set(RARE)


# -- part 1: decisions without sockets ----------------------------------------------------------
class PureRouting:
    """A Router over a store with the population's agents and callers; times its decisions."""

    def __init__(self, store, population, agents):
        self.store = store
        self.population = population
        self.callers = {}
        self.matches = []
        strategy = getattr(population, "strategy", lambda name: "longest-idle")
        queues = {name: Queue(name, strategy(name)) for name in population.queues}
        self.router = Router(store, queues, self.callers, self._record)
        self.specs = [population.agent(str(100_000 + n)) for n in range(agents)]
        for extension, queues_of, skills in self.specs:
            levels = queues_of if isinstance(queues_of, dict) else None
            store.define_agent(extension, extension, tuple(queues_of), skills, levels)
            store.set_status(extension, S.NOT_READY)

    def _record(self, caller, agent):
        # the router's dispatch: only note the match (the offer's greenlet would start here)
        self.matches.append((caller.call_uuid, agent.extension))

    def enqueue(self, spec):
        """Put a caller in line, as ACD.enqueue does, without routing it."""
        caller = Caller(spec.call_uuid, spec.queue, priority=spec.priority, skills=spec.skills,
                        since=spec.since)
        self.callers[spec.call_uuid] = caller
        self.store.enqueue_caller(spec.queue, spec.call_uuid, spec.since, spec.priority)
        return caller

    def clear_line(self):
        """Take every waiting caller out."""
        for caller in list(self.callers.values()):
            self.store.dequeue_caller(caller.queue, caller.call_uuid)
        self.callers.clear()

    def agent_frees(self, samples, waiting):
        """(a): every agent busy, one at a time becomes free; route_agent, route_caller times."""
        for _ in range(waiting):
            self.enqueue(self.population.caller())
        rng = self.population.rng
        busy = [extension for extension, _, _ in self.specs]
        freed, arrived, unmatched = [], [], 0
        for _ in range(samples):
            index = rng.randrange(len(busy))
            extension = busy[index]
            self.store.set_status(extension, S.AVAILABLE)
            before = len(self.matches)
            started = time.perf_counter()
            self.router.route_agent(extension)
            freed.append(time.perf_counter() - started)
            if len(self.matches) == before:
                unmatched += 1
                self.store.set_status(extension, S.NOT_READY)  # nobody for it: back to break
                continue
            served, _ = self.matches[-1]
            del self.callers[served]
            self.store.set_status(extension, S.ON_CALL)  # the offer was answered
            newcomer = self.enqueue(self.population.caller(since=time.time()))
            started = time.perf_counter()
            self.router.route_caller(newcomer.call_uuid)
            arrived.append(time.perf_counter() - started)
        return freed, arrived, unmatched

    def caller_arrives(self, samples, waiting, available):
        """(b): English-only agents available, a specialist backlog; route_caller times."""
        self.clear_line()
        for _ in range(waiting):
            self.enqueue(self.population.caller(specialist=True))
        generalist = getattr(self.population, "generalist", lambda skills: set(skills) == {"en"})
        generalists = [ext for ext, _, skills in self.specs if generalist(skills)]
        chosen = self.population.rng.sample(generalists, min(available, len(generalists)))
        for extension in chosen:  # on a break, or on the call (a) gave it: both may end
            self.store.set_status(extension, S.AVAILABLE)
        times, served = [], 0
        for _ in range(samples):
            caller = self.enqueue(self.population.caller(since=time.time()))
            before = len(self.matches)
            started = time.perf_counter()
            self.router.route_caller(caller.call_uuid)
            times.append(time.perf_counter() - started)
            if len(self.matches) > before:
                served += 1
                who, extension = self.matches[-1]
                del self.callers[who]
                self.store.release(extension)  # the offer ended: the agent is available again
            else:  # it joins the backlog; taken out so 2,000 keep waiting
                self.store.dequeue_caller(caller.queue, caller.call_uuid)
                del self.callers[caller.call_uuid]
        return times, served, len(chosen)


class GcPauses:
    """The garbage collector's pauses while in the ``with`` block (gc.callbacks)."""

    def __init__(self):
        self.full = []  # seconds of each generation-2 collection
        self._started = None

    def __enter__(self):
        gc.callbacks.append(self._note)
        return self

    def __exit__(self, *exc):
        gc.callbacks.remove(self._note)
        return False

    def _note(self, phase, info):
        if phase == "start":
            self._started = time.perf_counter()
        elif info["generation"] == 2 and self._started is not None:
            self.full.append(time.perf_counter() - self._started)

    def __str__(self):
        if not self.full:
            return "no full GC"
        return f"{len(self.full)} full GC, longest {max(self.full) * 1000:.0f} ms"


def decision_latency(label, store, size, world=Population):
    """Part 1 on one store: prints (a), (a') and (b)."""
    population = world(size["queues"])
    started = time.monotonic()
    bench = PureRouting(store, population, size["agents"])
    setup = time.monotonic() - started
    print(f"{label} ({size['agents']:,} agents over {size['queues']} queues, "
          f"{size['waiting']:,} waiting; setup {setup:.1f} s):")
    with GcPauses() as pauses:
        freed, arrived, unmatched = bench.agent_frees(size["samples"], size["waiting"])
    print(f"  (a)  route_agent, an agent frees, all busy  n={len(freed):5}  {figures(freed)}"
          f"  ({len(freed) - unmatched} matched)")
    print(f"  (a') route_caller, arrival, all busy        n={len(arrived):5}  {figures(arrived)}"
          f"  ({pauses} in (a))")
    with GcPauses() as pauses:
        times, served, available = bench.caller_arrives(size["samples"], size["waiting"],
                                                        size["available"])
    print(f"  (b)  route_caller, arrival, {available:,} available n={len(times):5}  "
          f"{figures(times)}  ({served} matched; {pauses})")
    bench.clear_line()


def redis_store(url):
    """A RedisStore under a prefix of this run, or None (with a message) when Redis is down."""
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        print(f"RedisStore: skipped, no Redis at {url}: {exc}")
        return None
    return RedisStore(client, prefix=f"fs_cc_bench:acd_routing:{uuidlib.uuid4().hex[:12]}:")


def delete_keys(store):
    """Delete every key of this run's prefix."""
    keys = list(store.client.scan_iter(match=store.prefix + "*", count=1000))
    for start in range(0, len(keys), 1000):
        store.client.delete(*keys[start:start + 1000])


def part_pure(size, redis_url):
    print("== 1. decision latency, no sockets; " + REFERENCES["pure"])
    worlds = (("languages world", Population, size),
              ("skills world", SkillsPopulation, dict(size, queues=size["skills_queues"])))
    for world_name, world, sizes in worlds:
        decision_latency(f"MemoryStore, {world_name}", MemoryStore(), sizes, world)
        store = redis_store(redis_url)
        if store is not None:
            try:
                decision_latency(f"RedisStore, {world_name}", store, sizes, world)
            finally:
                delete_keys(store)


# -- the emulator (a separate process) ----------------------------------------------------------
def free_port():
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port):
    """True when something accepts on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class EmulatorProcess:
    """The emulator (``fs-cc emulator``) on a free port with short-call and long-call phones;
    a context manager."""

    def __init__(self, short_phones, long_phones, workdir):
        self.port = free_port()
        config = pathlib.Path(workdir) / f"phones-{self.port}.yaml"
        lines = [f"  - {{extension: '{SHORT_PHONES + n}', answer_delay: 0.2, talk_seconds: 1}}"
                 for n in range(short_phones)]
        lines += [f"  - {{extension: '{LONG_PHONES + n}', answer_delay: 0.2, talk_seconds: 3600}}"
                  for n in range(long_phones)]
        config.write_text("phones:\n" + "\n".join(lines) + "\n", encoding="utf-8")
        self._log = open(pathlib.Path(workdir) / f"emulator-{self.port}.log", "wb")
        command = [sys.executable, "-m", "fs_cc.cli", "emulator"]
        self.proc = subprocess.Popen(
            command + ["--host", "127.0.0.1", "--port", str(self.port), "--password", PASSWORD,
                       "--socket", f"127.0.0.1:{free_port()}", "--speed", str(SPEED),
                       "--traffic-cpm", "0", "--config", str(config), "--log-level", "WARNING"],
            cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT)

    def __enter__(self):
        wait_until(lambda: port_open(self.port) or self.proc.poll() is not None, 30,
                   "the emulator to listen")
        if self.proc.poll() is not None:
            raise BenchmarkFailed(f"the emulator exited with status {self.proc.returncode}")
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self._log.close()
        return False


def client(port, subscribed):
    """A connected InboundClient."""
    esl = InboundClient("127.0.0.1", port, PASSWORD, events=subscribed)
    esl.start()
    if not esl.wait_connected(10):
        raise BenchmarkFailed(f"no ESL connection to the emulator on port {port}")
    return esl


# -- the ACD under test ---------------------------------------------------------------------------
class StampingCallControl(CallControl):
    """CallControl noting when the ACD's originate is called, per caller and per agent."""

    def __init__(self, esl):
        super().__init__(esl)
        self.by_caller = {}  # call_uuid -> perf_counter of its first agent originate
        self.listeners = []  # called with (variables, moment)

    def originate(self, dial_string, app="&park()", variables=None, timeout=None):
        """Stamp, then originate (the bgapi goes onto the socket right after, under the limiter)."""
        moment = time.perf_counter()
        variables = variables or {}
        self.by_caller.setdefault(variables.get("fs_cc_call_uuid"), moment)
        for listener in self.listeners:
            listener(variables, moment)
        return super().originate(dial_string, app, variables, timeout)


class DispatchLog:
    """Wraps a Router's dispatch to note when each caller was dispatched (its first offer)."""

    def __init__(self, router):
        self.dispatched = {}  # call_uuid -> perf_counter
        self._dispatch = router.dispatch
        router.dispatch = self.dispatch

    def dispatch(self, caller, agent):
        """The router's dispatch, stamped."""
        self.dispatched.setdefault(caller.call_uuid, time.perf_counter())
        return self._dispatch(caller, agent)


class LiveACD:
    """InboundClient + StampingCallControl + ACD (MemoryStore) + router, as the engine wires them.

    The emitter's listener follows the agents' status events, so the benchmark knows, without
    asking the store, whether an agent of a queue was free when a caller joined it.
    """

    def __init__(self, port, queues, agents):
        self.esl = client(port, ENGINE_EVENTS)
        self.ctl = StampingCallControl(self.esl)
        self.store = MemoryStore()
        self.members = dict(agents)  # extension -> its queues
        self.available = set()
        emitter = Emitter(events.EventSequencer("bench-acd"), bus=InProcessBus(),
                          listeners=[self._agent_moved])
        self.acd = ACD(self.store, self.ctl, [Queue(name) for name in queues], emitter,
                       ring_timeout=20)
        self.log = DispatchLog(self.acd.router)
        for extension, agent_queues in agents:
            self.store.define_agent(extension, extension, agent_queues)
        self.acd.start()

    def _agent_moved(self, event):
        # the router reserves in the store without an event: an offer tells it (or the store)
        if isinstance(event, events.AgentStatusChanged):
            if event.new is events.AgentState.AVAILABLE:
                self.available.add(event.agent)
            else:
                self.available.discard(event.agent)
        elif isinstance(event, events.OfferedToAgent):
            self.available.discard(event.agent)

    def agent_free_in(self, queue):
        """Whether an agent of ``queue`` is available now."""
        return any(queue in self.members[extension]
                   and self.store.get_agent(extension).status is S.AVAILABLE
                   for extension in self.available)

    def stop(self):
        self.acd.stop()
        self.esl.stop()


class CallerMaker:
    """Makes caller channels on its own connection and hands them to the ACD."""

    def __init__(self, port, live):
        self.esl = client(port, ("BACKGROUND_JOB",))
        self.live = live
        self.queued = {}  # call_uuid -> perf_counter just before acd.enqueue
        self.enqueued = {}  # call_uuid -> perf_counter when acd.enqueue returned
        self.no_agent_free = set()  # callers who joined a queue with every agent busy
        self.probes = []
        self.tickets = {}
        self.failed = 0

    def call(self, queue, priority, number):
        """Create a parked, answered caller channel, then enqueue it (the clock starts there)."""
        call_uuid = str(uuidlib.uuid4())
        try:
            self.esl.bgapi(f"originate {{origination_uuid={call_uuid},origination_caller_id_number="
                           f"{number}}}{MOH_CALLER} &park()", timeout=30)
        except Exception as exc:  # noqa: BLE001 - a caller that could not be made is counted
            self.failed += 1
            print(f"  caller {call_uuid} not created: {exc}", file=sys.stderr)
            return
        if not self.live.agent_free_in(queue):
            self.no_agent_free.add(call_uuid)
        self.queued[call_uuid] = time.perf_counter()
        self.tickets[call_uuid] = self.live.acd.enqueue(call_uuid, queue, priority=priority,
                                                   caller_number=number)
        self.enqueued[call_uuid] = time.perf_counter()

    def probe(self):
        """Every 20 ms, time an api round trip on a connection of its own (BACKGROUND_JOB only)."""
        esl = client(self.esl.port, ("BACKGROUND_JOB",))
        try:
            while True:
                started = time.perf_counter()
                esl.api("uuid_exists 00000000-0000-0000-0000-000000000000")
                self.probes.append(time.perf_counter() - started)
                gevent.sleep(0.02)
        finally:
            esl.stop()

    def wait_all(self, seconds):
        """Wait for every ticket; how many did not resolve in time."""
        deadline = time.monotonic() + seconds
        for ticket in self.tickets.values():
            ticket.wait(max(0.0, deadline - time.monotonic()))
        return sum(not ticket.ready() for ticket in self.tickets.values())

    def hang_up_all(self):
        """Hang up every channel left on the switch."""
        self.esl.api("hupall NORMAL_CLEARING")

    def stop(self):
        self.esl.stop()


# -- part 2: queued -> originate ------------------------------------------------------------------
def queued_to_originate(port, agents, seconds, rng):
    """One size of part 2: callers at 20/s for ``seconds`` to ``agents`` short-call agents."""
    queues = ("sales", "support")
    members = [(str(SHORT_PHONES + n), queues if rng.random() < 0.5 else (rng.choice(queues),))
               for n in range(agents)]
    live = LiveACD(port, queues, members)
    maker = CallerMaker(port, live)
    try:
        for extension, _ in members:
            live.acd.login(extension)
        arrivals = []
        at = 0.0
        while at < seconds:
            arrivals.append(at)
            at += rng.expovariate(ARRIVALS_PER_SECOND)
        probe = gevent.spawn(maker.probe)
        started = time.monotonic()
        jobs = []
        for n, moment in enumerate(arrivals):
            gevent.sleep(max(0.0, started + moment - time.monotonic()))
            queue = "sales" if rng.random() < 0.6 else "support"
            priority = rng.choices((0, 1, 2), (90, 7, 3))[0]
            jobs.append(gevent.spawn(maker.call, queue, priority, f"+3361{n:07d}"))
        gevent.joinall(jobs, timeout=60)
        probe.kill()
        unresolved = maker.wait_all(60)
        dispatched, stamped, queued = live.log.dispatched, live.ctl.by_caller, maker.queued
        waited = maker.no_agent_free
        found = [u for u in queued if u not in waited]
        served = [u for u in found if u in stamped and u in dispatched]
        latency = [stamped[u] - queued[u] for u in served]
        steps = ([maker.enqueued[u] - queued[u] for u in served],
                 [dispatched[u] - maker.enqueued[u] for u in served],
                 [stamped[u] - dispatched[u] for u in served])
        extra = f", {maker.failed} not created" if maker.failed else ""
        extra += f", {unresolved} unresolved after 60 s" if unresolved else ""
        extra += f", {len(found) - len(served)} never rung" if len(found) > len(served) else ""
        print(f"  {agents:5,} agents: {len(queued)} callers, {len(waited)} found every agent"
              f" busy (excluded){extra}; the {len(served)} others: {figures(latency)}")
        print("        steps, median / p99 ms: acd.enqueue"
              " %.3f / %.3f, then -> dispatch %.3f / %.3f, dispatch -> originate %.3f / %.3f"
              % tuple(v for step in steps for v in (median_ms(step), p99_ms(step))))
        print(f"        meanwhile, an api round trip on a connection of its own:"
              f" {figures(maker.probes)}")
    finally:
        maker.hang_up_all()
        maker.stop()
        live.stop()


def part_latency(port, size):
    rng = random.Random(SEED)
    for agents in size["sizes"]:
        queued_to_originate(port, agents, size["seconds"], rng)


# -- part 3: a backlog served one agent at a time -------------------------------------------------
def part_backlog(port, size):
    callers, agents = size["backlog_callers"], size["backlog_agents"]
    print(f"== 3. backlog: {callers} callers waiting, {agents:,} agents on break, made available"
          f" one by one ({OFFER_SPACING * 1000:.0f} ms after each offer)")
    print("  " + REFERENCES["backlog"])
    rng = random.Random(SEED + 1)
    extensions = [str(LONG_PHONES + n) for n in range(agents)]
    live = LiveACD(port, ("backlog",), [(ext, ("backlog",)) for ext in extensions])
    maker = CallerMaker(port, live)
    offered = {}
    arrived = gevent.event.Event()

    def heard(variables, moment):
        offered.setdefault(variables.get("fs_cc_agent"), moment)
        arrived.set()

    live.ctl.listeners.append(heard)
    try:
        for extension in extensions:
            live.acd.set_status(extension, "break")
        pool = Pool(20)
        for n in range(callers):
            pool.spawn(maker.call, "backlog", rng.choices((0, 1, 5), (80, 15, 5))[0],
                       f"+3362{n:07d}")
        pool.join(timeout=60)
        wait_until(lambda: len(live.store.waiting_callers("backlog")) == len(maker.queued), 30,
                   "the callers to wait in line")
        order = rng.sample(extensions, len(maker.queued))
        latency, missing = [], 0
        cpu, wall = time.process_time(), time.perf_counter()
        for extension in order:
            arrived.clear()
            started = time.perf_counter()
            live.acd.set_status(extension, "available")
            arrived.wait(5)
            if extension not in offered:
                missing += 1
                continue
            latency.append(offered[extension] - started)
            gevent.sleep(OFFER_SPACING)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        wait_until(lambda: all(c.phase is not Phase.OFFERING for c in live.acd.callers.values()),
                   20, "the last offers to be answered and bridged")
        offers = len(latency)
        half = max(1, offers // 4)
        print(f"  {offers} offers{f' ({missing} agents got none)' if missing else ''}:"
              f" {figures(latency)}; first {half} median {median_ms(latency[:half]):.3f} ms,"
              f" last {half} median {median_ms(latency[-half:]):.3f} ms")
        per_offer = cpu / offers if offers else float("nan")
        print(f"  CPU: {cpu:.3f} s over {wall:.1f} s of phase -> {per_offer * 1000:.2f} ms per"
              f" offer ({100 * cpu / wall:.0f} % of a core, the {OFFER_SPACING * 1000:.0f} ms"
              " spacing included)")
    finally:
        maker.hang_up_all()
        maker.wait_all(20)
        maker.stop()
        live.stop()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, a fast check")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="Redis URL for part 1")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    started = time.monotonic()
    try:
        part_pure(size, args.redis)
        print(f"== 2. caller queued -> agent's originate sent (emulator process, speed {SPEED},"
              f" {ARRIVALS_PER_SECOND:.0f} callers/s for {size['seconds']:.0f} s each)")
        print("  " + REFERENCES["latency"])
        with tempfile.TemporaryDirectory(prefix="acd_routing_") as workdir:
            with EmulatorProcess(max(size["sizes"]), size["backlog_agents"],
                                 workdir) as emulator:
                part_latency(emulator.port, size)
                part_backlog(emulator.port, size)
    except BenchmarkFailed as exc:
        print(f"acd_routing: FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"total {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
