"""What the issue page asks of a station's batches and returns reads the station's own rows
from one index each (SQLite's query plans): the picker's order (each worker's last batch) one
seek a worker in ``ix_batches_station_worker_issued_at``, what the page's workers hold through
``ix_batches_station_worker``; the pace behind the suggested split through the covering
``ix_returns_station_date``, each worker's first batch one seek in
``ix_batches_station_worker_issued_on`` and what the station holds through
``ix_batches_station_status_due`` — never every batch or return of every station."""
import pytest
from sqlalchemy import event, select

from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's query plans")


def _plans_of(app, db, user, marker: str, call) -> list[list[str]]:
    """The query plan of each statement ``call`` runs whose SQL holds ``marker``."""
    from flask_login import login_user

    statements = []

    def seen(_conn, _cursor, statement, parameters, _context, _many):
        if marker in statement:
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with app.test_request_context("/"):
            login_user(user)
            call()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert statements, marker
    connection = db.session.connection()
    return [[row[3] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, tuple(params))]
            for sql, params in statements]


def test_the_picker_seeks_each_workers_last_batch_and_reads_only_the_pages_open_batches(app, db, make):
    from app.workers.queries import worker_rows

    station = make.station()
    make.batch(order=make.order(station=station), worker=make.worker(station=station))
    supervisor = make.staff("supervisor", station=station)
    [order] = _plans_of(app, db, supervisor, "max(batches.issued_at)",
                        lambda: worker_rows(station.id, per_page=12, recent_first=True))
    batches = [step for step in order if " batches " in f" {step} "]
    assert batches == ["SEARCH batches USING COVERING INDEX ix_batches_station_worker_issued_at "
                       "(station_id=? AND worker_id=?)"], order
    [held] = _plans_of(app, db, supervisor, "count(batches.id)",
                       lambda: worker_rows(station.id, per_page=12, recent_first=True))
    assert held == ["SEARCH batches USING INDEX ix_batches_station_worker (station_id=? AND worker_id=? AND status=?)"], held


def test_the_pace_reads_the_stations_returns_from_the_station_date_index_alone(app, db, make):
    from app.models import ProductStep
    from app.services import planning

    station = make.station()
    order = make.order(station=station)
    make.return_(batch=make.batch(order=order, worker=make.worker(station=station)))
    supervisor = make.staff("supervisor", station=station)
    step_id = db.session.scalar(select(ProductStep.id).where(ProductStep.product_id == order.product_id))
    plans = _plans_of(app, db, supervisor, "GROUP BY returns.worker_id",
                      lambda: planning.worker_paces(station.id, order.product_id, step_id))
    assert all(any("COVERING INDEX ix_returns_station_date" in step for step in plan) for plan in plans), plans


def test_the_pace_seeks_each_workers_first_batch_and_reads_only_the_stations_open_batches(app, db, make):
    from app.models import ProductStep
    from app.services import planning

    station = make.station()
    order = make.order(station=station)
    make.batch(order=order, worker=make.worker(station=station))
    supervisor = make.staff("supervisor", station=station)
    step_id = db.session.scalar(select(ProductStep.id).where(ProductStep.product_id == order.product_id))
    [first] = _plans_of(app, db, supervisor, "min(batches.issued_on)",
                        lambda: planning.worker_paces(station.id, order.product_id, step_id))
    assert "SEARCH batches USING COVERING INDEX ix_batches_station_worker_issued_on " \
           "(station_id=? AND worker_id=? AND issued_on>? AND issued_on<?)" in first, first
    [held] = _plans_of(app, db, supervisor, "batches.status = ?",
                       lambda: planning.worker_paces(station.id, order.product_id, step_id))
    assert held == ["SEARCH batches USING INDEX ix_batches_station_status_due (station_id=? AND status=?)"], held
