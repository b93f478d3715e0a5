"""Wages pages: period overview and drill-down, adjustments, closing, downloads; the worker's
phone pages, with nothing of another worker anywhere."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Adjustment, PayPeriod, Payslip, local_today
from app.services import wages
from tests.helpers import form_values
from tests.wages_fixtures import close, issue_on, period_for, previous_month, return_on

pytestmark = pytest.mark.calendar  # runs again on the hard days (scripts/test.sh)


@pytest.fixture
def month(make):
    """Last month at one station: two workers with returns, one closed period."""
    start, end = previous_month()
    station = make.station()
    product = make.product(piece_rate="0.0350")
    order = make.order(station=station, product=product, quantity=5000)
    alice, bob = make.worker(station=station, name="王秀英"), make.worker(station=station, name="李桂兰")
    for worker, counts in ((alice, (7, 11, 13)), (bob, (5,))):
        batch = issue_on(make, order, worker, 100, start)
        for i, n in enumerate(counts):
            return_on(batch, start + timedelta(days=i), accepted=n)
    period = period_for(start, end)
    return {"station": station, "order": order, "product": product, "alice": alice, "bob": bob, "period": period}


def test_admin_sees_period_overview_with_live_figures_then_closes_it(client, login_as, month):
    login_as("admin")
    page = client.get(f"/pay-periods/{month['period'].id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "王秀英" in html and "¥1.09" in html  # 31 × 0.035 = 1.085 → 1.09
    assert page.headers["Cache-Control"] == "no-store"
    confirm = client.get(f"/pay-periods/{month['period'].id}/close")
    assert confirm.status_code == 200
    values = form_values(confirm.get_data(as_text=True))
    done = client.post(f"/pay-periods/{month['period'].id}/close", data=values)
    assert done.status_code == 303
    again = client.post(f"/pay-periods/{month['period'].id}/close", data=values)  # a re-sent form
    assert again.status_code in (302, 303)
    assert db.session.scalar(select(func.count(Payslip.id))) == 2
    assert db.session.get(PayPeriod, month["period"].id).status == "closed"


def test_adjustment_form_records_once_and_bad_amount_stores_nothing(client, login_as, month):
    login_as("admin")
    url = f"/pay-periods/{month['period'].id}"
    values = form_values(client.get(url).get_data(as_text=True).split('action="' + url + '/adjustments"')[1])
    values.update(worker_id=month["alice"].id, amount="abc", reason="全勤奖")
    bad = client.post(url + "/adjustments", data=values)
    assert bad.status_code == 422
    assert "最多" in bad.get_data(as_text=True) or "decimal" in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Adjustment.id))) == 0
    values["amount"] = "50.00"
    assert client.post(url + "/adjustments", data=values).status_code == 303
    assert client.post(url + "/adjustments", data=values).status_code in (302, 303)
    assert db.session.scalar(select(func.count(Adjustment.id))) == 1


def test_closed_period_downloads_statements_and_payroll(client, login_as, month):
    close(month["period"])
    login_as("admin")
    pdf = client.get(f"/pay-periods/{month['period'].id}/statements.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get(f"/pay-periods/{month['period'].id}/statements.pdf").data == pdf.data
    xlsx = client.get(f"/pay-periods/{month['period'].id}/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    csv = client.get(f"/pay-periods/{month['period'].id}/export.csv").data.decode("utf-8-sig")
    assert "王秀英" in csv and "1.09" in csv


def test_supervisor_sees_only_own_station_in_period_and_export(client, login_as, make, month):
    close(month["period"])
    login_as("supervisor")  # at a new, other station
    html = client.get(f"/pay-periods/{month['period'].id}").get_data(as_text=True)
    assert "王秀英" not in html
    csv = client.get(f"/pay-periods/{month['period'].id}/export.csv").data.decode("utf-8-sig")
    assert "王秀英" not in csv


def test_worker_home_shows_today_and_month_in_big_digits_and_no_store(client, login_as, make):
    worker = login_as("worker")
    order = make.order(station=worker.station, product=make.product(piece_rate="0.3500"))
    batch = make.batch(order=order, worker=worker, quantity=100, due_date=local_today())
    make.return_(batch=batch, accepted=10)
    page = client.get("/home")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert 'data-testid="today-amount">¥3.50<' in html
    assert "今天挣了3元5角" in html
    assert "chart.umd.js" in html and "今天到期" in html or "Due today" in html
    for path in ("/me/earnings", "/me/batches", "/me/payslips"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        assert resp.headers["Cache-Control"] == "no-store"


def test_worker_pages_show_nothing_of_another_worker(client, login_as, make, month):
    close(month["period"])
    login_as("worker", account=month["bob"])
    alice_slip = db.session.scalar(select(Payslip).where(Payslip.worker_id == month["alice"].id))
    bob_slip = db.session.scalar(select(Payslip).where(Payslip.worker_id == month["bob"].id))
    assert client.get(f"/payslips/{bob_slip.id}.pdf").status_code == 200
    assert client.get(f"/payslips/{alice_slip.id}.pdf").status_code == 404
    for path in ("/home", "/me/earnings?month=" + month["period"].start.strftime("%Y-%m"), "/me/batches", "/me/payslips"):
        html = client.get(path).get_data(as_text=True)
        assert "王秀英" not in html, path
    assert client.get(f"/wages/workers/{month['alice'].id}").status_code == 403
    assert client.get(f"/pay-periods/{month['period'].id}").status_code == 403


def test_worker_sees_pictures_only_of_products_they_were_given(client, login_as, make, month):
    from app.models import StoredFile

    picture = StoredFile(filename="p.png", content_type="image/png", size=4, sha256="x", data=b"\x89PNG")
    db.session.add(picture)
    db.session.flush()
    month["product"].picture_id = picture.id
    other = make.product()
    other.picture_id = picture.id
    db.session.commit()
    login_as("worker", account=month["alice"])
    assert client.get(f"/products/{month['product'].id}/picture").status_code == 200
    assert client.get(f"/products/{other.id}/picture").status_code == 404


def test_overlapping_period_on_the_page_is_refused_with_a_message(client, login_as, month):
    login_as("admin")
    page = client.get("/pay-periods").get_data(as_text=True)
    values = form_values(page[page.index('action="/pay-periods"'):])
    values.update(start=month["period"].start.isoformat(), end=(month["period"].start + timedelta(days=3)).isoformat())
    resp = client.post("/pay-periods", data=values)
    assert resp.status_code == 409  # a conflict with what is stored, as the API answers
    assert "重叠" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count(PayPeriod.id))) == 1


def test_drill_down_shows_frozen_lines_and_amount_in_words(client, login_as, month):
    wages.add_adjustment(worker=month["alice"], period=month["period"], amount=Decimal("-0.09"), reason="迟交")
    db.session.commit()
    close(month["period"])
    login_as("admin")
    html = client.get(f"/wages/workers/{month['alice'].id}?period={month['period'].id}").get_data(as_text=True)
    assert "迟交" in html and "¥1.00" in html and "壹元整" in html


def test_worker_home_loads_in_a_fixed_number_of_queries(app, client, login_as, make, count_queries):

    worker = login_as("worker")
    for _ in range(3):
        order = make.order(station=worker.station)
        make.return_(batch=make.batch(order=order, worker=worker, quantity=20), accepted=5)
    with count_queries() as queries:
        assert client.get("/home").status_code == 200
    assert len(queries.selects) <= 6, queries.selects  # the account, a day-by-day aggregate, held batches, statements
