"""Backups while the app writes, restores into a fresh database, and the refusals."""
from __future__ import annotations

import sqlite3
import threading
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, func, select, text

from app import create_app, jobs
from app.db_tx import writing
from app.extensions import db
from app.models import AuditEvent, Batch, Order, Product, Return, Worker
from app.services import backup, production
from app.services.backup import DatabaseNotEmpty
from tests.conftest import BACKEND, BASE_CONFIG

STILL_TABLES = (Order, Batch, Worker, Product)  # not written while the backup runs


class ReturnWriter(threading.Thread):
    """Records one accepted piece after another, as tablets would, until stopped."""

    def __init__(self, app, batch_ids):
        super().__init__(daemon=True)
        self.app, self.batch_ids = app, batch_ids
        self.recorded = 0
        self.stop = threading.Event()
        self.error = None

    def run(self):
        with self.app.app_context():
            try:
                while not self.stop.is_set():
                    with writing():
                        batch = db.session.get(Batch, self.batch_ids[self.recorded % len(self.batch_ids)])
                        production.record_return(batch=batch, accepted=1)
                        db.session.commit()
                    self.recorded += 1
            except Exception as exc:  # noqa: BLE001 - reported by the test
                self.error = exc
            finally:
                db.session.remove()

    def wait_for(self, n, timeout=120):
        import time

        deadline = time.monotonic() + timeout
        while self.recorded < n and time.monotonic() < deadline and self.error is None:
            time.sleep(0.01)
        assert self.error is None, self.error
        assert self.recorded >= n


def _money_total(session, max_return_id=None) -> Decimal:
    """Σ accepted × piece rate of the returns (up to an id), computed exactly in Python."""
    stmt = select(Return.accepted, Return.piece_rate)
    if max_return_id is not None:
        stmt = stmt.where(Return.id <= max_return_id)
    return sum((Decimal(a) * r for a, r in session.execute(stmt)), Decimal("0"))


def _counts(session) -> dict:
    return {m.__tablename__: session.scalar(select(func.count()).select_from(m)) for m in STILL_TABLES}


@pytest.fixture
def fresh_database(database_url, tmp_path):
    """A URL of an empty database of the same kind as the test's."""
    if BACKEND == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"jijian_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url.replace("/jijian_test?", "/postgres?"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield database_url.replace("/jijian_test?", f"/{name}?")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def busy_station(make):
    station = make.station()
    order = make.order(station=station, quantity=100000)
    batches = [make.batch(order=order, worker=make.worker(station=station), quantity=20000) for _ in range(3)]
    return order, [b.id for b in batches]


def test_a_backup_taken_while_returns_are_recorded_restores_a_consistent_database(
        app, busy_station, fresh_database, tmp_path):
    _order, batch_ids = busy_station
    writer = ReturnWriter(app, batch_ids)
    writer.start()
    try:
        writer.wait_for(20)
        recorded_before = writer.recorded
        done = backup.backup_database(tmp_path / f"copy{backup.SUFFIX[BACKEND]}")
        recorded_after = writer.recorded
        writer.wait_for(recorded_after + 20)  # the app kept writing after the copy, too
    finally:
        writer.stop.set()
        writer.join()
    assert writer.error is None, writer.error
    db.session.commit()  # end the test's read snapshot: see what the writer committed

    restored_app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": fresh_database})
    with restored_app.app_context():
        backup.restore_database(done.path)
        copy = db.session
        max_id = copy.scalar(select(func.max(Return.id)))
        n_returns = copy.scalar(select(func.count(Return.id)))
        restored_counts = _counts(copy)
        restored_money = _money_total(copy)
        audit_returns = copy.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "return"))
        counters = {b.id: b.accepted for b in copy.scalars(select(Batch))}
        sums = dict(copy.execute(select(Return.batch_id, func.sum(Return.accepted)).group_by(Return.batch_id)).all())
        order_accepted = copy.scalar(select(func.sum(Order.accepted)))
        copy.remove()
        db.engine.dispose()

    # A point in time inside the backup's window ...
    assert recorded_before <= n_returns <= recorded_after
    # ... and one transaction-consistent snapshot: counters, audit trail and rows agree.
    assert counters == {bid: sums.get(bid, 0) for bid in batch_ids}
    assert order_accepted == n_returns and audit_returns == n_returns
    # The same rows and money as the live database up to that point.
    assert restored_counts == _counts(db.session)
    assert db.session.scalar(select(func.count(Return.id)).where(Return.id <= max_id)) == n_returns
    assert restored_money == _money_total(db.session, max_id) == Decimal("0.35") * n_returns
    if BACKEND == "sqlite":
        restored_file = fresh_database.removeprefix("sqlite:///")
        with sqlite3.connect(restored_file) as con:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        with sqlite3.connect(done.path) as con:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_restore_refuses_a_database_that_holds_data_unless_forced(app, busy_station, tmp_path):
    done = backup.backup_database(tmp_path / f"copy{backup.SUFFIX[BACKEND]}")
    production.record_return(batch=db.session.get(Batch, busy_station[1][0]), accepted=5)
    db.session.commit()
    with pytest.raises(DatabaseNotEmpty):
        backup.restore_database(done.path)
    assert db.session.scalar(select(func.count(Return.id))) == 1  # nothing touched
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["restore", str(done.path)])
    assert refused.exit_code != 0 and "空数据库" in refused.output
    forced = runner.invoke(args=["restore", str(done.path), "--force"])
    assert forced.exit_code == 0, forced.output
    db.session.remove()
    assert db.session.scalar(select(func.count(Return.id))) == 0  # back to the backup's state


def test_restore_refuses_a_file_that_is_not_a_backup(app, tmp_path):
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["restore", str(junk), "--force"])
    assert result.exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(Worker)) == 0


def test_backup_command_writes_the_named_file(app, make, tmp_path):
    make.worker()
    target = tmp_path / "named" / f"manual{backup.SUFFIX[BACKEND]}"
    result = app.test_cli_runner().invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert target.is_file() and target.stat().st_size > 0


def test_the_backup_job_keeps_the_newest_copies_and_nothing_else(app, tmp_path):
    app.config.update(BACKUP_DIR=str(tmp_path / "backups"), BACKUP_KEEP=3)
    (tmp_path / "backups").mkdir()
    foreign = tmp_path / "backups" / "notes.txt"
    foreign.write_text("keep me")
    for second in range(5):
        outcome = jobs.run_claimed("backup", jobs.jobs_service.now_tick().replace(second=second) + timedelta(days=1500))
        assert outcome.run.error is None and "file=jijian-" in outcome.run.result
    kept = sorted(p.name for p in (tmp_path / "backups").iterdir())
    assert len(kept) == 4 and "notes.txt" in kept
    assert "removed=1" in outcome.run.result


def test_the_nightly_backup_also_refreshes_sqlites_planner_statistics(app, make, tmp_path):
    """The report's index choice on SQLite relies on ANALYZE statistics; the nightly job keeps them."""
    make.return_(accepted=3)
    app.config.update(BACKUP_DIR=str(tmp_path / "backups"))
    outcome = jobs.run_claimed("backup", jobs.jobs_service.now_tick() + timedelta(days=1900))
    assert outcome.run.error is None
    if BACKEND != "sqlite":
        assert "statistics_refreshed" not in outcome.run.result  # PostgreSQL's autovacuum does it
        return
    assert "statistics_refreshed=1" in outcome.run.result
    analysed = {row[0] for row in db.session.execute(text("SELECT tbl FROM sqlite_stat1"))}
    assert "returns" in analysed



def test_backups_are_readable_by_their_owner_only(app, make, tmp_path):
    """A backup holds every worker's ID and bank numbers: 0600 whatever the umask, its new
    folder 0700 (the nightly job's file and a named one alike)."""
    import os
    import stat

    make.worker()
    old = os.umask(0o022)
    try:
        app.config.update(BACKUP_DIR=str(tmp_path / "nightly"))
        nightly = backup.backup_database().path
        named = backup.backup_database(tmp_path / "named" / f"manual{backup.SUFFIX[BACKEND]}").path
    finally:
        os.umask(old)
    for path in (nightly, named):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, oct(path.stat().st_mode)
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not list(tmp_path.rglob("*.part"))
