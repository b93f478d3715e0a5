"""Invoices state the period they cover (billable pieces up to a chosen day), the issue form
keeps a running total of the orders chosen (the server recomputes it without script), and the
payment terms print once (finding 8)."""
import re
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Invoice, Order
from app.services import chain, invoicing
from tests.helpers import form_values

pytestmark = pytest.mark.calendar  # work dates relative to today, "last month"


def _pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "invoice.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _work(make, clock, customer, days_ago_pieces, unit_price="0.6000", quantity=1000):
    """One order of ``customer`` with ``(days ago, accepted)`` returns on one batch issued before them."""
    station = make.station()
    order = make.order(station=station, product=make.product(client=customer, unit_price=unit_price), quantity=quantity)
    first = max(d for d, _n in days_ago_pieces)
    batch = make.batch(order=order, quantity=sum(n for _d, n in days_ago_pieces),
                       issued_on=clock.days_ago(first), due_date=clock.today)
    for days, pieces in days_ago_pieces:
        make.return_(batch=batch, accepted=pieces, work_date=clock.days_ago(days))
    return db.session.get(Order, order.id)


def test_an_invoice_bills_only_work_up_to_the_chosen_day_and_states_its_period(app, make, clock, api, tmp_path):
    customer = make.client(name="宁夏红枸杞礼盒有限公司")
    order = _work(make, clock, customer, [(40, 30), (33, 20), (5, 7)])
    up_to = clock.days_ago(20)
    assert invoicing.pieces_accepted_after(customer.id, up_to) == 7
    admin = api()
    resp = admin.post("/invoices", json={"client_id": customer.id, "up_to": up_to.isoformat()})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert [ln["quantity"] for ln in body["lines"]] == [50] and body["total"] == "30.00"
    assert body["up_to"] == up_to.isoformat()
    assert body["period"] == {"from": clock.days_ago(40).isoformat(), "to": clock.days_ago(33).isoformat()}
    assert admin.get(f"/invoices/{body['id']}").get_json()["period"] == body["period"]
    text = _pdf_text(admin.get(f"/invoices/{body['id']}.pdf").data, tmp_path)
    assert "结算期间" in text and f"{clock.days_ago(40).isoformat()} 至 {clock.days_ago(33).isoformat()}" in text
    assert "验收截至" in text and up_to.isoformat() in text
    # The rest later: without a date, everything accepted up to today; the period is its own days.
    rest = admin.post("/invoices", json={"client_id": customer.id}).get_json()
    assert rest["lines"][0]["quantity"] == 7 and rest["up_to"] == clock.today.isoformat()
    assert rest["period"] == {"from": clock.days_ago(5).isoformat(), "to": clock.days_ago(5).isoformat()}
    assert db.session.get(Order, order.id).invoiced == 57
    assert chain.verify_invoices() == []


def test_the_period_follows_the_order_work_was_done_when_an_invoice_is_voided(app, make, clock):
    customer = make.client()
    _work(make, clock, customer, [(50, 10), (45, 10), (40, 10)])
    first = invoicing.issue_invoice(customer, up_to=clock.days_ago(45))
    db.session.commit()
    assert (first.period_start, first.period_end) == (clock.days_ago(50), clock.days_ago(45))
    second = invoicing.issue_invoice(customer)
    db.session.commit()
    assert (second.period_start, second.period_end) == (clock.days_ago(40), clock.days_ago(40))
    invoicing.void_invoice(first, "单价有误")
    db.session.commit()
    again = invoicing.issue_invoice(customer)  # the freed pieces are the first ones done
    db.session.commit()
    assert again.lines[0].quantity == 20
    assert (again.period_start, again.period_end) == (clock.days_ago(50), clock.days_ago(45))


def test_a_future_or_bad_day_is_refused_plainly_and_nothing_is_stored(app, make, clock, api, client, login_as):
    customer = make.client()
    _work(make, clock, customer, [(3, 10)])
    admin = api()
    for value in ((clock.today + timedelta(days=1)).isoformat(), "2026-13-45", "soon"):
        resp = admin.post("/invoices", json={"client_id": customer.id, "up_to": value})
        assert resp.status_code == 422 and "up_to" in resp.get_json()["error"]["fields"], value
    login_as("admin")
    page = client.get(f"/invoices/new?client_id={customer.id}&up_to=soon").get_data(as_text=True)
    assert "日期格式为 YYYY-MM-DD" in page
    values = form_values(page.split('id="issue-form"')[1]) if 'id="issue-form"' in page else {}
    values.update(client_id=customer.id, language="zh", all_orders="1",
                  up_to=(clock.today + timedelta(days=1)).isoformat())
    resp = client.post(f"/invoices/new?client_id={customer.id}", data=values)
    assert resp.status_code == 422 and "日期不能晚于今天" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Invoice.id))) == 0


def test_the_form_defaults_to_last_month_and_keeps_a_running_total_the_server_recomputes(app, make, clock, client, login_as):
    login_as("admin")
    customer = make.client()
    # Work of last month on two orders (one line rounds half-up: 9 × 0.0350 = 0.315 → ¥0.32),
    # and this month's on one.
    last_month_end = clock.today.replace(day=1) - timedelta(days=1)
    ago = (clock.today - last_month_end).days
    a = _work(make, clock, customer, [(ago + 3, 40), (ago, 2)], unit_price="0.6000")
    b = _work(make, clock, customer, [(ago + 1, 9)], unit_price="0.0350")
    c = _work(make, clock, customer, [(0, 5)], unit_price="1.0000")
    assert invoicing.default_up_to(clock.today) == last_month_end
    page = client.get(f"/invoices/new?client_id={customer.id}").get_data(as_text=True)
    assert f'value="{last_month_end.isoformat()}"' in page
    assert a.number in page and b.number in page and c.number not in page
    assert re.search(r'id="inv-total"[^>]*>¥25\.52<', page)  # 42 × 0.60 + 0.32: the sum of rounded lines
    assert 'data-fen="2520"' in page and 'data-fen="32"' in page and "invoices.js" in page
    assert "之后又验收了 5 件" in page
    values = form_values(page.split('id="issue-form"')[1])
    values.update(order_ids=[b.id], recalc="1")
    again = client.post(f"/invoices/new?client_id={customer.id}", data=values)
    html = again.get_data(as_text=True)
    assert again.status_code == 200 and re.search(r'id="inv-total"[^>]*>¥0\.32<', html)
    assert "1 个订单，9 件" in html
    assert db.session.scalar(select(func.count(Invoice.id))) == 0  # recomputing issues nothing
    values.pop("recalc")
    values["order_ids"] = [a.id, b.id]
    done = client.post(f"/invoices/new?client_id={customer.id}", data=values)
    assert done.status_code == 303
    invoice = db.session.scalars(select(Invoice)).one()
    assert invoice.total == Decimal("25.52") and invoice.billed_up_to == last_month_end
    assert invoice.period_end == last_month_end and invoice.period_start == clock.days_ago(ago + 3)
    detail = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "结算期间" in detail and last_month_end.isoformat() in detail
    listed = client.get("/invoices/").get_data(as_text=True)
    assert f"{clock.days_ago(ago + 3).isoformat()} 至 {last_month_end.isoformat()}" in listed


def test_the_payment_terms_print_once(app, make, clock, tmp_path):
    from app.commands.demo import DEMO_ENTERPRISE

    invoicing.update_enterprise_settings(**DEMO_ENTERPRISE)
    customer = make.client(payment_terms_days=45)
    _work(make, clock, customer, [(2, 10)])
    invoice = invoicing.issue_invoice(customer)
    db.session.commit()
    text = _pdf_text(invoicing.stored_pdf(invoice), tmp_path)
    assert text.count("付款条件") == 1
    assert len(re.findall(r"\d+\s*[天日]内付款", text)) == 1 and "45 天内付款" in text
    assert "注明结算单号" in text  # the enterprise's own note, which no longer restates the days
