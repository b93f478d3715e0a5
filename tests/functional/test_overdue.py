"""Overdue means open, past due, and pieces still out with the worker — one definition for
the job, the lists, the API and the dashboard."""
from datetime import timedelta

import pytest

from app import jobs
from app.models import Batch, local_today

pytestmark = pytest.mark.calendar  # runs again on the hard days (scripts/test.sh)


def _past_due_batch(make, quantity=20):
    today = local_today()
    return make.batch(quantity=quantity, issued_on=today - timedelta(days=10), due_date=today - timedelta(days=2))


def test_a_fully_returned_batch_past_its_due_date_is_not_overdue(app, db, make, api):
    done = _past_due_batch(make)
    make.return_(batch=done, accepted=18, rejected=1, unused=1, work_date=local_today() - timedelta(days=1))
    late = _past_due_batch(make)
    make.return_(batch=late, accepted=5, work_date=local_today() - timedelta(days=1))
    jobs.run_claimed("mark_overdue")
    db.session.expire_all()
    assert db.session.get(Batch, done.id).overdue is False
    assert db.session.get(Batch, late.id).overdue is True
    admin = api(role="admin")
    listed = {b["id"] for b in admin.get("/batches?status=overdue").json["items"]}
    assert listed == {late.id}


def test_a_batch_returned_after_it_went_overdue_is_cleared_by_the_next_run(app, db, make):
    batch = _past_due_batch(make)
    jobs.run_claimed("mark_overdue")
    assert db.session.get(Batch, batch.id).overdue is True
    make.return_(batch=batch, accepted=20, work_date=local_today())
    jobs.run_claimed("mark_overdue", jobs.jobs_service.now_tick() + timedelta(minutes=15))
    db.session.expire_all()
    assert db.session.get(Batch, batch.id).overdue is False


def test_the_dashboard_links_to_every_order_at_risk_when_it_lists_only_some(app, client, login_as, make):
    station = make.station()
    product = make.product()
    for _ in range(11):
        make.order(station=station, product=product, quantity=100, due_in_days=1)  # no pace, due tomorrow
    jobs.run_claimed("flag_orders_at_risk")
    login_as("supervisor", station=station)
    html = client.get("/home").text
    assert "在订单看板查看全部 11 个有延期风险的订单" in html
