"""ESL throughput: events/s through plain greenswitch vs through the engine's own pipeline.

A flood server (a separate process, so the client has its own core) replays recorded
FreeSWITCH 1.10.12 channel events (the recorded transcripts, see tests/fixtures) over a real socket: the
CHANNEL_* events the engine subscribes to (CREATE, ANSWER, PARK, BRIDGE, HANGUP...), each
recorded call replayed again and again with fresh channel uuids. Both clients get the same
bytes in the same run:

- greenswitch 0.0.19 ``InboundESL`` with one ``*`` handler that counts;
- the engine's pipeline: ``fs_cc.esl.InboundClient`` (framing, event-plain parsing, dispatch
  to the handler's worker greenlet) feeding ``fs_cc.channels.ChannelTracker``, subscribed the
  way ``fs_cc.engine.Engine`` subscribes it.

With ``--all`` the flood is every recorded CHANNEL_* event (CHANNEL_STATE, CALLSTATE,
EXECUTE... too: 2-3 KB each) and the tracker takes them all (``*``), ignoring the ones it does not
track, as FreeSWITCH would send them to a client subscribed to ALL.

Prints figures; asserts nothing.

    .venv/bin/python benchmarks/esl_throughput.py [N] [--all]
"""

import json
import pathlib
import subprocess
import sys
import time

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "esl"


TRACKED = ("CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE", "CHANNEL_HANGUP",
           "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY", "CHANNEL_PARK", "CHANNEL_UNPARK")
ROUNDS = 200  # distinct uuid sets: each replay of the recorded calls is a new set of channels


def recorded_bodies(every_channel_event=False):
    """The recorded event-plain bodies of the engine's channel events, and every channel uuid in them."""
    bodies, uuids = [], set()
    for name in ("03_call_lifecycle_events.jsonl", "04_bridge_events.jsonl"):
        for line in (FIXTURES / name).read_text().splitlines()[1:]:
            data = json.loads(line)["data"]
            head, _, body = data.partition("\n\n")
            event_name = body.split("\n", 1)[0].partition(": ")[2]
            wanted = event_name.startswith("CHANNEL_") if every_channel_event else event_name in TRACKED
            if "text/event-plain" in head and wanted and "Unique-ID: " in body:
                bodies.append(body)
                uuids.add(body.split("Unique-ID: ", 1)[1].split("\n", 1)[0])
    return bodies, sorted(uuids)


def build_flood(count, every_channel_event=False):
    """count whole text/event-plain messages: the recorded calls replayed with fresh uuids."""
    bodies, uuids = recorded_bodies(every_channel_event)
    variants = []
    for round_ in range(min(ROUNDS, count // len(bodies) + 1)):
        framed = []
        for body in bodies:
            for uid in uuids:
                body = body.replace(uid, f"{uid[:-4]}{round_:04d}")
            data = body.encode()
            framed.append(b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(data) + data)
        variants.append(framed)
    per_round = len(bodies)
    return [variants[(i // per_round) % len(variants)][i % per_round] for i in range(count)]


def serve(count, every_channel_event):
    """Flood server: auth, then `count` events after each `event ...` command."""
    from gevent import monkey
    monkey.patch_all()
    from gevent.server import StreamServer

    blob = b"".join(build_flood(count, every_channel_event))

    def handle(sock, address):
        sock.sendall(b"Content-Type: auth/request\n\n")
        buf = b""
        while True:
            data = sock.recv(65536)
            if not data:
                return
            buf += data
            while b"\n\n" in buf:
                command, buf = buf.split(b"\n\n", 1)
                if command.startswith(b"auth"):
                    sock.sendall(b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n")
                elif command.startswith(b"event"):
                    sock.sendall(b"Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n")
                    sock.sendall(blob)
                else:
                    sock.sendall(b"Content-Type: command/reply\nReply-Text: +OK\n\n")

    server = StreamServer(("127.0.0.1", 0), handle)
    server.start()
    print(server.server_port, flush=True)
    server.serve_forever()


def run_greenswitch(port, count):
    """events/s through greenswitch 0.0.19 InboundESL with a '*' handler."""
    import logging
    import gevent
    import greenswitch
    logging.getLogger().setLevel(logging.ERROR)  # greenswitch logs on the root logger
    done = gevent.event.Event()
    seen = [0]

    def handler(event):
        seen[0] += 1
        if seen[0] == count:
            done.set()

    client = greenswitch.InboundESL("127.0.0.1", port, "ClueCon")
    client.register_handle("*", handler)
    started = time.perf_counter()
    client.connect()
    client.send("event plain ALL")
    done.wait(300)
    elapsed = time.perf_counter() - started
    client.sock.close()
    return seen[0] / elapsed


def run_engine_pipeline(port, count, every_channel_event=False):
    """events/s through the engine's pipeline: InboundClient parse + dispatch + ChannelTracker."""
    import gevent
    from fs_cc.channels import ChannelTracker
    from fs_cc.engine import ENGINE_EVENTS
    from fs_cc.esl.inbound import InboundClient
    tracker = ChannelTracker()
    client = InboundClient("127.0.0.1", port, "ClueCon", events=ENGINE_EVENTS)
    for name in ("*",) if every_channel_event else ChannelTracker.EVENTS:  # as Engine.__init__ wires it
        client.on(name, tracker.handle)
    started = time.perf_counter()
    client.start()
    deadline = started + 300
    while tracker.events_seen < count and time.perf_counter() < deadline:
        gevent.sleep(0.002)
    elapsed = time.perf_counter() - started
    client.stop()
    calls = tracker.calls()
    print(f"  ({tracker.events_seen} events applied; {len(tracker)} channels in {len(calls)} calls live at the"
          f" end, as the flood stops mid-call; {tracker.unknown_events} events about unknown channels)")
    return tracker.events_seen / elapsed


def main():
    """Start the flood server, measure both clients, print the figures."""
    args = [arg for arg in sys.argv[1:] if arg != "--all"]
    every = "--all" in sys.argv
    count = int(args[0]) if args else 50000
    from gevent import monkey
    monkey.patch_all()
    sizes = [len(m) for m in build_flood(1000, every)]
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(count)] + ["--all"] * every,
                              stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        kind = "recorded CHANNEL_* events" if every else "recorded events the engine subscribes to"
        print(f"{count} {kind}, {sum(sizes) / len(sizes):.0f} bytes each on average")
        theirs = run_greenswitch(port, count)
        print(f"greenswitch 0.0.19 InboundESL: {theirs:10.0f} events/s")
        ours = run_engine_pipeline(port, count, every)
        print(f"engine pipeline:               {ours:10.0f} events/s (InboundClient parse + dispatch + ChannelTracker)")
        print(f"ratio ours/greenswitch: {ours / theirs:.2f}x")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), "--all" in sys.argv)
    else:
        main()
