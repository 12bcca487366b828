"""The emulator's directory asks an xml_curl binding first, then its static directory (the phones).

As ``switch_xml_locate`` does with mod_xml_curl's ``xml_url_fetch``: an agent that exists only in
the catalog is reached through the engine's ``/freeswitch/directory``; "not found", an HTTP error
or no answer at all leave the lookup to the static directory.
"""

import socket

import pytest

from fs_cc.catalog import load_catalog
from fs_cc.directory import sip_password
from fs_cc.emulator import Emulator, EmulatorConfig, Phone, load_config
from fs_cc.emulator.directory import XmlCurlBinding, locate_user
from fs_cc.engine import Engine
from tests.engine.support import RecordingPublisher, engine_settings
from tests.emulator.wire import command, connect
from tests.polling import wait_until
from tests.test_catalog import write
from tests.web.support import app_on, database_url_for, dispose, migrated_databases  # noqa: F401
from web import bootstrap_demo

SECRET = "test-control-secret"  # engine_settings' control secret
QUERY = "?domain=127.0.0.1&agent_endpoint=loopback&sip_agents=none"


def api(emulator, text):
    sock, reader = connect(emulator.esl_address)
    try:
        return command(sock, reader, "api " + text).body
    finally:
        sock.close()


@pytest.fixture
def emu(listener):
    """A test switch's emulator: loopback agent phones, static phones 1000-1019."""
    host, port = listener.getsockname()
    emulator = Emulator(EmulatorConfig(speed=50, socket_target="%s:%d" % (host, port),
                                       phones=[Phone(str(ext)) for ext in range(1000, 1020)]))
    emulator.set_global_var("fs_cc_agent_endpoint", "loopback")
    emulator.set_global_var("fs_cc_test_agent_answer_delay_ms", "0")
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def catalog_db(tmp_path, migrated_databases):  # noqa: F811
    """(app, url): the demo catalog (agents 1000-1009) and agent 1050, which no static file has."""
    url = database_url_for(migrated_databases, "sqlite")
    app = app_on(tmp_path, url)
    bootstrap_demo(app)
    write(app, "agents", "create", {"extension": "1050", "name": "Catalog Only",
                                    "queues": {"sales": 1}})
    yield app, url
    dispose(app)


@pytest.fixture
def engine(emu, catalog_db, tmp_path):
    """The real engine on the emulator, its control interface the emulator's directory binding."""
    _, url = catalog_db
    host, port = emu.esl_address
    engine = Engine(engine_settings(tmp_path, host, port, database_url=url),
                    publisher=RecordingPublisher())
    engine.start()
    emu.config.xml_curl = XmlCurlBinding(
        "http://%s:%s/freeswitch/directory%s" % (*engine.control.address, QUERY),
        f"fs_cc:{SECRET}")
    yield engine
    engine.stop()


def agent_leg(emulator, reply):
    assert reply.startswith("+OK "), reply
    return emulator.channels[reply.split()[1].strip()]


def test_given_an_agent_only_in_the_catalog_when_user_originated_then_the_engine_gives_its_phone(
        emu, engine):
    leg = agent_leg(emu, api(emu, "originate {originate_timeout=5}user/1050 &park()"))

    assert leg.loopback_partner.profile.destination_number == "fs_cc_agent_1050"
    wait_until(lambda: leg.answer_state == "answered", 5, "the loopback agent phone answers")
    # user_outgoing_channel sets the user's directory variables on the leg it made
    assert leg.get_var("effective_caller_id_name") == "Catalog Only"
    assert leg.get_var("callgroup") == "fs_cc_agents"
    assert api(emu, "user_exists id 1050 127.0.0.1") == "true"


def test_given_the_agent_disabled_when_the_catalog_is_reloaded_then_it_is_not_found(
        emu, engine, catalog_db):
    app, url = catalog_db
    assert api(emu, "user_exists id 1050 127.0.0.1") == "true"

    write(app, "agents", "disable", "1050")
    engine.reload_catalog()

    assert "1050" not in load_catalog(url).agents
    assert api(emu, "user_exists id 1050 127.0.0.1") == "false"
    assert api(emu, "originate {originate_timeout=5}user/1050 &park()") == "-ERR SUBSCRIBER_ABSENT\n"


def test_given_a_static_phone_the_catalog_lacks_when_originated_then_the_static_directory_answers(
        emu, engine):
    # 1019 is no agent of the catalog: the engine answers "not found", the phones answer
    leg = agent_leg(emu, api(emu, "originate {originate_timeout=5}user/1019 &park()"))

    assert leg.name.startswith("sofia/internal/1019")


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("binding", [
    lambda engine: XmlCurlBinding(f"http://127.0.0.1:{closed_port()}/freeswitch/directory{QUERY}",
                                  f"fs_cc:{SECRET}"),
    lambda engine: XmlCurlBinding("http://%s:%s/freeswitch/directory%s"
                                  % (*engine.control.address, QUERY), "fs_cc:wrong-secret"),
], ids=["no answer", "refused credentials"])
def test_given_a_binding_without_a_usable_answer_when_looked_up_then_static_directory_only(
        emu, engine, binding):
    emu.config.xml_curl = binding(engine)

    assert api(emu, "user_exists id 1050 127.0.0.1") == "false"
    assert api(emu, "user_exists id 1000 127.0.0.1") == "true"


def test_given_a_binding_in_the_config_file_when_loaded_then_the_emulator_uses_it(tmp_path):
    path = tmp_path / "emulator.yaml"
    path.write_text("xml_curl:\n  gateway-url: http://127.0.0.1:8022/freeswitch/directory\n"
                    "  gateway-credentials: fs_cc:s3cret-value-here\n  timeout: 1\n")

    assert load_config(path).xml_curl == XmlCurlBinding(
        "http://127.0.0.1:8022/freeswitch/directory", "fs_cc:s3cret-value-here", 1)


def test_given_the_engine_when_the_emulator_reads_a_password_then_it_is_the_derived_one(
        emu, engine):
    found = locate_user(emu, "1050", "127.0.0.1", action="sip_auth")

    assert found.params["password"] == sip_password(SECRET, "1050")
