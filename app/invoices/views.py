"""Invoice pages for the enterprise admin: list, issue, detail, print, void, payments,
monthly statements, order margins and the enterprise's details. Thin: services do the work."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.dates import month_bounds, parse_month
from app.extensions import db
from app.forms import form_view
from app.invoices.forms import EnterpriseSettingsForm, IssueInvoiceForm, PaymentForm, VoidInvoiceForm
from app.invoices.queries import filtered_invoices
from app.main.views import HOME_PANELS
from app.models import Client, Invoice, Payment, local_today
from app.money import line_amount
from app.pdf import pdf_response
from app.permissions import require_roles
from app.services import invoicing
from app.services.errors import ValidationError
from app.submission import form_status, record_once
from app.templating import NAV_EXTRA

bp = Blueprint("invoices", __name__, url_prefix="/invoices")

NAV_EXTRA.extend([
    ("invoices.list_invoices", _l("Invoices"), ("admin",)),
    ("invoices.statement", _l("Statements"), ("admin",)),
    ("invoices.enterprise_settings", _l("Enterprise details"), ("admin",)),
])


def _home_panel():
    return "invoices/_home_panel.html", invoicing.receivables_summary()


HOME_PANELS["admin"].append(_home_panel)

STATUS_LABELS = {"issued": _l("Unpaid"), "paid": _l("Paid"), "void": _l("Void")}
PER_PAGE = 50


@bp.app_template_global()
def invoice_status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def _invoice_or_404(invoice_id: int) -> Invoice:
    from flask import abort

    invoice = db.session.scalar(select(Invoice).options(selectinload(Invoice.lines), selectinload(Invoice.client))
                                .where(Invoice.id == invoice_id))
    if invoice is None:
        abort(404)
    return invoice


def _page_language() -> str:
    from flask_babel import get_locale

    return str(get_locale()) if str(get_locale()) in invoicing.LANGUAGES else "zh"


def _clients():
    return db.session.execute(select(Client.id, Client.name).order_by(Client.name)).all()


# --- list


@bp.get("/")
@require_roles("admin")
def list_invoices():
    try:
        stmt = filtered_invoices(request.args)
    except ValidationError:
        flash(_("A month as YYYY-MM."), "error")
        return redirect(url_for("invoices.list_invoices"))
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    invoices = db.session.scalars(stmt.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).unique().all()
    sub = stmt.order_by(None).subquery()
    sums = {status: (count, amount, paid) for status, count, amount, paid in db.session.execute(
        select(sub.c.status, func.count(), func.coalesce(func.sum(sub.c.total), 0),
               func.coalesce(func.sum(sub.c.paid_amount), 0)).group_by(sub.c.status)).all()}
    return render_template("invoices/list.html", invoices=invoices, total=total, page=page, per_page=PER_PAGE,
                           sums=sums, clients=_clients(), statuses=STATUS_LABELS, args=request.args)


# --- issue


def _chosen_up_to() -> tuple[date, str | None]:
    """The "billable pieces up to" day of the issue page (default: the end of last month),
    with a message when what was given is not a day or is in the future."""
    default = invoicing.default_up_to()
    raw = (request.values.get("up_to") or "").strip()
    if not raw:
        return default, None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return default, _("A date as YYYY-MM-DD.")
    if day > local_today():
        return default, _("The date cannot be in the future.")
    return day, None


def _chosen_total(pending, amounts, chosen) -> tuple[Decimal, int, int]:
    """The running total of the chosen orders, as the invoice will have it: the sum of rounded lines."""
    lines = [(pieces, amounts[order.id]) for order, _n, pieces in pending if order.id in chosen]
    return sum((a for _p, a in lines), Decimal("0.00")), sum(p for p, _a in lines), len(lines)


@bp.route("/new", methods=["GET", "POST"])
@require_roles("admin")
@form_view
def issue_invoice():
    form = IssueInvoiceForm()
    client_id = request.values.get("client_id", type=int)
    client = db.session.get(Client, client_id) if client_id else None
    up_to, up_to_error = _chosen_up_to()
    status = 200
    recalc = request.method == "POST" and request.form.get("recalc")
    if request.method == "POST" and up_to_error:
        form.up_to.errors = [up_to_error]
        status = 422
    elif request.method == "POST" and recalc:
        pass  # the running total without script: the same page again, recomputed, nothing issued
    elif request.method == "POST" and form.validate_on_submit():
        if client is None:
            form.client_id.errors.append(_("No such client."))
            status = 422
        elif not form.order_ids.data and not request.form.get("all_orders"):
            form.order_ids.errors.append(_("Choose at least one order."))
            status = 422
        else:
            def action():
                invoice = invoicing.issue_invoice(client, form.order_ids.data or None, language=form.language.data or "zh",
                                                  up_to=form.up_to.data)
                return url_for("invoices.invoice_detail", invoice_id=invoice.id), \
                    _("Invoice %(number)s issued.", number=invoice.number)

            if done := record_once(form, action):
                return done
            status = form_status(form)
    elif request.method == "POST":
        status = 422
    pending = invoicing.invoiceable_orders(client.id, up_to=up_to) if client else []
    if request.method == "GET" and pending:
        form.order_ids.data = [o.id for o, _n, _q in pending]
    form.up_to.data = up_to
    amounts = {order.id: line_amount(pieces, order.unit_price) for order, _n, pieces in pending}
    return render_template("invoices/issue.html", form=form, client=client, clients=_clients(), pending=pending,
                           amounts=amounts, up_to=up_to, today=local_today(),
                           up_to_error=None if request.method == "POST" else up_to_error,
                           later=invoicing.pieces_accepted_after(client.id, up_to) if client else 0,
                           chosen_total=_chosen_total(pending, amounts, set(form.order_ids.data or []))), status


@bp.get("/clients/<int:client_id>")
@require_roles("admin")
def client_account(client_id):
    from flask import abort

    client = db.session.get(Client, client_id) or abort(404)
    pending = invoicing.invoiceable_orders(client.id)
    invoices = db.session.scalars(select(Invoice).where(Invoice.client_id == client.id).order_by(Invoice.id.desc()).limit(50)).all()
    form = IssueInvoiceForm(client_id=client.id)
    form.order_ids.data = [o.id for o, _n, _q in pending]
    return render_template("invoices/client.html", client=client, pending=pending, invoices=invoices, form=form,
                           margins=invoicing.order_margins(client_id=client.id))


# --- one invoice


def _render_detail(invoice, void_form=None, pay_form=None, status=200):
    credit_note = invoicing.credit_notes_for([invoice.id]).get(invoice.id)
    payments = db.session.scalars(select(Payment).where(Payment.invoice_id == invoice.id).order_by(Payment.id)).all()
    pay_form = pay_form or PaymentForm(formdata=None, paid_on=local_today(), amount=invoice.total - invoice.paid_amount)
    return render_template("invoices/detail.html", invoice=invoice, doc=invoicing.invoice_document(invoice),
                           credit_note=credit_note, payments=payments,
                           void_form=void_form or VoidInvoiceForm(formdata=None), pay_form=pay_form), status


@bp.get("/<int:invoice_id>")
@require_roles("admin")
def invoice_detail(invoice_id):
    return _render_detail(_invoice_or_404(invoice_id))


@bp.get("/<int:invoice_id>/print")
@require_roles("admin")
def print_invoice(invoice_id):
    invoice = _invoice_or_404(invoice_id)
    return render_template("invoices/print.html", invoice=invoice, doc=invoicing.invoice_document(invoice))


@bp.get("/<int:invoice_id>.pdf")
@require_roles("admin")
def invoice_pdf(invoice_id):
    invoice = _invoice_or_404(invoice_id)
    return pdf_response(invoicing.stored_pdf(invoice), f"invoice-{invoice.number}.pdf")


@bp.get("/<int:invoice_id>/credit-note.pdf")
@require_roles("admin")
def credit_note_pdf(invoice_id):
    from flask import abort

    invoice = _invoice_or_404(invoice_id)
    note = invoicing.credit_notes_for([invoice.id]).get(invoice.id) or abort(404)
    return pdf_response(invoicing.stored_credit_note_pdf(note), f"credit-note-{note.number}.pdf")


def _detail_form(invoice_id: int, form, slot: str, act):
    """A form posted from the invoice's page: ``act(invoice)`` records it once and answers
    (url, message); a refusal shows the page again with the form (``slot``) and its status."""
    invoice = _invoice_or_404(invoice_id)
    if not form.validate_on_submit():
        return _render_detail(invoice, **{slot: form}, status=422)
    if done := record_once(form, lambda: act(invoice)):
        return done
    return _render_detail(_invoice_or_404(invoice_id), **{slot: form}, status=form_status(form))


@bp.post("/<int:invoice_id>/void")
@require_roles("admin")
@form_view
def void_invoice(invoice_id):
    form = VoidInvoiceForm()

    def act(invoice):
        note = invoicing.void_invoice(invoice, form.reason.data, language=_page_language())
        return url_for("invoices.invoice_detail", invoice_id=invoice.id), \
            _("Invoice %(number)s is void; credit note %(note)s issued.", number=invoice.number, note=note.number)

    return _detail_form(invoice_id, form, "void_form", act)


@bp.post("/<int:invoice_id>/payments")
@require_roles("admin")
@form_view
def record_payment(invoice_id):
    form = PaymentForm()

    def act(invoice):
        invoicing.mark_paid(invoice, form.paid_on.data, form.amount.data)
        return url_for("invoices.invoice_detail", invoice_id=invoice.id), _("Payment recorded.")

    return _detail_form(invoice_id, form, "pay_form", act)


# --- statements and margins


def _statement_args():
    from flask import abort

    client_id = request.args.get("client_id", type=int)
    try:
        month = parse_month(request.args.get("month"))
    except ValidationError:
        month = None
    month = month or month_bounds(local_today())
    client = db.session.get(Client, client_id) if client_id else None
    if client_id and client is None:
        abort(404)
    return client, month


@bp.get("/statement")
@require_roles("admin")
def statement():
    client, month = _statement_args()
    st = invoicing.monthly_statement(client, month) if client else None
    return render_template("invoices/statement.html", st=st, client=client, month=f"{month[0]:%Y-%m}",
                           clients=_clients())


@bp.get("/statement.pdf")
@require_roles("admin")
def statement_pdf():
    from flask import abort

    client, month = _statement_args()
    if client is None:
        abort(404)
    st = invoicing.monthly_statement(client, month)
    return pdf_response(invoicing.render_statement_pdf(st, _page_language()), f"statement-{client.id}-{month[0]:%Y-%m}.pdf")


@bp.get("/margins")
@require_roles("admin")
def margins():
    client_id = request.args.get("client_id", type=int)
    return render_template("invoices/margins.html", margins=invoicing.order_margins(client_id=client_id),
                           clients=_clients(), client_id=client_id)


# --- enterprise details


@bp.route("/settings", methods=["GET", "POST"])
@require_roles("admin")
@form_view
def enterprise_settings():
    current = invoicing.enterprise_settings()
    form = EnterpriseSettingsForm(data={k: current[k] for k in invoicing.ENTERPRISE_KEYS} if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            upload = form.logo.data
            logo = upload.read() if upload and getattr(upload, "filename", "") else None
            def action():
                invoicing.update_enterprise_settings(
                    logo=logo, remove_logo=form.remove_logo.data,
                    **{k: form._fields[k].data for k in invoicing.ENTERPRISE_KEYS})
                return url_for("invoices.enterprise_settings"), _("Enterprise details saved. New invoices will show them.")

            if done := record_once(form, action):
                return done
            status = form_status(form)
        else:
            status = 422
    logo = invoicing.logo_data_uri(current["logo_file_id"])
    return render_template("invoices/settings.html", form=form, logo=logo), status

