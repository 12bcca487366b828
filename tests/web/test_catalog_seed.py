"""The demo seed of ``bootstrap_demo``: the default settings' queues and agents and DID 4000, into
an empty catalog only; again and again it changes nothing, and never what an admin changed."""

import pytest

from tests.web.support import app_on, create_user, database_url_for, dispose, login
from web import bootstrap_demo
from web.auth.models import User
from web.catalog.dids import DidService
from web.catalog.services import AgentService, CatalogChanges, QueueService
from web.extensions import db


def quiet(version):
    """Tell nobody."""


def snapshot(app):
    """Everything the catalog holds, as plain data, and its version."""
    with app.app_context():
        queues = [q.to_dict() for q in QueueService(db.session, quiet).list()]
        agents = [a.to_dict() for a in AgentService(db.session, quiet).list()]
        routes = [r.to_dict() for r in DidService(db.session, quiet, None).list()]
        return queues, agents, routes, CatalogChanges(db.session, quiet).current()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request, tmp_path, migrated_databases):
    """A testing app on each dialect's emptied database."""
    app = app_on(tmp_path, database_url_for(migrated_databases, request.param))
    yield app
    dispose(app)


def test_given_an_empty_catalog_when_bootstrapping_then_the_default_queues_agents_and_did(
        any_app):
    bootstrap_demo(any_app)

    queues, agents, routes, version = snapshot(any_app)
    assert [(q["name"], q["strategy"], q["moh"]) for q in queues] == [
        ("sales", "longest-idle", "local_stream://moh"),
        ("support", "longest-idle", "local_stream://moh")]
    assert [a["extension"] for a in agents] == [str(n) for n in range(1000, 1010)]
    assert all(a["queues"] == {"sales": 1, "support": 1} for a in agents)
    assert [(r["number"], r["flow"], r["default"]) for r in routes] == [("4000", "main", True)]
    assert version == 2  # the seed, then agent 1009 linked to the demo agent's user


def test_given_a_seeded_catalog_when_bootstrapping_again_then_nothing_changes(any_app):
    bootstrap_demo(any_app)
    first = snapshot(any_app)

    bootstrap_demo(any_app)

    assert snapshot(any_app) == first


def test_given_admin_changes_when_bootstrapping_again_then_they_stand(app):
    bootstrap_demo(app)
    with app.app_context():
        AgentService(db.session, quiet).disable("1005")
        AgentService(db.session, quiet).update("1000", {"queues": {"sales": 2}})
        QueueService(db.session, quiet).disable("support")
        DidService(db.session, quiet, None).update("4000", {"default": False})
    changed = snapshot(app)

    bootstrap_demo(app)

    assert snapshot(app) == changed
    assert changed[3] == 6


def test_given_an_admin_started_a_catalog_when_bootstrapping_then_no_demo_is_added(app):
    with app.app_context():
        QueueService(db.session, quiet).create({"name": "billing"})

    bootstrap_demo(app)

    queues, agents, routes, version = snapshot(app)
    assert [q["name"] for q in queues] == ["billing"] and agents == [] and routes == []
    assert version == 1


def test_given_a_user_with_a_demo_extension_when_seeding_then_linked_to_that_agent(app):
    user_id, username, _ = create_user(app, role="agent", extension="1003")

    bootstrap_demo(app)

    _, agents, _, _ = snapshot(app)
    linked = {a["extension"]: a["username"] for a in agents if a["user_id"] is not None}
    assert linked == {"1003": username, "1009": "agent1009"}


def test_given_settings_the_catalog_refuses_when_seeding_then_a_config_error_and_nothing_seeded(
        app):
    from fs_cc.errors import ConfigError

    app.extensions["fs_cc_settings"].agents = [{"extension": "desk-1", "queues": ["sales"]}]

    with pytest.raises(ConfigError, match="extension 'desk-1' must be digits only"):
        bootstrap_demo(app)

    assert snapshot(app) == ([], [], [], 0)


def test_given_the_embedded_default_when_bootstrapped_twice_then_one_demo_agent_at_1009(app):
    first = bootstrap_demo(app)
    second = bootstrap_demo(app)

    assert first["agent"]["username"] == second["agent"]["username"] == "agent1009"
    assert first["agent"]["password"] and second["agent"]["password"] is None  # shown once
    _, agents, _, _ = snapshot(app)
    assert [(a["extension"], a["username"]) for a in agents if a["user_id"]] == [
        ("1009", "agent1009")]
    with app.app_context():
        user = db.session.query(User).filter_by(username="agent1009").one()
        assert (user.role.name, user.extension, user.active) == ("agent", "1009", True)
        assert user.can("desktop.use") and not user.can("supervise")
    client = app.test_client()
    assert login(client, "agent1009", first["agent"]["password"]).status_code == 302
    # the desktop is theirs (no 403, no 409 "no extension"): only the engine is absent here
    assert client.get("/api/desktop/state").status_code == 503


def test_given_agent_1009_linked_to_someone_when_bootstrapping_then_no_demo_agent_user(app):
    _, username, _ = create_user(app, role="agent", extension="1009")

    demo = bootstrap_demo(app)

    assert demo["agent"] == {"username": None, "password": None}
    _, agents, _, _ = snapshot(app)
    assert [(a["extension"], a["username"]) for a in agents if a["user_id"]] == [
        ("1009", username)]
