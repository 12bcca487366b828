"""The migrations build the models' schema from an empty database, on SQLite and PostgreSQL."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.web.support import make_app
from web import MIGRATIONS_DIR, db_upgrade
from web.extensions import db


def head_revision():
    """The head of the migration scripts (one head: the chain has no branches)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    (head,) = ScriptDirectory.from_config(config).get_heads()
    return head


def test_given_an_empty_database_when_upgrading_then_at_head_and_models_match(tmp_path,
                                                                             empty_database_url):
    app = make_app(tmp_path, empty_database_url)

    db_upgrade(app)

    with app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
            revision = context.get_current_revision()
            tables = set(sa.inspect(connection).get_table_names())
        db.engine.dispose()
    assert differences == []
    assert revision == head_revision()
    assert {"users", "call_records", "call_events", "agent_state_changes", "queues", "agents",
            "queue_members", "did_routes", "alembic_version"} <= tables


def test_given_an_upgraded_database_when_upgrading_again_then_nothing_changes(tmp_path):
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'twice.sqlite'}")

    db_upgrade(app)
    db_upgrade(app)

    with app.app_context():
        with db.engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == head_revision()
        db.engine.dispose()


def test_given_the_migrated_schema_then_uuid_is_unique(tmp_path):
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'unique.sqlite'}")
    db_upgrade(app)

    with app.app_context():
        inspector = sa.inspect(db.engine)
        unique = [c["column_names"] for c in inspector.get_unique_constraints("call_records")]
        indexed = [i["column_names"] for i in inspector.get_indexes("call_records")]
        db.engine.dispose()
    assert ["uuid"] in unique
    assert ["started_at"] in indexed and ["caller_number"] in indexed
    assert ["queue", "started_at"] in indexed and ["agent", "started_at"] in indexed
