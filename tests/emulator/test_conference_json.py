"""conference rooms and their events, `event json` framing, recordings, answering machines."""

import json

from tests.polling import poll
from tests.emulator.wire import Reader, command, connect, events


def _originate(sock, reader, text):
    reply = command(sock, reader, "api originate %s" % text)
    assert reply.body.startswith("+OK "), reply.body
    return reply.body.split()[1]


def _actions(reader):
    return [(e["Action"], e.get("Member-ID")) for e in events(reader, "CUSTOM")]


def test_given_two_members_when_kicked_and_hung_up_then_events_and_texts_as_mod_conference(emu):
    sock, reader = connect(emu.esl_address)
    assert command(sock, reader, "event plain CUSTOM conference::maintenance").headers["Reply-Text"] \
        == "+OK event listener enabled plain"
    assert command(sock, reader, "api conference list").body == "No active conferences.\n"
    first = _originate(sock, reader, "user/1000 &conference(sales@default)")
    second = _originate(sock, reader, "user/1001 &conference(sales)")
    assert poll(lambda: len(_actions(reader)) == 3)
    assert [a for a, _ in _actions(reader)] == ["conference-create", "add-member", "add-member"]
    ids = [m for _, m in _actions(reader)][1:]
    listing = command(sock, reader, "api conference list").body.split("\n")
    assert listing[0].startswith("Conference sales (2 members rate: 8000 flags: running")
    assert listing[1].split(";")[:3] == [ids[1], "sofia/internal/1001@127.0.0.1", second]
    assert listing[2].split(";")[5] == "hear|speak|floor"
    assert command(sock, reader, "api conference sales mute %s" % ids[1]).body == "OK mute %s\n" % ids[1]
    assert "%s;" % ids[1] in command(sock, reader, "api conference sales list").body
    assert command(sock, reader, "api conference sales kick 999").body == "Non-Existant ID 999\n"
    assert command(sock, reader, "api conference nowhere list").body == "Conference nowhere not found\n"
    assert command(sock, reader, "api conference sales kick %s" % ids[0]).body == "OK kicked %s\n" % ids[0]
    assert poll(lambda: first not in emu.channels)  # &conference() ended: the originated leg hangs up
    assert command(sock, reader, "api conference sales hup all").body == "OK hup %s\n" % ids[1]
    assert poll(lambda: _actions(reader)[-1][0] == "conference-destroy")
    assert [a for a, _ in _actions(reader)][3:] == ["mute-member", "kick-member", "del-member",
                                                     "hup-member", "del-member", "conference-destroy"]
    add = [e for e in events(reader, "CUSTOM") if e["Action"] == "add-member"][0]
    assert add["Event-Subclass"] == "conference::maintenance" and add["Conference-Name"] == "sales"
    assert add["Unique-ID"] == first and add["variable_conference_member_id"] == ids[0]


def test_given_other_custom_subclass_subscribed_when_conference_runs_then_nothing_arrives(emu):
    sock, reader = connect(emu.esl_address)
    command(sock, reader, "event plain CUSTOM avmd::beep")
    _originate(sock, reader, "user/1000 &conference(quiet)")
    assert poll(lambda: "quiet" in emu.conferences.rooms)
    command(sock, reader, "api status")
    assert events(reader, "CUSTOM") == []


def test_given_event_json_when_api_runs_then_json_bodies_unencoded_with_body_key(emu):
    sock, reader = connect(emu.esl_address)
    reply = command(sock, reader, "event json BACKGROUND_JOB API")
    assert reply.headers["Reply-Text"] == "+OK event listener enabled json"
    command(sock, reader, "bgapi global_getvar hostname")
    assert poll(lambda: [m for m in reader.messages if m.content_type == "text/event-json"
                         and '"BACKGROUND_JOB"' in m.body])
    raw = [m for m in reader.messages if m.content_type == "text/event-json" and '"BACKGROUND_JOB"' in m.body][0]
    assert int(raw.headers["Content-Length"]) == len(raw.body.encode())
    job = json.loads(raw.body)
    assert list(job)[:2] == ["Event-Name", "Core-UUID"]
    assert job["Event-Date-Local"].count(" ") == 1  # not URL-encoded
    assert job["Job-Command"] == "global_getvar" and job["Job-Command-Arg"] == "hostname"
    assert job["_body"] == "fs-cc-emulator" and job["Content-Length"] == str(len("fs-cc-emulator"))
    assert list(job)[-2:] == ["Content-Length", "_body"]
    assert raw.body.startswith('{"Event-Name":"') and ", " not in raw.body[:40]


def test_given_outbound_socket_when_myevents_json_then_session_events_in_json(emu, listener):
    emu.place_call("4000", "13800138000")
    listener.settimeout(5)
    sock, _ = listener.accept()
    reader = Reader(sock)
    command(sock, reader, "connect")
    assert command(sock, reader, "myevents json").headers["Reply-Text"] == "+OK Events Enabled"
    assert command(sock, reader, "divert_events on").headers["Reply-Text"] == "+OK events diverted"
    command(sock, reader, "sendmsg\ncall-command: execute\nexecute-app-name: answer")
    assert poll(lambda: any(m.content_type == "text/event-json" and "CHANNEL_ANSWER" in m.body
                            for m in reader.messages))


def test_given_recording_when_started_and_stopped_then_record_events_with_path(emu):
    sock, reader = connect(emu.esl_address)
    command(sock, reader, "event plain RECORD_START RECORD_STOP")
    uuid = _originate(sock, reader, "user/1000 &park()")
    assert command(sock, reader, "api uuid_record %s start /tmp/a.wav" % uuid).body == "+OK Success\n"
    assert command(sock, reader, "api uuid_record %s mask /tmp/a.wav" % uuid).body == "+OK Success\n"
    assert command(sock, reader, "api uuid_record %s stop /tmp/a.wav" % uuid).body == "+OK Success\n"
    assert command(sock, reader, "api uuid_record %s stop /tmp/a.wav" % uuid).body \
        == "-ERR Cannot stop record session!\n"
    command(sock, reader, "api uuid_transfer %s 'record_session:/tmp/b.wav,park' inline" % uuid)
    assert poll(lambda: len(events(reader, "RECORD_START")) == 2)
    command(sock, reader, "api uuid_kill %s" % uuid)
    assert poll(lambda: len(events(reader, "RECORD_STOP")) == 2)
    assert [e["Record-File-Path"] for e in events(reader, "RECORD_START")] == ["/tmp/a.wav", "/tmp/b.wav"]
    assert [e["Record-File-Path"] for e in events(reader, "RECORD_STOP")] == ["/tmp/a.wav", "/tmp/b.wav"]


def test_given_machine_gateway_when_answered_then_greeting_then_avmd_beep_then_silence(emu):
    sock, reader = connect(emu.esl_address)
    command(sock, reader, "event plain CUSTOM avmd::beep")
    uuid = _originate(sock, reader, "sofia/gateway/machines/13900000000 &park()")
    assert command(sock, reader, "api uuid_getvar %s fs_cc_sim_machine" % uuid).body == "true"
    assert command(sock, reader, "api uuid_getvar %s fs_cc_sim_machine_state" % uuid).body == "greeting"
    assert poll(lambda: events(reader, "CUSTOM", uuid))
    beep = events(reader, "CUSTOM", uuid)[0]
    assert (beep["Event-Subclass"], beep["Beep-Status"]) == ("avmd::beep", "DETECTED")
    assert emu.channels[uuid].get_var("fs_cc_sim_machine_state") == "silence"
    assert poll(lambda: uuid not in emu.channels)
