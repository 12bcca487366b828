"""Migration 0003 builds the catalog tables as the models describe them, on SQLite and
PostgreSQL, starts the version at 0, and goes back down to 0002 cleanly."""

import flask_migrate
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.web.support import make_app
from web import MIGRATIONS_DIR, db_upgrade
from web.extensions import db

CATALOG_TABLES = {"queues", "agents", "queue_members", "did_routes", "catalog_version"}


def _tables_of(difference):
    """The table names an Alembic difference (a tuple, or a list of them) may be about."""
    if isinstance(difference, list):
        return {name for item in difference for name in _tables_of(item)}
    names = set()
    for part in difference[1:]:
        if isinstance(part, str):
            names.add(part)
        elif isinstance(part, sa.Table):
            names.add(part.name)
        elif isinstance(getattr(part, "table", None), sa.Table):
            names.add(part.table.name)
    return names


def test_given_an_empty_database_when_upgrading_then_catalog_tables_match_the_models(
        tmp_path, empty_database_url):
    app = make_app(tmp_path, empty_database_url)

    db_upgrade(app)

    with app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = [d for d in compare_metadata(context, db.metadata)
                           if _tables_of(d) & CATALOG_TABLES]
            tables = set(sa.inspect(connection).get_table_names())
            version = connection.execute(sa.text("SELECT version FROM catalog_version")).all()
        db.engine.dispose()
    assert differences == []
    assert CATALOG_TABLES <= tables
    assert version == [(0,)]


def test_given_the_catalog_migrated_when_downgrading_to_0002_then_its_tables_go(tmp_path):
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'down.sqlite'}")
    db_upgrade(app)

    with app.app_context():
        flask_migrate.downgrade(directory=MIGRATIONS_DIR, revision="0002")
        tables = set(sa.inspect(db.engine).get_table_names())
        with db.engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
        db.engine.dispose()
    assert not tables & CATALOG_TABLES
    assert revision == "0002"
