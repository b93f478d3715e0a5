"""The station's worker list (the issue page's picker, most recent first) reads a station's
batches through ``ix_batches_station_worker``: never every batch of every station."""
import pytest
from sqlalchemy import event

from tests.conftest import BACKEND


def test_the_picker_reads_the_stations_batches_by_the_station_worker_index(app, db, make):
    from flask_login import login_user

    from app.workers.queries import worker_rows

    if BACKEND != "sqlite":
        pytest.skip("SQLite's query plan")
    station = make.station()
    make.batch(order=make.order(station=station), worker=make.worker(station=station))
    statements = []

    def seen(_conn, _cursor, statement, parameters, _context, _many):
        if "max(batches.issued_at)" in statement:
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with app.test_request_context("/"):
            login_user(make.staff("supervisor", station=station))
            assert worker_rows(station.id, per_page=12, recent_first=True).items
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    [(statement, parameters)] = statements
    plan = [row[3] for row in db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                                                      tuple(parameters))]
    batches = [step for step in plan if " batches " in f" {step} "]
    assert batches and all("ix_batches_station_worker" in step for step in batches), plan
    assert any("COVERING INDEX ix_batches_station_worker" in step for step in batches), plan

