"""The IVR flows' JSON API: saving through the validator, versions, diff, restore, prompts, the
worker keeping the texts engines loaded, and the call record naming its flow version."""

import dataclasses
import datetime
import pathlib
import shutil

import pytest
import sqlalchemy as sa

from fs_cc import events
from fs_cc.control import commands as cmd
from fs_cc.ivr.versions import sha256_of
from tests.test_catalog import write
from tests.web.support import (BASE_TIME, app_on, create_token, create_user, database_url_for,
                               dispose, migrated_databases)  # noqa: F401
from web.calls.models import CallRecord
from web.extensions import db
from web.facts.services import FactService
from web.ivr.models import IvrFlowVersion

REPO = pathlib.Path(__file__).resolve().parents[2]

GOOD = """\
name: hotline
start: welcome
nodes:
  welcome:
    type: play
    prompt: ivr/ivr-welcome_to_freeswitch.wav
    next: sales
  sales:
    type: queue
    queue: sales
"""
OTHER_QUEUE = GOOD.replace("queue: sales", "queue: support")
UNKNOWN_QUEUE = GOOD.replace("queue: sales", "queue: billing")
SPOKEN = """\
name: spoken
language: en
start: points
nodes:
  points:
    type: set
    variable: points
    value: "120"
    next: hello
  hello:
    type: play
    text: "Welcome to the hotline, your points are {points}"
    next: bye
  bye:
    type: hangup
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, tmp_path, migrated_databases):  # noqa: F811
    """The app on each dialect, its flows in tmp_path/flows, its sounds a copy of the shipped
    ones, with queues sales and support in the catalog."""
    flows = tmp_path / "flows"
    flows.mkdir()
    shutil.copy(REPO / "ivr_flows" / "main.yaml", flows / "main.yaml")
    sounds = tmp_path / "sounds"
    shutil.copytree(REPO / "freeswitch_conf" / "sounds", sounds)
    port = request.getfixturevalue("engine")[1] if "engine" in request.fixturenames else 8022
    app = app_on(tmp_path, database_url_for(migrated_databases, request.param),
                 control_port=port)
    settings = app.extensions["fs_cc_settings"]
    app.extensions["fs_cc_settings"] = dataclasses.replace(
        settings, ivr_flow=flows / "main.yaml", sounds_dir=sounds)
    write(app, "queues", "create", {"name": "sales"})
    write(app, "queues", "create", {"name": "support"})
    yield app
    dispose(app)


@pytest.fixture
def admin(app):
    _, username, _ = create_user(app, role="admin")
    return {"Authorization": f"Bearer {create_token(app, username)}"}


@pytest.fixture
def reader(app):
    _, username, _ = create_user(app, role="agent")
    return {"Authorization": f"Bearer {create_token(app, username)}"}


def flows_dir(app):
    return app.extensions["fs_cc_settings"].ivr_flow.parent


def save(client, headers, text, base_version=None, name="hotline", comment="test"):
    return client.put(f"/api/ivr/flows/{name}", headers=headers,
                      json={"yaml": text, "comment": comment, "base_version": base_version})


def stored_versions(app, name="hotline"):
    with app.app_context():
        return [(row.version, row.author, row.restored_from) for row in db.session.execute(
            sa.select(IvrFlowVersion).where(IvrFlowVersion.flow == name)
            .order_by(IvrFlowVersion.version)).scalars()]


def test_given_a_flow_naming_an_unknown_queue_when_saved_then_422_with_its_line_and_nothing_kept(
        app, admin):
    client = app.test_client()

    response = save(client, admin, UNKNOWN_QUEUE)

    assert response.status_code == 422
    (message,) = [m for m in response.get_json()["messages"] if m["severity"] == "error"]
    assert (message["line"], message["column"]) == (10, 12)
    assert "unknown queue 'billing'" in message["message"]
    assert stored_versions(app) == []
    assert not (flows_dir(app) / "hotline.yaml").exists()


def test_given_a_valid_flow_when_saved_twice_then_versions_1_and_2_and_the_file_holds_the_last(
        app, admin):
    client = app.test_client()

    first = save(client, admin, GOOD)
    second = save(client, admin, OTHER_QUEUE, base_version=1, comment="to support")

    assert (first.status_code, first.get_json()) == (200, {"version": 1})
    assert (second.status_code, second.get_json()) == (200, {"version": 2})
    assert (flows_dir(app) / "hotline.yaml").read_text(encoding="utf-8") == OTHER_QUEUE
    assert [p.name for p in flows_dir(app).iterdir()] != [] and not any(
        p.name.endswith(".part") for p in flows_dir(app).iterdir())
    shown = client.get("/api/ivr/flows/hotline", headers=admin).get_json()
    assert (shown["version"], shown["yaml"]) == (2, OTHER_QUEUE)
    history = client.get("/api/ivr/flows/hotline/versions", headers=admin).get_json()
    assert [(v["version"], v["comment"], v["sha256"]) for v in history["versions"]] == [
        (2, "to support", sha256_of(OTHER_QUEUE)), (1, "test", sha256_of(GOOD))]


def test_given_a_save_started_from_an_old_version_then_409_and_the_newer_one_stays(app, admin):
    client = app.test_client()
    save(client, admin, GOOD)
    save(client, admin, OTHER_QUEUE, base_version=1)

    late = save(client, admin, "# an edit of version 1\n" + GOOD, base_version=1)

    assert late.status_code == 409 and late.get_json()["field"] == "base_version"
    assert [v for v, _, _ in stored_versions(app)] == [1, 2]
    assert (flows_dir(app) / "hotline.yaml").read_text(encoding="utf-8") == OTHER_QUEUE


def test_given_a_file_never_saved_when_first_saved_then_the_file_text_is_kept_as_version_1(
        app, admin):
    client = app.test_client()
    before = (flows_dir(app) / "main.yaml").read_text(encoding="utf-8")
    listed = client.get("/api/ivr/flows", headers=admin).get_json()["flows"]
    assert {"name": "main", "version": None, "author": None, "updated_at": None, "dids": [],
            "source": "main.yaml"} in listed

    response = save(client, admin, before.replace("default: support", "default: sales"),
                    name="main")

    assert response.get_json() == {"version": 2}
    assert [(v, author) for v, author, _ in stored_versions(app, "main")] == [
        (1, "file"), (2, stored_versions(app, "main")[1][1])]
    diff = client.get("/api/ivr/flows/main/diff?from=1&to=2", headers=admin).get_json()["diff"]
    assert "-    default: support\n+    default: sales\n" in diff


def test_given_two_versions_when_the_first_is_restored_then_a_third_restored_from_it(
        app, admin):
    client = app.test_client()
    save(client, admin, GOOD)
    save(client, admin, OTHER_QUEUE, base_version=1)

    restored = client.post("/api/ivr/flows/hotline/versions/1/restore", headers=admin)

    assert restored.get_json() == {"version": 3}
    assert [(v, r) for v, _, r in stored_versions(app)] == [(1, None), (2, None), (3, 1)]
    assert (flows_dir(app) / "hotline.yaml").read_text(encoding="utf-8") == GOOD
    third = client.get("/api/ivr/flows/hotline/versions/3", headers=admin).get_json()
    assert (third["yaml"], third["restored_from"]) == (GOOD, 1)


def test_given_a_version_whose_queue_is_gone_when_restored_then_422_and_nothing_changes(
        app, admin):
    client = app.test_client()
    save(client, admin, GOOD)
    save(client, admin, OTHER_QUEUE, base_version=1)
    write(app, "queues", "disable", "sales")

    refused = client.post("/api/ivr/flows/hotline/versions/1/restore", headers=admin)

    assert refused.status_code == 422
    assert any("unknown queue 'sales'" in m["message"] for m in refused.get_json()["messages"])
    assert [v for v, _, _ in stored_versions(app)] == [1, 2]


def test_given_a_text_when_validated_then_messages_and_the_graph_of_its_nodes(app, reader):
    client = app.test_client()
    text = GOOD.replace("next: sales", "next: nowhere")

    answer = client.post("/api/ivr/validate", headers=reader,
                         json={"name": "hotline", "yaml": text}).get_json()
    broken = client.post("/api/ivr/validate", headers=reader,
                         json={"name": "hotline", "yaml": "nodes: [unclosed"}).get_json()

    assert answer["ok"] is False
    assert any(m["line"] == 7 and "unknown node 'nowhere'" in m["message"]
               for m in answer["messages"])
    assert answer["graph"] == {
        "nodes": [{"id": "welcome", "type": "play", "label": "welcome", "line": 4},
                  {"id": "sales", "type": "queue", "label": "sales", "line": 8}],
        "edges": [{"from": "welcome", "to": "nowhere", "label": "next"}], "start": "welcome"}
    assert broken["ok"] is False and broken["graph"] is None
    assert broken["messages"][0]["message"].startswith("not valid YAML")


def test_given_a_reader_then_flows_are_readable_but_saving_and_restoring_are_forbidden(
        app, admin, reader):
    client = app.test_client()
    save(client, admin, GOOD)

    assert client.get("/api/ivr/flows/hotline", headers=reader).status_code == 200
    assert client.get("/api/ivr/flows/hotline/versions", headers=reader).status_code == 200
    assert save(client, reader, OTHER_QUEUE, base_version=1).status_code == 403
    assert client.post("/api/ivr/flows/hotline/versions/1/restore",
                       headers=reader).status_code == 403
    assert client.get("/api/ivr/flows").status_code == 401
    assert [v for v, _, _ in stored_versions(app)] == [1]


def test_given_a_bad_name_or_a_missing_version_then_the_field_is_named(app, admin):
    client = app.test_client()

    bad = save(client, admin, GOOD, name="..hidden")
    missing = client.get("/api/ivr/flows/main/versions/7", headers=admin)

    assert (bad.status_code, bad.get_json()["field"]) == (400, "name")
    assert (missing.status_code, missing.get_json()["field"]) == (404, "version")


def test_given_a_saved_flow_when_engine_runs_then_it_is_told_to_reload(engine, app, admin):
    backend, _ = engine

    save(app.test_client(), admin, GOOD)

    assert any(isinstance(c, cmd.ReloadCatalog) for c in backend.received)


def test_given_a_flow_speaking_text_then_its_prompts_are_listed_and_their_wav_served(
        app, admin):
    client = app.test_client()
    assert save(client, admin, SPOKEN, name="spoken").status_code == 200

    prompts = client.get("/api/ivr/flows/spoken/prompts", headers=admin).get_json()

    assert [(p["node"], p["text"], p["language"]) for p in prompts] == [
        ("hello", "Welcome to the hotline, your points are", "en")]
    wav = client.get(prompts[0]["url"], headers=admin)
    assert wav.status_code == 200 and wav.mimetype == "audio/wav"
    assert wav.data[:4] == b"RIFF" and len(wav.data) > 1000
    assert client.get("/api/ivr/prompts/../../secret", headers=admin).status_code == 404


# the worker's side: texts the engines took into use, and the call record

def loaded(seq, text, seconds=0, flow="hotline", version=None):
    """An engine's report of a text, ``seconds`` from now (later than what the test saved)."""
    return events.to_dict(events.FlowVersionLoaded(
        engine="engine-a", seq=seq, ts=events.utcnow() + datetime.timedelta(seconds=seconds),
        flow=flow, sha256=sha256_of(text), text=text, path="/flows/hotline.yaml",
        version=version))


def store(app, batch):
    from web.facts.services import parse_batch

    with app.app_context():
        facts, rejected = parse_batch(batch)
        assert rejected == []
        return FactService(db.session).store(facts)


def test_given_engines_report_texts_then_new_ones_become_file_versions_once(app, admin):
    store(app, [loaded(1, GOOD), loaded(2, GOOD, seconds=1)])
    store(app, [loaded(1, GOOD)])  # the same batch delivered again
    store(app, [loaded(3, OTHER_QUEUE, seconds=2), loaded(4, GOOD, seconds=3)])

    assert stored_versions(app) == [(1, "file", None), (2, "file", None), (3, "file", 1)]


def test_given_a_late_report_of_a_text_replaced_in_the_web_then_it_is_not_kept(app, admin):
    save(app.test_client(), admin, GOOD)

    # loaded by an engine before the save, reported after it
    store(app, [loaded(1, OTHER_QUEUE, seconds=-3600)])

    assert [v for v, _, _ in stored_versions(app)] == [1]


def call_events(text, version):
    at = iter(range(100))

    def make(cls, **fields):
        return events.to_dict(cls(engine="engine-a", seq=100 + next(at), call_uuid="call-9",
                                  ts=BASE_TIME + datetime.timedelta(seconds=next(at)),
                                  **fields))
    return [make(events.CallStarted, did="4000", caller_number="13800138000"),
            make(events.FlowStarted, flow="hotline", sha256=sha256_of(text), version=version),
            make(events.IvrNodeEntered, flow="hotline", node="welcome"),
            make(events.CallEnded, side=events.HangupSide.CALLER, cause="NORMAL_CLEARING")]


@pytest.mark.parametrize("reported", [2, None])
def test_given_a_call_that_ran_a_flow_then_its_record_names_the_flow_version(app, admin,
                                                                               reported):
    client = app.test_client()
    save(client, admin, GOOD)
    save(client, admin, OTHER_QUEUE, base_version=1)

    store(app, call_events(OTHER_QUEUE, reported))  # None: the engine had no number for it

    with app.app_context():
        record = db.session.execute(
            sa.select(CallRecord).where(CallRecord.uuid == "call-9")).scalar_one()
        assert (record.flow, record.flow_version) == ("hotline", 2)
    calls = client.get("/api/calls", headers=admin).get_json()["calls"]
    assert (calls[0]["flow"], calls[0]["flow_version"]) == ("hotline", 2)


def test_given_stored_versions_then_the_cli_lists_them_and_diffs_two(app, admin, tmp_path,
                                                                      monkeypatch, capsys):
    from fs_cc.cli import main

    client = app.test_client()
    save(client, admin, GOOD, comment="first")
    save(client, admin, OTHER_QUEUE, base_version=1, comment="to support")
    monkeypatch.setenv("FS_CC_DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    monkeypatch.setenv("FS_CC_VAR_DIR", str(tmp_path / "cli-var"))

    assert main(["ivr", "versions", "hotline"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert main(["ivr", "diff", "hotline", "1", "2"]) == 0
    diff = capsys.readouterr().out
    assert main(["ivr", "diff", "hotline", "1", "9"]) == 2
    missing = capsys.readouterr().err

    assert [line.split()[0] for line in listed] == ["1", "2"]
    assert listed[1].endswith("to support") and sha256_of(OTHER_QUEUE)[:12] in listed[1]
    assert "-    queue: sales\n+    queue: support\n" in diff
    assert "flow hotline has no version 9" in missing


def audit_entries(app):
    from web.audit.models import AuditEntry
    with app.app_context():
        return [(row.action, row.target, row.username, (row.detail or {}).get("restored_from"))
                for row in db.session.execute(
                    sa.select(AuditEntry).where(AuditEntry.action.like("ivr.%"))
                    .order_by(AuditEntry.id)).scalars()]


def test_given_saves_and_a_restore_then_each_is_in_the_audit_log_and_a_refusal_is_not(
        app, admin):
    client = app.test_client()
    save(client, admin, GOOD)
    save(client, admin, UNKNOWN_QUEUE, base_version=1)  # refused: nothing stored, nothing logged
    save(client, admin, OTHER_QUEUE, base_version=1)
    client.post("/api/ivr/flows/hotline/versions/1/restore", headers=admin)

    entries = audit_entries(app)
    assert [(action, target, restored) for action, target, _, restored in entries] == [
        ("ivr.flow_saved", "hotline", None), ("ivr.flow_saved", "hotline", None),
        ("ivr.flow_restored", "hotline", 1)]
    assert all(username for _, _, username, _ in entries)


def test_given_a_queue_with_opening_hours_then_the_editor_warns_of_a_node_without_closed_path(
        app, reader):
    write(app, "queues", "update", "support",
          {"hours": {"tz": "Asia/Shanghai", "mon-fri": "09:00-18:00"}})
    client = app.test_client()

    answer = client.post("/api/ivr/validate", headers=reader,
                         json={"name": "hotline", "yaml": OTHER_QUEUE}).get_json()
    quiet = client.post("/api/ivr/validate", headers=reader,
                        json={"name": "hotline", "yaml": GOOD}).get_json()

    [warning] = [m for m in answer["messages"] if "'closed' path" in m["message"]]
    assert warning["severity"] == "warning" and warning["line"] == 10
    assert "queue 'support' keeps opening hours" in warning["message"]
    assert not any("'closed' path" in m["message"] for m in quiet["messages"])
