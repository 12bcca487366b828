"""Hot reload of an IVR flow on a running engine with the emulator: a changed file is taken for
new calls while a call already in the flow finishes on the version it started on; a broken file
is refused and the last good version keeps serving; a save in the web reaches the engine with
its version number; the worker keeps each text as a version and the records name it."""

import dataclasses
import os

import pytest

from fs_cc import events
from fs_cc.catalog import Catalog
from fs_cc.emulator.dialplan import Dialplan, default_dialplan
from fs_cc.engine import Engine
from fs_cc.ivr.versions import sha256_of
from tests.engine.support import RecordingPublisher, engine_settings
from tests.switch import wait_until
from tests.web.support import (app_on, create_token, create_user, database_url_for,  # noqa: F401
                               dispose, make_app, migrated_databases)
from web.extensions import db
from web.facts.services import FactService
from web.ivr.services import FlowVersions

FLOW = """\
name: hotline
start: ask
nodes:
  ask:
    type: menu
    prompt: ivr/ivr-welcome_to_freeswitch.wav
    timeout: 100000
    max_attempts: 1
    options:
      1: {end}
    default: {end}
  {end}:
    type: hangup
"""
OLD, NEW, WEB = (FLOW.format(end=end) for end in ("old_bye", "new_bye", "web_bye"))
BROKEN = NEW.replace("default: new_bye", "default: nowhere")


def write_atomically(path, text):
    partial = path.with_name(path.name + ".part")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


class Collector:
    """An emitter listener keeping every event as the engine emits it."""

    def __init__(self):
        self.events = []

    def __call__(self, event):
        self.events.append(event)

    def of(self, call_uuid, event_class):
        return [e for e in self.events if isinstance(e, event_class)
                and getattr(e, "call_uuid", None) == call_uuid]

    def entered(self, call_uuid):
        return [e.node for e in self.of(call_uuid, events.IvrNodeEntered)]

    def ended(self, call_uuid):
        return bool(self.of(call_uuid, events.CallEnded))

    def calls(self):
        return [e.call_uuid for e in self.events if isinstance(e, events.CallStarted)]


@pytest.fixture
def web_app(tmp_path, migrated_databases):  # noqa: F811
    app = app_on(tmp_path, database_url_for(migrated_databases, "sqlite"))
    yield app
    dispose(app)


@pytest.fixture
def running(emulator, tmp_path, web_app):
    """(engine, collector, flow file, publisher): an engine on the emulator running hotline.yaml
    for every number, watching its file every 0.1 s, its database the web's."""
    flows = tmp_path / "flows"
    flows.mkdir()
    path = flows / "hotline.yaml"
    path.write_text(OLD, encoding="utf-8")
    settings = engine_settings(tmp_path, *emulator.esl_address, ivr_flow=path,
                               flow_watch_seconds=0.1,
                               database_url=web_app.config["SQLALCHEMY_DATABASE_URI"])
    publisher, collector = RecordingPublisher(), Collector()
    engine = Engine(settings, publisher=publisher,
                    catalog=Catalog.from_settings(["sales"], []))
    engine.emitter.listeners.append(collector)
    engine.start()
    target = "%s:%s" % engine.outbound.address
    emulator.config.socket_target = target
    emulator.dialplan = Dialplan(default_dialplan(target))
    assert engine.esl.wait_connected(5)
    yield engine, collector, path, publisher
    engine.stop()


def new_call(emulator, collector, dtmf=None):
    """Place a call; the engine's uuid of it once the flow entered its menu."""
    before = set(collector.calls())
    emulator.place_call("4000", dtmf=dtmf)
    wait_until(lambda: set(collector.calls()) - before, 30, "the call reaching the engine")
    (uuid,) = set(collector.calls()) - before
    wait_until(lambda: "ask" in collector.entered(uuid), 30, "the call in the menu")
    return uuid


def test_given_a_call_in_a_flow_when_its_file_changes_then_new_calls_run_the_new_one(
        emulator, running, caplog):
    engine, collector, path, _ = running
    first = new_call(emulator, collector)  # waits in the menu: no key yet

    write_atomically(path, NEW)
    wait_until(lambda: engine.flows.sources["hotline"].sha256 == sha256_of(NEW), 10,
               "the new version taken")
    second = new_call(emulator, collector, dtmf="1")
    wait_until(lambda: collector.ended(second), 30, "the second call ended")
    emulator.channels[first].receive_dtmf("1")
    wait_until(lambda: collector.ended(first), 30, "the first call ended")

    assert collector.entered(first) == ["ask", "old_bye"]
    assert collector.entered(second) == ["ask", "new_bye"]
    assert [e.sha256 for e in collector.of(first, events.FlowStarted)] == [sha256_of(OLD)]
    assert [e.sha256 for e in collector.of(second, events.FlowStarted)] == [sha256_of(NEW)]
    loaded = [e.sha256 for e in collector.events if isinstance(e, events.FlowVersionLoaded)]
    assert loaded == [sha256_of(OLD), sha256_of(NEW)]

    write_atomically(path, BROKEN)
    wait_until(lambda: "flow hotline refused" in caplog.text, 30, "the broken file refused")
    third = new_call(emulator, collector, dtmf="1")
    wait_until(lambda: collector.ended(third), 30, "the third call ended")

    assert f"{path}:11:14: error: node 'ask' default goes to unknown node 'nowhere'" in caplog.text
    assert collector.entered(third) == ["ask", "new_bye"]
    assert engine.flows.sources["hotline"].sha256 == sha256_of(NEW)


def test_given_versions_loaded_then_the_worker_keeps_them_and_the_records_name_them(
        emulator, running, web_app):
    engine, collector, path, publisher = running
    first = new_call(emulator, collector, dtmf="1")
    wait_until(lambda: collector.ended(first), 30, "the first call ended")
    write_atomically(path, NEW)
    wait_until(lambda: engine.flows.sources["hotline"].sha256 == sha256_of(NEW), 10,
               "the new version taken")
    second = new_call(emulator, collector, dtmf="1")
    wait_until(lambda: collector.ended(second), 30, "the second call ended")
    wanted = {first, second}
    wait_until(lambda: wanted <= {e.call_uuid for e in publisher.events
                                  if isinstance(e, events.CallEnded)}, 15, "events handed on")

    with web_app.app_context():
        FactService(db.session).store(publisher.events)
        versions = FlowVersions(db.session)
        history = [(row.version, row.author, row.sha256) for row in
                   reversed(versions.history("hotline"))]
        records = {uuid: versions.session.execute(db.text(
            "SELECT flow, flow_version FROM call_records WHERE uuid = :u"), {"u": uuid}).one()
            for uuid in wanted}

    assert history == [(1, "file", sha256_of(OLD)), (2, "file", sha256_of(NEW))]
    assert tuple(records[first]) == ("hotline", 1) and tuple(records[second]) == ("hotline", 2)


def test_given_a_save_in_the_web_then_the_engine_runs_it_numbered(emulator, running, web_app,
                                                                  tmp_path):
    engine, collector, path, _ = running
    # the web app as deployed beside this engine: its control address, the same flows folder
    web_app = make_app(tmp_path / "web", web_app.config["SQLALCHEMY_DATABASE_URI"],
                       control_port=engine.control.address[1])
    settings = web_app.extensions["fs_cc_settings"]
    web_app.extensions["fs_cc_settings"] = dataclasses.replace(settings, ivr_flow=path)
    _, username, _ = create_user(web_app, role="admin")
    headers = {"Authorization": f"Bearer {create_token(web_app, username)}"}

    saved = web_app.test_client().put("/api/ivr/flows/hotline", headers=headers,
                                      json={"yaml": WEB, "comment": "web"})

    assert saved.status_code == 200, saved.get_json()
    version = saved.get_json()["version"]
    source = engine.flows.sources["hotline"]  # told at once: no wait for the watcher
    assert (source.sha256, source.version) == (sha256_of(WEB), version)
    call = new_call(emulator, collector, dtmf="1")
    wait_until(lambda: collector.ended(call), 30, "the call ended")
    assert collector.entered(call) == ["ask", "web_bye"]
    assert [e.version for e in collector.of(call, events.FlowStarted)] == [version]
