"""Rules held once, in a service or in app/permissions, so that the page and the API answer
alike (rule 10): a batch's default due date, the shortfall a close would charge, who sees ID
and bank numbers, who may see a product's picture."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from app import files
from app.extensions import db
from app.models import Batch, local_today
from app.permissions import sees_sensitive
from app.services import catalog, production, wages

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


@pytest.mark.calendar
@pytest.mark.parametrize("due_in_days", [30, 3, -2])
def test_the_issue_page_suggests_the_due_date_the_api_gives_a_batch_without_one(client, login_as, api, make,
                                                                                  due_in_days):
    station = make.station()
    order = make.order(station=station, due_in_days=due_in_days)
    worker = make.worker(station=station)
    expected = production.default_due_date(order)
    today = local_today()
    assert expected == max(today, min(order.due_date, today + timedelta(days=7)))
    login_as("supervisor", station=station)
    page = client.get(f"/orders/{order.id}/issue").get_data(as_text=True)
    field = re.search(r'<input[^>]*name="due_date"[^>]*>', page)
    assert field and f'value="{expected.isoformat()}"' in field.group(0)
    answer = api(make.staff("supervisor", station=station)).post(
        "/batches", json={"order_id": order.id, "worker_id": worker.id, "quantity": 5})
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["due_date"] == expected.isoformat()


def test_the_close_page_shows_the_shortfall_and_deduction_the_close_then_records(client, login_as, make):
    station = make.station(shortfall_policy="material_cost")
    order = make.order(station=station, product=make.product(material_cost="0.0450"))
    batch = make.batch(order=order, quantity=37)
    make.return_(batch=batch, accepted=20, rejected=2)
    assert production.shortfall_preview(batch) == (15, Decimal("0.68"))  # 15 × 0.045 = 0.675, half-up
    login_as("supervisor", station=station)
    page = client.get(f"/batches/{batch.id}/close").get_data(as_text=True)
    assert "0.68" in page
    production.close_batch(batch=db.session.get(Batch, batch.id), reason="lost")
    db.session.commit()
    closed = db.session.get(Batch, batch.id)
    assert (closed.shortfall, closed.shortfall_deduction) == (15, Decimal("0.68"))
    free = make.batch(order=make.order(station=make.station()), quantity=10)
    assert production.shortfall_preview(free) == (10, None)


def test_only_admins_see_sensitive_fields_on_every_path(app, make, api):
    station = make.station()
    worker = make.worker(station=station, id_number="110101198001011234", bank_account="6222020200112233445")
    admin, supervisor = make.staff("admin"), make.staff("supervisor", station=station)
    assert [sees_sensitive(u) for u in (admin, supervisor, worker)] == [True, False, False]
    as_admin = api(admin).get(f"/workers/{worker.id}").get_json()
    as_supervisor = api(supervisor).get(f"/workers/{worker.id}").get_json()
    assert as_admin["id_number"] and as_admin["id_number"] != "110101198001011234"  # masked
    assert "id_number" not in as_supervisor and "bank_account" not in as_supervisor


def test_a_worker_sees_the_picture_of_what_they_make_and_nothing_else(client, login_as, make):
    station = make.station()
    held, other = make.product(), make.product()
    for product in (held, other):
        catalog.update_product(product, picture=files.store_file("p.png", "image/png", PNG))
    db.session.commit()
    worker = make.worker(station=station, pin="246810")
    make.batch(order=make.order(station=station, product=held), worker=worker)
    login_as("worker", account=worker)
    assert client.get(f"/products/{held.id}/picture").status_code == 200
    assert client.get(f"/products/{other.id}/picture").status_code == 404
    login_as("supervisor", station=station)
    assert client.get(f"/products/{other.id}/picture").status_code == 200


@pytest.mark.calendar
def test_the_api_and_the_page_export_a_payroll_alike_and_either_blocks_reopening(client, login_as, api, make):
    from tests.wages_fixtures import close, issue_on, period_for, previous_month, return_on

    start, end = previous_month()
    station = make.station()
    order = make.order(station=station)
    return_on(issue_on(make, order, make.worker(station=station), 20, start), start, accepted=10)
    open_period = period_for(local_today().replace(day=1), local_today().replace(day=1))
    period = period_for(start, end)
    close(period)
    admin = api(make.staff("admin"))
    login_as("admin")
    assert admin.get(f"/pay-periods/{open_period.id}/export.csv").status_code == 404
    assert client.get(f"/pay-periods/{open_period.id}/export.csv").status_code == 404
    assert wages.reopen_blockers(period) == []
    answer = admin.get(f"/pay-periods/{period.id}/export.csv")
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"] == f'attachment; filename="payroll-{start:%Y-%m}.csv"'
    assert client.get(f"/pay-periods/{period.id}/export.csv").data == answer.data
    assert len(wages.reopen_blockers(period)) == 1  # exported (nothing printed)
