"""The production service itself (app/services/production.py), called directly on the real
database (SQLite, or PostgreSQL with TEST_DATABASE=postgresql), not through HTTP: issuing a
batch, recording a return, correcting one, closing a batch, and the caps that keep the counts
conserved (rules 2, 3, 4, 12, 14). A refusal stores nothing: rows are counted before and after."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Batch, Order, OrderDayTally, ProductStep, Return, local_today
from app.services import accounts, catalog, production
from app.services.errors import ConflictError, ValidationError
from app.services.periods import PeriodClosed
from tests.wages_fixtures import close, period_for, previous_month


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _stored() -> tuple[int, int, int, int]:
    return _count(Batch), _count(Return), _count(OrderDayTally), _count(AuditEvent)


def _fresh(row):
    db.session.expire_all()
    return db.session.get(type(row), row.id)


# --- issuing


def test_issue_keeps_the_rate_in_force_and_commits_the_orders_pieces(app, make):
    station = make.station()
    product = make.product(piece_rate="0.3500")
    order = make.order(station=station, product=product, quantity=300)
    worker = make.worker(station=station)
    batch = production.issue_batch(order=order, worker=worker, quantity=120)
    db.session.commit()
    catalog.update_product(product, piece_rate=Decimal("0.5000"))  # a later rate: later batches only
    db.session.commit()
    batch, order = _fresh(batch), _fresh(order)
    assert (batch.quantity, batch.piece_rate, batch.status, batch.worker_id) == (120, Decimal("0.3500"), "open", worker.id)
    assert (batch.issued_on, batch.due_date) == (local_today(), production.default_due_date(order))
    assert order.committed == 120
    later = production.issue_batch(order=order, worker=worker, quantity=10)
    db.session.commit()
    assert _fresh(later).piece_rate == Decimal("0.5000")
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.entity == "batch", AuditEvent.action == "issue")) == 2


def test_issuing_more_than_the_order_has_left_is_refused_and_stores_nothing(app, make):
    station = make.station()
    order = make.order(station=station, quantity=100)
    worker = make.worker(station=station)
    make.batch(order=order, worker=worker, quantity=80)
    before = _stored()
    with pytest.raises(production.OverIssue):
        production.issue_batch(order=_fresh(order), worker=worker, quantity=21)
    db.session.rollback()
    assert _stored() == before and _fresh(order).committed == 80
    production.issue_batch(order=_fresh(order), worker=worker, quantity=20)  # exactly what is left
    db.session.commit()
    assert _fresh(order).committed == 100


@pytest.mark.parametrize("case", ["zero", "other_station", "inactive", "future", "due_before_issue"])
def test_issue_refuses_bad_input_with_a_field_error_and_stores_nothing(app, make, case):
    station = make.station()
    order = make.order(station=station, quantity=100)
    worker = make.worker(station=make.station() if case == "other_station" else station)
    if case == "inactive":
        accounts.set_worker_active(worker, False)
        db.session.commit()
    today = local_today()
    kw: dict = {"quantity": 0 if case == "zero" else 10}
    if case == "future":
        kw["issued_on"] = today + timedelta(days=1)
    if case == "due_before_issue":
        kw["due_date"] = today - timedelta(days=1)
    before = _stored()
    with pytest.raises(ValidationError) as refused:
        production.issue_batch(order=order, worker=worker, **kw)
    db.session.rollback()
    assert refused.value.fields and _stored() == before
    assert _fresh(order).committed == 0


def test_a_later_step_is_capped_by_what_the_step_before_accepted(app, make):
    client = make.client()
    product = catalog.create_product(client_id=client.id, name="假发", unit="顶", piece_rate=None,
                                     unit_price=Decimal("60.0000"), material_cost=Decimal("2.0000"),
                                     steps=[{"name": "打结", "piece_rate": Decimal("38.0000")},
                                            {"name": "整理", "piece_rate": Decimal("6.0000")}])
    db.session.commit()
    knot, trim = db.session.scalars(select(ProductStep).where(ProductStep.product_id == product.id)
                                    .order_by(ProductStep.seq)).all()
    station = make.station()
    order = make.order(station=station, product=product, quantity=10)
    worker = make.worker(station=station)
    first = production.issue_batch(order=order, worker=worker, quantity=10, step_id=knot.id)
    production.record_return(batch=first, accepted=6, rejected=1)
    db.session.commit()
    before = _stored()
    with pytest.raises(production.OverStep):
        production.issue_batch(order=_fresh(order), worker=worker, quantity=7, step_id=trim.id)
    db.session.rollback()
    assert _stored() == before
    second = production.issue_batch(order=_fresh(order), worker=worker, quantity=6, step_id=trim.id)
    db.session.commit()
    assert (_fresh(second).step_id, _fresh(second).piece_rate) == (trim.id, Decimal("6.0000"))


# --- returns


def test_a_return_moves_the_batch_the_order_and_the_days_tally_together(app, make):
    station = make.station()
    order = make.order(station=station, quantity=500)
    batch = make.batch(order=order, worker=make.worker(station=station), quantity=100)
    row = production.record_return(batch=batch, accepted=60, rejected=5, unused=10, note="边角破损")
    db.session.commit()
    batch, order = _fresh(batch), _fresh(order)
    assert (batch.accepted, batch.rejected, batch.unused, batch.outstanding) == (60, 5, 10, 25)
    assert (order.accepted, order.rejected, order.committed) == (60, 5, 90)  # unused goes back to the order
    assert db.session.scalar(select(OrderDayTally.accepted).where(OrderDayTally.order_id == order.id,
                                                                  OrderDayTally.work_date == local_today())) == 60
    assert (row.work_date, row.piece_rate, row.worker_id) == (local_today(), batch.piece_rate, batch.worker_id)


@pytest.mark.parametrize("counts, error", [
    ({"accepted": 90, "rejected": 11}, production.OverReturn),
    ({"accepted": -1, "rejected": 2}, ValidationError),
    ({"accepted": 0}, ValidationError),
])
def test_a_bad_return_is_refused_and_stores_nothing(app, make, counts, error):
    batch = make.batch(quantity=100)
    before = _stored()
    with pytest.raises(error):
        production.record_return(batch=batch, **counts)
    db.session.rollback()
    assert _stored() == before
    batch = _fresh(batch)
    assert (batch.accepted, batch.rejected, batch.unused) == (0, 0, 0)


@pytest.mark.calendar
def test_a_returns_work_date_is_never_in_the_future_nor_before_its_batch(app, make):
    today = local_today()
    batch = make.batch(quantity=20, issued_on=today - timedelta(days=2), due_date=today + timedelta(days=5))
    for day in (today + timedelta(days=1), today - timedelta(days=3)):
        with pytest.raises(ValidationError) as refused:
            production.record_return(batch=batch, accepted=1, work_date=day)
        db.session.rollback()
        assert "work_date" in refused.value.fields
    production.record_return(batch=batch, accepted=1, work_date=today - timedelta(days=2))
    db.session.commit()
    assert _count(Return) == 1


@pytest.mark.calendar
def test_a_return_dated_in_a_closed_pay_period_is_refused(app, make):
    start, end = previous_month()
    batch = make.batch(quantity=20, issued_on=start, due_date=start + timedelta(days=5))
    production.record_return(batch=batch, accepted=5, work_date=start)
    db.session.commit()
    close(period_for(start, end))
    before = _stored()
    with pytest.raises(PeriodClosed):
        production.record_return(batch=_fresh(batch), accepted=1, work_date=start)
    db.session.rollback()
    assert _stored() == before


# --- corrections


def test_a_correction_is_a_signed_row_pointing_at_the_original(app, make):
    order = make.order(quantity=200)
    batch = make.batch(order=order, quantity=100)
    original = production.record_return(batch=batch, accepted=50, rejected=0)
    db.session.commit()
    fix = production.record_correction(original=original, accepted=-3, rejected=3, reason="点错了")
    db.session.commit()
    assert (fix.corrects_id, fix.accepted, fix.rejected, fix.reason, fix.work_date) == (
        original.id, -3, 3, "点错了", original.work_date)
    assert _fresh(original).accepted == 50  # the original is never edited (rule 4)
    batch, order = _fresh(batch), _fresh(order)
    assert (batch.accepted, batch.rejected, order.accepted, order.rejected) == (47, 3, 47, 3)


@pytest.mark.parametrize("change, reason, error", [
    ({"accepted": -51}, "多减了", ConflictError),
    ({"accepted": -1}, " ", ValidationError),
])
def test_a_correction_below_zero_or_without_a_reason_is_refused_and_stores_nothing(app, make, change, reason, error):
    batch = make.batch(quantity=100)
    original = production.record_return(batch=batch, accepted=50)
    db.session.commit()
    before = _stored()
    with pytest.raises(error):
        production.record_correction(original=original, reason=reason, **change)
    db.session.rollback()
    assert _stored() == before and _fresh(batch).accepted == 50


# --- closing a batch


def test_closing_charges_the_shortfall_by_the_stations_policy_and_ends_the_batch(app, make):
    station = make.station(shortfall_policy="material_cost")
    order = make.order(station=station, product=make.product(material_cost="0.0500"), quantity=100)
    batch = make.batch(order=order, worker=make.worker(station=station), quantity=40)
    production.record_return(batch=batch, accepted=30, unused=2)
    db.session.commit()
    closed = production.close_batch(batch=batch, reason="搬走了")
    db.session.commit()
    closed = _fresh(closed)
    assert (closed.status, closed.shortfall, closed.shortfall_deduction, closed.closed_on) == (
        "closed", 8, Decimal("0.40"), local_today())
    before = _stored()
    with pytest.raises(production.BatchClosed):
        production.record_return(batch=closed, accepted=1)
    db.session.rollback()
    with pytest.raises(production.BatchClosed):
        production.close_batch(batch=_fresh(closed))
    db.session.rollback()
    assert _stored() == before


def test_a_correction_after_the_close_moves_the_shortfall_with_it(app, make):
    station = make.station(shortfall_policy="material_cost")
    order = make.order(station=station, product=make.product(material_cost="0.1000"), quantity=100)
    batch = make.batch(order=order, worker=make.worker(station=station), quantity=10)
    original = production.record_return(batch=batch, accepted=6)
    production.close_batch(batch=batch)
    db.session.commit()
    assert (_fresh(batch).shortfall, _fresh(batch).shortfall_deduction) == (4, Decimal("0.40"))
    production.record_correction(original=original, unused=2, reason="还回了材料")
    db.session.commit()
    batch = _fresh(batch)
    assert (batch.shortfall, batch.shortfall_deduction, batch.unused) == (2, Decimal("0.20"), 2)
    assert _fresh(order).committed == 8
    assert db.session.get(Order, order.id).accepted == 6
