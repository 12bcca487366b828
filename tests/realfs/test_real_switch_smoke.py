"""A real FreeSWITCH test switch as fs_cc needs it: event socket, the overlay's test mode, a test call.

Runs only with FS_CC_TEST_ESL=host:port:password (tests/README.rst, "Against a real FreeSWITCH").
"""

import json
import os
import time
import uuid as uuidlib

import gevent.event
import pytest

from fs_cc.esl.commands import originate, uuid_kill
from fs_cc.esl.errors import AuthenticationError, CommandError
from fs_cc.esl.inbound import InboundClient
from fs_cc.esl.outbound import OutboundServer
from tests.switch import ANSWER_DELAY_VAR, ENV, RealSwitch, parse_esl_target, wait_until

pytestmark = pytest.mark.skipif(not os.environ.get(ENV),
                                reason=f"{ENV} is not set: these tests need a real FreeSWITCH")

EVENTS = ("CHANNEL_ANSWER", "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "BACKGROUND_JOB")


@pytest.fixture
def target():
    return parse_esl_target(os.environ[ENV])


@pytest.fixture
def client(target):
    client = InboundClient(*target, events=EVENTS).start()
    assert client.wait_connected(timeout=5), f"cannot connect: {client.last_error}"
    yield client
    client.stop()


def test_given_password_from_env_when_connecting_then_authenticated(client):
    assert client.connected
    assert client.api("version").startswith("FreeSWITCH Version")


def test_given_wrong_password_when_connecting_then_authentication_error(target):
    host, port, password = target
    client = InboundClient(host, port, password + "-wrong", backoff=(30.0, 30.0)).start()
    try:
        wait_until(lambda: client.last_error is not None, timeout=5, what="a refused auth")
        assert isinstance(client.last_error, AuthenticationError)
        assert not client.connected
    finally:
        client.stop()


def test_given_switch_when_status_then_up_and_ready(client):
    body = client.api("status")
    assert body.startswith("UP ")
    assert "FreeSWITCH (Version 1.10" in body and "is ready" in body


def test_given_switch_when_show_channels_as_json_then_row_count_matches_rows(client):
    data = json.loads(client.api("show channels as json"))
    assert data["row_count"] == len(data.get("rows", []))


def test_given_overlay_in_test_mode_when_checked_then_test_numbers_and_loopback_agents(target):
    switch = RealSwitch(*target)
    try:
        assert switch.problems() == []
    finally:
        switch.stop()


def test_given_loopback_test_call_when_engine_answers_and_hangs_up_then_data_answer_hangup(client):
    seen = {}
    originated = gevent.event.Event()

    def engine(session):
        seen["data"] = session.data
        seen["answer"] = session.execute("answer", timeout=10)
        # a hangup before the originate has returned makes it fail with NORMAL_CLEARING: the
        # loopback A-leg is answered only once FreeSWITCH hands it the B-leg's answer
        originated.wait(10)
        session.hangup()
        seen["hangup"] = session.wait_for("CHANNEL_HANGUP", timeout=10)

    server = OutboundServer("127.0.0.1", 0, engine).start()
    a_uuid = str(uuidlib.uuid4())
    try:
        host, port = server.address
        with client.watch(a_uuid) as a_leg:
            reply = client.bgapi(originate("loopback/5902/public", "&park()", {
                "origination_uuid": a_uuid, "origination_caller_id_number": "5550002",
                "fs_cc_test_socket": f"{host}:{port}"}), timeout=20)
            originated.set()
            assert reply.strip() == f"+OK {a_uuid}"
            hangup = a_leg.wait_for("CHANNEL_HANGUP", timeout=10)
        wait_until(lambda: "hangup" in seen, what="the engine's hangup event")
    finally:
        server.stop(timeout=1)
    data = seen["data"]
    assert data.get("Event-Name") == "CHANNEL_DATA"
    assert data.get("Channel-Name") == "loopback/5902-b"
    assert data.get("Caller-Destination-Number") == "5902"
    assert data.get("Caller-Caller-ID-Number") == "5550002"
    assert data.variable("fs_cc_did") == "5902"
    assert data.variable("other_loopback_leg_uuid") == a_uuid
    assert seen["answer"].get("Application") == "answer"
    assert seen["hangup"].get("Hangup-Cause") == "NORMAL_CLEARING"
    assert hangup.get("Hangup-Cause") == "NORMAL_CLEARING"


def test_given_answer_delay_when_agent_rung_then_loopback_phone_answers_after_it(client):
    saved = client.api(f"global_getvar {ANSWER_DELAY_VAR}").strip()
    client.api(f"global_setvar {ANSWER_DELAY_VAR}=1500")
    leg = str(uuidlib.uuid4())
    try:
        started = time.monotonic()
        reply = client.bgapi(originate("user/1000", "&park()", {"origination_uuid": leg}), timeout=20)
        elapsed = time.monotonic() - started
        assert reply.strip() == f"+OK {leg}"
        assert elapsed >= 1.4
        assert "fs_cc_agent_1000" in client.api(f"uuid_getvar {leg} channel_name")
    finally:
        try:
            client.api(uuid_kill(leg))
        except CommandError:
            pass
        client.api(f"global_setvar {ANSWER_DELAY_VAR}={saved}")
