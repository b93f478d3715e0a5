"""Invoices, credit notes, payments, statements and margins (API.md: /invoices)."""
from __future__ import annotations

from flask import request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api.core import api_endpoint, paginate
from app.dates import month_bounds, parse_month
from app.extensions import db
from app.invoices.forms import IssueInvoiceForm, PaymentForm, VoidInvoiceForm
from app.invoices.queries import filtered_invoices
from app.invoices.serializers import invoice_json, margin_json, statement_json
from app.models import Client, Invoice, Order
from app.money import api_amount
from app.pdf import pdf_response
from app.permissions import get_visible_or_404
from app.services import invoicing
from app.services.errors import NotFound, ValidationError


def _invoice_or_404(invoice_id: int) -> Invoice:
    invoice = db.session.scalar(select(Invoice).options(selectinload(Invoice.lines)).where(Invoice.id == invoice_id))
    if invoice is None:
        raise NotFound()
    return invoice


@api_endpoint("/invoices", "POST", roles=("admin",), form=IssueInvoiceForm, status=201,
              summary="Invoice a client's accepted, not yet invoiced pieces")
def api_issue_invoice(form):
    from flask_babel import gettext as _

    client = db.session.get(Client, form.client_id.data)
    if client is None:
        raise ValidationError(fields={"client_id": _("No such client.")})
    invoice = invoicing.issue_invoice(client, form.order_ids.data or None, language=form.language.data or "zh",
                                      up_to=form.up_to.data)
    return invoice_json(invoice), 201


@api_endpoint("/invoices", "GET", roles=("admin",), summary="List invoices",
              query={"client_id": "integer", "status": "string", "month": "string"})
def api_list_invoices():
    return paginate(filtered_invoices(request.args), invoice_json)


@api_endpoint("/invoices/<int:invoice_id>", "GET", roles=("admin",), summary="One invoice")
def api_get_invoice(invoice_id):
    invoice = _invoice_or_404(invoice_id)
    return invoice_json(invoice, invoicing.credit_notes_for([invoice.id]).get(invoice.id))


@api_endpoint("/invoices/<int:invoice_id>.pdf", "GET", roles=("admin",), summary="The invoice PDF as issued")
def api_invoice_pdf(invoice_id):
    invoice = _invoice_or_404(invoice_id)
    return pdf_response(invoicing.stored_pdf(invoice), f"invoice-{invoice.number}.pdf")


@api_endpoint("/invoices/<int:invoice_id>/void", "POST", roles=("admin",), form=VoidInvoiceForm,
              summary="Void an invoice by a credit note")
def api_void_invoice(form, invoice_id):
    invoice = _invoice_or_404(invoice_id)
    note = invoicing.void_invoice(invoice, form.reason.data)
    return {"id": invoice.id, "status": "void", "credit_note_number": note.number,
            "credit_note_amount": api_amount(note.amount)}


@api_endpoint("/invoices/<int:invoice_id>/credit-note.pdf", "GET", roles=("admin",),
              summary="The credit note that voided the invoice, as PDF")
def api_credit_note_pdf(invoice_id):
    invoice = _invoice_or_404(invoice_id)
    note = invoicing.credit_notes_for([invoice.id]).get(invoice.id)
    if note is None:
        raise NotFound()
    return pdf_response(invoicing.stored_credit_note_pdf(note), f"credit-note-{note.number}.pdf")


@api_endpoint("/invoices/<int:invoice_id>/payments", "POST", roles=("admin",), form=PaymentForm, status=201,
              summary="Record a payment received (the invoice is paid when fully paid)")
def api_mark_paid(form, invoice_id):
    invoice = _invoice_or_404(invoice_id)
    payment = invoicing.mark_paid(invoice, form.paid_on.data, form.amount.data)
    return {"id": payment.id, "invoice_id": invoice.id, "paid_on": payment.paid_on.isoformat(),
            "amount": api_amount(payment.amount), "invoice_status": invoice.status,
            "paid_amount": api_amount(invoice.paid_amount)}, 201


def _statement_from_args(client_id):
    from app.models import local_today

    client = db.session.get(Client, client_id)
    if client is None:
        raise NotFound()
    return invoicing.monthly_statement(client, parse_month(request.args.get("month"), default=month_bounds(local_today())))


@api_endpoint("/clients/<int:client_id>/statement", "GET", roles=("admin",), query={"month": "string"},
              summary="A client's monthly statement: delivered, invoiced, paid, balance")
def api_client_statement(client_id):
    return statement_json(_statement_from_args(client_id))


@api_endpoint("/clients/<int:client_id>/statement.pdf", "GET", roles=("admin",), query={"month": "string", "lang": "string"},
              summary="A client's monthly statement as PDF")
def api_client_statement_pdf(client_id):
    st = _statement_from_args(client_id)
    lang = request.args.get("lang") or "zh"
    lang = lang if lang in invoicing.LANGUAGES else "zh"
    return pdf_response(invoicing.render_statement_pdf(st, lang), f"statement-{client_id}-{st.start:%Y-%m}.pdf")


@api_endpoint("/orders/<int:order_id>/margin", "GET", roles=("admin",), summary="An order's margin (admins only)")
def api_order_margin(order_id):
    order = get_visible_or_404(Order, order_id)
    margins = invoicing.order_margins(order_ids=[order.id])
    if not margins:
        return {"order_id": order.id, "order": order.number, "pieces": 0, "revenue": "0.00", "labour_cost": "0.00",
                "margin": "0.00", "margin_pct": None}
    return margin_json(margins[0])
