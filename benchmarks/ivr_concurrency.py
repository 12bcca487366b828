"""IVR concurrency: many callers in one engine process, and how fast a burst of calls is set up.

The engine side runs in a child process of its own (so its CPU seconds and its memory are the
engine's alone): the engine's OutboundServer, CallHandler and a FlowRunner on a three-level menu
flow with data nodes between the menus, its events built and published by an Emitter on an
InProcessBus (no outbox, no subscriber). The emulator runs in this process at speed 1 (simulated
time is real time); its scripted callers (the ``fs_cc_sim_dtmf`` variable) press a key at each
menu: ``1`` after HOLD seconds at the first one (so the calls pile up and are live at once), then
``2`` and ``1`` after 0.5 s.

Flow: set (caller facts) -> menu 1 -> condition -> menu 2 -> data node -> menu 3 -> play -> hangup.
The data nodes are ``lookup`` nodes reading HTTP data sources (fs_cc.ivr.datasources; a local
threaded HTTP server in a child process of its own answers with JSON records), else, on a tree
without the lookup node, ``set`` nodes standing in for them (the output says which).

Figures:

- call setup, seen by the switch: its ``socket`` application has the TCP connection -> the
  engine's ``connect`` command arrives (the whole of accept, greenlet start and the first write);
- call setup, seen by the engine: accept() returned -> ``connect`` written, and -> the first
  application (``answer``) written (after the connect, myevents and linger replies);
- node step latency: engine side, one application's completion handed to the flow -> the next
  command written; switch side, an application returns -> the next ``sendmsg`` arrives (the
  CHANNEL_EXECUTE_COMPLETE event's trip, the engine's step and the command's trip);
- engine CPU seconds per call (getrusage over the phase) and RSS per concurrent call (the peak
  VmRSS, sampled every 20 ms, minus the VmRSS before the phase, over the most calls in flows at
  once);
- a burst of BURST calls originated at once, switch-side setup median and p99, against servers in
  child processes of their own that hang up at once: our OutboundServer (which sends connect,
  myevents and linger for every call), a plain threaded server (socketserver.ThreadingTCPServer,
  no gevent, listen backlog as ours, that sends ``connect``, reads the reply and hangs up) and
  greenswitch's OutboundESLServer (same script); the ratio ours/plain of the p99; then the same
  burst against the engine running the IVR flow. Each server gets a warm-up burst first.

The machine may be shared: run it several times. Prints figures, asserts nothing timing-related.

    .venv/bin/python benchmarks/ivr_concurrency.py [--calls 500] [--rate 100] [--burst 50]
"""

import sys

THREADED = sys.argv[1:2] in (["--serve-plain"], ["--serve-http"])
if not THREADED:  # the plain threaded server and the HTTP data source run on real threads
    from gevent import monkey

    monkey.patch_all()

import argparse  # noqa: E402
import collections  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import socket  # noqa: E402
import socketserver  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

HOLD = 8.0  # seconds the callers wait at the first menu before pressing
QUICK_KEYS = [(0.2, "1"), (0.2, "2"), (0.2, "1")]
DEADLINE = 180.0  # real seconds for a phase's calls to end
BACKLOG = 128  # fs_cc.listen.BACKLOG, given to the plain server too
CONNECT = b"connect\n\n"
HANGUP = b"sendmsg\ncall-command: hangup\nhangup-cause: NORMAL_CLEARING\n\n"


class BenchmarkFailed(Exception):
    """The benchmark could not measure what it means to: the message says why."""


def pct(values, q):
    """The q-th percentile (nearest rank) of values, in ms; nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000.0 * ordered[min(len(ordered) - 1, max(0, int(round(q / 100.0 * len(ordered) + 0.5)) - 1))]


def rss_kib():
    """This process's VmRSS, KiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise BenchmarkFailed("no VmRSS in /proc/self/status")


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- the servers (child processes) --------------------------------------------------------------
def announce_and_wait(port, on_line, wait_read=None):
    """Print the port; answer each stdin line with on_line(line) until stdin closes.

    wait_read (gevent's) lets the other greenlets run while no line is there.
    """
    print("PORT %d" % port, flush=True)
    while True:
        if wait_read is not None:
            wait_read(sys.stdin.fileno())
        line = sys.stdin.readline()
        if not line:
            return
        reply = on_line(line.strip())
        if reply is not None:
            print(json.dumps(reply), flush=True)


CONNECT_TIMES = []  # in a server child: accept() -> `connect` about to be written, seconds


def report_connects(line):
    """A bare server child's one command: its accept -> connect times since the last call."""
    times = list(CONNECT_TIMES)
    del CONNECT_TIMES[:]
    return {"connect_times": times}


def hang_up_after_connect(sock, accepted):
    """The plain script: connect, read its reply (headers only), hang up, read until closed."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    CONNECT_TIMES.append(time.perf_counter() - accepted)
    sock.sendall(CONNECT)
    buf = b""
    while b"\n\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return
        buf += chunk
    sock.sendall(HANGUP)
    while sock.recv(65536):
        pass


def serve_plain():
    """socketserver.ThreadingTCPServer: one OS thread a call."""
    import threading
    accepted = {}  # id(socket) -> perf_counter when accept() returned

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            try:
                hang_up_after_connect(self.request, accepted.pop(id(self.request)))
            except OSError:
                pass

    class Server(socketserver.ThreadingTCPServer):
        request_queue_size = BACKLOG
        daemon_threads = True

        def process_request(self, request, client_address):  # right after accept()
            accepted[id(request)] = time.perf_counter()
            super().process_request(request, client_address)

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    announce_and_wait(server.server_address[1], report_connects)


def serve_http():
    """The lookups' data source: a JSON member record by caller number, a balance by points."""
    import http.server
    import threading

    class Records(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as urllib3's pool expects
        # headers and body go in two writes: without TCP_NODELAY the body waits for the
        # client's delayed ACK (40 ms on Linux)
        disable_nagle_algorithm = True

        def do_GET(self):
            if self.path.startswith("/members/"):
                record = {"data": {"tier": "gold", "points": 1500}}
            elif self.path.startswith("/balance/"):
                record = {"balance": 120}
            else:
                record = None
            body = json.dumps(record).encode() if record else b""
            self.send_response(200 if record else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            pass

    http.server.ThreadingHTTPServer.request_queue_size = BACKLOG
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Records)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    announce_and_wait(server.server_address[1], lambda line: None)


def serve_greenswitch():
    """greenswitch's OutboundESLServer (0.0.19): its accept loop, its session's connect."""
    import gevent
    import gevent.socket
    from greenswitch import esl

    init, send = esl.OutboundSession.__init__, esl.OutboundSession.send

    def timed_init(session, *args, **kwargs):  # built right after accept()
        session.bench_accepted = time.perf_counter()
        init(session, *args, **kwargs)

    def timed_send(session, data, *args, **kwargs):
        accepted = session.__dict__.pop("bench_accepted", None)
        if accepted is not None:
            CONNECT_TIMES.append(time.perf_counter() - accepted)
        return send(session, data, *args, **kwargs)

    esl.OutboundSession.__init__, esl.OutboundSession.send = timed_init, timed_send

    class HangUpApp:
        def __init__(self, session):
            self.session = session

        def run(self):
            self.session.hangup()

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    server = esl.OutboundESLServer("127.0.0.1", [port], HangUpApp, max_connections=10000)
    gevent.spawn(server.listen)
    gevent.sleep(0.2)
    if server.bound_port != port:
        raise BenchmarkFailed("greenswitch did not bind port %d" % port)
    announce_and_wait(port, report_connects, gevent.socket.wait_read)


def serve_hangup():
    """Our OutboundServer alone: connect, myevents and linger (as for every call), then hang up."""
    import gevent.socket

    server = timed_outbound_server(lambda session: session.hangup(),
                                   {"connect": CONNECT_TIMES, "first_app": []})
    server.start()
    announce_and_wait(server.address[1], report_connects, gevent.socket.wait_read)


def timed_outbound_server(handler, figures):
    """Our OutboundServer on port 0, each socket a TimedSocket from its accept()."""
    import gevent
    from fs_cc.esl.outbound import OutboundServer

    def timed_spawn(run, handle, close, args):
        # what gevent's StreamServer calls right after accept(): the clock starts there
        sock, address = args
        return gevent.spawn(run, handle, close, (TimedSocket(sock, figures), address))

    server = OutboundServer("127.0.0.1", 0, handler)
    server._spawn = timed_spawn  # the benchmark's probe; the engine spawns by default
    return server


def serve_engine(http_port):
    """Our engine's call path: OutboundServer -> CallHandler -> FlowRunner, timed."""
    import gevent.socket

    side = EngineSide(int(http_port))
    announce_and_wait(side.start(), side.command, gevent.socket.wait_read)


# -- the engine side (a child process) ----------------------------------------------------------
FLOW_HEAD = """
name: bench_ivr
start: caller
nodes:
"""
LOOKUP_NODE_IDS = ("caller", "account")  # their steps include the wait for the data source
LOOKUP_NODES = """
  caller:
    type: lookup
    source: member_by_caller
    key: "{caller_id_number}"
    into: {tier: data.tier, points: data.points}
    next: level1
    failed: level1
  account:
    type: lookup
    source: balance_by_points
    key: "{points}"
    into: {balance: balance}
    next: level3
    failed: level3
"""
STAND_IN_NODES = """
  caller:
    type: set
    variables: {tier: gold, points: 1500}
    next: level1
  account:
    type: set
    variables: {balance: 120}
    next: level3
"""
MENUS = """
  route:
    type: condition
    branches:
      - when: {variable: tier, equals: gold}
        then: level2
      - when: {variable: points, above: 1000}
        then: level2
    else: level2
  level1: {type: menu, prompt: "%(p)s", timeout: 10, max_attempts: 2, options: {1: route, 2: bye}, default: bye}
  level2: {type: menu, prompt: "%(p)s", timeout: 10, max_attempts: 2, options: {1: bye, 2: account}, default: bye}
  level3: {type: menu, prompt: "%(p)s", timeout: 10, max_attempts: 2, options: {1: done, 2: bye}, default: bye}
  done:
    type: play
    prompt: digits/1.wav
    next: bye
  bye: {type: hangup}
""" % {"p": "ivr/ivr-please_choose_from_the_following.wav"}


class TimedSocket:
    """The engine's side of one call socket, from its accept(): when ``connect`` and the first
    sendmsg go out."""

    def __init__(self, sock, figures):
        self._sock = sock
        self._figures = figures
        self._started = time.perf_counter()
        self._sent_connect = False
        self._sent_app = False

    def sendall(self, data):
        if not self._sent_connect:
            self._sent_connect = True
            self._figures["connect"].append(time.perf_counter() - self._started)
        elif not self._sent_app and data.startswith(b"sendmsg"):
            self._sent_app = True
            self._figures["first_app"].append(time.perf_counter() - self._started)
        return self._sock.sendall(data)

    def __getattr__(self, name):
        return getattr(self._sock, name)


class EngineSide:
    """OutboundServer + CallHandler + FlowRunner on the bench flow, with its figures."""

    def __init__(self, http_port):
        from fs_cc import events
        from fs_cc.bus import InProcessBus
        from fs_cc.callflow import CallHandler
        from fs_cc.emitter import Emitter
        from fs_cc.ivr import parse_flow
        from fs_cc.ivr.runner import FlowRunner

        services = {}
        try:
            from fs_cc.ivr.datasources import DataSources, HttpSource
        except ImportError:
            self.data_nodes = "set/condition nodes standing in for lookups (no lookup node type)"
            nodes = STAND_IN_NODES
        else:
            self.data_nodes = "two HTTP lookups and a condition"
            nodes = LOOKUP_NODES
            base = "http://127.0.0.1:%d" % http_port
            services["data_sources"] = DataSources({
                "member_by_caller": HttpSource("member_by_caller", base + "/members/{key}"),
                "balance_by_points": HttpSource("balance_by_points", base + "/balance/{key}")})
        flow = parse_flow(FLOW_HEAD + nodes + MENUS, "bench_ivr.yaml")
        self._in_lookup = {}  # call uuid -> whether the node it is in is a lookup
        emitter = Emitter(events.EventSequencer("bench-ivr"), bus=InProcessBus(),
                          listeners=[self._on_event])
        runner = FlowRunner(flow, None, emitter, services=services)
        self.handler = CallHandler(lambda did: runner, emitter)
        figures = self.figures = {}
        self._reset()

        self.server = timed_outbound_server(self._call, figures)

    def start(self):
        """Start serving and sampling; returns the port."""
        import gevent
        self.server.start()
        gevent.spawn(self._sample).link_exception(lambda g: print("sampler died: %r" % g.exception,
                                                                  file=sys.stderr))
        return self.server.address[1]

    def _reset(self):
        self.figures.update(connect=[], first_app=[], steps=[], own_steps=[], lookups=[],
                            outcomes=collections.Counter())
        self.calls = self.live = self.peak_calls = 0
        self.cpu_before = cpu_seconds()
        self.rss_before = self.rss_peak = rss_kib()

    def _on_event(self, event):
        name = type(event).__name__
        if name == "IvrNodeEntered":
            self._in_lookup[event.call_uuid] = event.node in LOOKUP_NODE_IDS
        elif name == "IvrLookup":
            self.figures["lookups"].append(event.elapsed_ms / 1000.0)

    def _sample(self):
        import gevent
        while True:
            self.rss_peak = max(self.rss_peak, rss_kib())
            gevent.sleep(0.02)

    def _call(self, session):
        steps, own_steps = self.figures["steps"], self.figures["own_steps"]
        execute = session.execute
        back = []

        def timed_execute(app, arg=None, **options):
            if back:
                step = time.perf_counter() - back[-1]
                steps.append(step)
                if not self._in_lookup.get(session.uuid):  # a lookup node's steps wait for it
                    own_steps.append(step)
            try:
                return execute(app, arg, **options)
            finally:
                back.append(time.perf_counter())

        session.execute = timed_execute
        self.calls += 1
        self.live += 1
        self.peak_calls = max(self.peak_calls, self.live)
        try:
            ended = self.handler.handle(session)
            self.figures["outcomes"]["%s/%s" % (ended.side.value, ended.cause)] += 1
        finally:
            self.live -= 1
            self._in_lookup.pop(session.uuid, None)

    def command(self, line):
        """reset: start a phase; stats: the phase's figures (one JSON line)."""
        if line == "reset":
            self._reset()
            return {}
        if line == "stats":
            # percentiles here: thousands of raw figures make a line a pipe may cut
            figures = {name: {"n": len(self.figures[name]), "50": pct(self.figures[name], 50),
                              "99": pct(self.figures[name], 99)}
                       for name in ("connect", "first_app", "steps", "own_steps", "lookups")}
            return dict(figures, connect_times=self.figures["connect"],
                        outcomes=dict(self.figures["outcomes"]),
                        calls=self.calls, peak_calls=self.peak_calls,
                        cpu=cpu_seconds() - self.cpu_before, rss_before=self.rss_before,
                        rss_peak=self.rss_peak, data_nodes=self.data_nodes)
        return {"error": "unknown command %r" % line}


# -- the switch side (this process) ---------------------------------------------------------------
class SwitchTimes:
    """Hooks into the emulator's socket application: when it connects, when commands arrive."""

    def __init__(self):
        self.connected = {}  # id(sock) -> perf_counter at the TCP connection
        self.completed = {}  # channel uuid -> perf_counter when its last application returned
        self.setup = []
        self.steps = []

    def install(self):
        from fs_cc.emulator import execution, outbound

        times = self
        real_socket = outbound.socket

        class TimedSocketModule:
            def __getattr__(self, name):
                return getattr(real_socket, name)

            def create_connection(self, *args, **kwargs):
                started = time.perf_counter()
                sock = real_socket.create_connection(*args, **kwargs)
                times.connected[id(sock)] = started
                return sock

        outbound.socket = TimedSocketModule()
        cmd_connect, cmd_sendmsg = outbound.OutboundConnection.cmd_connect, outbound.OutboundConnection.cmd_sendmsg

        def timed_connect(conn, *args):
            started = times.connected.pop(id(conn.sock), None)
            if started is not None:
                times.setup.append(time.perf_counter() - started)
            times.completed.pop(conn.channel.uuid, None)
            return cmd_connect(conn, *args)

        def timed_sendmsg(conn, *args):
            done = times.completed.pop(conn.channel.uuid, None)
            if done is not None:
                times.steps.append(time.perf_counter() - done)
            return cmd_sendmsg(conn, *args)

        outbound.OutboundConnection.cmd_connect = timed_connect
        outbound.OutboundConnection.cmd_sendmsg = timed_sendmsg
        for name, app in list(execution.APPS.items()):
            if name != "socket":
                execution.APPS[name] = self._timed_app(app)

    def _timed_app(self, app):
        def timed(channel, arg):
            try:
                return app(channel, arg)
            finally:
                self.completed[channel.uuid] = time.perf_counter()
        return timed

    def reset(self):
        self.setup, self.steps = [], []
        self.completed.clear()


def start_server(*mode):
    """A server child process (mode: its arguments); returns (process, port)."""
    import gevent
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([here, os.path.dirname(here),
                                                        os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), *mode], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = ""
    with gevent.Timeout(30, False):
        line = proc.stdout.readline()
    match = re.match(r"PORT (\d+)", line)
    if not match:
        stop_server(proc)
        raise BenchmarkFailed("%s did not report its port within 30 s (got %r)" % (mode, line))
    return proc, int(match.group(1))


def ask(proc, command):
    """Send a command line to a server child; its one-line JSON answer."""
    proc.stdin.write(command + "\n")
    proc.stdin.flush()
    return json.loads(proc.stdout.readline())


def stop_server(proc):
    """Close the child's stdin so it exits (emulator_calls.stop_ivr: killed after 5 s)."""
    from emulator_calls import stop_ivr  # benchmarks/, this script's folder
    stop_ivr(proc)


def press_keys(b_leg, keys):
    """A scripted caller: keys[i] is (delay, key), pressed delay seconds after the i-th prompt.

    It waits on the channel's state_changed event rather than polling (the emulator's own
    fs_cc_sim_dtmf caller polls every 20 ms: 500 of them would load the emulator's process).
    """
    import gevent
    seen = 0
    while not b_leg.hungup and seen < len(keys):
        b_leg.state_changed.clear()
        if b_leg.prompts_started > seen:
            seen = b_leg.prompts_started
            delay, key = keys[seen - 1]
            gevent.spawn_later(delay, lambda key=key: b_leg.hungup or b_leg.receive_dtmf(key))
            continue
        b_leg.state_changed.wait(5.0)


def place_calls(emulator, count, rate, keys):
    """Originate count callers to the IVR DID at rate calls/s; wait until every call has ended.

    keys None: the server hangs up after ``connect``, never answering, and the originate's
    ``-ERR NORMAL_CLEARING`` is the call's expected end.
    """
    import gevent
    from gevent.pool import Group

    failures = collections.Counter()

    def one(i):
        command = ("{origination_caller_id_number=1380000%04d,originate_timeout=%d}"
                   "loopback/8000/public &park()" % (i, DEADLINE))
        reply = emulator.api.execute("originate", command)
        if keys is None and reply.strip() == "-ERR NORMAL_CLEARING":
            return
        if not reply.startswith("+OK "):
            failures[reply.strip()[:80]] += 1
            return
        channel = emulator.channels.get(reply.split()[1])
        if channel is None:
            return
        if channel.loopback_partner is not None:
            press_keys(channel.loopback_partner, keys)
        if not channel.done_event.wait(DEADLINE):
            failures["call not ended within %.0f s" % DEADLINE] += 1

    group = Group()
    started = time.monotonic()
    for i in range(count):
        if rate:
            gevent.sleep(max(0.0, started + i / rate - time.monotonic()))
        group.spawn(one, i)
    if not group.join(timeout=DEADLINE + 30):
        group.kill(block=False)
        raise BenchmarkFailed("%d of %d calls still up after %.0f s" % (len(group), count, DEADLINE + 30))
    if failures:
        raise BenchmarkFailed("%d of %d calls failed: %s" % (sum(failures.values()), count, dict(failures)))
    deadline = time.monotonic() + 30
    while emulator.channels and time.monotonic() < deadline:
        gevent.sleep(0.05)
    return time.monotonic() - started


def concurrency_phase(emulator, times, engine, args):
    ask(engine, "reset")
    times.reset()
    elapsed = place_calls(emulator, args.calls, args.rate, [(args.hold, "1"), (0.5, "2"), (0.5, "1")])
    stats = ask(engine, "stats")
    print("concurrency: %d callers at %g calls/s through a three-level menu (%s), %.1f s; "
          "at most %d in flows at once; outcomes %s"
          % (args.calls, args.rate, stats["data_nodes"], elapsed, stats["peak_calls"], stats["outcomes"]))
    print("  call setup, switch side (TCP connected -> `connect` arrives): median %.2f ms, p99 %.2f ms (n=%d)"
          % (pct(times.setup, 50), pct(times.setup, 99), len(times.setup)))
    print("  call setup, engine side (accepted -> `connect` written): median %.2f ms, p99 %.2f ms; "
          "-> first application written: median %.2f ms, p99 %.2f ms"
          % (stats["connect"]["50"], stats["connect"]["99"], stats["first_app"]["50"], stats["first_app"]["99"]))
    print("  node step, engine side (completion in the flow -> next command written): median %.2f ms, "
          "p99 %.2f ms (n=%d); in the nodes other than lookups: median %.2f ms, p99 %.2f ms"
          % (stats["steps"]["50"], stats["steps"]["99"], stats["steps"]["n"],
             stats["own_steps"]["50"], stats["own_steps"]["99"]))
    print("  lookups (IvrLookup elapsed, HTTP round trip to the data source): median %.0f ms, p99 %.0f ms "
          "(n=%d, whole ms)" % (stats["lookups"]["50"], stats["lookups"]["99"], stats["lookups"]["n"]))
    print("  node step, switch side (application returned -> next sendmsg arrives): median %.2f ms, "
          "p99 %.2f ms (n=%d)" % (pct(times.steps, 50), pct(times.steps, 99), len(times.steps)))
    calls = max(1, stats["calls"])
    print("  engine CPU %.2f s for %d calls: %.2f ms per call; RSS %d -> peak %d KiB: %.1f KiB per "
          "concurrent call" % (stats["cpu"], stats["calls"], 1000 * stats["cpu"] / calls, stats["rss_before"],
                               stats["rss_peak"], (stats["rss_peak"] - stats["rss_before"]) / max(1, stats["peak_calls"])))


def burst(emulator, times, target, size, keys):
    """size calls originated at once to target (host:port); the switch-side setup times.

    keys None: the server is one that hangs up after ``connect``.
    """
    emulator.config.socket_target = target
    times.reset()
    place_calls(emulator, size, 0, keys)
    return list(times.setup)


def burst_phase(emulator, times, engine, engine_port, args):
    """Rounds of the same burst against servers that hang up after ``connect``, then the IVR.

    The servers take turns in each round, so a change in the machine's load (it may be shared)
    falls on all of them; the ratio is of the rounds' median p99s.
    """
    servers = [("fs_cc OutboundServer", "--serve-hangup"), ("plain ThreadingTCPServer", "--serve-plain")]
    if greenswitch_installed():
        servers.append(("greenswitch OutboundESLServer", "--serve-greenswitch"))
    else:
        print("burst: greenswitch is not installed in this venv: not measured")
    started = [(label, start_server(mode)) for label, mode in servers]
    started.append(("fs_cc engine, the IVR flow", (engine, engine_port)))
    switch_side = collections.defaultdict(list)  # label -> p99 of each round
    server_side = collections.defaultdict(list)  # label -> accept -> connect, every call
    try:
        for round_no in range(args.rounds + 1):  # round 0 warms every server up
            for label, (proc, port) in started:
                ivr = proc is engine
                if ivr:
                    ask(proc, "reset")
                setup = burst(emulator, times, "127.0.0.1:%d" % port, args.burst, QUICK_KEYS if ivr else None)
                connects = ask(proc, "stats")["connect_times"]
                if round_no:
                    switch_side[label].append(setup)
                    server_side[label].extend(connects)
    finally:
        for _label, (proc, _port) in started[:-1]:
            stop_server(proc)
    medians = {}
    for label, rounds in switch_side.items():
        p99s = [pct(setup, 99) for setup in rounds]
        medians[label] = sorted(p99s)[len(p99s) // 2]
        print("burst of %d: %-30s switch side p99 by round %s ms (median %.2f; median of all calls %.2f ms); "
              "server side accept -> connect median %.2f ms, p99 %.2f ms"
              % (args.burst, label, ", ".join("%.2f" % p for p in p99s), medians[label],
                 pct([t for setup in rounds for t in setup], 50), pct(server_side[label], 50),
                 pct(server_side[label], 99)))
    print("burst: setup p99 ours (OutboundServer) / plain = %.2f (target <= 1.2), median of %d rounds"
          % (medians["fs_cc OutboundServer"] / medians["plain ThreadingTCPServer"], args.rounds))


def greenswitch_installed():
    try:
        import greenswitch  # noqa: F401
    except ImportError:
        return False
    return True


def run(args):
    import logging

    from fs_cc.emulator import Emulator, EmulatorConfig

    logging.basicConfig(level=logging.WARNING)
    times = SwitchTimes()
    times.install()
    records, http_port = start_server("--serve-http")
    engine, port = start_server("--serve-engine", str(http_port))
    emulator = Emulator(EmulatorConfig(speed=1.0, socket_target="127.0.0.1:%d" % port))
    emulator.start()
    try:
        place_calls(emulator, 5, 0, QUICK_KEYS)  # warm-up: code paths, caches
        concurrency_phase(emulator, times, engine, args)
        burst_phase(emulator, times, engine, port, args)
    finally:
        emulator.stop()
        stop_server(engine)
        stop_server(records)


def main(argv):
    servers = {"--serve-plain": serve_plain, "--serve-http": serve_http, "--serve-hangup": serve_hangup,
               "--serve-greenswitch": serve_greenswitch, "--serve-engine": serve_engine}
    if argv[:1] and argv[0] in servers:
        servers[argv[0]](*argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=500, help="callers in the concurrency phase")
    parser.add_argument("--rate", type=float, default=100.0, help="calls/s they arrive at")
    parser.add_argument("--hold", type=float, default=HOLD, help="seconds before the first key")
    parser.add_argument("--burst", type=int, default=50, help="calls arriving at once in the burst")
    parser.add_argument("--rounds", type=int, default=3, help="bursts per server (after a warm-up)")
    args = parser.parse_args(argv)
    try:
        run(args)
    except BenchmarkFailed as exc:
        sys.exit("ivr_concurrency: FAILED: %s" % exc)  # on standard error, exit status 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
