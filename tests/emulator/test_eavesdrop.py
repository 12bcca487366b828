"""eavesdrop: listen, DTMF mode changes, the end when the target hangs up, unknown targets."""

from tests.polling import poll
from tests.emulator.wire import command, connect, events


def _originate(sock, reader, text):
    reply = command(sock, reader, "api originate %s" % text)
    assert reply.body.startswith("+OK "), reply.body
    return reply.body.split()[1]


def _getvar(sock, reader, uuid, name):
    return command(sock, reader, "api uuid_getvar %s %s" % (uuid, name)).body


def test_given_parked_call_when_supervisor_eavesdrops_then_listen_and_dtmf_changes_mode(emu):
    sock, reader = connect(emu.esl_address)
    command(sock, reader, "event plain CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP DTMF")
    target = _originate(sock, reader, "user/1000 &park()")
    spy = _originate(sock, reader, "user/1001 &eavesdrop(%s)" % target)
    assert poll(lambda: _getvar(sock, reader, spy, "fs_cc_sim_eavesdrop_mode") == "listen")
    assert _getvar(sock, reader, spy, "fs_cc_sim_eavesdrop_target") == target
    for digit, mode, heard in (("2", "whisper", {target}), ("1", "talk", set()),
                               ("3", "barge", {target}), ("0", "listen", set())):
        assert command(sock, reader, "api fs_cc_press %s %s" % (spy, digit)).body == "+OK\n"
        assert poll(lambda: _getvar(sock, reader, spy, "fs_cc_sim_eavesdrop_mode") == mode), digit
        assert emu.eavesdrops[spy].heard_by == heard
    assert [e["DTMF-Digit"] for e in events(reader, "DTMF", spy)] == ["2", "1", "3", "0"]
    command(sock, reader, "api uuid_kill %s" % target)
    assert poll(lambda: [e for e in events(reader, "CHANNEL_EXECUTE_COMPLETE", spy)
                         if e["Application"] == "eavesdrop"])
    done = [e for e in events(reader, "CHANNEL_EXECUTE_COMPLETE", spy) if e["Application"] == "eavesdrop"][0]
    assert done["Application-Data"] == target
    assert done["Application-Response"] == "_none_"
    assert poll(lambda: events(reader, "CHANNEL_HANGUP", spy))
    assert events(reader, "CHANNEL_HANGUP", spy)[0]["Hangup-Cause"] == "NORMAL_CLEARING"
    assert spy not in emu.eavesdrops


def test_given_bridged_call_when_whisper_vars_set_then_other_party_hears_and_star_ends(emu):
    sock, reader = connect(emu.esl_address)
    agent = _originate(sock, reader, "user/1000 &park()")
    customer = _originate(sock, reader, "user/1002 &park()")
    assert command(sock, reader, "api uuid_bridge %s %s" % (agent, customer)).body.startswith("+OK")
    assert poll(lambda: emu.channels[agent].bridged_to == customer)
    spy = _originate(sock, reader, "{eavesdrop_whisper_aleg=true}user/1001 &eavesdrop(%s)" % agent)
    assert poll(lambda: spy in emu.eavesdrops)
    assert emu.eavesdrops[spy].mode.value == "talk"
    assert emu.eavesdrops[spy].heard_by == {customer}
    command(sock, reader, "api fs_cc_press %s *" % spy)
    assert poll(lambda: spy not in emu.channels)
    assert agent in emu.channels and customer in emu.channels


def test_given_dtmf_disabled_when_digits_pressed_then_mode_stays(emu):
    sock, reader = connect(emu.esl_address)
    target = _originate(sock, reader, "user/1000 &park()")
    spy = _originate(sock, reader, "{eavesdrop_enable_dtmf=false}user/1001 &eavesdrop(%s)" % target)
    assert poll(lambda: spy in emu.eavesdrops)
    command(sock, reader, "api fs_cc_press %s 3" % spy)
    assert poll(lambda: emu.channels[spy].dtmf_buffer == "3")
    assert _getvar(sock, reader, spy, "fs_cc_sim_eavesdrop_mode") == "listen"


def test_given_unknown_uuid_when_eavesdrop_then_app_returns_and_leg_hangs_up(emu):
    sock, reader = connect(emu.esl_address)
    command(sock, reader, "event plain CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP_COMPLETE")
    spy = _originate(sock, reader, "user/1001 &eavesdrop(00000000-0000-0000-0000-000000000000)")
    assert poll(lambda: events(reader, "CHANNEL_HANGUP_COMPLETE", spy))
    done = events(reader, "CHANNEL_EXECUTE_COMPLETE", spy)
    assert [(e["Application"], e["Application-Response"]) for e in done] == [("eavesdrop", "_none_")]


def test_given_spy_parked_when_uuid_transfer_inline_eavesdrop_then_spies(emu):
    sock, reader = connect(emu.esl_address)
    target = _originate(sock, reader, "user/1000 &park()")
    spy = _originate(sock, reader, "user/1001 &park()")
    reply = command(sock, reader, "api uuid_transfer %s 'eavesdrop:%s' inline" % (spy, target))
    assert reply.body == "+OK\n"
    assert poll(lambda: spy in emu.eavesdrops)
    assert emu.eavesdrops[spy].target.uuid == target
    assert emu.channels[spy].profile.destination_number == "eavesdrop:%s" % target
    command(sock, reader, "api uuid_kill %s" % spy)
    assert poll(lambda: spy not in emu.eavesdrops)
