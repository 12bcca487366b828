"""Reply texts checked against mod_event_socket.c and mod_commands.c, where the recordings are silent."""

import json

from tests.polling import poll
from tests.emulator.wire import command, connect


def _reply(sock, reader, text):
    message = command(sock, reader, text)
    return message.headers.get("Reply-Text") if message.content_type == "command/reply" else message.body


def test_given_inbound_connection_when_event_commands_sent_then_mod_event_socket_texts(emu):
    sock, reader = connect(emu.esl_address)
    assert _reply(sock, reader, "noevents") == "-ERR not listening for events"
    assert _reply(sock, reader, "event plain") == "-ERR no keywords supplied"
    assert _reply(sock, reader, "event plain CHANNEL_CREATE DTMF") == "+OK event listener enabled plain"
    assert _reply(sock, reader, "nixevent DTMF") == "+OK events nixed"
    assert _reply(sock, reader, "nixevent") == "-ERR no keywords supplied"
    assert _reply(sock, reader, "noevents") == "+OK no longer listening for events"
    assert _reply(sock, reader, "nolog") == "-ERR not loging"
    assert _reply(sock, reader, "log info") == "+OK log level info [6]"
    assert _reply(sock, reader, "log") == "+OK log level  [7]"
    assert _reply(sock, reader, "log loud") == "-ERR invalid log level"
    assert _reply(sock, reader, "nolog") == "+OK no longer logging"
    assert _reply(sock, reader, "divert_events on") == "-ERR not controlling a session."
    assert _reply(sock, reader, "filter add Unique-ID abc") == "+OK filter added. [Unique-ID]=[abc]"
    assert _reply(sock, reader, "filter delete Unique-ID abc") == "+OK filter deleted. [Unique-ID][abc]"
    assert _reply(sock, reader, "filter delete all") == "+OK filter deleted. [all][]"
    assert _reply(sock, reader, "filter Unique-ID") == "-ERR invalid syntax"


def test_given_channels_when_uuid_commands_run_then_mod_commands_texts(emu):
    sock, reader = connect(emu.esl_address)
    uuid = command(sock, reader, "api originate user/1000 &park()").body.split()[1]
    nobody = "00000000-0000-0000-0000-000000000000"
    assert _reply(sock, reader, "api uuid_exists %s" % uuid) == "true"
    assert _reply(sock, reader, "api uuid_exists %s" % nobody) == "false"
    assert _reply(sock, reader, "api uuid_setvar %s foo bar" % uuid) == "+OK\n"
    assert _reply(sock, reader, "api uuid_getvar %s foo" % uuid) == "bar"
    assert _reply(sock, reader, "api uuid_setvar %s foo bar" % nobody) == "-ERR No such channel!\n"
    assert _reply(sock, reader, "api uuid_break %s" % uuid) == "+OK\n"
    assert _reply(sock, reader, "api uuid_break %s" % nobody) == "-ERR No such channel!\n"
    assert _reply(sock, reader, "api uuid_broadcast %s silence_stream://100 aleg" % uuid) == "+OK Message sent\n"
    assert _reply(sock, reader, "api uuid_broadcast %s tone_stream://x" % nobody) == "-ERR invalid uuid\n"
    # as recorded (10_hold_unhold): uuid_hold never makes the call state HELD, so hold always
    # succeeds, `off` fails, and a uuid without a session is a success
    assert _reply(sock, reader, "api uuid_hold %s" % uuid) == "+OK Success\n"
    assert emu.channels[uuid].held
    assert _reply(sock, reader, "api uuid_hold toggle %s" % uuid) == "+OK Success\n"
    assert emu.channels[uuid].held
    assert _reply(sock, reader, "api uuid_hold off %s" % uuid) == "-ERR Operation failed\n"
    assert _reply(sock, reader, "api uuid_hold off %s" % nobody) == "+OK Success\n"
    assert _reply(sock, reader, "api uuid_hold") == "-USAGE: [off|toggle] <uuid> [<display>]\n-ERR Operation failed\n"
    assert _reply(sock, reader, "api uuid_record %s start /tmp/x.wav" % nobody) == "-ERR Cannot locate session!\n"
    assert _reply(sock, reader, "api uuid_record %s" % uuid).startswith("-USAGE: ")
    assert _reply(sock, reader, "api uuid_transfer %s" % uuid).startswith("-USAGE: ")
    assert _reply(sock, reader, "api uuid_send_dtmf %s 12" % uuid) == "+OK %s sent DTMF 12.\n" % uuid
    assert _reply(sock, reader, "api uuid_send_dtmf %s 1" % nobody) == "-ERR Cannot locate session!\n"


def test_given_bridged_and_parked_legs_when_show_calls_then_basic_calls_rows(emu):
    sock, reader = connect(emu.esl_address)
    a = command(sock, reader, "api originate user/1000 &park()").body.split()[1]
    b = command(sock, reader, "api originate user/1001 &park()").body.split()[1]
    lone = command(sock, reader, "api originate user/1002 &park()").body.split()[1]
    command(sock, reader, "api uuid_bridge %s %s" % (a, b))
    assert poll(lambda: emu.channels[a].bridged_to == b and emu.channels[b].bridged_to == a)
    text = _reply(sock, reader, "api show calls")
    lines = text.split("\n")
    assert lines[0].split(",")[:3] == ["uuid", "direction", "created"]
    assert "b_uuid" in lines[0].split(",") and lines[0].endswith("call_created_epoch")
    assert text.endswith("\n\n2 total.\n")
    rows = [dict(zip(lines[0].split(","), line.split(","))) for line in lines[1:3]]
    by_uuid = {r["uuid"]: r for r in rows}
    assert set(by_uuid) == {a, lone}
    assert by_uuid[a]["b_uuid"] == b and by_uuid[lone]["b_uuid"] == ""
    data = json.loads(_reply(sock, reader, "api show calls as json"))
    assert data["row_count"] == 2 and {r["uuid"] for r in data["rows"]} == {a, lone}
    channels = _reply(sock, reader, "api show channels")
    assert channels.endswith("\n\n3 total.\n")
    assert channels.split("\n")[0].split(",")[-1] == "initial_context"
