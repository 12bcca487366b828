"""On a real FreeSWITCH: the agents' directory comes from the engine's catalog via mod_xml_curl.

Runs only with FS_CC_TEST_ESL=host:port:password (tests/README.rst). The switch's directory
binding (freeswitch_conf/autoload_configs/xml_curl.conf.xml, installed by install.sh) posts every
user lookup to the engine's control port with the control secret; the test reads both from the
switch (``global_getvar fs_cc_control_port``, ``fs_cc_control_secret``) and runs the real engine
there, in-process, its catalog in a real database written by the web's own services. Agent 1050
exists only in that database (the test switch's static fallback holds 1000-1019).
"""

import json
import os
import socket

import pytest

from fs_cc.config import EslTarget
from fs_cc.control import ControlClient
from fs_cc.directory import sip_password
from fs_cc.engine import Engine
from fs_cc.esl.errors import CommandError, ESLError
from fs_cc.esl.inbound import InboundClient
from tests.engine.support import RecordingPublisher, engine_settings
from tests.realfs.test_sip_call import SIPP, SipAgentPhone, profile_address
from tests.switch import ENV, RealSwitch, parse_esl_target, wait_until
from tests.web.support import dispose, make_app
from web import db_upgrade
from web.catalog.services import AgentService, QueueService
from web.extensions import db

pytestmark = pytest.mark.skipif(not os.environ.get(ENV),
                                reason=f"{ENV} is not set: these tests need a real FreeSWITCH")

AGENT = "1050"
# what the web lets an admin type; FreeSWITCH runs its preprocessor over a fetched document too,
# which would expand "$${" and drop a line holding "x-pre-process" (a "${" it would not set on a
# channel at all: switch_channel_set_variable refuses it, docs/freeswitch-semantics.rst)
NAME = 'Jean-Luc "JL" & <Co> x-pre-process $$5'


def no_notify(version):
    """The test reloads the engine itself, through the control interface."""


@pytest.fixture
def client():
    target = parse_esl_target(os.environ[ENV])
    switch = RealSwitch(*target)  # SwitchUnavailable (an error, not a skip) when unreachable
    try:
        problems = switch.problems()
    finally:
        switch.stop()
    if problems:
        pytest.fail(f"{ENV} names a switch that is not a test switch: {'; '.join(problems)}")
    client = InboundClient(*target).start()
    assert client.wait_connected(timeout=5), f"cannot connect: {client.last_error}"
    yield client
    client.stop()


def global_var(client, name):
    try:
        return client.api(f"global_getvar {name}").strip()
    except CommandError as exc:  # unset: global_getvar writes nothing, which reads as no reply
        if exc.reason != "no reply":
            raise
        return ""


@pytest.fixture
def binding(client):
    """(port, secret, domain) the switch's directory binding posts to and with."""
    port = global_var(client, "fs_cc_control_port")
    secret = global_var(client, "fs_cc_control_secret")
    if not port or not secret:
        pytest.fail("the switch has no directory binding to an engine (fs_cc_control_port, "
                    "fs_cc_control_secret): re-run freeswitch_conf/install.sh, then "
                    "'reloadxml' and 'reload mod_xml_curl'")
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", int(port))) == 0:
            pytest.fail(f"127.0.0.1:{port}, where the switch asks for its agents, is taken: "
                        "another engine answers there")
    return int(port), secret, global_var(client, "domain")


@pytest.fixture
def database(tmp_path):
    """(app, url): a migrated SQLite catalog with queues sales, support and agent 1050 only."""
    url = f"sqlite:///{tmp_path / 'fs_cc.sqlite'}"
    app = make_app(tmp_path / "web", url)
    db_upgrade(app)
    with app.app_context():
        for name in ("sales", "support"):
            QueueService(db.session, no_notify).create({"name": name})
        AgentService(db.session, no_notify).create({"extension": AGENT, "name": NAME,
                                                    "queues": {"sales": 1}})
    yield app, url
    dispose(app)


@pytest.fixture
def engine(binding, database, tmp_path):
    """The real engine, its control interface where the switch's binding posts."""
    port, secret, _ = binding
    host, esl_port, password = parse_esl_target(os.environ[ENV])
    (tmp_path / "engine").mkdir()
    settings = engine_settings(tmp_path / "engine", host, esl_port,
                               esl=EslTarget(host, esl_port, password), database_url=database[1],
                               control_port=port, control_secret=secret)
    engine = Engine(settings, publisher=RecordingPublisher())
    engine.start()
    try:
        assert engine.esl.wait_connected(10), engine.esl.last_error
        yield engine
    finally:
        engine.stop()


def dump(client, uuid):
    """The channel's headers and variables, read live (``show channels`` lists it only later)."""
    return json.loads(client.api(f"uuid_dump {uuid} json"))


def hang_up(client, uuid):
    try:
        client.api(f"uuid_kill {uuid}")
    except ESLError:
        pass  # ended on its own


def test_given_an_agent_only_in_the_catalog_when_user_originated_then_the_test_switchs_phone_answers(
        client, binding, engine):
    _, secret, domain = binding
    assert client.api(f"user_exists id {AGENT} {domain}").strip() == "true"

    reply = client.api(f"originate {{originate_timeout=10}}user/{AGENT} &park()").strip()

    assert reply.startswith("+OK "), reply
    uuid = reply.split()[1]
    try:
        leg = dump(client, uuid)
        # the test switch's dial-string (the engine's rule): its loopback agent phone answered
        assert leg["Channel-Name"] == f"loopback/fs_cc_agent_{AGENT}-a"
        assert leg["Answer-State"] == "answered"
        # user_outgoing_channel set the engine's directory variables on the leg, verbatim
        assert leg["variable_effective_caller_id_name"] == NAME
        assert leg["variable_callgroup"] == "fs_cc_agents"
    finally:
        hang_up(client, uuid)
    # the password the web's agent page shows is the one the switch authenticates with
    assert client.api(f"user_data {AGENT}@{domain} param password").strip() \
        == sip_password(secret, AGENT)


def test_given_the_agent_disabled_when_the_catalog_is_reloaded_then_the_switch_finds_no_user(
        client, binding, engine, database):
    port, secret, domain = binding
    app, _ = database
    assert client.api(f"user_exists id {AGENT} {domain}").strip() == "true"

    with app.app_context():
        AgentService(db.session, no_notify).disable(AGENT)
    ControlClient(f"http://127.0.0.1:{port}", secret, timeout=5).reload_catalog()

    wait_until(lambda: client.api(f"user_exists id {AGENT} {domain}").strip() == "false", 5,
               "the switch no longer finds the disabled agent")
    with pytest.raises(CommandError) as caught:
        client.api(f"originate {{originate_timeout=10}}user/{AGENT} &park()")
    assert caught.value.reason == "SUBSCRIBER_ABSENT"


def test_given_a_static_agent_the_catalog_lacks_when_looked_up_then_the_static_file_answers(
        client, binding, engine):
    _, _, domain = binding

    # the engine answers "not found" for 1000: FreeSWITCH reads the test switch's static file
    assert client.api(f"user_exists id 1000 {domain}").strip() == "true"
    assert client.api(f"user_data 1000@{domain} param dial-string").strip() \
        == "loopback/fs_cc_agent_${dialed_user}/default"


@pytest.mark.skipif(SIPP is None, reason="sipp is not installed (Debian: apt-get install sip-tester)")
def test_given_an_agent_only_in_the_catalog_when_its_phone_registers_then_the_derived_password_is_taken(
        client, binding, engine, tmp_path):
    _, secret, domain = binding
    # a sipp phone, with the password the switch gives (user_data: the engine's answer)
    phone = SipAgentPhone(client, tmp_path, AGENT, domain, profile_address(client, "internal"))
    assert client.api(f"user_data {AGENT}@{domain} param password").strip() \
        == sip_password(secret, AGENT)
    try:
        phone.start()  # REGISTER, challenged, answered with that password: 200 and a contact

        assert f":{phone.port}" in phone.contact()
    finally:
        phone.stop()
    assert phone.contact().startswith("error/")
