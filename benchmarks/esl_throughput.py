"""ESL throughput: events/s through plain greenswitch vs through the engine's own pipeline.

A flood server (a separate process, plain blocking sockets, the flood sent with sendfile(2) so
that it loads the 2 cores as little as it can) sends FreeSWITCH events over a real socket. Both
clients get the same bytes, in turn, for a few rounds (the best round of each is compared, so that
a busy moment of the machine, shared with other work, does not decide the figure):

- greenswitch 0.0.19 ``InboundESL`` with one ``*`` handler that counts;
- the engine's pipeline: ``fs_cc.esl.InboundClient`` (framing, event-plain parsing, dispatch to
  each handler's worker greenlet) feeding ``fs_cc.channels.ChannelTracker``, subscribed the way
  ``fs_cc.engine.Engine`` subscribes it, and a second handler that stands for the engine's
  publish path: for each CHANNEL_CREATE / ANSWER / BRIDGE / HANGUP_COMPLETE it builds one
  ``fs_cc.events`` event (CallStarted, IvrNodeEntered, AnsweredByAgent, CallEnded: a small
  translation of this benchmark's own; the engine makes its own) with an ``fs_cc.emitter.Emitter``
  (an EventSequencer stamps it, then it is published on an ``InProcessBus`` with one live
  subscriber that counts) and ``events.encode``-s it, the text the outbox spools.

The flood is generated, not replayed: the recorded FreeSWITCH 1.10.12 events of tests/fixtures
that hold whole calls are templates, and every call made from one gets fresh channel uuids
(Unique-ID, Channel-Call-UUID, Other-Leg-Unique-ID, Bridge-*, the variable_* uuids stay
consistent within the call), its own caller and callee names and numbers (non-ASCII, spaces,
'+', URL-encoded as switch_url_encode does), its own session ids, its own ``fs_cc_*`` variables
(a ticket text unique to the call, a queue name, both with encoded characters) and its own
times: Event-Sequence grows, and a clock that moves 1-1.5 s per event rewrites
Event-Date-Timestamp / Local / GMT and, through the same mapping, every time, epoch and stamp
the call's events carry. 256 calls are in progress at once, their events interleaved.

How it defeats a per-value cache (such as the unquote memo the parser had): no encoded value
repeats from one call to another but the constants of the switch and its configuration (its
IPv6 address, the hold music application and its response, the queue names) and, now and
then, a start stamp of the same second; the dates, in every event, differ from event to event;
and a value a call repeats (its caller's name, in each of its events, as FreeSWITCH sends it)
comes back only after events of the 255 other calls. The run prints how many encoded values are
repeats, of the same call and of another, and how many a cache of 8192 values (cleared when
full) would still have served: those are what any cache could live on. The parser measured
keeps no values at all, and decodes only the values a handler reads.

Reported for each client: events/s (wall clock, connect to last event handled) and the CPU time
the client process spent. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/esl_throughput.py [N] [--all] [--rounds=3]

With ``--all`` every CHANNEL_* event of the templates is sent (CHANNEL_STATE, CALLSTATE,
EXECUTE... too) and the tracker takes them all (``*``), as from a client subscribed to ALL.
"""

import sys

SERVING = sys.argv[1:2] == ["--serve"]
if not SERVING:
    from gevent import monkey

    monkey.patch_all()  # both clients and the bus's subscriber thread run as greenlets

import bisect  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import pathlib  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid as uuidlib  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fs_cc.emulator.protocol import url_encode  # noqa: E402 - switch_url_encode's rules

FIXTURES = ROOT / "tests" / "fixtures" / "esl"
# the recordings holding whole calls: every leg from CHANNEL_CREATE to CHANNEL_DESTROY (the
# later ones subscribe mid-call); 03 is a leg pair parked then hung up, 04 two pairs bridged
TEMPLATES = ("03_call_lifecycle_events", "04_bridge_events")
TRACKED = ("CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE", "CHANNEL_HANGUP",
           "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY", "CHANNEL_PARK", "CHANNEL_UNPARK")
PUBLISHED = ("CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_BRIDGE", "CHANNEL_HANGUP_COMPLETE")
CONCURRENT_CALLS = 256
SEED = 1012

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
EPOCH_PREFIX_RE = re.compile(r"(?<![0-9])(1[0-9]{9})%3A")  # transfer history: "<epoch>:<uuid>:..."
CALLER_ID_RE = re.compile(r"%22(.*)%22%20%3C(.*)%3E")  # variable_caller_id: "name" <number>
STAMP = "%Y-%m-%d %H:%M:%S"
FIRST = ("José", "Zoë", "Ana María", "Søren", "Łukasz", "Chloé", "Björn", "Siobhán", "Jürgen", "Maël",
         "Ayşe", "Nguyễn Văn", "李", "Renée", "Øystein", "Dvořák", "Mary-Jane", "Ólafur", "Ngozi",
         "Grégoire", "Åsa", "Tomás", "Yūko", "Ahmed")
LAST = ("Müller", "O'Brien", "García Márquez", "Ødegård", "Smith", "Lefèvre", "Şahin", "Kowalczyk",
        "小龙", "Tanaka", "Dupont+Fils", "Nuñez", "van der Berg", "Papadopoulos", "Çelik", "Brontë",
        "Hernández", "Søndergaard", "Mac Giolla", "Żółkowski", "Ndiaye", "Lindqvist", "Ruiz & Co",
        "Đorđević")
QUEUES = ("Support Technique", "Ventes & Après-vente", "VIP+", "Hotline 24/7", "Réclamations",
          "Kundendienst Süd")
REASONS = ("rappel demandé", "Rückfrage: Rechnung", "cancel+refund", "VIP: priorité", "änderung Adresse",
           "résiliation", "new order #", "réclamation: colis perdu")


def load_templates(every_channel_event=False):
    """The recorded calls: for each transcript, its channel events as lists of (name, raw value)."""
    templates = []
    for name in TEMPLATES:
        events = []
        for line in (FIXTURES / f"{name}.jsonl").read_text().splitlines()[1:]:
            data = json.loads(line)
            head, _, body = data["data"].partition("\n\n")
            if data["dir"] != "recv" or "text/event-plain" not in head:
                continue
            text, _, tail = body.partition("\n\n")
            pairs = [tuple(line.split(": ", 1)) if ": " in line else (line.rstrip(":"), "")
                     for line in text.split("\n")]
            event_name = pairs[0][1]
            wanted = event_name.startswith("CHANNEL_") if every_channel_event else event_name in TRACKED
            if wanted and any(key == "Unique-ID" for key, _ in pairs):
                events.append((pairs, tail))
        if events:
            templates.append(events)
    return templates


def _fresh_uuid(rng):
    return str(uuidlib.UUID(int=rng.getrandbits(128), version=4))


def _number(rng, index):
    # unique per call (the index), in the shapes caller ids come in
    digits = f"{index:05d}{rng.randrange(10 ** 5):05d}"
    return rng.choice((f"+4915{digits}", f"0033{digits[:9]}", f"+1555{digits[:7]}", f"0{digits}"))


def _name(rng, index):
    # unique per call for the first 14976 (one name per table index), in the shapes CNAMs come in
    first = FIRST[index % len(FIRST)]
    last = LAST[(index // len(FIRST)) % len(LAST)]
    initial = chr(65 + (index // (len(FIRST) * len(LAST))) % 26)
    return rng.choice((f"{first} {initial}. {last}", f"{last}, {first} {initial}.",
                       f"{first} {last} ({initial})", f"{first} {initial}. {last} +"))


class Clock:
    """The flood's clock (microseconds): moves 1-1.5 s per event, so no two events share a date."""

    def __init__(self, rng, start_us=1_796_000_000_000_000):
        self.rng = rng
        self.now = start_us
        self.sequence = rng.randrange(10_000, 100_000)

    def tick(self):
        self.now += self.rng.randrange(1_000_000, 1_500_000)
        self.sequence += 1
        return self.now, self.sequence


class Call:
    """One call made from a template: its own uuids, parties, variables and times."""

    def __init__(self, template, index, rng, counters):
        self.template = template
        self.position = 0
        self.rng = rng
        self.index = index
        self.counters = counters  # shared: next session id
        self.uuids = {}
        self.names = {}
        self.numbers = {}
        self.sessions = {}
        self.knots_recorded, self.knots_new = [], []
        first_uuid = next(value for key, value in template[0][0] if key == "Unique-ID")
        self.variables = [("variable_fs_cc_call_uuid", self._uuid(first_uuid)),
                          ("variable_fs_cc_queue", url_encode(rng.choice(QUEUES))),
                          ("variable_fs_cc_ticket", url_encode(f"T-{index:06d}: {rng.choice(REASONS)}"))]

    @property
    def done(self):
        return self.position >= len(self.template)

    def _uuid(self, recorded):
        new = self.uuids.get(recorded)
        if new is None:
            new = self.uuids[recorded] = _fresh_uuid(self.rng)
        return new

    def _time(self, recorded_us):
        """Recorded microseconds -> the flood's, piecewise linear through the events seen so far."""
        old, new = self.knots_recorded, self.knots_new
        if recorded_us <= old[0]:
            return new[0] - (old[0] - recorded_us)
        i = bisect.bisect_right(old, recorded_us) - 1
        if i == len(old) - 1:
            return new[i] + (recorded_us - old[i])
        span = old[i + 1] - old[i]
        return new[i] + (new[i + 1] - new[i]) * (recorded_us - old[i]) // span

    def _seconds(self, recorded_s):
        return self._time(recorded_s * 1_000_000 + 500_000) // 1_000_000

    def _stamp(self, raw):
        moment = datetime.datetime.strptime(raw.replace("%20", " ").replace("%3A", ":"), STAMP)
        seconds = self._seconds(int(moment.replace(tzinfo=datetime.timezone.utc).timestamp()))
        return url_encode(datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime(STAMP))

    def _party(self, table, raw, make):
        new = table.get(raw)
        if new is None:
            new = table[raw] = url_encode(make(self.rng, self.index * 4 + len(table)))
        return new

    def next_message(self, clock):
        """The call's next event as a whole text/event-plain message, stamped by the clock."""
        pairs, tail = self.template[self.position]
        self.position += 1
        now_us, sequence = clock.tick()
        recorded_us = int(dict(pairs)["Event-Date-Timestamp"])
        if not self.knots_recorded or recorded_us > self.knots_recorded[-1]:
            self.knots_recorded.append(recorded_us)
            self.knots_new.append(now_us)
        moment = datetime.datetime.fromtimestamp(now_us / 1_000_000, datetime.timezone.utc)
        lines = []
        for key, value in pairs:
            if key == "Event-Date-Timestamp":
                value = str(now_us)
            elif key == "Event-Sequence":
                value = str(sequence)
            elif key == "Event-Date-Local":
                value = url_encode(moment.strftime(STAMP))
            elif key == "Event-Date-GMT":
                value = url_encode(moment.strftime("%a, %d %b %Y %H:%M:%S GMT"))
            elif key != "Core-UUID":
                value = self._rewrite(key, value)
            lines.append(f"{key}: {value}")
        lines.extend(f"{key}: {value}" for key, value in self.variables)
        data = ("\n".join(lines) + "\n\n" + tail).encode()
        return b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(data) + data

    def _rewrite(self, key, value):
        if "-" in value:
            value = UUID_RE.sub(lambda m: self._uuid(m.group()), value)
        if not value or value == "0":
            return value
        if value.isdigit():
            if key.endswith(("-Time", "_uepoch", "-Last-Hold")):
                return str(self._time(int(value)))
            if key.endswith("_epoch"):
                return str(self._seconds(int(value)))
            if key == "variable_session_id":
                if value not in self.sessions:
                    self.counters["session"] += 1
                    self.sessions[value] = str(self.counters["session"])
                return self.sessions[value]
        if key.endswith("_stamp"):
            return self._stamp(value)
        if "ID-Name" in key or key.endswith(("caller_id_name", "callee_id_name")):
            return self._party(self.names, value, _name)
        if "ID-Number" in key or key.endswith(("-ANI", "caller_id_number", "callee_id_number")):
            return self._party(self.numbers, value, _number)
        if key == "variable_caller_id":
            match = CALLER_ID_RE.fullmatch(value)
            if match:
                name = self._party(self.names, match.group(1), _name)
                number = self._party(self.numbers, match.group(2), _number)
                return f"%22{name}%22%20%3C{number}%3E"
        if "%3A" in value:
            value = EPOCH_PREFIX_RE.sub(lambda m: f"{self._seconds(int(m.group(1)))}%3A", value)
        return value


def build_flood(count, every_channel_event=False, seed=SEED):
    """count whole text/event-plain messages made from the templates; and figures about them."""
    rng = random.Random(seed)
    templates = load_templates(every_channel_event)
    clock = Clock(rng)
    counters = {"session": rng.randrange(100, 1000), "call": 0}
    calls, messages = [], []
    first_call = {}  # encoded value -> the call that sent it first
    window = set()  # what a cache of 8192 values, cleared when full, would hold
    stats = dict.fromkeys(("encoded", "same_call", "other_call", "window", "published", "calls"), 0)
    while len(messages) < count:
        while len(calls) < CONCURRENT_CALLS:
            calls.append(Call(templates[rng.randrange(len(templates))], counters["call"], rng, counters))
            counters["call"] += 1
        call = calls[rng.randrange(len(calls))]
        message = call.next_message(clock)
        if call.done:
            calls.remove(call)
        messages.append(message)
        body = message.split(b"\n\n", 1)[1].decode()
        stats["published"] += body.split("\n", 1)[0][12:] in PUBLISHED
        for line in body.split("\n"):
            value = line.partition(": ")[2]
            if "%" not in value:
                continue
            stats["encoded"] += 1
            owner = first_call.get(value)
            if owner is None:
                first_call[value] = call.index
            else:
                stats["same_call" if owner == call.index else "other_call"] += 1
            stats["window"] += value in window
            if len(window) >= 8192:
                window.clear()
            window.add(value)
    stats["calls"] = counters["call"]
    return messages, stats


def serve(path):
    """Flood server, plain blocking sockets: auth, then the file's bytes after each `event` command.

    The file goes out with sendfile(2): the server copies nothing itself, so the load it puts on
    the machine (2 cores shared with the client) is the kernel's delivery, the same for both clients.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    print(listener.getsockname()[1], flush=True)
    while True:
        sock, _ = listener.accept()
        threading.Thread(target=_serve_client, args=(sock, path), daemon=True).start()


def _serve_client(sock, path):
    with sock, open(path, "rb") as flood:
        try:
            _serve_commands(sock, flood)
        except OSError:
            pass  # the client went away


def _serve_commands(sock, flood):
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
            elif command.startswith(b"exit"):
                sock.sendall(b"Content-Type: command/reply\nReply-Text: +OK bye\n\n")
                return
            elif command.startswith(b"event"):
                sock.sendall(b"Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n")
                sock.sendfile(flood, 0)
            else:
                sock.sendall(b"Content-Type: command/reply\nReply-Text: +OK\n\n")


def run_greenswitch(port, count):
    """(events/s, CPU seconds) through greenswitch 0.0.19 InboundESL with a '*' handler."""
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
    started, cpu = time.perf_counter(), time.process_time()
    client.connect()
    client.send("event plain ALL")
    done.wait(600)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    client.stop()
    return seen[0] / elapsed, cpu


class DomainEvents:
    """Stands for the engine's publish path: one fs_cc.events event per call-changing event.

    Built and published by an ``fs_cc.emitter.Emitter`` (stamped by an EventSequencer, then
    published on the bus) and encoded with ``events.encode``, as the engine's outbox spools it.
    """

    def __init__(self, emitter):
        from fs_cc import events
        self.events = events
        self.emit = emitter.emit
        self.encoded_bytes = 0

    def handle(self, event):
        """Translate one channel event, publish the fact, encode it."""
        ev, emit, get = self.events, self.emit, event.get
        name, uuid = get("Event-Name"), get("Unique-ID")
        call_uuid = get("variable_fs_cc_call_uuid") or get("Channel-Call-UUID") or uuid
        if name == "CHANNEL_CREATE":
            fact = emit(ev.CallStarted, call_uuid=call_uuid, did=get("Caller-Destination-Number") or "",
                        caller_number=get("Caller-Caller-ID-Number") or "",
                        caller_name=get("Caller-Caller-ID-Name") or "")
        elif name == "CHANNEL_ANSWER":
            fact = emit(ev.IvrNodeEntered, call_uuid=call_uuid, flow=get("variable_fs_cc_queue") or "",
                        node="welcome")
        elif name == "CHANNEL_BRIDGE":
            fact = emit(ev.AnsweredByAgent, call_uuid=call_uuid, agent=get("Other-Leg-Destination-Number") or "",
                        leg_uuid=get("Bridge-B-Unique-ID") or get("Other-Leg-Unique-ID") or "")
        else:
            side = ev.HangupSide.CALLER if uuid == call_uuid else ev.HangupSide.AGENT
            fact = emit(ev.CallEnded, call_uuid=call_uuid, side=side, cause=get("Hangup-Cause") or "")
        self.encoded_bytes += len(ev.encode(fact))


def run_engine_pipeline(port, count, published, every_channel_event=False):
    """(events/s, CPU seconds) through InboundClient + dispatch + ChannelTracker + domain events."""
    import gevent
    from fs_cc.bus import InProcessBus
    from fs_cc.channels import ChannelTracker
    from fs_cc.emitter import Emitter
    from fs_cc.engine import ENGINE_EVENTS
    from fs_cc.esl.inbound import InboundClient
    from fs_cc.events import EventSequencer
    tracker = ChannelTracker()
    bus = InProcessBus()
    delivered = [0]
    bus.subscribe(lambda fact: delivered.__setitem__(0, delivered[0] + 1))
    domain = DomainEvents(Emitter(EventSequencer("bench"), bus=bus))
    client = InboundClient("127.0.0.1", port, "ClueCon", events=ENGINE_EVENTS)
    for name in ("*",) if every_channel_event else ChannelTracker.EVENTS:  # as Engine.__init__ wires it
        client.on(name, tracker.handle)
    for name in PUBLISHED:
        client.on(name, domain.handle)
    started, cpu = time.perf_counter(), time.process_time()
    client.start()
    deadline = started + 600
    while (tracker.events_seen < count or delivered[0] < published) and time.perf_counter() < deadline:
        gevent.sleep(0.002)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    client.stop()
    bus.close()
    if tracker.events_seen < count or delivered[0] < published:
        raise SystemExit(f"engine pipeline: only {tracker.events_seen} events and {delivered[0]} domain events")
    run_engine_pipeline.last = (f"{tracker.events_seen} events applied, {delivered[0]} domain events published"
                                f" and delivered, {domain.encoded_bytes / max(1, delivered[0]):.0f} bytes encoded each;"
                                f" {len(tracker)} channels live at the end")
    return tracker.events_seen / elapsed, cpu


def main():
    """Generate the flood, start its server, measure both clients in turn, print the figures."""
    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    every = "--all" in sys.argv
    rounds = next((int(arg[9:]) for arg in sys.argv if arg.startswith("--rounds=")), 3)
    count = int(args[0]) if args else 50000
    messages, stats = build_flood(count, every)
    size = sum(map(len, messages)) / len(messages)
    with tempfile.NamedTemporaryFile(prefix="esl_flood_", delete=False) as blob:
        blob.write(b"".join(messages))
    del messages
    server = subprocess.Popen([sys.executable, __file__, "--serve", blob.name], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        kind = "CHANNEL_* events" if every else "events the engine subscribes to"
        print(f"{count} generated {kind} ({stats['calls']} calls from {len(TEMPLATES)} recorded ones,"
              f" {CONCURRENT_CALLS} at a time), {size:.0f} bytes each on average")
        share = {key: f"{100 * stats[key] / stats['encoded']:.0f}%" for key in ("same_call", "other_call", "window")}
        print(f"  {stats['encoded'] / count:.1f} encoded values an event: {share['same_call']} repeat one their call"
              f" sent before, {share['other_call']} one another call sent (the switch's constants); a cache of"
              f" 8192 values cleared when full would serve {share['window']}")
        print(f"  {stats['published']} events publish a domain event")
        theirs, ours = [], []
        for round_ in range(1, rounds + 1):  # in turn, so that a busy moment of the machine hits both
            theirs.append(run_greenswitch(port, count))
            ours.append(run_engine_pipeline(port, count, stats["published"], every))
            print(f"  round {round_}: greenswitch {theirs[-1][0]:7.0f} events/s {theirs[-1][1]:5.2f} s CPU;"
                  f" engine pipeline {ours[-1][0]:7.0f} events/s {ours[-1][1]:5.2f} s CPU"
                  f" ({run_engine_pipeline.last})")
        # the median round of each too, and the machine's load: a busy neighbour on the 2 cores
        # moves every round, and the best ones say what each client costs when it is let run
        middle = [sorted(rates)[len(rates) // 2] for rates in (theirs, ours)]
        print(f"median rounds: greenswitch {middle[0][0]:.0f} events/s, {1e6 * middle[0][1] / count:.1f} us/event;"
              f" engine pipeline {middle[1][0]:.0f} events/s, {1e6 * middle[1][1] / count:.1f} us/event;"
              f" ratio {middle[1][0] / middle[0][0]:.2f}x; load average {os.getloadavg()[0]:.2f}")
        (theirs, their_cpu), (ours, our_cpu) = max(theirs), max(ours)
        print(f"best of {rounds} rounds:")
        print(f"greenswitch 0.0.19 InboundESL: {theirs:10.0f} events/s, {their_cpu:6.2f} s CPU"
              f" ({1e6 * their_cpu / count:.1f} us/event; '*' handler counting)")
        print(f"engine pipeline:               {ours:10.0f} events/s, {our_cpu:6.2f} s CPU"
              f" ({1e6 * our_cpu / count:.1f} us/event; parse + dispatch + ChannelTracker + domain events)")
        print(f"ratio ours/greenswitch: {ours / theirs:.2f}x events/s, {their_cpu / our_cpu:.2f}x less CPU")
    finally:
        server.terminate()
        server.wait()
        os.unlink(blob.name)


if __name__ == "__main__":
    if SERVING:
        serve(sys.argv[2])
    else:
        main()
