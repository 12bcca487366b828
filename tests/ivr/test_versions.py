"""The engine's side of flow versions: the texts a flow table is built from, the file watcher,
and the reloader that takes a changed text or refuses it (no switch: the emulator tests are in
tests/e2e/test_flow_hot_reload.py)."""

import logging
import os
import types

import pytest

from fs_cc import events
from fs_cc.catalog import Catalog
from fs_cc.emitter import RecordingEmitter
from fs_cc.flows import build_flow_table
from fs_cc.ivr.versions import FlowReloader, FlowWatcher, VersionLookup, sha256_of
from tests.ivr.doubles import RecordingAcd

FLOW = """\
name: desk
start: bye
nodes:
  bye:
    type: hangup
    cause: {cause}
"""
ONE, TWO = FLOW.format(cause="NORMAL_CLEARING"), FLOW.format(cause="USER_BUSY")


@pytest.fixture
def flows(tmp_path):
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "desk.yaml").write_text(ONE, encoding="utf-8")
    return folder


def build(flows, texts=None, versions=None, emitter=None):
    catalog = Catalog.build([], [], {"4000": "desk"}, "desk", 1)
    return build_flow_table(catalog, flows / "desk.yaml", RecordingAcd(),
                            emitter or RecordingEmitter(), texts=texts, versions=versions)


class FakeEngine:
    """What a FlowReloader reads of an engine: its flows, catalog, settings and emitter."""

    def __init__(self, flows, tmp_path):
        self.emitter = RecordingEmitter()
        self.catalog = Catalog.build([], [], {"4000": "desk"}, "desk", 1)
        self.settings = types.SimpleNamespace(sounds_dir=tmp_path / "sounds")
        self.flows = build(flows, emitter=self.emitter)


def test_given_a_flow_file_when_the_table_is_built_then_it_keeps_the_text_its_sha256_and_version(
        flows):
    table = build(flows, versions=lambda name, digest: 7 if digest == sha256_of(ONE) else None)

    source = table.sources["desk"]
    assert (source.name, source.text, source.sha256, source.version) == (
        "desk", ONE, sha256_of(ONE), 7)
    assert table.stamp_of(table.runners["desk"]) is source


def test_given_texts_when_the_table_is_rebuilt_then_new_runners_and_the_old_ones_untouched(
        flows):
    old = build(flows)
    old_runner, old_flow = old.runners["desk"], old.flows["desk"]

    new = build(flows, texts={"desk": TWO})

    assert new.runners["desk"] is not old_runner and new.flows["desk"] is not old_flow
    assert new.flows["desk"].node("bye").cause == "USER_BUSY"
    assert old_runner.flow is old_flow and old_flow.node("bye").cause == "NORMAL_CLEARING"
    assert new.stamp_of(old_runner) is None  # a call on the old runner is not of this table
    assert (flows / "desk.yaml").read_text(encoding="utf-8") == ONE  # the file left alone


def test_given_a_watched_file_when_touched_then_nothing_and_when_changed_then_handed_on_once(
        flows, tmp_path):
    engine = FakeEngine(flows, tmp_path)
    seen = []
    watcher = FlowWatcher(lambda: engine.flows.sources, lambda *args: seen.append(args))
    path = flows / "desk.yaml"

    assert watcher.poll_once() == []
    os.utime(path, ns=(1, 1))  # touched: the same text
    assert watcher.poll_once() == []
    path.write_text(TWO, encoding="utf-8")
    assert watcher.poll_once() == ["desk"]
    assert watcher.poll_once() == []  # not read again until it moves

    assert seen == [("desk", str(path), TWO)]


def test_given_a_watched_file_removed_then_it_is_said_once_and_the_flow_goes_on(
        flows, tmp_path, caplog):
    engine = FakeEngine(flows, tmp_path)
    watcher = FlowWatcher(lambda: engine.flows.sources, lambda *args: pytest.fail("handed on"))
    watcher.poll_once()
    (flows / "desk.yaml").unlink()

    with caplog.at_level(logging.WARNING):
        watcher.poll_once()
        watcher.poll_once()

    assert caplog.text.count("version in use goes on running") == 1


def test_given_a_good_change_when_reloaded_then_taken_and_reported_once(flows, tmp_path):
    engine = FakeEngine(flows, tmp_path)
    reloader = FlowReloader(engine, lambda texts: build(flows, texts, emitter=engine.emitter))
    reloader.announce(None, engine.flows)

    assert reloader.file_changed("desk", str(flows / "desk.yaml"), TWO) is True

    assert engine.flows.sources["desk"].sha256 == sha256_of(TWO)
    reported = engine.emitter.of_type(events.FlowVersionLoaded)
    assert [(e.flow, e.sha256, e.text) for e in reported] == [
        ("desk", sha256_of(ONE), ONE), ("desk", sha256_of(TWO), TWO)]


def test_given_a_broken_change_when_reloaded_then_refused_at_its_line_and_the_old_kept(
        flows, tmp_path, caplog):
    engine = FakeEngine(flows, tmp_path)
    before = engine.flows
    reloader = FlowReloader(engine, lambda texts: build(flows, texts, emitter=engine.emitter))
    broken = ONE.replace("type: hangup", "type: hangup_now")

    with caplog.at_level(logging.ERROR):
        taken = reloader.file_changed("desk", str(flows / "desk.yaml"), broken)

    assert taken is False and engine.flows is before
    assert f"{flows / 'desk.yaml'}:5:11: error: node 'bye' has unknown node type" in caplog.text
    assert engine.emitter.of_type(events.FlowVersionLoaded) == []


def test_given_a_database_without_the_versions_table_then_no_version_is_known(tmp_path):
    lookup = VersionLookup(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    try:
        assert lookup("desk", sha256_of(ONE)) is None
    finally:
        lookup.close()
