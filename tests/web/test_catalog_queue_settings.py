"""A queue's settings in the catalog: every one saved and read back, defaults for a queue given
only a name, each wrong one refused naming it (checked by fs_cc.acd.queue_def), on SQLite and
PostgreSQL; migration 0009 adds them with the defaults for queues made before."""

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext

from fs_cc.acd.queue_def import parse_queue
from tests.web.support import app_on, database_url_for, dispose, make_app
from web import MIGRATIONS_DIR
from web.catalog.errors import InvalidField
from web.catalog.models import Queue
from web.catalog.services import CatalogChanges, QueueService
from web.extensions import db

# every setting away from its default
EVERY_SETTING = {
    "strategy": "round-robin", "moh": "local_stream://calm", "greeting": "sounds/welcome.wav",
    "announce_interval": 45, "announce_position": False, "announce_wait": False,
    "max_wait": 300, "max_callers": 25, "exit_key": "#",
    "overflow": {"timeout": "voicemail:sales", "full": "queue:support", "exit_key": "callback",
                 "no_agents": "hangup:sounds/closed.wav"},
    "wrap_up": 15, "ring_timeout": 18.5, "retry_delay": 4, "max_no_answer": 2,
    "service_level": 30, "record": "stereo", "skills": {"english": 5, "粤语": 3},
    "skill_relax": [{"after": 60, "drop": ["粤语"]}, {"after": 30, "minus": 2},
                    {"after": 120, "drop": True}],
    "closed": True, "hours": {"tz": "Asia/Shanghai", "mon": ["09:00-18:00"],
                              "holidays": ["2026-10-01"]},
    "dispositions": ["咨询 consultation", "投诉 complaint", "wrong number"],
}
SORTED_RELAX = [{"after": 30.0, "minus": 2}, {"after": 60.0, "drop": ["粤语"]},
                {"after": 120.0, "drop": True}]


@pytest.fixture(params=["sqlite", "postgresql"])
def queues(request, tmp_path, migrated_databases):
    """A QueueService on each dialect's emptied database, in the app's context."""
    app = app_on(tmp_path, database_url_for(migrated_databases, request.param))
    with app.app_context():
        yield QueueService(db.session, lambda version: None)
        db.session.remove()
    dispose(app)


def stored(name):
    """The queue ``name`` as a fresh read of the database gives it (no object kept)."""
    db.session.expire_all()
    return db.session.execute(sa.select(Queue).where(Queue.name == name)).scalar_one()


def version():
    """The committed catalog version."""
    return CatalogChanges(db.session, lambda version: None).current()


def test_given_a_queue_made_with_only_a_name_then_every_setting_is_the_engines_default(queues):
    queues.create({"name": "sales"})

    settings = stored("sales").settings()

    assert settings == parse_queue("sales").to_dict()
    assert (settings["max_no_answer"], settings["service_level"], settings["ring_timeout"],
            settings["record"], settings["overflow"]) == (3, 20.0, None, None, {})


def test_given_every_setting_when_created_then_each_is_saved_and_read_back(queues):
    queues.create({"name": "sales", **EVERY_SETTING})

    settings = stored("sales").settings()

    assert settings == {"name": "sales", **EVERY_SETTING, "skill_relax": SORTED_RELAX}
    assert parse_queue(settings).to_dict() == settings  # the engine reads it as it is


def test_given_a_queue_when_some_settings_change_then_only_they_and_null_means_default(queues):
    queues.create({"name": "sales", **EVERY_SETTING})

    queues.update("sales", {"wrap_up": 5, "record": None, "overflow": {"timeout": "hangup"},
                            "ring_timeout": None, "skills": {}})

    settings = stored("sales").settings()
    assert (settings["wrap_up"], settings["record"], settings["overflow"],
            settings["ring_timeout"], settings["skills"]) == (5.0, None, {"timeout": "hangup"},
                                                               None, {})
    assert (settings["max_wait"], settings["exit_key"], settings["skill_relax"]) == (
        300.0, "#", SORTED_RELAX)


def test_given_a_mod_callcenter_strategy_name_then_stored_by_the_strategys_own_name(queues):
    queues.create({"name": "sales", "strategy": "agent-with-fewest-calls-in-the-last-hour"})

    assert stored("sales").strategy == "fewest-calls-last-hour"


BAD = [
    ("strategy", "fastest", "strategy", "unknown queue strategy"),
    ("moh", "", "moh", "required"),
    ("moh", "m" * 256, "moh", "longer than 255"),
    ("greeting", 5, "greeting", "must be text"),
    ("greeting", "g" * 256, "greeting", "longer than 255"),
    ("announce_interval", -1, "announce_interval", "seconds from 0 to"),
    ("announce_position", "yes", "announce_position", "true or false"),
    ("announce_wait", 1, "announce_wait", "true or false"),
    ("max_wait", "30", "max_wait", "number of seconds"),
    ("max_wait", float("inf"), "max_wait", "seconds from 0 to"),
    ("max_callers", 2.5, "max_callers", "whole number"),
    ("max_callers", 2 ** 31, "max_callers", "from 0 to 100000"),
    ("exit_key", "12", "exit_key", "one DTMF key"),
    ("exit_key", "a", "exit_key", "one DTMF key"),
    ("overflow", {"timeout": "queue:"}, "overflow.timeout", "needs a queue name"),
    ("overflow", {"full": "elsewhere"}, "overflow.full", "must be one of"),
    ("overflow", {"callback": "hangup"}, "overflow", "unknown reason 'callback'"),
    ("overflow", ["voicemail"], "overflow", "map reasons"),
    ("wrap_up", -5, "wrap_up", "seconds from 0 to"),
    ("wrap_up", float("nan"), "wrap_up", "seconds from 0 to"),
    ("ring_timeout", "ten", "ring_timeout", "number of seconds"),
    ("retry_delay", True, "retry_delay", "number of seconds"),
    ("max_no_answer", -1, "max_no_answer", "whole number"),
    ("service_level", "20", "service_level", "number of seconds"),
    ("record", "loud", "record", "off, mixed, stereo"),
    ("skills", {"english": 11}, "skills", "levels 1-10"),
    ("skills", ["english"], "skills", "wrong shape"),
    ("skill_relax", [{"after": 30}], "skill_relax", "relaxes nothing"),
    ("skill_relax", [{"after": -1, "minus": 1}], "skill_relax", "after must be a number"),
    ("skill_relax", [{"after": float("inf"), "minus": 1}], "skill_relax", "seconds from 0"),
    ("skill_relax", {"after": 30}, "skill_relax", "wrong shape"),
]


@pytest.mark.parametrize("setting, value, field, words", BAD,
                         ids=[f"{case[0]}={case[1]!r}"[:40] for case in BAD])
def test_given_a_wrong_setting_when_creating_then_refused_naming_it_and_nothing_saved(
        queues, setting, value, field, words):
    with pytest.raises(InvalidField) as caught:
        queues.create({"name": "sales", setting: value})

    assert caught.value.field == field and caught.value.status == 400
    assert words in caught.value.message
    assert queues.list() == [] and version() == 0


@pytest.mark.parametrize("setting, value, field, words", BAD[::3])
def test_given_a_wrong_setting_when_editing_then_refused_and_the_saved_ones_stay(
        queues, setting, value, field, words):
    queues.create({"name": "sales", **EVERY_SETTING})

    with pytest.raises(InvalidField) as caught:
        queues.update("sales", {"wrap_up": 1, setting: value})

    assert caught.value.field == field
    assert stored("sales").settings() == {"name": "sales", **EVERY_SETTING,
                                          "skill_relax": SORTED_RELAX}
    assert version() == 1


def test_given_queues_before_0009_when_upgraded_then_they_get_the_defaults_and_down_drops_them(
        tmp_path, empty_database_url):
    app = make_app(tmp_path, empty_database_url)
    with app.app_context():
        flask_migrate.upgrade(directory=MIGRATIONS_DIR, revision="0008")
        with db.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO queues (name, strategy, moh, enabled, created_at, updated_at) "
                "VALUES ('sales', 'round-robin', 'local_stream://moh', :yes, :now, :now)"),
                {"yes": True, "now": "2026-12-01 08:00:00"})

        flask_migrate.upgrade(directory=MIGRATIONS_DIR)  # 0009, and the model's later columns
        db.session.remove()
        upgraded = db.session.execute(sa.select(Queue)).scalar_one().settings()
        db.session.remove()
        flask_migrate.downgrade(directory=MIGRATIONS_DIR, revision="0008")
        with db.engine.connect() as connection:
            columns = {column["name"] for column in sa.inspect(connection).get_columns("queues")}
            rows = connection.execute(sa.text("SELECT name, strategy FROM queues")).all()
            revision = MigrationContext.configure(connection).get_current_revision()
        db.engine.dispose()

    assert upgraded == parse_queue({"name": "sales", "strategy": "round-robin"}).to_dict()
    assert columns == {"id", "name", "strategy", "moh", "enabled", "created_at", "updated_at"}
    assert rows == [("sales", "round-robin")] and revision == "0008"
