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


def _triggers(engine) -> dict:
    """Every trigger (and, on PostgreSQL, every jijian_* function) with its definition."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
            return {name: " ".join(sql.split()) for name, sql in rows}
        rows = conn.execute(text("SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal")).all()
        functions = conn.execute(text("SELECT proname, prosrc FROM pg_proc WHERE proname LIKE 'jijian_%'")).all()
    return {**dict(rows), **{name: " ".join(src.split()) for name, src in functions}}


def test_the_migrations_make_the_triggers_create_all_makes_and_downgrade_undoes_them(app, tmp_path, database_url):
    """The append-only guards and the triggers moving workers.activity_seq (the phone's page
    cache key): the same from the migrations as from the models; 0004 goes down and up again
    on a database with workers in it."""
    from flask_migrate import downgrade

    db.create_all()  # again, on the tables it made: adds nothing, fails on nothing
    made = _triggers(db.engine)
    assert {"returns_touch_worker_insert", "batches_touch_worker_update", "products_touch_workers"} <= set(made)
    url = _empty_database_url(tmp_path, database_url)
    migrated = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": url})
    with migrated.app_context():
        upgrade(directory=MIGRATIONS)
        assert _triggers(db.engine) == made
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO stations (id, name, shortfall_policy, created_at) VALUES (1, 'S', 'none', '2026-01-01')"))
            conn.execute(text("INSERT INTO workers (id, station_id, name, phone, pin_hash, is_disabled, is_relocated, "
                              "is_laid_off, is_flexible, active, registered_on, created_at) "
                              "VALUES (1, 1, 'W', '13800000000', 'x', false, false, false, false, true, '2026-01-01', '2026-01-01')"))
        downgrade(directory=MIGRATIONS, revision="0003")
        left = _triggers(db.engine)
        assert not [name for name in left if "touch" in name]
        assert "activity_seq" not in {c["name"] for c in inspect(db.engine).get_columns("workers")}
        upgrade(directory=MIGRATIONS)
        assert _triggers(db.engine) == made
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT activity_seq FROM workers WHERE id = 1")).scalar() == 0
        db.engine.dispose()
