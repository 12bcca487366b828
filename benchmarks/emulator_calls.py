"""How many simulated calls per second the emulator sustains, and its memory per live channel.

Each call: `originate loopback/<did>/public &park()` -> the dialplan's `socket` app connects to a
minimal outbound server here, which answers, plays 100 ms of silence and hangs up. Prints figures,
asserts nothing. Run: `.venv/bin/python benchmarks/emulator_calls.py [calls] [concurrency]`.
"""

from gevent import monkey

monkey.patch_all()

import gc  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import gevent  # noqa: E402
from gevent.pool import Pool  # noqa: E402
from gevent.server import StreamServer  # noqa: E402

from fs_cc.emulator import Emulator, EmulatorConfig  # noqa: E402


def _read_reply(sock, buf):
    while b"\n\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError
        buf += chunk
    head, _, buf = buf.partition(b"\n\n")
    length = 0
    for line in head.split(b"\n"):
        if line.startswith(b"Content-Length: "):
            length = int(line.split(b": ")[1])
    while len(buf) < length:
        buf += sock.recv(65536)
    return head, buf[length:]


def ivr(sock, _address, hold):
    """answer, playback, hangup (or hold the call for the memory measure)."""
    buf = b""
    try:
        for text in ("connect", "myevents"):
            sock.sendall(text.encode() + b"\n\n")
            head, buf = _read_reply(sock, buf)
        for app, arg in (("answer", ""), ("playback", "local_stream://moh" if hold else "silence_stream://100")):
            sock.sendall(("sendmsg\ncall-command: execute\nexecute-app-name: %s\nexecute-app-arg: %s\n\n"
                          % (app, arg)).encode())
        while b"Application-Response" not in buf or b"playback" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                return
            buf += chunk
        sock.sendall(b"sendmsg\ncall-command: hangup\n\n")
        while sock.recv(65536):
            pass
    except (EOFError, OSError):
        pass


def run(calls, concurrency):
    holding = {"on": False}
    server = StreamServer(("127.0.0.1", 0), lambda s, a: ivr(s, a, holding["on"]), backlog=4096)
    server.start()
    emulator = Emulator(EmulatorConfig(speed=100, socket_target="127.0.0.1:%d" % server.address[1]))
    emulator.start()
    api = emulator.api

    def one(i):
        reply = api.execute("originate", "{origination_caller_id_number=1380000%04d}loopback/4000/public &park()" % i)
        uuid = reply.split()[1]
        channel = emulator.channels.get(uuid)
        if channel is not None:
            channel.done_event.wait(30)

    pool = Pool(concurrency)
    started = time.monotonic()
    for i in range(calls):
        pool.spawn(one, i)
    pool.join()
    elapsed = time.monotonic() - started
    deadline = time.monotonic() + 10
    while emulator.channels and time.monotonic() < deadline:
        gevent.sleep(0.05)
    print("calls: %d (concurrency %d) in %.2f s -> %.1f calls/s, %d events fired"
          % (calls, concurrency, elapsed, calls / elapsed, emulator.bus.fired))

    holding["on"] = True
    live = 500
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for i in range(live):
        gevent.spawn(api.execute, "originate", "loopback/4000/public &park()")
    while len(emulator.channels) < 2 * live:
        gevent.sleep(0.05)
    gevent.sleep(0.5)
    gc.collect()
    after = tracemalloc.take_snapshot()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    channels = len(emulator.channels)
    print("live channels: %d; Python heap +%.1f KiB per channel (tracemalloc), max RSS +%.1f KiB per channel"
          % (channels, grown / 1024 / channels, (rss_after - rss_before) / channels))
    tracemalloc.stop()
    emulator.stop()
    server.stop()


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 1000, int(sys.argv[2]) if len(sys.argv) > 2 else 50)
