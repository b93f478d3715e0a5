"""The API's invoice, statement and margin objects (money as strings, API.md: /invoices)."""
from __future__ import annotations

from app.models import CreditNote, Invoice
from app.money import amount_in_words, api_amount, api_rate
from app.services.invoicing import Statement


def invoice_json(invoice: Invoice, credit_note: CreditNote | None = None) -> dict:
    """The API's invoice object (money as strings)."""
    data = {
        "id": invoice.id, "number": invoice.number, "client_id": invoice.client_id,
        "issue_date": invoice.issue_date.isoformat(), "status": invoice.status,
        "lines": [{"order_id": ln.order_id, "product": ln.product_name, "quantity": ln.quantity,
                   "unit_price": api_rate(ln.unit_price), "amount": api_amount(ln.amount)} for ln in invoice.lines],
        "total": api_amount(invoice.total), "total_in_words": amount_in_words(invoice.total),
        "paid_amount": api_amount(invoice.paid_amount), "pdf_sha256": invoice.pdf_sha256,
        # The work billed: pieces accepted up to ``up_to``, done from period.from to period.to (null on older invoices).
        "up_to": invoice.billed_up_to.isoformat() if invoice.billed_up_to else None,
        "period": {"from": invoice.period_start.isoformat(), "to": invoice.period_end.isoformat()}
        if invoice.period_start and invoice.period_end else None,
    }
    if credit_note is not None:
        data["credit_note_number"] = credit_note.number
    return data


def statement_json(st: Statement) -> dict:
    return {
        "client_id": st.client.id, "client": st.client.name, "month": st.start.strftime("%Y-%m"),
        "from": st.start.isoformat(), "to": st.end.isoformat(),
        "pieces_delivered": st.pieces_delivered, "value_delivered": api_amount(st.value_delivered),
        "delivered": [{"order_id": d["order_id"], "order": d["order"], "product": d["product"], "pieces": d["pieces"],
                       "unit_price": api_rate(d["unit_price"]), "value": api_amount(d["value"])} for d in st.delivered],
        "pieces_invoiced": st.pieces_invoiced, "pieces_credited": st.pieces_credited,
        "invoiced": api_amount(st.invoiced), "credited": api_amount(st.credited), "paid": api_amount(st.paid),
        "opening_balance": api_amount(st.opening_balance), "balance": api_amount(st.closing_balance),
        "uninvoiced_pieces": st.uninvoiced_pieces,
        "invoices": [{"id": i.id, "number": i.number, "issue_date": i.issue_date.isoformat(), "status": i.status,
                      "total": api_amount(i.total)} for i in st.invoices],
        "credit_notes": [{"number": c.number, "invoice": c.invoice.number, "amount": api_amount(c.amount)}
                         for c in st.credit_notes],
        "payments": [{"invoice_id": p.invoice_id, "paid_on": p.paid_on.isoformat(), "amount": api_amount(p.amount)}
                     for p in st.payments],
    }


def margin_json(m: dict) -> dict:
    return {"order_id": m["order"].id, "order": m["order"].number, "client_id": m["order"].client_id,
            "product": m["product"], "pieces": m["pieces"], "unit_price": api_rate(m["unit_price"]),
            "revenue": api_amount(m["revenue"]), "labour_cost": api_amount(m["cost"]),
            "margin": api_amount(m["margin"]), "margin_pct": None if m["margin_pct"] is None else str(m["margin_pct"])}
