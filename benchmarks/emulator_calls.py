"""How many simulated calls per second the emulator sustains, and its memory per live channel.

Each call: `originate loopback/4000/public &park()` -> the B-leg's dialplan runs the `socket` app,
which connects to a minimal outbound-socket IVR. The IVR runs in a child process (so the figures
are the emulator's alone, and it has a core of its own, as an engine would).

- Throughput: `calls` calls, `concurrency` at a time; the IVR answers, plays 100 ms (simulated) of
  silence, waits for the playback to complete and hangs up.
- Memory: `live` channels (loopback pairs: two channels a call) held up at the same time; the IVR
  answers and plays `local_stream://moh`, which never ends. Their number is checked in the
  emulator's channel table (every one answered, ACTIVE, not hung up) and with `show channels count`,
  before and after the heap (tracemalloc) and the RSS (VmRSS) are measured.

Every originate carries an `originate_timeout` as long as the phase's deadline (in simulated
seconds: the emulator runs at speed 100, where the default 60 s would be 0.6 s of real time), and
every wait has a real-time deadline: a call that fails, or a wait that runs out, stops the
benchmark with a message and exit status 1 instead of measuring torn-down channels or hanging.

Prints figures and asserts nothing timing-related.
Run: `.venv/bin/python benchmarks/emulator_calls.py [calls] [concurrency] [live]`.
"""

from gevent import monkey

monkey.patch_all()

import collections  # noqa: E402
import faulthandler  # noqa: E402
import gc  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import select  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from urllib.parse import unquote  # noqa: E402

import gevent  # noqa: E402
from gevent.pool import Pool  # noqa: E402
from gevent.server import StreamServer  # noqa: E402

from fs_cc.emulator import Emulator, EmulatorConfig  # noqa: E402
from fs_cc.emulator.channel import CallState  # noqa: E402

SPEED = 100
HOLD_VAR = "fs_cc_bench_hold"  # set on the originate, copied to the B-leg: the IVR holds the call
THROUGHPUT_DEADLINE = 120.0  # real seconds for all the throughput calls to end
HOLD_DEADLINE = 120.0  # real seconds for the live channels to be up
SETTLE_SECONDS = 1.0  # real seconds the live channels must stay up (100 s simulated, > 60 s default timeout)
TEARDOWN_DEADLINE = 30.0  # real seconds for channels to be destroyed after a phase
WATCHDOG_SECONDS = 280.0  # last resort: dump tracebacks and exit(1) if the run blocks the loop


class BenchmarkFailed(Exception):
    """The benchmark could not measure what it means to: the message says why."""


def wait_until(predicate, seconds, what, state=lambda: ""):
    """Poll predicate until it holds; after seconds (real) raise BenchmarkFailed naming what."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() >= deadline:
            detail = state()
            raise BenchmarkFailed("timed out after %.0f s waiting for %s%s"
                                  % (seconds, what, "; " + detail if detail else ""))
        gevent.sleep(0.05)


# -- the outbound-socket IVR (child process) ----------------------------------------------------
class Reader:
    """ESL framing on the IVR side: a header block, then Content-Length bytes of body."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def message(self):
        """(headers dict, body bytes) of the next message; EOFError when the switch closes."""
        while b"\n\n" not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(b"\n\n")
        headers = dict(line.decode().split(": ", 1) for line in head.split(b"\n") if b": " in line)
        length = int(headers.get("Content-Length", 0))
        while len(self.buf) < length:
            self._fill()
        body, self.buf = self.buf[:length], self.buf[length:]
        return headers, body


def _event(body):
    """An event-plain body's headers (values URL-decoded)."""
    head = body.split(b"\n\n", 1)[0].decode()
    return {k: unquote(v) for k, _, v in (line.partition(": ") for line in head.split("\n")) if k}


def ivr(sock, _address):
    """connect, myevents, answer, playback; then hang up after the playback completes, or hold."""
    reader = Reader(sock)
    try:
        sock.sendall(b"connect\n\n")
        data, _ = reader.message()
        hold = unquote(data.get("variable_" + HOLD_VAR, "")) == "true"
        sock.sendall(b"myevents\n\n")
        reader.message()
        media = "local_stream://moh" if hold else "silence_stream://100"
        for app, arg in (("answer", ""), ("playback", media)):
            sock.sendall(("sendmsg\ncall-command: execute\nexecute-app-name: %s\nexecute-app-arg: %s\n\n"
                          % (app, arg)).encode())
        while not hold:
            headers, body = reader.message()
            if headers.get("Content-Type") != "text/event-plain":
                continue
            event = _event(body)
            if event.get("Event-Name") == "CHANNEL_EXECUTE_COMPLETE" and event.get("Application") == "playback":
                sock.sendall(b"sendmsg\ncall-command: hangup\nhangup-cause: NORMAL_CLEARING\n\n")
                break
        while True:  # held, or hung up: read until the switch closes the socket
            reader.message()
    except (EOFError, OSError):
        pass
    finally:
        sock.close()


def serve_ivr():
    """Child process: print the IVR's port, serve until stdin closes (the parent is gone)."""
    server = StreamServer(("127.0.0.1", 0), ivr, backlog=4096)
    server.start()
    print("PORT %d" % server.address[1], flush=True)
    while True:
        select.select([sys.stdin], [], [])
        if not os.read(sys.stdin.fileno(), 4096):
            break
    server.stop(timeout=1)


def start_ivr():
    """Start the IVR process; returns (process, port)."""
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--ivr"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    line = b""
    with gevent.Timeout(20, False):
        line = proc.stdout.readline()
    match = re.match(rb"PORT (\d+)", line)
    if not match:
        stop_ivr(proc)
        raise BenchmarkFailed("the IVR process did not report its port within 20 s (got %r)" % line)
    return proc, int(match.group(1))


def stop_ivr(proc):
    """Close the IVR's stdin so it exits; kill it if it does not within 5 s."""
    try:
        proc.stdin.close()
    except OSError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


# -- measures -----------------------------------------------------------------------------------
def rss_kib():
    """This process's current resident set (VmRSS), KiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise BenchmarkFailed("no VmRSS in /proc/self/status")


def shown_channels(api):
    """The channel count `show channels count` reports."""
    reply = api.execute("show", "channels count")
    match = re.search(r"^(\d+) total\.$", reply, re.M)
    if not match:
        raise BenchmarkFailed("unexpected `show channels count` reply: %r" % reply[-200:])
    return int(match.group(1))


def live_up(channels):
    """How many of the emulator's channels are answered, ACTIVE and not hung up."""
    return sum(1 for c in channels if c.answer_state == "answered" and not c.hungup
               and c.call_state == CallState.ACTIVE)


def table_state(emulator):
    """A one-line summary of the channel table, for failure messages."""
    states = collections.Counter("%s/%s%s" % (c.answer_state, c.call_state.name, "/hungup" if c.hungup else "")
                                 for c in list(emulator.channels.values()))
    return "%d channels in the table: %s" % (len(emulator.channels), dict(states) or "none")


def originate(api, variables, deadline_seconds):
    """originate a loopback call to the public context, its timeout as long as the deadline."""
    variables = dict(variables, originate_timeout="%d" % max(1, deadline_seconds * SPEED))
    dialstring = "{%s}loopback/4000/public" % ",".join("%s=%s" % kv for kv in variables.items())
    return api.execute("originate", dialstring + " &park()")


# -- the phases ---------------------------------------------------------------------------------
def throughput(emulator, calls, concurrency, report=True):
    """Calls that answer, play 100 ms and hang up; prints calls/s when report."""
    api = emulator.api
    failures = collections.Counter()
    fired_before = emulator.bus.fired

    def one(i):
        reply = originate(api, {"origination_caller_id_number": "1380000%04d" % i}, THROUGHPUT_DEADLINE)
        if not reply.startswith("+OK "):
            failures[reply.strip()] += 1
            return
        channel = emulator.channels.get(reply.split()[1])
        if channel is not None and not channel.done_event.wait(THROUGHPUT_DEADLINE):
            failures["call not ended within %.0f s" % THROUGHPUT_DEADLINE] += 1

    pool = Pool(concurrency)
    started = time.monotonic()
    for i in range(calls):
        pool.spawn(one, i)
    if not pool.join(timeout=THROUGHPUT_DEADLINE + 10):
        pool.kill(block=False)
        raise BenchmarkFailed("throughput: %d of %d calls still running after %.0f s; %s"
                              % (len(pool), calls, THROUGHPUT_DEADLINE + 10, table_state(emulator)))
    elapsed = time.monotonic() - started
    if failures:
        raise BenchmarkFailed("throughput: %d of %d calls failed: %s"
                              % (sum(failures.values()), calls, dict(failures)))
    wait_until(lambda: not emulator.channels, TEARDOWN_DEADLINE, "the throughput calls' channels to be destroyed",
               lambda: table_state(emulator))
    if report:
        print("calls: %d (concurrency %d) in %.2f s -> %.1f calls/s, %d events fired"
              % (calls, concurrency, elapsed, calls / elapsed, emulator.bus.fired - fired_before))


def hold(emulator, live, concurrency):
    """Originate live/2 held calls and check that `live` channels are up; returns a summary line."""
    api = emulator.api
    pairs = live // 2  # a loopback call is two channels, A-leg (parked) and B-leg (in the IVR)
    replies = []
    pool = Pool(concurrency)  # each originate returns as soon as its call is answered
    started = time.monotonic()
    for i in range(pairs):
        pool.spawn(lambda i=i: replies.append(originate(
            api, {HOLD_VAR: "true", "origination_caller_id_number": "1390000%04d" % i}, HOLD_DEADLINE)))
    if not pool.join(timeout=HOLD_DEADLINE + 10):
        pool.kill(block=False)
        raise BenchmarkFailed("memory: %d of %d originates unanswered after %.0f s; %s"
                              % (len(pool), pairs, HOLD_DEADLINE + 10, table_state(emulator)))
    failed = collections.Counter(r.strip() for r in replies if not r.startswith("+OK "))
    if failed or len(replies) != pairs:
        raise BenchmarkFailed("memory: %d of %d originates failed: %s; %s"
                              % (pairs - len(replies) + sum(failed.values()), pairs, dict(failed),
                                 table_state(emulator)))
    setup = time.monotonic() - started

    def all_up():
        table = list(emulator.channels.values())
        return len(table) == live and live_up(table) == live
    wait_until(all_up, HOLD_DEADLINE, "%d live channels" % live, lambda: table_state(emulator))
    # held past the 60 s (simulated) default originate timeout: still every one of them up
    gevent.sleep(SETTLE_SECONDS)
    shown = shown_channels(api)
    table = list(emulator.channels.values())
    up = live_up(table)
    if not (shown == len(table) == up == live):
        raise BenchmarkFailed("memory: %d live channels wanted; `show channels count` says %d, %s"
                              % (live, shown, table_state(emulator)))
    in_playback = sum(1 for c in table if c.application == "playback")
    return ("%d live channels up at once (%d calls, set up in %.2f s): %d answered/ACTIVE in the table, "
            "`show channels count` %d, %d B-legs in playback" % (live, pairs, setup, up, shown, in_playback))


def still_up(emulator, live):
    """After a measure: the same `live` channels are still up (it measured live channels)."""
    table = list(emulator.channels.values())
    if not (len(table) == live_up(table) == live):
        raise BenchmarkFailed("memory: channels went down while measuring; %s" % table_state(emulator))


def release(emulator):
    """Hang up every channel and wait for the table to empty."""
    emulator.api.execute("hupall", "NORMAL_CLEARING")
    wait_until(lambda: not emulator.channels, TEARDOWN_DEADLINE, "the held channels to be destroyed",
               lambda: table_state(emulator))


def memory(emulator, live, concurrency):
    """Hold `live` channels up at once, twice: RSS untraced, then the Python heap with tracemalloc.

    Two passes because tracemalloc's own bookkeeping (a trace per allocated block) would count in
    the RSS; the RSS pass comes first, while the process has not yet grown for that many channels
    (before the throughput phase too, whose freed memory the RSS pass would otherwise reuse).
    """
    gc.collect()
    rss_before = rss_kib()
    summary = hold(emulator, live, concurrency)
    gc.collect()
    rss_after = rss_kib()
    still_up(emulator, live)
    print("RSS pass:  " + summary)
    release(emulator)

    gc.collect()
    tracemalloc.start()
    heap_before = tracemalloc.get_traced_memory()[0]
    snapshot_before = tracemalloc.take_snapshot()
    summary = hold(emulator, live, concurrency)
    gc.collect()
    heap_after = tracemalloc.get_traced_memory()[0]
    snapshot_after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    by_file = snapshot_after.compare_to(snapshot_before, "filename")
    del snapshot_before, snapshot_after
    still_up(emulator, live)
    print("heap pass: " + summary)
    release(emulator)

    print("per live channel: Python heap +%.1f KiB (tracemalloc), RSS +%.1f KiB (VmRSS %d -> %d KiB)"
          % ((heap_after - heap_before) / 1024 / live, (rss_after - rss_before) / live, rss_before, rss_after))
    top = ", ".join("%s %.1f" % (os.path.relpath(s.traceback[0].filename), s.size_diff / 1024 / live)
                    for s in by_file[:4])
    print("  heap KiB per channel by file: %s" % top)


def run(calls, concurrency, live):
    faulthandler.dump_traceback_later(WATCHDOG_SECONDS, exit=True)
    proc, port = start_ivr()
    emulator = Emulator(EmulatorConfig(speed=SPEED, socket_target="127.0.0.1:%d" % port))
    emulator.start()
    try:
        throughput(emulator, min(concurrency, calls), concurrency, report=False)  # warm-up: code paths, caches
        memory(emulator, live, concurrency)
        throughput(emulator, calls, concurrency)
    finally:
        emulator.stop()
        try:
            wait_until(lambda: not emulator.channels, TEARDOWN_DEADLINE, "every channel to be destroyed at stop",
                       lambda: table_state(emulator))
        finally:
            stop_ivr(proc)
            faulthandler.cancel_dump_traceback_later()


def main(argv):
    if argv[:1] == ["--ivr"]:
        serve_ivr()
        return 0
    calls = int(argv[0]) if len(argv) > 0 else 1000
    concurrency = int(argv[1]) if len(argv) > 1 else 50
    live = int(argv[2]) if len(argv) > 2 else 1000
    if live < 2 or live % 2:
        print("emulator_calls: live must be an even number of channels (two a loopback call)", file=sys.stderr)
        return 2
    try:
        run(calls, concurrency, live)
    except BenchmarkFailed as exc:
        print("emulator_calls: FAILED: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
