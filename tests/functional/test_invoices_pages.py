"""The admin's invoice pages: issue, list, detail, print, void, payments, statements,
margins and enterprise details — every form records once and refuses bad input plainly."""
import io
import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import Invoice, Payment, local_today
from tests.helpers import form_values
from tests.invoices_fixtures import accepted_pieces
from tests.unit.test_invoices_pdf import _tiny_png


def _issue_via_page(client, customer, order_ids=None):
    page = client.get(f"/invoices/new?client_id={customer.id}&up_to={local_today()}")
    assert page.status_code == 200
    values = form_values(page.get_data(as_text=True))
    data = {**values, "client_id": customer.id, "language": "zh"}
    if order_ids is None:
        data["all_orders"] = "1"  # as the client page's "invoice all of it" button sends
    else:
        data["order_ids"] = order_ids
    return data, client.post(f"/invoices/new?client_id={customer.id}&up_to={local_today()}", data=data)


def test_admin_issues_from_the_page_once_even_when_the_form_is_sent_twice(app, client, login_as, make):
    login_as("admin")
    customer, (a, b) = accepted_pieces(make, orders=((100, "0.6000", 40), (100, "1.0000", 5)))
    page = client.get(f"/invoices/new?client_id={customer.id}&up_to={local_today()}").get_data(as_text=True)
    assert a.number in page and b.number in page and "¥24.00" in page
    values = form_values(page)
    none = client.post(f"/invoices/new?client_id={customer.id}&up_to={local_today()}", data={**values, "client_id": customer.id, "language": "zh"})
    assert none.status_code == 422 and "请至少选择一个订单" in none.get_data(as_text=True)
    data, resp = _issue_via_page(client, customer, [a.id])
    assert resp.status_code == 303
    invoice = db.session.scalars(select(Invoice)).one()
    assert resp.headers["Location"].endswith(f"/invoices/{invoice.id}")
    assert [ln.order_id for ln in invoice.lines] == [a.id]
    repeat = client.post(f"/invoices/new?client_id={customer.id}&up_to={local_today()}", data=data)
    assert repeat.status_code in (302, 303) and repeat.headers["Location"].endswith(f"/invoices/{invoice.id}")
    assert db.session.scalar(select(func.count(Invoice.id))) == 1
    detail = client.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert invoice.number in detail and "贰拾肆元整" in detail


def test_nothing_left_shows_a_plain_message_and_stores_nothing(app, client, login_as, make):
    login_as("admin")
    customer, (order,) = accepted_pieces(make)
    data, resp = _issue_via_page(client, customer, [order.id])
    assert resp.status_code == 303
    page = client.get(f"/invoices/new?client_id={customer.id}&up_to={local_today()}")
    values = form_values(page.get_data(as_text=True))
    again = client.post(f"/invoices/new?client_id={customer.id}&up_to={local_today()}",
                        data={**values, "client_id": customer.id, "order_ids": [order.id], "language": "zh"})
    assert again.status_code == 409
    assert "没有可结算的件数" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Invoice.id))) == 1


def test_list_filters_by_month_and_status_and_supervisors_are_refused(app, client, login_as, make):
    login_as("admin")
    customer, _ = accepted_pieces(make, client=make.client(name="银川红枸杞公司"))
    _issue_via_page(client, customer)
    month = local_today().isoformat()[:7]
    page = client.get(f"/invoices/?month={month}&status=issued").get_data(as_text=True)
    assert "银川红枸杞公司" in page and f"{local_today().year}-000001" in page
    assert f"{local_today().year}-000001" not in client.get("/invoices/?status=void").get_data(as_text=True)
    assert client.get("/invoices/?month=nonsense").status_code == 302
    assert client.get("/invoices/statement").status_code == 200
    home = client.get("/home").get_data(as_text=True)
    assert "未付款的客户结算单" in home and "¥24.00" in home
    login_as("supervisor")
    for url in ("/invoices/", "/invoices/new", "/invoices/statement", "/invoices/settings", "/invoices/margins",
                f"/invoices/clients/{customer.id}"):
        assert client.get(url).status_code == 403, url


def test_void_needs_a_reason_then_frees_the_pieces(app, client, login_as, make):
    login_as("admin")
    customer, _ = accepted_pieces(make)
    _issue_via_page(client, customer)
    invoice = db.session.scalars(select(Invoice)).one()
    detail = client.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    void_form = detail[detail.index(f'action="/invoices/{invoice.id}/void"'):]
    values = form_values(void_form)
    empty = client.post(f"/invoices/{invoice.id}/void", data={**values, "reason": ""})
    assert empty.status_code == 422 and "请填写作废原因" in empty.get_data(as_text=True)
    done = client.post(f"/invoices/{invoice.id}/void", data={**values, "reason": "单价有误"})
    assert done.status_code == 303
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status == "void"
    page = client.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert "CN-" in page and "单价有误" in page
    assert customer.name in client.get(f"/invoices/clients/{customer.id}").get_data(as_text=True)
    _data, resp = _issue_via_page(client, customer)
    assert resp.status_code == 303


def test_payment_form_records_once_and_refuses_overpayment(app, client, login_as, make):
    login_as("admin")
    customer, _ = accepted_pieces(make, orders=((100, "1.0000", 50),))
    _issue_via_page(client, customer)
    invoice = db.session.scalars(select(Invoice)).one()
    detail = client.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    values = form_values(detail[detail.index(f'action="/invoices/{invoice.id}/payments"'):])
    today = local_today().isoformat()
    over = client.post(f"/invoices/{invoice.id}/payments", data={**values, "paid_on": today, "amount": "60"})
    assert over.status_code == 422 and "¥50.00" in over.get_data(as_text=True)
    data = {**values, "paid_on": today, "amount": "50.00"}
    assert client.post(f"/invoices/{invoice.id}/payments", data=data).status_code == 303
    assert client.post(f"/invoices/{invoice.id}/payments", data=data).status_code in (302, 303)
    assert db.session.scalar(select(func.count(Payment.id))) == 1
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status == "paid"


def test_pdf_print_statement_and_margin_pages(app, client, login_as, make):
    login_as("admin")
    customer, _ = accepted_pieces(make)
    _issue_via_page(client, customer)
    invoice = db.session.scalars(select(Invoice)).one()
    pdf = client.get(f"/invoices/{invoice.id}.pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Disposition"].startswith("attachment;")
    assert pdf.data == client.get(f"/invoices/{invoice.id}.pdf").data
    printed = client.get(f"/invoices/{invoice.id}/print").get_data(as_text=True)
    assert invoice.number in printed and 'id="print-now"' in printed
    month = local_today().isoformat()[:7]
    st = client.get(f"/invoices/statement?client_id={customer.id}&month={month}").get_data(as_text=True)
    assert "月度对账单" in st and "¥24.00" in st
    st_pdf = client.get(f"/invoices/statement.pdf?client_id={customer.id}&month={month}")
    assert st_pdf.status_code == 200 and st_pdf.data.startswith(b"%PDF")
    assert client.get("/invoices/statement.pdf?client_id=999999").status_code == 404
    margins = client.get(f"/invoices/margins?client_id={customer.id}").get_data(as_text=True)
    assert "¥10.00" in margins  # 40 × (0.60 − 0.35)


def test_enterprise_settings_with_logo_show_on_new_invoices(app, client, login_as, make):
    login_as("admin")
    page = client.get("/invoices/settings").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    base = {"csrf_token": token.group(1), "address": "东城区幸福路 8 号", "tax_id": "91110101MA0000", "bank_name": "中国银行",
            "bank_account": "6216000012345678", "phone": "", "payment_note": ""}
    missing = client.post("/invoices/settings", data={**base, "name": ""})
    assert missing.status_code == 422
    svg = client.post("/invoices/settings", data={**base, "name": "东城车间", "logo": (io.BytesIO(b"<svg/>"), "logo.svg")},
                      content_type="multipart/form-data")
    assert svg.status_code == 422 and "PNG" in svg.get_data(as_text=True)
    ok = client.post("/invoices/settings", data={**base, "name": "东城车间", "logo": (io.BytesIO(_tiny_png()), "logo.png")},
                     content_type="multipart/form-data")
    assert ok.status_code == 303
    customer, _ = accepted_pieces(make)
    _issue_via_page(client, customer)
    invoice = db.session.scalars(select(Invoice)).one()
    printed = client.get(f"/invoices/{invoice.id}/print").get_data(as_text=True)
    assert "东城车间" in printed and "data:image/png;base64," in printed and "6216000012345678" in printed


def _selects_during(count_queries, fn):
    with count_queries() as queries:
        resp = fn()
    assert resp.status_code == 200
    return len(queries.selects)


def test_invoice_list_loads_in_a_fixed_number_of_queries(app, client, login_as, make, api, count_queries):
    login_as("admin")
    admin_api = api()
    customer, _orders = accepted_pieces(make)
    _issue_via_page(client, customer)
    few_page = _selects_during(count_queries, lambda: client.get("/invoices/"))
    few_api = _selects_during(count_queries, lambda: admin_api.get("/invoices"))
    for _ in range(2):
        customer, _orders = accepted_pieces(make)
        _issue_via_page(client, customer)
    assert _selects_during(count_queries, lambda: client.get("/invoices/")) == few_page
    assert _selects_during(count_queries, lambda: admin_api.get("/invoices")) == few_api


def test_pages_speak_english_on_request(app, client, login_as, make):
    login_as("admin")
    customer, _ = accepted_pieces(make)
    _issue_via_page(client, customer)
    invoice = db.session.scalars(select(Invoice)).one()
    listing = client.get("/invoices/?lang=en").get_data(as_text=True)
    assert "Issue invoice" in listing and "Unpaid" in listing
    detail = client.get(f"/invoices/{invoice.id}").get_data(as_text=True)  # the cookie keeps English
    assert "Record payment" in detail and "Void this invoice" in detail and "贰拾肆元整" in detail
