"""Global variables and directory dial-strings, as FreeSWITCH stores and expands them.

switch_core_set_variable stores every `${` of a global's value as `%{` (switch_string_var_check),
and `originate user/<id>` dials the directory user's dial-string (the domain's sofia_contact()
string unless the user has its own), expanded with dialed_user and dialed_domain
(user_outgoing_channel in mod_dptools.c).
"""

import pytest

from fs_cc.emulator import Emulator, EmulatorConfig, Phone
from tests.emulator.wire import command, connect

LOOPBACK_AGENT = "loopback/fs_cc_agent_${dialed_user}/default"


@pytest.fixture
def emu(listener):
    host, port = listener.getsockname()
    emulator = Emulator(EmulatorConfig(speed=50, socket_target="%s:%d" % (host, port), phones=[
        Phone("1000", answer_delay=0.2), Phone("1001", registered=False),
        Phone("1002", dial_string=LOOPBACK_AGENT),
        Phone("1003", dial_string="loopback/fs_cc_agent_%{dialed_user}/default"),
        Phone("1004", dial_string="%{sofia_contact(*/${dialed_user}@${dialed_domain})}"),
    ]))
    emulator.start()
    yield emulator
    emulator.stop()


def api(emulator, text):
    sock, reader = connect(emulator.esl_address)
    try:
        return command(sock, reader, "api " + text).body
    finally:
        sock.close()


def test_given_global_value_with_a_variable_when_set_then_stored_with_percent_brace(emu):
    assert api(emu, "global_setvar fs_cc_x=loopback/a_${dialed_user}/$${domain}") == "+OK"

    assert api(emu, "global_getvar fs_cc_x") == "loopback/a_%{dialed_user}/$%{domain}"


def test_given_user_with_domain_dial_string_when_registered_then_originate_reaches_the_phone(emu):
    reply = api(emu, "originate user/1000 &park()")

    assert reply.startswith("+OK ")
    channel = emu.channels[reply.split()[1].strip()]
    assert channel.get_var("presence_id") == "1000@127.0.0.1"
    assert channel.get_var("sip_invite_domain") == "127.0.0.1"


def test_given_user_not_in_directory_when_originated_then_subscriber_absent(emu):
    assert api(emu, "originate user/4444 &park()") == "-ERR SUBSCRIBER_ABSENT\n"


def test_given_unregistered_user_when_originated_then_user_not_registered(emu):
    assert api(emu, "originate user/1001 &park()") == "-ERR USER_NOT_REGISTERED\n"


def test_given_loopback_dial_string_on_a_test_switch_when_user_originated_then_agent_extension_answers(emu):
    api(emu, "global_setvar fs_cc_agent_endpoint=loopback")

    reply = api(emu, "originate {originate_timeout=5}user/1002 &park()")

    assert reply.startswith("+OK ")
    a_leg = emu.channels[reply.split()[1].strip()]
    b_leg = a_leg.loopback_partner
    assert b_leg.profile.destination_number == "fs_cc_agent_1002"
    assert b_leg.get_var("fs_cc_test_agent") == "1002"


def test_given_dial_string_from_a_global_when_user_originated_then_fails_as_freeswitch_does(emu):
    api(emu, "global_setvar fs_cc_agent_endpoint=loopback")

    # loopback/fs_cc_agent_%{dialed_user}/default: no extension matches, the leg ends
    assert api(emu, "originate {originate_timeout=5}user/1003 &park()").startswith("-ERR ")
    # %{sofia_contact(...)}: no such endpoint
    assert api(emu, "originate user/1004 &park()") == "-ERR CHAN_NOT_IMPLEMENTED\n"
