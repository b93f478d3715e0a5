"""The /invoices API (API.md): codes, bodies, stored PDFs, void, payments, statements."""
import hashlib

from sqlalchemy import func, select

from app.extensions import db
from app.models import CreditNote, Invoice, local_today
from tests.invoices_fixtures import accepted_pieces


def test_issue_answers_201_with_lines_and_total_in_words_then_409_when_nothing_is_left(app, api, make):
    client, (a, b) = accepted_pieces(make, orders=((100, "0.6000", 40), (100, "0.0350", 3)))
    admin = api()
    resp = admin.post("/invoices", json={"client_id": client.id})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["number"] == f"{local_today().year}-000001" and body["client_id"] == client.id
    assert body["lines"] == [
        {"order_id": a.id, "product": a.product.name, "quantity": 40, "unit_price": "0.6000", "amount": "24.00"},
        {"order_id": b.id, "product": b.product.name, "quantity": 3, "unit_price": "0.0350", "amount": "0.11"},
    ]
    assert body["total"] == "24.11" and body["total_in_words"] == "贰拾肆元壹角壹分"
    again = admin.post("/invoices", json={"client_id": client.id})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "nothing_to_invoice"
    assert db.session.scalar(select(func.count(Invoice.id))) == 1


def test_chosen_orders_only_and_bad_input_is_422(app, api, make):
    client, (a, b) = accepted_pieces(make, orders=((100, "1.0000", 10), (100, "1.0000", 20)))
    other, (foreign,) = accepted_pieces(make)
    admin = api()
    resp = admin.post("/invoices", json={"client_id": client.id, "order_ids": [b.id]})
    assert resp.status_code == 201 and [ln["order_id"] for ln in resp.get_json()["lines"]] == [b.id]
    for body, field in (({}, "client_id"), ({"client_id": "x"}, "client_id"), ({"client_id": 999999}, "client_id"),
                        ({"client_id": client.id, "order_ids": [foreign.id]}, "order_ids"),
                        ({"client_id": client.id, "order_ids": ["abc"]}, "order_ids")):
        bad = admin.post("/invoices", json=body)
        assert bad.status_code == 422 and field in bad.get_json()["error"]["fields"], body
    assert db.session.scalar(select(func.count(Invoice.id))) == 1


def test_supervisors_get_403_and_missing_invoices_404(app, api, make):
    client, _ = accepted_pieces(make)
    supervisor = api(role="supervisor")
    assert supervisor.post("/invoices", json={"client_id": client.id}).status_code == 403
    assert supervisor.get("/invoices").status_code == 403
    admin = api()
    invoice_id = admin.post("/invoices", json={"client_id": client.id}).get_json()["id"]
    assert supervisor.get(f"/invoices/{invoice_id}").status_code == 403
    assert supervisor.get(f"/invoices/{invoice_id}.pdf").status_code == 403
    assert supervisor.post(f"/invoices/{invoice_id}/void", json={"reason": "x"}).status_code == 403
    assert admin.get("/invoices/999999").status_code == 404
    assert admin.get("/invoices/999999.pdf").status_code == 404
    assert admin.get(f"/invoices/{invoice_id}/credit-note.pdf").status_code == 404  # not void
    assert admin.post("/invoices/999999/void", json={"reason": "x"}).status_code == 404


def test_pdf_download_is_the_same_stored_bytes_every_time_as_an_attachment(app, api, make):
    client, _ = accepted_pieces(make)
    admin = api()
    invoice = admin.post("/invoices", json={"client_id": client.id}).get_json()
    first, second = admin.get(f"/invoices/{invoice['id']}.pdf"), admin.get(f"/invoices/{invoice['id']}.pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert first.headers["Content-Disposition"] == f'attachment; filename="invoice-{invoice["number"]}.pdf"'
    assert first.data == second.data and first.data.startswith(b"%PDF")
    assert hashlib.sha256(first.data).hexdigest() == invoice["pdf_sha256"]


def test_void_issues_a_credit_note_frees_the_pieces_and_reinvoicing_works(app, api, make):
    client, _ = accepted_pieces(make)
    admin = api()
    invoice = admin.post("/invoices", json={"client_id": client.id}).get_json()
    assert admin.post(f"/invoices/{invoice['id']}/void", json={}).status_code == 422
    resp = admin.post(f"/invoices/{invoice['id']}/void", json={"reason": "价格有误"})
    assert resp.status_code == 200
    assert resp.get_json()["status"] == "void"
    assert resp.get_json()["credit_note_number"] == f"CN-{local_today().year}-000001"
    assert admin.post(f"/invoices/{invoice['id']}/void", json={"reason": "again"}).status_code == 409
    assert admin.get(f"/invoices/{invoice['id']}").get_json()["credit_note_number"] == resp.get_json()["credit_note_number"]
    note_pdf = admin.get(f"/invoices/{invoice['id']}/credit-note.pdf")
    assert note_pdf.status_code == 200 and note_pdf.data.startswith(b"%PDF")
    assert note_pdf.headers["Content-Disposition"] == f'attachment; filename="credit-note-{resp.get_json()["credit_note_number"]}.pdf"'
    again = admin.post("/invoices", json={"client_id": client.id})
    assert again.status_code == 201 and again.get_json()["total"] == invoice["total"]
    assert db.session.scalar(select(func.count(CreditNote.id))) == 1


def test_payments_then_paid_and_overpayment_refused(app, api, make):
    client, _ = accepted_pieces(make, orders=((100, "1.0000", 50),))
    admin = api()
    invoice = admin.post("/invoices", json={"client_id": client.id}).get_json()
    today = local_today().isoformat()
    part = admin.post(f"/invoices/{invoice['id']}/payments", json={"paid_on": today, "amount": "20.00"})
    assert part.status_code == 201 and part.get_json()["invoice_status"] == "issued"
    over = admin.post(f"/invoices/{invoice['id']}/payments", json={"paid_on": today, "amount": "30.01"})
    assert over.status_code == 422 and "amount" in over.get_json()["error"]["fields"]
    number = admin.post(f"/invoices/{invoice['id']}/payments", json={"paid_on": today, "amount": 1.5})
    assert number.status_code == 201 and number.get_json()["paid_amount"] == "21.50"  # a JSON number, read as Decimal
    full = admin.post(f"/invoices/{invoice['id']}/payments", json={"paid_on": today, "amount": "28.50"})
    assert full.status_code == 201 and full.get_json()["invoice_status"] == "paid"
    assert admin.post(f"/invoices/{invoice['id']}/void", json={"reason": "x"}).status_code == 409
    listed = admin.get("/invoices?status=paid").get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == invoice["id"]
    assert admin.get(f"/invoices?month={today[:7]}&status=void").get_json()["total"] == 0
    assert admin.get("/invoices?month=2026-13").status_code == 422


def test_idempotency_key_replays_the_first_invoice(app, api, make):
    client, _ = accepted_pieces(make)
    admin = api()
    first = admin.post("/invoices", json={"client_id": client.id}, headers={"Idempotency-Key": "k1"})
    repeat = admin.post("/invoices", json={"client_id": client.id}, headers={"Idempotency-Key": "k1"})
    assert first.status_code == repeat.status_code == 201 and first.data == repeat.data
    assert db.session.scalar(select(func.count(Invoice.id))) == 1


def test_statement_and_margin_endpoints(app, api, make):
    client, (order,) = accepted_pieces(make, orders=((100, "0.6000", 40),))
    admin = api()
    admin.post("/invoices", json={"client_id": client.id})
    month = local_today().isoformat()[:7]
    st = admin.get(f"/clients/{client.id}/statement?month={month}")
    assert st.status_code == 200
    body = st.get_json()
    assert (body["pieces_delivered"], body["invoiced"], body["paid"], body["balance"]) == (40, "24.00", "0.00", "24.00")
    pdf = admin.get(f"/clients/{client.id}/statement.pdf?month={month}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert admin.get("/clients/999999/statement").status_code == 404
    margin = admin.get(f"/orders/{order.id}/margin").get_json()
    assert (margin["revenue"], margin["labour_cost"], margin["margin"]) == ("24.00", "14.00", "10.00")
    assert api(role="supervisor").get(f"/orders/{order.id}/margin").status_code == 403
