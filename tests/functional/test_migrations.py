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


# A station, a worker and a client: what a database needs before its first product and batch.
STATION_WORKER_CLIENT = (
    "INSERT INTO stations (id, name, shortfall_policy, created_at) VALUES (1, 'S', 'none', '2026-01-01')",
    "INSERT INTO workers (id, station_id, name, phone, pin_hash, is_disabled, is_relocated, is_laid_off, "
    "is_flexible, active, registered_on, created_at) VALUES (1, 1, 'W', '13800000000', 'x', false, false, "
    "false, false, true, '2026-01-01', '2026-01-01')",
    "INSERT INTO clients (id, name, payment_terms_days, version, created_at) VALUES (1, 'C', 30, 1, '2026-01-01')",
)


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


def test_0007_gives_every_product_its_one_step_links_batches_and_returns_and_goes_down_and_up(app, tmp_path, database_url):
    """Migration 0007 on a database with products, a rate change, batches and returns made
    before steps existed: each product gets one step carrying its rate history, every batch
    and return is linked to it, the returns stay append-only; down and up again keep the rows."""
    from flask_migrate import downgrade

    url = _empty_database_url(tmp_path, database_url)
    migrated = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": url})
    with migrated.app_context():
        upgrade(directory=MIGRATIONS, revision="0005")
        with db.engine.begin() as conn:
            for stmt in (
                *STATION_WORKER_CLIENT,
                "INSERT INTO products (id, client_id, name, unit, piece_rate, unit_price, material_cost, batch_size, "
                "active, version, created_at) VALUES (1, 1, '假发手工钩针', '顶', 400000, 550000, 0, 5, true, 2, '2026-01-01')",
                "INSERT INTO product_rates (product_id, piece_rate, unit_price, material_cost, effective_at, changed_by) "
                "VALUES (1, 380000, 550000, 0, '2026-01-01', 'admin'), (1, 400000, 550000, 0, '2026-02-01', 'admin')",
                "INSERT INTO orders (id, number, client_id, product_id, station_id, quantity, taken_on, due_date, unit_price, status, "
                "committed, accepted, rejected, invoiced, at_risk, created_at, version) VALUES (1, 'D2026-00001', 1, 1, 1, "
                "10, '2026-01-02', '2026-03-01', 550000, 'open', 5, 3, 0, 0, false, '2026-01-02', 1)",
                "INSERT INTO batches (id, code, order_id, worker_id, station_id, product_id, quantity, piece_rate, "
                "material_cost, issued_on, issued_at, due_date, status, overdue, accepted, rejected, unused) VALUES "
                "(1, 'ABC234', 1, 1, 1, 1, 5, 380000, 0, '2026-01-02', '2026-01-02', '2026-01-09', 'open', false, 3, 0, 0)",
                "INSERT INTO returns (batch_id, worker_id, station_id, order_id, product_id, piece_rate, accepted, rejected, "
                "unused, work_date, recorded_at) VALUES (1, 1, 1, 1, 1, 380000, 3, 0, 0, '2026-01-03', '2026-01-03')",
            ):
                conn.execute(text(stmt))
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            steps = conn.execute(text("SELECT id, product_id, seq, name, piece_rate FROM product_steps")).all()
            assert [tuple(s)[1:] for s in steps] == [(1, 1, "假发手工钩针", 400000)]
            rates = conn.execute(text("SELECT piece_rate FROM product_step_rates ORDER BY effective_at")).scalars().all()
            assert rates == [380000, 400000]
            assert conn.execute(text("SELECT step_id FROM batches")).scalars().all() == [steps[0].id]
            assert conn.execute(text("SELECT step_id FROM returns")).scalars().all() == [steps[0].id]
            assert "step" not in {c["name"] for c in inspect(conn).get_columns("batches")}
        import pytest
        from sqlalchemy.exc import DatabaseError

        with pytest.raises(DatabaseError), db.engine.begin() as conn:
            conn.execute(text("UPDATE returns SET accepted = 0"))
        downgrade(directory=MIGRATIONS, revision="0005")
        with db.engine.connect() as conn:
            assert "step_id" not in {c["name"] for c in inspect(conn).get_columns("returns")}
            assert "step" in {c["name"] for c in inspect(conn).get_columns("batches")}
            assert "product_steps" not in inspect(conn).get_table_names()
            assert conn.execute(text("SELECT count(*) FROM returns")).scalar() == 1
        with pytest.raises(DatabaseError), db.engine.begin() as conn:
            conn.execute(text("UPDATE returns SET accepted = 0"))
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM returns WHERE step_id IS NOT NULL")).scalar() == 1
        db.engine.dispose()


def test_0010_finds_the_statements_already_printed_under_their_old_names(app, tmp_path, database_url):
    """Statement prints stored before 0010 (known only by their file names) get their rows: the
    same file is answered and still blocks reopening; a file of another name gets none."""
    from alembic.script import ScriptDirectory

    before = ScriptDirectory(str(Path(MIGRATIONS))).get_revision("0010").down_revision
    url = _empty_database_url(tmp_path, database_url)
    migrated = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": url})
    with migrated.app_context():
        upgrade(directory=MIGRATIONS, revision=before)
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO stations (id, name, shortfall_policy, created_at) VALUES (3, 'S', 'none', '2026-01-01')"))
            conn.execute(text("INSERT INTO pay_periods (id, start, \"end\", status, created_at) "
                              "VALUES (7, '2026-01-01', '2026-01-31', 'closed', '2026-02-01')"))
            for file_id, name in ((1, "pay-statements-7.pdf"), (2, "pay-statements-7-station-3-2up.pdf"),
                                  (3, "invoice-2026-000001.pdf"), (4, "pay-statements-8.pdf")):
                conn.execute(text("INSERT INTO stored_files (id, filename, content_type, size, sha256, data, created_at) "
                                  "VALUES (:id, :name, 'application/pdf', 4, :sha, :data, '2026-02-02')"),
                             {"id": file_id, "name": name, "sha": f"{file_id:064d}", "data": b"%PDF"})
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT pay_period_id, station_id, per_sheet, file_id, sha256 FROM statements_pdfs "
                                     "ORDER BY file_id")).all()
        db.engine.dispose()
    assert [tuple(r) for r in rows] == [(7, None, 1, 1, f"{1:064d}"), (7, 3, 2, 2, f"{2:064d}")]


def test_0014_fills_the_monthly_rollup_from_the_returns_and_goes_down_and_up(app, tmp_path, database_url):
    """Returns recorded before 0014 are in the rollup it makes, one row per month and earnings
    line; the rollup follows a return inserted after it; down drops it, up fills it again."""
    from alembic.script import ScriptDirectory
    from flask_migrate import downgrade

    before = ScriptDirectory(str(Path(MIGRATIONS))).get_revision("0014").down_revision
    url = _empty_database_url(tmp_path, database_url)
    migrated = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": url})
    insert_return = ("INSERT INTO returns (batch_id, worker_id, station_id, order_id, product_id, step_id, piece_rate, "
                     "accepted, rejected, unused, work_date, recorded_at) VALUES (1, 1, 1, 1, 1, :step, :rate, :n, 0, 0, "
                     ":day, '2026-03-01')")
    with migrated.app_context():
        upgrade(directory=MIGRATIONS, revision=before)
        with db.engine.begin() as conn:
            for stmt in (
                *STATION_WORKER_CLIENT,
                "INSERT INTO products (id, client_id, name, unit, piece_rate, unit_price, material_cost, batch_size, "
                "active, version, created_at) VALUES (1, 1, '纸盒', '个', 350, 700, 0, 5, true, 1, '2026-01-01')",
                "INSERT INTO orders (id, number, client_id, product_id, station_id, quantity, taken_on, due_date, unit_price, "
                "status, committed, accepted, rejected, invoiced, at_risk, created_at, version) VALUES (1, 'D2026-00001', "
                "1, 1, 1, 100, '2026-01-02', '2026-03-01', 700, 'open', 100, 0, 0, 0, false, '2026-01-02', 1)",
                "INSERT INTO batches (id, code, order_id, worker_id, station_id, product_id, quantity, piece_rate, "
                "material_cost, issued_on, issued_at, due_date, status, overdue, accepted, rejected, unused) VALUES "
                "(1, 'ABC234', 1, 1, 1, 1, 100, 350, 0, '2026-01-02', '2026-01-02', '2026-01-09', 'open', false, 0, 0, 0)",
            ):
                conn.execute(text(stmt))
            for day, n, rate in (("2026-01-03", 4, 350), ("2026-01-31", 5, 350), ("2026-01-31", 2, 355),
                                 ("2026-02-01", 6, 350)):
                conn.execute(text(insert_return), {"step": None, "rate": rate, "n": n, "day": day})
        upgrade(directory=MIGRATIONS)
        rollup = "SELECT month, step_id, piece_rate, pieces FROM return_months ORDER BY month, piece_rate"
        filled = [("2026-01-01", 0, 350, 9), ("2026-01-01", 0, 355, 2), ("2026-02-01", 0, 350, 6)]
        with db.engine.begin() as conn:
            assert [(str(r[0]), *r[1:]) for r in conn.execute(text(rollup))] == filled
            conn.execute(text(insert_return), {"step": None, "rate": 350, "n": 1, "day": "2026-02-28"})
        downgrade(directory=MIGRATIONS, revision=before)
        assert "return_months" not in inspect(db.engine).get_table_names()
        assert not [name for name in _triggers(db.engine) if "months" in name]
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            assert [(str(r[0]), *r[1:]) for r in conn.execute(text(rollup))] == [*filled[:2], ("2026-02-01", 0, 350, 7)]
        db.engine.dispose()
