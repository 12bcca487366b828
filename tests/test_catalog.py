"""fs_cc.catalog, the engine's read side, against real SQLite and PostgreSQL databases migrated
with the real migrations and written by the web app's catalog services."""

import dataclasses
import subprocess
import sys

import pytest

import fs_cc.catalog
from fs_cc.acd.config import desk_agents_of
from fs_cc.catalog import AgentDef, Catalog, QueueDef, load_catalog
from fs_cc.config import _default_agents, _default_queues
from fs_cc.errors import ConfigError
from tests.web.support import (app_on, create_user, database_url_for, dispose,  # noqa: F401
                               migrated_databases)
from web import bootstrap_demo
from web.catalog.dids import DidService
from web.catalog.rules import FlowDirectory
from web.catalog.services import AgentService, QueueService
from web.extensions import db


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path, migrated_databases):  # noqa: F811
    """(app, url): a testing app on the session's migrated database of each dialect, emptied."""
    url = database_url_for(migrated_databases, request.param)
    app = app_on(tmp_path, url)
    yield app, url
    dispose(app)


def no_notify(version):
    """Services in these tests tell nobody."""


def write(app, kind, method, *args):
    """Run one catalog service call (``kind`` queues, agents or dids) in the app's context."""
    with app.app_context():
        services = {"queues": lambda: QueueService(db.session, no_notify),
                    "agents": lambda: AgentService(db.session, no_notify),
                    "dids": lambda: DidService(db.session, no_notify, FlowDirectory(
                        app.extensions["fs_cc_settings"].ivr_flow.parent))}
        getattr(services[kind](), method)(*args)


def test_given_an_empty_migrated_database_then_an_empty_catalog_at_version_0(database):
    app, url = database

    catalog = load_catalog(url)

    assert catalog == Catalog.build([], [], {}, None, 0)
    assert catalog.flow_for("4000") is None and catalog.flows() == frozenset()


def test_given_the_demo_seed_then_the_catalog_equals_the_one_from_the_default_settings(database):
    app, url = database
    bootstrap_demo(app)

    catalog = load_catalog(url)

    from_settings = Catalog.from_settings(_default_queues(), _default_agents())
    assert catalog.queues == from_settings.queues
    # agent 1009 is the demo agent user's: the desktop files its calls
    assert catalog.agents == dict(from_settings.agents, **{"1009": dataclasses.replace(
        from_settings.agents["1009"], desktop=True)})
    assert catalog.agents["1001"] == AgentDef("1001", "Agent 1001", ("support", "sales"), {},
                                              {"support": 1, "sales": 1})
    assert catalog.routes == {"4000": "main"} and catalog.default_flow == "main"
    assert catalog.version == 2  # the seed, then the demo agent user linked


def test_given_disabled_rows_then_they_and_the_memberships_in_a_disabled_queue_are_absent(
        database):
    app, url = database
    write(app, "queues", "create", {"name": "sales"})
    write(app, "queues", "create", {"name": "support", "moh": "local_stream://calm"})
    write(app, "agents", "create", {"extension": "1000", "queues": {"sales": 1, "support": 2}})
    write(app, "agents", "create", {"extension": "1001", "queues": {"sales": 1}})
    write(app, "dids", "create", {"number": "4000", "flow": "main", "default": True})
    write(app, "dids", "create", {"number": "+8610001", "flow": "main"})

    write(app, "queues", "disable", "sales")
    write(app, "agents", "disable", "1001")
    write(app, "dids", "disable", "+8610001")
    catalog = load_catalog(url)

    assert catalog.queues == {"support": QueueDef("support", "longest-idle",
                                                  "local_stream://calm")}
    assert catalog.agents == {"1000": AgentDef("1000", "Agent 1000", ("support",), {},
                                               {"support": 2})}
    assert catalog.routes == {"4000": "main"}
    assert catalog.version == 9


def test_given_levels_and_skills_then_queues_come_lowest_level_first(database):
    app, url = database
    for name in ("a", "b", "c"):
        write(app, "queues", "create", {"name": name})
    write(app, "agents", "create", {"extension": "2000", "name": "王芳",
                                    "queues": {"a": 3, "b": 1, "c": 2},
                                    "skills": {"english": 7, "粤语": 2}})

    agent = load_catalog(url).agents["2000"]

    assert agent.queues == ("b", "c", "a")
    assert agent.levels == {"a": 3, "b": 1, "c": 2}
    assert agent.skills == {"english": 7, "粤语": 2}
    assert agent.name == "王芳"


def test_given_a_disabled_default_route_then_no_default_flow(database):
    app, url = database
    write(app, "dids", "create", {"number": "4000", "flow": "main", "default": True})

    write(app, "dids", "disable", "4000")

    catalog = load_catalog(url)
    assert catalog.default_flow is None and catalog.flow_for("4000") is None


def test_given_a_change_lands_during_a_read_then_the_loader_reads_again(database, monkeypatch):
    app, url = database
    write(app, "queues", "create", {"name": "sales"})
    real_read_once = fs_cc.catalog._read_once
    reads = []

    def read_once_while_an_admin_adds_a_queue(connection, version):
        reads.append(version)
        if len(reads) == 1:
            write(app, "queues", "create", {"name": "support"})
        return real_read_once(connection, version)

    monkeypatch.setattr(fs_cc.catalog, "_read_once", read_once_while_an_admin_adds_a_queue)

    catalog = load_catalog(url)

    assert reads == [1, 2]
    assert set(catalog.queues) == {"sales", "support"} and catalog.version == 2


def test_given_routes_then_flow_for_takes_the_exact_number_else_the_default():
    catalog = Catalog.build([], [], {"4000": "main", "+864001": "sales"}, "after_hours", 3)

    assert catalog.flow_for("4000") == "main"
    assert catalog.flow_for("+864001") == "sales"
    assert catalog.flow_for("864001") == "after_hours"
    assert catalog.flows() == {"main", "sales", "after_hours"}


def test_given_settings_lists_then_from_settings_builds_queues_agents_and_default():
    catalog = Catalog.from_settings(
        [{"name": "sales"}, {"name": "vip", "moh": "local_stream://vip"}],
        [{"extension": "1000", "name": "李娜", "queues": ["vip", "sales"],
          "skills": {"english": 4}}],
        default_flow="main")

    assert catalog.queues["vip"] == QueueDef("vip", "longest-idle", "local_stream://vip")
    assert catalog.agents["1000"] == AgentDef("1000", "李娜", ("vip", "sales"), {"english": 4},
                                              {"vip": 1, "sales": 1})
    assert catalog.routes == {} and catalog.flow_for("4000") == "main"
    assert catalog.version == 0


def test_given_an_agent_in_an_unknown_queue_when_built_from_settings_then_config_error():
    with pytest.raises(ConfigError, match="unknown queue 'nope'"):
        Catalog.from_settings([{"name": "sales"}], [{"extension": "1000", "queues": ["nope"]}])


def test_given_a_catalog_then_it_cannot_be_changed_in_place():
    catalog = Catalog.from_settings(_default_queues(), _default_agents())

    with pytest.raises(dataclasses.FrozenInstanceError):
        catalog.version = 5
    with pytest.raises(TypeError):
        catalog.queues["new"] = QueueDef("new", "longest-idle", "x")
    with pytest.raises(TypeError):
        catalog.agents["1000"].levels["sales"] = 9


def test_given_the_loader_when_imported_alone_then_neither_flask_nor_web_is_loaded():
    probe = ("import sys, fs_cc.catalog; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'web')))")

    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)

    assert result.stdout.strip() == "[]"


def test_given_an_agent_a_user_works_as_then_it_is_a_desktop_agent_and_the_others_not(database):
    app, url = database
    write(app, "queues", "create", {"name": "sales"})
    write(app, "agents", "create", {"extension": "1000", "queues": {"sales": 1}})
    write(app, "agents", "create", {"extension": "1001", "queues": {"sales": 1}})
    user_id, _, _ = create_user(app, role="agent")
    write(app, "agents", "update", "1001", {"user_id": user_id})

    catalog = load_catalog(url)

    assert (catalog.agents["1000"].desktop, catalog.agents["1001"].desktop) == (False, True)
    assert desk_agents_of(catalog) == frozenset({"1001"})
