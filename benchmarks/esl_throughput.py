"""ESL throughput: events/s parsed and dispatched by plain greenswitch vs by fs_cc.esl.

A flood server (a separate process, so the client has its own core) replays recorded
CHANNEL_* events (2-3 KB each, from /work/shared/fixtures/esl) over a real socket.
Prints figures; asserts nothing.

    .venv/bin/python benchmarks/esl_throughput.py [N]
"""

import json
import pathlib
import subprocess
import sys
import time

FIXTURES = pathlib.Path("/work/shared/fixtures/esl")


def build_flood(count):
    """count text/event-plain CHANNEL_* messages, recorded bodies with 200 distinct Unique-IDs."""
    bodies = []
    for name in ("03_call_lifecycle_events.jsonl", "04_bridge_events.jsonl"):
        for line in (FIXTURES / name).read_text().splitlines()[1:]:
            data = json.loads(line)["data"]
            head, _, body = data.partition("\n\n")
            if "text/event-plain" in head and body.startswith("Event-Name: CHANNEL_") and "Unique-ID: " in body:
                bodies.append(body)
    out = []
    for i in range(count):
        body = bodies[i % len(bodies)]
        uid = body.split("Unique-ID: ", 1)[1].split("\n", 1)[0]
        body = body.replace(uid, f"{uid[:-4]}{i % 200:04d}").encode()
        out.append(b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(body) + body)
    return out


def serve(count):
    """Flood server: auth, then `count` events after each `event ...` command."""
    from gevent import monkey
    monkey.patch_all()
    from gevent.server import StreamServer

    blob = b"".join(build_flood(count))

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


def run_ours(port, count):
    """events/s through fs_cc.esl InboundClient, the handler keeping a dict of channel state."""
    import gevent
    from fs_cc.esl.inbound import InboundClient
    done = gevent.event.Event()
    channels = {}
    seen = [0]

    def handler(event):
        channels[event.uuid] = (event.name, event.get("Channel-State"), event.get("Answer-State"),
                                event.get("Caller-Caller-ID-Number"))
        seen[0] += 1
        if seen[0] == count:
            done.set()

    client = InboundClient("127.0.0.1", port, "ClueCon")
    client.on("*", handler)
    started = time.perf_counter()
    client.start()
    done.wait(300)
    elapsed = time.perf_counter() - started
    client.stop()
    print(f'  ({len(channels)} channels tracked, {seen[0]} events handled)')
    return seen[0] / elapsed


def main():
    """Start the flood server, measure both clients, print the figures."""
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50000
    from gevent import monkey
    monkey.patch_all()
    sizes = [len(m) for m in build_flood(200)]
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(count)], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        print(f"{count} events, {sum(sizes) / len(sizes):.0f} bytes each on average")
        theirs = run_greenswitch(port, count)
        print(f"greenswitch 0.0.19 InboundESL: {theirs:10.0f} events/s")
        ours = run_ours(port, count)
        print(f"fs_cc.esl InboundClient:       {ours:10.0f} events/s (parse, dispatch, channel-state handler)")
        print(f"ratio ours/greenswitch: {ours / theirs:.2f}x")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]))
    else:
        main()
