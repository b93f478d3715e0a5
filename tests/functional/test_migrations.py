"""The committed migrations build the same schema as the models, on SQLite and PostgreSQL."""
import os
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text

from app import create_app
from app.extensions import db

BACKEND = os.environ.get("TEST_DATABASE", "sqlite")
MIGRATIONS = str(Path(__file__).resolve().parents[2] / "migrations")


def _empty_database_url(tmp_path, database_url):
    if BACKEND == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    admin = create_engine(database_url.replace("/jijian_test?", "/postgres?"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS jijian_migrations"))
        conn.execute(text("CREATE DATABASE jijian_migrations"))
    admin.dispose()
    return database_url.replace("/jijian_test?", "/jijian_migrations?")


def test_upgrade_of_an_empty_database_matches_the_models(tmp_path, database_url):
    url = _empty_database_url(tmp_path, database_url)
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
            diff = compare_metadata(ctx, db.metadata)
        tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert diff == []
    assert {"returns", "batches", "orders", "payslips", "invoices", "audit_events", "job_runs"} <= tables


def test_returns_and_audit_trail_refuse_update_and_delete(app, db, make):
    import pytest
    from sqlalchemy.exc import DatabaseError

    ret = make.return_()
    for stmt in ("UPDATE returns SET accepted = 0 WHERE id = :id", "DELETE FROM returns WHERE id = :id",
                 "DELETE FROM audit_events WHERE id > :id"):
        with pytest.raises(DatabaseError):
            db.session.execute(text(stmt), {"id": ret.id if "returns" in stmt else 0})
        db.session.rollback()
