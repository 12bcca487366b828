"""Replays the recorded FreeSWITCH transcripts against the emulator and compares what comes back."""

import difflib
import json
import socket

import gevent
import pytest

from fs_cc.emulator import Emulator, EmulatorConfig, Phone
from tests.emulator.wire import UUID_RE, Reader, parse_message
from tests.fixtures import transcripts
from tests.fixtures.record import TEST_SWITCH

TRANSCRIPTS = transcripts()
LOOPBACK_AGENT = "loopback/fs_cc_agent_${dialed_user}/default"  # install.sh, test mode


def _meta(path):
    with open(path, encoding="utf-8") as handle:
        return json.loads(handle.readline())

MEANINGFUL = ("Channel-State", "Answer-State", "Call-Direction", "Hangup-Cause", "Application",
              "Application-Response", "variable_originate_disposition", "DTMF-Digit",
              "Channel-Call-State")
# Variables the emulator models; others depend on the recording machine's vanilla configuration.
MODELLED_VARIABLES = ("variable_uuid", "variable_call_uuid", "variable_channel_name", "variable_direction",
                      "variable_other_loopback_leg_uuid", "variable_loopback_leg",
                      "variable_originate_disposition", "variable_read_result", "variable_fs_cc_choice",
                      "variable_endpoint_disposition", "variable_continue_on_fail",
                      "variable_hangup_after_bridge", "variable_current_application")
NON_CHANNEL = ("API", "BACKGROUND_JOB", "HEARTBEAT", "RE_SCHEDULE")
# The columns of `show channels|calls` rows compared (the others hold times, UUIDs, codecs).
SHOW_COLUMNS = ("name", "direction", "state", "callstate", "application", "b_name", "b_state")
SPEED = 20.0


def _is_vanilla_log(event):
    # The recording switch's vanilla dialplan logs a default-password warning; not call behaviour.
    return event.get("Application") == "log"


def _transient_consume_media(events):
    """Drop a CS_CONSUME_MEDIA state directly followed by CS_EXCHANGE_MEDIA (each an event dict).

    multi_threaded_bridge sets the b-leg CS_CONSUME_MEDIA, then CS_EXCHANGE_MEDIA; whether the
    b-leg's session thread runs (and announces) the first before the second is set is a race on
    the real switch (04_bridge_events has it, 10_ to 16_ do not), so neither side is held to it.
    """
    kept = []
    for i, event in enumerate(events):
        following = events[i + 1] if i + 1 < len(events) else {}
        if (event.get("Event-Name") == "CHANNEL_STATE" and event.get("Channel-State") == "CS_CONSUME_MEDIA"
                and following.get("Event-Name") == "CHANNEL_STATE"
                and following.get("Channel-State") == "CS_EXCHANGE_MEDIA"):
            continue
        kept.append(event)
    return kept


def _show_rows(rows):
    """The compared columns of `show` rows, in order."""
    return ["|".join(str(row.get(k, "")) for k in SHOW_COLUMNS if k in row) for row in rows]


def _kind(message):
    if message.content_type == "text/event-plain":
        return "event"
    if message.content_type == "text/disconnect-notice":
        return "notice"
    return "reply"


class Replay:
    """Drives one transcript: client connections to the emulator, a socket server it calls."""

    def __init__(self, path, emulator, listener):
        lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        self.meta, self.lines = lines[0], lines[1:]
        self.emulator = emulator
        self.listener = listener
        self.readers = {}
        self.socks = {}
        self.mapping = {}
        self.recorded = {}
        self.errors = []

    def conn(self, name):
        if name not in self.readers:
            if name == "outbound":
                self.listener.settimeout(10)
                sock, _ = self.listener.accept()
                sock.settimeout(None)
            else:
                sock = socket.create_connection(self.emulator.esl_address)
            self.socks[name] = sock
            self.readers[name] = Reader(sock)
        return self.readers[name]

    def sub(self, text):
        return UUID_RE.sub(lambda m: self.mapping.get(m.group(0), m.group(0)), text)

    def learn(self, recorded, actual):
        """Map recorded UUIDs to the emulator's from two corresponding texts."""
        if recorded.startswith('{"row_count":') and actual.startswith('{"row_count":'):
            actual_rows = json.loads(actual).get("rows", [])
            for row in json.loads(recorded).get("rows", []):
                same = [r for r in actual_rows if r["name"] == row["name"]]
                if same:
                    actual_rows.remove(same[0])
                    self.mapping.setdefault(row["uuid"], same[0]["uuid"])
            return
        for rec, act in zip(UUID_RE.findall(recorded), UUID_RE.findall(actual)):
            self.mapping.setdefault(rec, act)

    def _count(self, reader, kind, predicate=lambda m: True):
        return [m for m in reader.messages if _kind(m) == kind and predicate(m)]

    def run(self):
        for line in self.lines:
            if line["dir"] == "note":
                continue
            name = line["conn"]
            reader = self.conn(name)
            if line["dir"] == "send":
                if name == "outbound" and reader.closed:
                    continue
                try:
                    self.socks[name].sendall(self.sub(line["data"]).encode())
                except OSError:
                    pass
                continue
            message = parse_message(line["data"])
            kind = _kind(message)
            bucket = self.recorded.setdefault(name, {"reply": [], "event": [], "notice": []})
            if kind == "event" and _is_vanilla_log(dict(message.event)):
                continue
            bucket[kind].append(message)
            self._await(name, reader, kind, message, len(bucket[kind]))

    def _await(self, name, reader, kind, message, n):
        if kind == "event":
            event = dict(message.event)
            ev_name, chan = event["Event-Name"], event.get("Channel-Name")
            want = len([m for m in self.recorded[name]["event"]
                        if dict(m.event)["Event-Name"] == ev_name and dict(m.event).get("Channel-Name") == chan])
            pred = lambda m: (dict(m.event)["Event-Name"] == ev_name and dict(m.event).get("Channel-Name") == chan
                              and not _is_vanilla_log(dict(m.event)))
            try:
                reader.wait_for(lambda msgs: len(self._count(reader, "event", pred)) >= want, 10,
                                "%s %s #%d on %s" % (ev_name, chan, want, name))
            except AssertionError as exc:
                self.errors.append(str(exc))
                return
            actual = self._count(reader, "event", pred)[want - 1]
            rec_uuid, act_uuid = event.get("Unique-ID"), dict(actual.event).get("Unique-ID")
            if rec_uuid and act_uuid:
                self.mapping.setdefault(rec_uuid, act_uuid)
            if event.get("Job-UUID"):
                self.mapping.setdefault(event["Job-UUID"], dict(actual.event).get("Job-UUID"))
            return
        try:
            reader.wait_for(lambda msgs: len(self._count(reader, kind)) >= n, 10, "%s #%d on %s" % (kind, n, name))
        except AssertionError as exc:
            self.errors.append(str(exc))
            return
        actual = self._count(reader, kind)[n - 1]
        self.learn(message.headers.get("Reply-Text", "") + message.body, actual.headers.get("Reply-Text", "") + actual.body)
        if message.headers.get("Unique-ID"):
            self.mapping.setdefault(message.headers["Unique-ID"], actual.headers.get("Unique-ID"))

    # -- comparison ------------------------------------------------------------------------
    def compare(self):
        problems = list(self.errors)
        for name, bucket in self.recorded.items():
            reader = self.readers[name]
            problems += reader.framing_errors and ["%s: Content-Length mismatch in %s" % (name, reader.framing_errors)] or []
            problems += self._compare_replies(name, bucket["reply"], self._count(reader, "reply"))
            problems += self._compare_events(name, bucket["event"],
                                             [m for m in self._count(reader, "event") if not _is_vanilla_log(dict(m.event))])
            problems += self._compare_notices(name, bucket["notice"], self._count(reader, "notice"), reader)
        return problems

    def norm_reply(self, message):
        ctype = message.content_type
        body = message.body
        if ctype == "api/response":
            if body.startswith("{"):
                data = json.loads(body)
                body = "row_count=%s keys=%s rows=%s" % (data["row_count"], sorted(data.get("rows", [{}])[0]),
                                                        _show_rows(data.get("rows", [])))
            elif body.startswith("uuid,") and body.endswith(" total.\n"):
                # show channels|calls: the header line, the rows' compared columns, the count line
                lines = body.split("\n")
                header = lines[0].split(",")
                rows = [dict(zip(header, line.split(","))) for line in lines[1:] if line and "," in line]
                body = "%s rows=%s %s" % (lines[0], _show_rows(rows), lines[-2])
            elif body.startswith("UP "):
                body = "UP <status %d lines>" % body.count("\n")
            elif message is not None and not body.startswith(("+", "-")) and "\n" not in body and not UUID_RE.search(body) \
                    and not self.meta.get("exact_values"):
                # a transcript whose values do not depend on the recording machine says
                # "exact_values" (23_eval_expand: what eval and expand answer is the point)
                body = "<value>"
        text = UUID_RE.sub("<uuid>", "%s|%s|%s" % (ctype, message.headers.get("Reply-Text", ""), body))
        if message.headers.get("Event-Name") == "CHANNEL_DATA":
            names = sorted(k for k in message.headers if not k.startswith("variable_"))
            text += "|" + ",".join(names) + "|" + ",".join(
                "%s=%s" % (k, message.headers.get(k)) for k in ("Socket-Mode", "Control", "Channel-State", "Answer-State", "Call-Direction"))
        return text

    def _compare_replies(self, name, recorded, actual):
        rec = [self.norm_reply(m) for m in recorded]
        act = [self.norm_reply(m) for m in actual[:len(recorded)]]
        if rec != act:
            return ["%s replies differ:\n%s" % (name, "\n".join(difflib.unified_diff(rec, act, "recorded", "emulator", lineterm="")))]
        return []

    def _compare_events(self, name, recorded, actual):
        problems = []
        by_uuid = {}
        for message in actual:
            by_uuid.setdefault(dict(message.event).get("Unique-ID"), []).append(dict(message.event))
        rec_by_uuid = {}
        for message in recorded:
            event = dict(message.event)
            rec_by_uuid.setdefault(event.get("Unique-ID"), []).append((event, message.event))
        for rec_uuid, rec_events in rec_by_uuid.items():
            if rec_uuid is None:
                for event, pairs in rec_events:
                    same = [e for e in by_uuid.get(None, []) if e["Event-Name"] == event["Event-Name"]]
                    if not same:
                        problems.append("%s: no %s event" % (name, event["Event-Name"]))
                continue
            act_uuid = self.mapping.get(rec_uuid)
            act_events = by_uuid.get(act_uuid, [])
            rec_kept = {id(e) for e in _transient_consume_media([e for e, _ in rec_events])}
            rec_events = [(e, pairs) for e, pairs in rec_events if id(e) in rec_kept]
            act_events = _transient_consume_media(act_events)
            rec_names = [e["Event-Name"] for e, _ in rec_events]
            act_names = [e["Event-Name"] for e in act_events][:len(rec_names)]
            if rec_names != act_names:
                problems.append("%s: events of %s (%s) differ:\n%s" % (
                    name, rec_events[0][0].get("Channel-Name"), rec_uuid, "\n".join(
                        difflib.unified_diff(rec_names, act_names, "recorded", "emulator", lineterm=""))))
                continue
            for (rec, pairs), act in zip(rec_events, act_events):
                label = "%s %s %s" % (name, rec.get("Channel-Name"), rec["Event-Name"])
                rec_set = {k for k, _ in pairs if not k.startswith("variable_")}
                act_set = {k for k in act if not k.startswith("variable_")}
                if rec_set != act_set:
                    problems.append("%s headers: missing %s, extra %s" % (label, sorted(rec_set - act_set), sorted(act_set - rec_set)))
                for key in MEANINGFUL:
                    if rec.get(key) != act.get(key):
                        problems.append("%s %s: recorded %r, emulator %r" % (label, key, rec.get(key), act.get(key)))
                for key in MODELLED_VARIABLES:
                    if key in rec and key not in act:
                        problems.append("%s: variable %s missing" % (label, key))
        return problems

    def _compare_notices(self, name, recorded, actual, reader):
        rec = [(m.headers.get("Content-Disposition"), m.body) for m in recorded]
        act = [(m.headers.get("Content-Disposition"), m.body) for m in actual]
        problems = []
        if rec != act:
            problems.append("%s notices: recorded %s, emulator %s" % (name, rec, act))
        if rec and rec[-1][0] in (None, "disconnect"):
            try:
                reader.wait_for(lambda m: reader.closed, 5, "close")
            except AssertionError:
                problems.append("%s: socket not closed after the disconnect notice" % name)
        return problems


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_given_recorded_transcript_when_replayed_then_emulator_answers_alike(path, listener):
    host, port = listener.getsockname()
    test_switch = _meta(path).get("switch") == TEST_SWITCH
    if test_switch:
        # freeswitch_conf/ in test mode: agents 1000-1019 ring loopback phones; vanilla's brian
        # exists and never registers
        phones = [Phone(str(ext), dial_string=LOOPBACK_AGENT) for ext in range(1000, 1020)]
        phones.append(Phone("brian", registered=False))
    else:
        # the team's recording switch's vanilla directory held users 1000-1019, none registered
        phones = [Phone(str(ext), registered=False) for ext in range(1000, 1020)]
    config = EmulatorConfig(port=0, speed=SPEED, socket_target="%s:%d" % (host, port),
                            phones=phones, hostname="vm")
    emulator = Emulator(config)
    if test_switch:
        emulator.set_global_var("fs_cc_agent_endpoint", "loopback")
    emulator.start()
    try:
        replay = Replay(path, emulator, listener)
        replay.run()
        gevent.sleep(0.3 if "07a" in path.stem else 0)
        problems = replay.compare()
    finally:
        emulator.stop()
    assert not problems, "\n".join(problems)
