"""The engine's agents, queues (every setting) and DID routes come from the database's catalog,
applied live."""

import dataclasses
import shutil

import pytest
import sqlalchemy as sa

from fs_cc import events
from fs_cc.catalog import Catalog
from fs_cc.control import commands as cmd
from fs_cc.engine import Engine
from fs_cc.errors import ConfigError
from tests.engine.support import RecordingPublisher, engine_settings
from tests.test_catalog import no_notify, write  # noqa: F401
from tests.web.support import (app_on, create_user, database_url_for, dispose,  # noqa: F401
                               migrated_databases)
from web import bootstrap_demo

REPO_FLOWS = __import__("pathlib").Path(__file__).resolve().parents[2] / "ivr_flows"

QUEUE_FLOW = """\
name: billing_line
start: wait
nodes:
  wait:
    type: queue
    queue: billing
"""


@pytest.fixture
def flows(tmp_path):
    """A flows directory: main.yaml (the shipped one) and billing.yaml (queue billing)."""
    folder = tmp_path / "flows"
    folder.mkdir()
    shutil.copy(REPO_FLOWS / "main.yaml", folder / "main.yaml")
    (folder / "billing.yaml").write_text(QUEUE_FLOW, encoding="utf-8")
    return folder


@pytest.fixture
def database(request, tmp_path, flows, migrated_databases):  # noqa: F811
    """(app, url): the web app on a migrated SQLite database, its flows those of ``flows``."""
    url = database_url_for(migrated_databases, "sqlite")
    app = app_on(tmp_path, url)
    settings = app.extensions["fs_cc_settings"]
    app.extensions["fs_cc_settings"] = dataclasses.replace(settings,
                                                           ivr_flow=flows / "main.yaml")
    yield app, url
    dispose(app)


def test_given_a_routed_flow_naming_an_unknown_queue_when_engine_starts_then_refused_at_its_line(
        tmp_path, flows):
    catalog = Catalog.from_settings(["sales", "support"], [])
    catalog = Catalog.build(catalog.queues.values(), [], {"4001": "billing"}, "main", 1)
    settings = engine_settings(tmp_path, "127.0.0.1", 9, ivr_flow=flows / "main.yaml")

    with pytest.raises(ConfigError) as caught:
        Engine(settings, publisher=RecordingPublisher(), catalog=catalog)

    assert caught.value.line == 6 and str(flows / "billing.yaml") in str(caught.value)
    assert "unknown queue 'billing'" in str(caught.value)


def test_given_a_route_to_a_missing_flow_file_when_engine_starts_then_refused_naming_the_number(
        tmp_path, flows):
    catalog = Catalog.build(Catalog.from_settings(["sales", "support"], []).queues.values(), [],
                            {"4002": "nowhere"}, "main", 1)
    settings = engine_settings(tmp_path, "127.0.0.1", 9, ivr_flow=flows / "main.yaml")

    with pytest.raises(ConfigError) as caught:
        Engine(settings, publisher=RecordingPublisher(), catalog=catalog)

    assert "flow 'nowhere'" in str(caught.value) and "4002" in str(caught.value)


def test_given_the_database_catalog_when_engine_starts_then_its_agents_queues_and_routes(
        tmp_path, flows, database):
    app, url = database
    bootstrap_demo(app)
    write(app, "queues", "create", {"name": "billing"})
    write(app, "dids", "create", {"number": "4001", "flow": "billing"})
    engine = Engine(engine_settings(tmp_path, "127.0.0.1", 9, ivr_flow=flows / "main.yaml",
                                    database_url=url), publisher=RecordingPublisher())
    try:
        assert sorted(q["name"] for q in engine.queues()) == ["billing", "sales", "support"]
        assert [a["extension"] for a in engine.agents()] == [str(n) for n in range(1000, 1010)]
        assert engine.flows.flow_name_for("4001") == "billing"
        assert engine.flows.flow_name_for("4000") == "main"
        assert engine.flows.flow_name_for("95123") == "main"  # no route: the default
    finally:
        engine.stop()


def test_given_catalog_changes_in_the_web_when_reload_commanded_then_applied_without_restart(
        tmp_path, flows, database):
    app, url = database
    bootstrap_demo(app)
    engine = Engine(engine_settings(tmp_path, "127.0.0.1", 9, ivr_flow=flows / "main.yaml",
                                    database_url=url), publisher=RecordingPublisher())
    try:
        write(app, "queues", "create", {"name": "billing"})
        write(app, "agents", "create", {"extension": "2000", "name": "Wang Fang",
                                        "queues": {"billing": 1}, "skills": {"mandarin": 8}})
        write(app, "dids", "create", {"number": "4001", "flow": "billing"})
        assert "2000" not in {a["extension"] for a in engine.agents()}

        result = engine.execute(cmd.ReloadCatalog())

        assert result["version"] >= 4
        agents = {a["extension"]: a for a in engine.agents()}
        assert agents["2000"]["queues"] == ["billing"]
        assert agents["2000"]["skills"] == {"mandarin": 8}
        assert "billing" in {q["name"] for q in engine.queues()}
        assert engine.flows.flow_name_for("4001") == "billing"
        engine.execute(cmd.AgentLogin(agent="2000", queue="billing"))
        assert engine.store.get_agent("2000").status.value == "available"
        logged = [e for e in engine.outbox.pending_events() if isinstance(e, events.AgentLoggedIn)]
        assert [(e.agent, e.queue) for e in logged] == [("2000", "billing")]
    finally:
        engine.stop()


def test_given_a_catalog_change_that_breaks_a_flow_when_reloaded_then_refused_and_old_kept(
        tmp_path, flows, database):
    app, url = database
    bootstrap_demo(app)
    write(app, "queues", "create", {"name": "billing"})
    write(app, "dids", "create", {"number": "4001", "flow": "billing"})
    engine = Engine(engine_settings(tmp_path, "127.0.0.1", 9, ivr_flow=flows / "main.yaml",
                                    database_url=url), publisher=RecordingPublisher())
    try:
        write(app, "queues", "disable", "billing")

        with pytest.raises(cmd.CommandRefused) as caught:
            engine.execute(cmd.ReloadCatalog())

        assert caught.value.field == "catalog"
        assert "unknown queue 'billing'" in caught.value.reason
        assert "billing" in {q["name"] for q in engine.queues()}  # the old catalog stays
    finally:
        engine.stop()


def test_given_two_numbers_routed_to_two_flows_when_called_then_each_runs_its_own_flow(
        emulator, tmp_path, flows):
    """DID routing end to end: 5901 runs the shipped menu, 5902 the flow that queues at once."""
    from fs_cc.emulator.dialplan import Dialplan, default_dialplan
    from tests.switch import wait_until

    base = Catalog.from_settings(["sales", "support", "billing"],
                                 [{"extension": "1000", "queues": ["sales", "billing"]}])
    catalog = Catalog.build(base.queues.values(), base.agents.values(), {"5902": "billing"},
                            "main", 1)
    settings = engine_settings(tmp_path, *emulator.esl_address, ivr_flow=flows / "main.yaml",
                               agents_auto_login=True)
    publisher = RecordingPublisher()
    engine = Engine(settings, publisher=publisher, catalog=catalog)
    engine.start()
    try:
        target = "%s:%s" % engine.outbound.address
        emulator.config.socket_target = target
        emulator.dialplan = Dialplan(default_dialplan(target))
        assert engine.esl.wait_connected(5)
        emulator.place_call("5901", caller_number="5551001", dtmf="1", talk_seconds=5)
        emulator.place_call("5902", caller_number="5551002", dtmf="", talk_seconds=5)
        records = wait_until(lambda: len(publisher.payloads) == 2 and publisher.payloads, 30,
                             "two records")
        by_did = {record["did"]: record for record in records}
        assert by_did["5901"]["ivr_path"] == ["welcome", "menu", "menu:1", "sales"]
        assert (by_did["5901"]["queue"], by_did["5901"]["agent"]) == ("sales", "1000")
        assert by_did["5902"]["ivr_path"] == ["wait"]
        assert (by_did["5902"]["queue"], by_did["5902"]["agent"]) == ("billing", "1000")
    finally:
        engine.stop()


QUEUE_SETTINGS = {"wrap_up": 15, "max_no_answer": 2, "skills": {"billing": 4, "粤语": 2},
                  "skill_relax": [{"after": 30, "minus": 1}], "record": "stereo",
                  "ring_timeout": 12, "max_wait": 120, "exit_key": "*",
                  "overflow": {"timeout": "voicemail:billing", "exit_key": "callback"}}


def engine_with_billing(tmp_path, flows, database):
    """The web's database with the demo catalog and a queue "billing" of QUEUE_SETTINGS, and an
    engine on it (not started); returns (app, database url, engine)."""
    app, url = database
    bootstrap_demo(app)
    write(app, "queues", "create", {"name": "billing", **QUEUE_SETTINGS})
    engine = Engine(engine_settings(tmp_path, "127.0.0.1", 9, ivr_flow=flows / "main.yaml",
                                    database_url=url), publisher=RecordingPublisher())
    return app, url, engine


def test_given_a_queue_with_settings_in_the_database_then_the_acd_and_recorder_have_them(
        tmp_path, flows, database):
    app, url, engine = engine_with_billing(tmp_path, flows, database)
    try:
        queue = engine.acd.queue_definition("billing")

        assert (queue.wrap_up, queue.max_no_answer, dict(queue.skills), queue.record) == (
            15.0, 2, {"billing": 4, "粤语": 2}, "stereo")
        assert [(step.after, step.minus) for step in queue.skill_relax] == [(30.0, 1)]
        assert (queue.max_wait, queue.exit_key, engine.acd.ring_timeout_of("billing")) == (
            120.0, "*", 12)
        assert {reason: str(target) for reason, target in queue.overflow.items()} == {
            "timeout": "voicemail:billing", "exit_key": "callback"}
        assert engine._recording_mode("billing") == "stereo"
        assert engine._recording_mode("sales") == engine.settings.record_calls  # none of its own
    finally:
        engine.stop()


def test_given_settings_changed_in_the_web_when_reloaded_then_the_acd_uses_the_new_ones(
        tmp_path, flows, database):
    app, url, engine = engine_with_billing(tmp_path, flows, database)
    try:
        write(app, "queues", "update", "billing", {"wrap_up": 0, "record": "off",
                                                   "max_no_answer": 0, "skills": None})

        engine.execute(cmd.ReloadCatalog())

        queue = engine.acd.queue_definition("billing")
        assert (queue.wrap_up, queue.max_no_answer, dict(queue.skills), queue.record) == (
            0.0, 0, {}, "off")
        assert engine._recording_mode("billing") == "off"
    finally:
        engine.stop()


def test_given_a_setting_written_behind_the_webs_back_when_reloaded_then_refused_naming_it(
        tmp_path, flows, database):
    app, url, engine = engine_with_billing(tmp_path, flows, database)
    bad = sa.create_engine(url)
    try:
        with bad.begin() as connection:
            connection.execute(sa.text("UPDATE queues SET record = 'loud', wrap_up = 1 "
                                       "WHERE name = 'billing'"))
            connection.execute(sa.text("UPDATE catalog_version SET version = version + 1"))

        with pytest.raises(cmd.CommandRefused) as caught:
            engine.execute(cmd.ReloadCatalog())

        assert "queues.billing.record" in caught.value.reason
        assert engine.acd.queue_definition("billing").wrap_up == 15.0  # the old catalog stays
    finally:
        bad.dispose()
        engine.stop()


def test_given_agents_users_work_as_when_started_and_reloaded_then_the_acd_knows_its_desk_agents(
        tmp_path, flows, database):
    app, url = database
    bootstrap_demo(app)  # agent 1009 is the demo agent user's
    engine = Engine(engine_settings(tmp_path, "127.0.0.1", 9, ivr_flow=flows / "main.yaml",
                                    database_url=url), publisher=RecordingPublisher())
    try:
        assert engine.acd.presence.desk_agents == frozenset({"1009"})
        user_id, _, _ = create_user(app, role="agent")
        write(app, "agents", "update", "1003", {"user_id": user_id})

        engine.execute(cmd.ReloadCatalog())

        assert engine.acd.presence.desk_agents == frozenset({"1003", "1009"})
    finally:
        engine.stop()
