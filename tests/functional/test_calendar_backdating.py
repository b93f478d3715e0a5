"""Rule 12, back-dated entry: Monday's paper batches entered on Wednesday with Monday's date,
through the page and the API alike; the same bad date gets the same status and message on
every path; a return counted offline keeps its moment and its day."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.models import AuditEvent, Batch, Order, PayPeriod, Return
from app.services import production
from app.services.errors import ValidationError
from app.services.periods import PeriodClosed
from tests.helpers import form_values

pytestmark = pytest.mark.calendar


def _count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def counter(make, api, login_as, client):
    """A station with an order taken ten days ago, a worker, the supervisor signed in on the
    page and holding an API token."""
    station = make.station()
    order = make.order(station=station, quantity=500, taken_days_ago=10)
    worker = make.worker(station=station)
    supervisor = login_as("supervisor", station=station)
    return {"order": order, "worker": worker, "api": api(supervisor), "client": client}


def _page_issue(client, order, worker, **fields):
    page = client.get(f"/orders/{order.id}/issue").text
    data = {**form_values(page), "worker_id": str(worker.id), "quantity": "20", **fields}
    return client.post(f"/orders/{order.id}/issue", data=data)


def test_mondays_paper_batch_is_entered_on_wednesday_with_mondays_date_on_the_page(counter, clock, db):
    monday = clock.days_ago(2)
    resp = _page_issue(counter["client"], counter["order"], counter["worker"], issued_on=monday.isoformat())
    assert resp.status_code == 303, resp.text[:500]
    batch = db.session.scalar(select(Batch))
    assert batch.issued_on == monday
    detail = counter["client"].get(resp.headers["Location"]).text
    assert monday.isoformat() in detail or monday.strftime("%m-%d") in detail


def test_mondays_paper_batch_is_entered_through_the_api_with_mondays_date(counter, clock):
    monday = clock.days_ago(2)
    resp = counter["api"].post("/batches", json={"order_id": counter["order"].id, "worker_id": counter["worker"].id,
                                                 "quantity": 20, "issued_on": monday.isoformat()})
    assert resp.status_code == 201, resp.text
    assert resp.get_json()["issued_on"] == monday.isoformat()


def test_the_issue_page_offers_today_yesterday_and_the_day_before_as_one_tap(counter, clock):
    page = counter["client"].get(f"/orders/{counter['order'].id}/issue").text
    for n in (0, 1, 2):
        assert f'data-day="{clock.days_ago(n).isoformat()}"' in page
    assert f'max="{clock.today.isoformat()}"' in page
    assert f'value="{clock.today.isoformat()}"' in page  # today by default


@pytest.mark.parametrize("days, field", [(-1, "issued_on"), (11, "issued_on")])
def test_an_issue_date_in_the_future_or_before_the_order_gets_the_same_422_and_message_on_page_and_api(
        counter, clock, db, days, field):
    day = clock.days_ago(days)
    api = counter["api"].post("/batches", json={"order_id": counter["order"].id, "worker_id": counter["worker"].id,
                                                "quantity": 20, "issued_on": day.isoformat()})
    assert api.status_code == 422
    message = api.get_json()["error"]["fields"][field]
    page = _page_issue(counter["client"], counter["order"], counter["worker"], issued_on=day.isoformat())
    assert page.status_code == 422 and message in page.text
    assert _count(db, Batch) == 0


def test_a_batch_dated_inside_a_closed_pay_period_is_refused_409_on_page_and_api(counter, clock, db):
    day = clock.days_ago(5)
    db.session.add(PayPeriod(start=day - timedelta(days=3), end=day + timedelta(days=1), status="closed"))
    db.session.commit()
    api = counter["api"].post("/batches", json={"order_id": counter["order"].id, "worker_id": counter["worker"].id,
                                                "quantity": 20, "issued_on": day.isoformat()})
    assert api.status_code == 409 and api.get_json()["error"]["code"] == "period_closed"
    page = _page_issue(counter["client"], counter["order"], counter["worker"], issued_on=day.isoformat())
    assert page.status_code == 409
    assert _count(db, Batch) == 0


def test_a_batch_due_before_its_issue_date_is_refused(counter, clock):
    resp = counter["api"].post("/batches", json={"order_id": counter["order"].id, "worker_id": counter["worker"].id,
                                                 "quantity": 20, "issued_on": clock.days_ago(3).isoformat(),
                                                 "due_date": clock.days_ago(4).isoformat()})
    assert resp.status_code == 422 and "due_date" in resp.get_json()["error"]["fields"]


def test_an_order_taken_last_week_is_entered_with_its_day_and_a_past_due_date_is_refused_on_both_paths(
        make, api, login_as, client, clock, db):
    station = make.station()
    product = make.product()
    sup = login_as("supervisor", station=station)
    token = api(sup)
    body = {"client_id": product.client_id, "product_id": product.id, "station_id": station.id, "quantity": 100}
    late = token.post("/orders", json={**body, "taken_on": clock.days_ago(7).isoformat(),
                                       "due_date": clock.days_ago(1).isoformat()})
    assert late.status_code == 201, late.text
    assert late.get_json()["taken_on"] == clock.days_ago(7).isoformat()
    # taken today, due yesterday: the API refuses it as the page does, with the same words
    api_refusal = token.post("/orders", json={**body, "due_date": clock.days_ago(1).isoformat()})
    assert api_refusal.status_code == 422
    message = api_refusal.get_json()["error"]["fields"]["due_date"]
    page = client.get("/orders/new").text
    resp = client.post("/orders/new", data={**form_values(page), "client_id": str(product.client_id),
                                            "product_id": str(product.id), "station_id": str(station.id),
                                            "quantity": "100", "due_date": clock.days_ago(1).isoformat()})
    assert resp.status_code == 422 and message in resp.text
    future = token.post("/orders", json={**body, "taken_on": clock.days_ago(-1).isoformat(),
                                         "due_date": clock.days_ago(-9).isoformat()})
    assert future.status_code == 422 and "taken_on" in future.get_json()["error"]["fields"]
    assert _count(db, Order) == 1


def test_an_orders_due_date_cannot_be_moved_before_the_day_it_was_taken(make, clock):
    order = make.order(taken_days_ago=5)
    with pytest.raises(ValidationError) as refused:
        production.update_order(order, due_date=clock.days_ago(6))
    assert "due_date" in refused.value.fields


def test_a_return_counted_offline_keeps_its_moment_and_its_day_in_the_workshops_timezone(counter, clock, make):
    batch = make.batch(order=counter["order"], worker=counter["worker"], quantity=30, issued_on=clock.days_ago(3))
    # counted yesterday at 23:50 Shanghai time: 15:50 UTC — the UTC day may be the same, the
    # workshop's day is what counts
    counted = datetime.combine(clock.days_ago(1), datetime.min.time()).replace(hour=23, minute=50) \
        .replace(tzinfo=clock.now.tzinfo)
    resp = counter["api"].post(f"/batches/{batch.id}/returns",
                               json={"accepted": 5, "recorded_at": counted.isoformat()})
    assert resp.status_code == 201, resp.text
    body = resp.get_json()
    assert body["work_date"] == clock.days_ago(1).isoformat()
    assert datetime.fromisoformat(body["recorded_at"].replace("Z", "+00:00")) == counted.astimezone(UTC)


def test_recorded_at_without_an_offset_is_refused(counter, make, clock, db):
    batch = make.batch(order=counter["order"], worker=counter["worker"], quantity=30)
    resp = counter["api"].post(f"/batches/{batch.id}/returns", json={"accepted": 5, "recorded_at": "2026-12-01T09:30:00"})
    assert resp.status_code == 422 and "recorded_at" in resp.get_json()["error"]["fields"]
    assert _count(db, Return) == 0


@pytest.mark.parametrize("days_before_issue", [1, -1])
def test_a_work_date_before_the_batch_or_in_the_future_gets_the_same_422_on_page_api_and_service(
        counter, make, clock, db, days_before_issue):
    batch = make.batch(order=counter["order"], worker=counter["worker"], quantity=30, issued_on=clock.days_ago(2))
    day = clock.days_ago(3) if days_before_issue == 1 else clock.days_ago(-1)
    api = counter["api"].post(f"/batches/{batch.id}/returns", json={"accepted": 5, "work_date": day.isoformat()})
    assert api.status_code == 422
    message = api.get_json()["error"]["fields"]["work_date"]
    page = counter["client"].get(f"/batches/{batch.id}/return").text
    resp = counter["client"].post(f"/batches/{batch.id}/return",
                                  data={**form_values(page), "accepted": "5", "work_date": day.isoformat()})
    assert resp.status_code == 422 and message in resp.text
    with pytest.raises(ValidationError) as refused:
        production.record_return(batch=batch, accepted=5, work_date=day)
    assert refused.value.fields["work_date"] == message
    assert _count(db, Return) == 0


def test_the_return_page_puts_the_work_date_one_tap_away_and_no_earlier_than_the_issue(counter, make, clock):
    batch = make.batch(order=counter["order"], worker=counter["worker"], quantity=30, issued_on=clock.days_ago(1))
    page = counter["client"].get(f"/batches/{batch.id}/return").text
    assert f'data-day="{clock.today.isoformat()}"' in page and f'data-day="{clock.days_ago(1).isoformat()}"' in page
    assert f'data-day="{clock.days_ago(2).isoformat()}"' not in page  # before the batch was issued
    assert f'min="{clock.days_ago(1).isoformat()}"' in page


def test_a_back_dated_batch_keeps_its_day_in_the_audit_trail(counter, clock, db):
    monday = clock.days_ago(2)
    counter["api"].post("/batches", json={"order_id": counter["order"].id, "worker_id": counter["worker"].id,
                                          "quantity": 20, "issued_on": monday.isoformat()})
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity == "batch", AuditEvent.action == "issue"))
    assert event.after["issued_on"] == monday.isoformat()


def test_closed_period_refusal_is_the_services(counter, clock, db, make):
    day = clock.days_ago(4)
    db.session.add(PayPeriod(start=day, end=day, status="closed"))
    db.session.commit()
    with pytest.raises(PeriodClosed):
        production.issue_batch(order=counter["order"], worker=counter["worker"], quantity=5, issued_on=day)


def test_a_back_dated_batch_and_return_show_their_date_and_when_they_were_entered(counter, clock, make, client):
    monday = clock.days_ago(2)
    batch = make.batch(order=counter["order"], worker=counter["worker"], quantity=30, issued_on=monday)
    row = make.return_(batch=batch, accepted=5, work_date=monday)
    detail = client.get(f"/batches/{batch.id}").text
    assert "tag-late" in detail and f"录入于 {clock.today.isoformat()}" in detail
    assert "补录" in client.get("/batches").text
    receipt = client.get(f"/returns/{row.id}/receipt").text
    assert "tag-late" in receipt
    from app.batches.tickets import _entered_on

    assert _entered_on(batch) == clock.today.isoformat()  # the printed ticket says so too
