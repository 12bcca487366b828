"""Catalog services: rules with the field at fault, one version bump and one notice per change,
users linked to agents; on SQLite and PostgreSQL."""

import logging

import pytest
import sqlalchemy as sa

from tests.web.support import (app_on, closed_port, create_record, create_user, database_url_for,
                               dispose, login)
from web.audit import actions
from web.auth.models import User
from web.auth.services import UserService
from web.catalog.dids import DidService
from web.catalog.errors import Conflict, InvalidField, NotFound
from web.catalog.models import DidRoute
from web.catalog.notifier import EngineNotifier
from web.catalog.rules import FlowDirectory
from web.catalog.services import AgentService, CatalogChanges, QueueService
from web.extensions import db


class Notices:
    """A service's ``notify``: remembers each version it hears."""

    def __init__(self):
        self.versions = []

    def __call__(self, version):
        self.versions.append(version)


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog(request, tmp_path, migrated_databases):
    """(queues, agents, dids, notices) services on each dialect's emptied database, in context."""
    app = app_on(tmp_path, database_url_for(migrated_databases, request.param))
    notices = Notices()
    flows = tmp_path / "flows"
    flows.mkdir()
    for name in ("main", "sales"):
        (flows / f"{name}.yaml").write_text(f"name: {name}\n")
    with app.app_context():
        yield (QueueService(db.session, notices), AgentService(db.session, notices),
               DidService(db.session, notices, FlowDirectory(flows)), notices)
        db.session.remove()
    dispose(app)


def version():
    """The committed catalog version."""
    return CatalogChanges(db.session, lambda version: None).current()


def raises(kind, field, call, *args):
    """Run ``call``; assert it raised ``kind`` naming ``field``; return the error."""
    with pytest.raises(kind) as caught:
        call(*args)
    assert caught.value.field == field, caught.value.message
    return caught.value


def test_given_a_new_queue_then_saved_with_defaults_version_bumped_and_notified(catalog):
    queues, _, _, notices = catalog

    queue = queues.create({"name": "sales"})

    assert (queue.name, queue.strategy, queue.moh, queue.enabled) == (
        "sales", "longest-idle", "local_stream://moh", True)
    assert version() == 1 and notices.versions == [1]


@pytest.mark.parametrize("data, kind, field, words", [
    ({"name": "sales"}, Conflict, "name", "taken"),
    ({"name": "bad name"}, InvalidField, "name", "letters, digits"),
    ({"name": ""}, InvalidField, "name", "required"),
    ({"name": "vip", "strategy": "fastest"}, InvalidField, "strategy", "unknown queue strategy"),
    ({"name": "vip", "enabled": "yes"}, InvalidField, "enabled", "true or false"),
    ({"name": "vip", "colour": "red"}, InvalidField, "colour", "unknown field"),
])
def test_given_a_bad_queue_then_refused_naming_the_field_and_nothing_changes(catalog, data, kind,
                                                                            field, words):
    queues, _, _, notices = catalog
    queues.create({"name": "sales"})

    error = raises(kind, field, queues.create, data)

    assert words in error.message
    assert version() == 1 and notices.versions == [1]
    assert [queue.name for queue in queues.list()] == ["sales"]


def test_given_a_disabled_queue_when_creating_it_again_then_conflict_says_enable_it(catalog):
    queues, _, _, _ = catalog
    queues.create({"name": "sales"})
    queues.disable("sales")

    error = raises(Conflict, "name", queues.create, {"name": "sales"})

    assert error.status == 409 and "enable it" in error.message


def test_given_a_queue_when_renaming_or_editing_an_unknown_one_then_refused(catalog):
    queues, _, _, _ = catalog
    queues.create({"name": "sales"})

    raises(InvalidField, "name", queues.update, "sales", {"name": "sales2"})
    assert raises(NotFound, "name", queues.update, "nope", {"moh": "x"}).status == 404
    assert queues.update("sales", {"name": "sales", "moh": "local_stream://calm"}).moh == (
        "local_stream://calm")


def test_given_an_agent_with_queues_and_skills_then_saved_and_listed(catalog):
    queues, agents, _, notices = catalog
    queues.create({"name": "sales"})
    queues.create({"name": "support"})

    agent = agents.create({"extension": "1000", "queues": {"support": 2, "sales": 1},
                           "skills": {"english": 10, "billing": 1}})

    assert agent.name == "Agent 1000"
    assert agent.levels() == {"sales": 1, "support": 2}
    assert agent.to_dict()["skills"] == {"english": 10, "billing": 1}
    assert [a.extension for a in agents.list()] == ["1000"]
    assert notices.versions == [1, 2, 3]


@pytest.mark.parametrize("data, kind, field", [
    ({"extension": "1000"}, Conflict, "extension"),
    ({"extension": "10a0"}, InvalidField, "extension"),
    ({"extension": 1001}, InvalidField, "extension"),
    ({"extension": "1001", "skills": {"english": 11}}, InvalidField, "skills.english"),
    ({"extension": "1001", "skills": {"english": 0}}, InvalidField, "skills.english"),
    ({"extension": "1001", "skills": ["english"]}, InvalidField, "skills"),
    ({"extension": "1001", "queues": {"sales": 0}}, InvalidField, "queues.sales"),
    ({"extension": "1001", "queues": {"sales": True}}, InvalidField, "queues.sales"),
    ({"extension": "1001", "queues": {"nope": 1}}, InvalidField, "queues.nope"),
    ({"extension": "1001", "queues": {"closed": 1}}, InvalidField, "queues.closed"),
    ({"extension": "1001", "user_id": 999999}, InvalidField, "user_id"),
    ({"extension": "1001", "name": ""}, InvalidField, "name"),
])
def test_given_a_bad_agent_then_refused_naming_the_field_and_nothing_saved(catalog, data, kind,
                                                                          field):
    queues, agents, _, _ = catalog
    queues.create({"name": "sales"})
    queues.create({"name": "closed"})
    queues.disable("closed")
    agents.create({"extension": "1000"})
    before = version()

    raises(kind, field, agents.create, data)

    assert version() == before
    assert [a.extension for a in agents.list()] == ["1000"]


def test_given_a_member_of_a_queue_disabled_since_when_editing_then_membership_is_kept(catalog):
    queues, agents, _, _ = catalog
    queues.create({"name": "sales"})
    agents.create({"extension": "1000", "queues": {"sales": 1}})
    queues.disable("sales")

    agent = agents.update("1000", {"name": "李娜", "queues": {"sales": 3}})

    assert agent.levels() == {"sales": 3} and agent.name == "李娜"


def test_given_an_agent_when_queues_are_replaced_then_the_old_memberships_go(catalog):
    queues, agents, _, _ = catalog
    for name in ("sales", "support"):
        queues.create({"name": name})
    agents.create({"extension": "1000", "queues": {"sales": 1, "support": 1}})

    agents.update("1000", {"queues": {"support": 4}})

    assert agents.get("1000").levels() == {"support": 4}
    assert queues.get("sales").members == []


def test_given_a_user_linked_to_an_agent_then_the_user_carries_its_extension(catalog):
    _, agents, _, _ = catalog
    agent_role = UserService(db.session).role("agent")
    li = User(username="li", display_name="李娜", password_hash="x", role=agent_role)
    wang = User(username="wang", display_name="王芳", password_hash="x", role=agent_role)
    db.session.add_all([li, wang])
    db.session.commit()

    agents.create({"extension": "1000", "user_id": li.id})
    assert db.session.get(User, li.id).extension == "1000"

    agents.update("1000", {"user_id": wang.id})
    assert (db.session.get(User, li.id).extension, db.session.get(User, wang.id).extension) == (
        None, "1000")

    agents.update("1000", {"user_id": None})
    assert db.session.get(User, wang.id).extension is None


def test_given_a_user_of_one_agent_when_linking_another_then_conflict(catalog):
    _, agents, _, _ = catalog
    li = User(username="li", password_hash="x", role=UserService(db.session).role("agent"))
    db.session.add(li)
    db.session.commit()
    agents.create({"extension": "1000", "user_id": li.id})

    error = raises(Conflict, "user_id", agents.create, {"extension": "1001", "user_id": li.id})

    assert "already agent 1000" in error.message
    assert [user.username for user in agents.linkable_users()] == []
    assert [user.username for user in agents.linkable_users(agents.get("1000"))] == ["li"]


def test_given_routes_when_marking_another_default_then_only_one_default(catalog):
    _, _, dids, _ = catalog
    dids.create({"number": "4000", "flow": "main", "default": True})
    dids.create({"number": "+8610086", "flow": "sales", "description": "销售热线"})

    dids.update("+8610086", {"default": True})

    defaults = db.session.execute(
        sa.select(DidRoute.number).where(DidRoute.is_default == sa.true())).scalars().all()
    assert defaults == ["+8610086"]
    assert dids.get("+8610086").to_dict()["description"] == "销售热线"


@pytest.mark.parametrize("data, kind, field, words", [
    ({"number": "4000", "flow": "main"}, Conflict, "number", "has a route"),
    ({"number": "40-00", "flow": "main"}, InvalidField, "number", "digits"),
    ({"number": "++4001", "flow": "main"}, InvalidField, "number", "digits"),
    ({"number": "4001", "flow": "nope"}, InvalidField, "flow", "no flow file nope.yaml"),
    ({"number": "4001"}, InvalidField, "flow", "required"),
    ({"number": "4001", "flow": "main", "default": "yes"}, InvalidField, "default", "true"),
])
def test_given_a_bad_route_then_refused_naming_the_field(catalog, data, kind, field, words):
    _, _, dids, _ = catalog
    dids.create({"number": "4000", "flow": "main"})

    error = raises(kind, field, dids.create, data)

    assert words in error.message
    assert [route.number for route in dids.list()] == ["4000"]


def test_given_two_defaults_written_behind_the_service_then_the_database_refuses(catalog):
    _, _, dids, _ = catalog
    dids.create({"number": "4000", "flow": "main", "default": True})

    db.session.add(DidRoute(number="4001", flow="main", description="", enabled=True,
                            is_default=True))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_given_no_engine_when_the_notifier_is_told_then_a_warning_and_the_change_stands(
        app, caplog):
    from fs_cc.control import ControlClient

    notifier = EngineNotifier(ControlClient(f"http://127.0.0.1:{closed_port()}", "secret",
                                            timeout=1))
    with app.app_context():
        with caplog.at_level(logging.WARNING, logger="web.catalog.notifier"):
            QueueService(db.session, notifier).create({"name": "sales"})
        assert QueueService(db.session, notifier).find("sales") is not None
    assert "catalog version 1 saved; the engine was not told" in caplog.text


def test_given_an_agent_user_linked_to_an_agent_then_they_see_the_calls_of_its_extension(
        app, client):
    user_id, username, password = create_user(app, role="agent")
    mine = create_record(app, agent="1007")
    create_record(app, agent="1008")
    with app.app_context():
        AgentService(db.session, lambda version: None).create(
            {"extension": "1007", "user_id": user_id})
    login(client, username, password)

    calls = client.get("/api/calls").get_json()["calls"]

    assert [call["uuid"] for call in calls] == [mine["uuid"]]


def test_given_two_admins_adding_one_queue_at_once_then_the_second_waits_and_gets_a_conflict(
        tmp_path, migrated_databases):
    import gevent
    from sqlalchemy import orm

    from tests.polling import wait_until
    from web.catalog.models import Queue

    app = app_on(tmp_path, database_url_for(migrated_databases, "postgresql"))
    quiet = Notices()

    def second_admin():
        with app.app_context():
            try:
                QueueService(db.session, quiet).create({"name": "sales"})
            finally:
                db.session.remove()

    def lock_waiters(connection):
        try:
            return connection.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'")).scalar_one()
        finally:
            connection.rollback()  # pg_stat_activity is read once per transaction

    try:
        with app.app_context(), orm.Session(db.engine) as first, db.engine.connect() as probe:
            with CatalogChanges(first, quiet).change("first admin's queue", actions.QUEUE_CREATED,
                                                     "sales"):
                first.add(Queue(name="sales", strategy="longest-idle", moh="m", enabled=True))
                first.flush()
                # a real thread: psycopg2 blocks its whole thread while it waits for the lock
                second = gevent.get_hub().threadpool.spawn(second_admin)
                wait_until(lambda: lock_waiters(probe) == 1, what="the second admin waiting")
            with pytest.raises(Conflict) as caught:
                second.get(timeout=10)
        assert caught.value.field == "name"
    finally:
        dispose(app)
