"""Invoices to clients, credit notes, payments, monthly statements and order margins
(rules 1, 6, 9).

Guarantees:
- An accepted piece is invoiced at most once: ``Order.invoiced`` only moves by conditional
  UPDATEs that compare-and-set it, and a CHECK keeps it within ``Order.accepted``.
- Invoice numbers are ``YYYY-NNNNNN``, gapless per year: the counter row advances in the
  invoice's own transaction (``numbers.next_number``), so a rolled-back issue gives its number
  back, and concurrent issuers queue on that row.
- An issued invoice is never edited: its PDF is rendered once, stored with its SHA-256, and
  each invoice's hash covers its key fields, the PDF's hash and the previous invoice's hash.
  ``chain.verify`` finds any row (or stored PDF) changed behind the app's back.

Functions flush, never commit: the view, job or command commits once.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, case, func, select, update
from sqlalchemy.orm import selectinload

from app import files
from app.db_tx import rowcount
from app.extensions import db
from app.models import (
    Client,
    CreditNote,
    Invoice,
    InvoiceLine,
    Order,
    OrderDayTally,
    Payment,
    Product,
    Return,
    Setting,
    StoredFile,
    local_today,
    to_local,
    utc_start_of,
)
from app.money import amount_in_words, format_money, format_rate, line_amount, round_money
from app.services import audit, chain, numbers
from app.services.errors import ConflictError, NotFound, ValidationError
from app.services.production import finished_returns

INVOICE_FIELDS = ("number", "client_id", "issue_date", "billed_up_to", "period_start", "period_end", "total", "status",
                  "paid_amount", "pdf_sha256", "hash")
LANGUAGES = ("zh", "en")
ENTERPRISE_KEYS = ("name", "address", "phone", "tax_id", "bank_name", "bank_account", "payment_note")
LOGO_KEY = "enterprise.logo_file_id"
LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
MAX_LOGO_BYTES = 1_000_000
_CLAIM_ATTEMPTS = 5


class NothingToInvoice(ConflictError):
    code = "nothing_to_invoice"

    def default_message(self):
        return _l("Nothing is left to invoice: every accepted piece of these orders is already invoiced.")


class InvoiceNotOpen(ConflictError):
    code = "invoice_not_open"

    def default_message(self):
        return _l("This invoice is void or fully paid.")


# --- enterprise settings


def enterprise_settings() -> dict:
    """The issuing enterprise's details (name, address, tax ID, bank, logo), '' when unset."""
    keys = [f"enterprise.{k}" for k in ENTERPRISE_KEYS] + [LOGO_KEY]
    stored: dict[str, str | None] = {key: value for key, value in db.session.execute(
        select(Setting.key, Setting.value).where(Setting.key.in_(keys)))}
    values: dict[str, str | int | None] = {k: stored.get(f"enterprise.{k}") or "" for k in ENTERPRISE_KEYS}
    logo_id = stored.get(LOGO_KEY)
    values["logo_file_id"] = int(logo_id) if logo_id and logo_id.isdigit() else None
    return values


def _put_setting(key: str, value: str | None) -> None:
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value


def update_enterprise_settings(logo: bytes | None = None, remove_logo: bool = False, user=None, **values) -> dict:
    """Save the enterprise's details; a logo must be a PNG or JPEG of at most 1 MB.

    Invoices already issued keep the details printed on their stored PDFs.
    """
    before = enterprise_settings()
    logo_id = before["logo_file_id"]
    if logo:
        mime = next((m for magic, m in LOGO_TYPES.items() if logo.startswith(magic)), None)
        if mime is None:
            raise ValidationError(fields={"logo": str(_l("A PNG or JPEG picture."))})
        if len(logo) > MAX_LOGO_BYTES:
            raise ValidationError(fields={"logo": str(_l("At most 1 MB."))})
        from app.images import LOGO_SIDE, clean_picture
        logo, mime = clean_picture(logo, "logo", LOGO_SIDE)  # pixel limit, no EXIF, bounded size

        logo_id = files.store_file("logo" + (".png" if mime == "image/png" else ".jpg"), mime, logo).id
    elif remove_logo:
        logo_id = None
    for key in ENTERPRISE_KEYS:
        if key in values:
            _put_setting(f"enterprise.{key}", (values[key] or "").strip() or None)
    _put_setting(LOGO_KEY, str(logo_id) if logo_id else None)
    db.session.flush()
    after = enterprise_settings()
    audit.record("update", "enterprise_settings", None, before=before, after=after, user=user)
    return after


def logo_data_uri(logo_file_id: int | None) -> str | None:
    """The logo as a data: URI (the only kind of image the PDF fetcher lets through)."""
    if not logo_file_id:
        return None
    row = db.session.get(StoredFile, logo_file_id)
    if row is None or row.content_type not in LOGO_TYPES.values():
        return None
    return files.data_uri(row)


# --- issuing


@dataclass
class _Claim:
    order_id: int
    order_number: str
    product_name: str
    quantity: int
    unit_price: Decimal
    invoiced_before: int = 0


def _billable_column(up_to: date | None):
    """Per order, the finished pieces accepted on work dates up to ``up_to`` (corrections
    included): the order's day tallies summed, never more than ``Order.accepted``; with no
    date, ``Order.accepted`` itself."""
    if up_to is None:
        return Order.accepted
    upto = (select(func.coalesce(func.sum(OrderDayTally.accepted), 0))
            .where(OrderDayTally.order_id == Order.id, OrderDayTally.work_date <= up_to)
            .correlate(Order).scalar_subquery())
    return case((upto < Order.accepted, upto), else_=Order.accepted)


def invoiceable_orders(client_id: int, order_ids=None, up_to: date | None = None):
    """(order, product name, pieces accepted up to ``up_to`` and not yet invoiced) for a
    client's orders; every accepted piece when ``up_to`` is None."""
    billable = _billable_column(up_to)
    stmt = (select(Order, Product.name, billable).join(Product, Product.id == Order.product_id)
            .where(Order.client_id == client_id, billable > Order.invoiced).order_by(Order.id))
    if order_ids:
        stmt = stmt.where(Order.id.in_(list(order_ids)))
    return [(order, name, int(upto) - order.invoiced) for order, name, upto in db.session.execute(stmt).all()]


def pieces_accepted_after(client_id: int, up_to: date) -> int:
    """The client's accepted pieces not invoiced that were done after ``up_to`` (left for a later invoice)."""
    billable = _billable_column(up_to)
    later = Order.accepted - case((billable > Order.invoiced, billable), else_=Order.invoiced)
    return int(db.session.scalar(select(func.coalesce(func.sum(later), 0))
                                 .where(Order.client_id == client_id, Order.accepted > Order.invoiced)) or 0)


def default_up_to(today: date | None = None) -> date:
    """The invoice form's "billable pieces up to": the last day of last month (the workshop's days)."""
    today = today or local_today()
    return today.replace(day=1) - timedelta(days=1)


def _pending(client_id: int, order_ids, up_to: date | None = None) -> Sequence[Row]:
    """Fresh (id, number, product, billable, invoiced, unit_price) rows: columns, not entities,
    so a stale identity map never hides what a concurrent issuer committed."""
    billable = _billable_column(up_to)
    stmt = (select(Order.id, Order.number, Product.name, billable, Order.invoiced, Order.unit_price)
            .join(Product, Product.id == Order.product_id)
            .where(Order.client_id == client_id, billable > Order.invoiced).order_by(Order.id))
    if order_ids:
        stmt = stmt.where(Order.id.in_(list(order_ids)))
    return db.session.execute(stmt).all()


def _claim_pieces(client_id: int, order_ids, up_to: date | None = None) -> list[_Claim]:
    """Advance ``Order.invoiced`` to what is billable for each pending order, compare-and-set
    on the value read, so two issuers can never both claim the same pieces."""
    claims: dict[int, _Claim] = {}
    for _attempt in range(_CLAIM_ATTEMPTS):
        lost = False
        for order_id, number, product, billable, invoiced, unit_price in _pending(client_id, order_ids, up_to):
            if order_id in claims:
                continue
            quantity = int(billable) - invoiced
            moved = rowcount(db.session.execute(
                update(Order)
                .where(Order.id == order_id, Order.invoiced == invoiced, Order.invoiced + quantity <= Order.accepted)
                .values(invoiced=Order.invoiced + quantity)
                .execution_options(synchronize_session=False)
            ))
            if moved == 1:
                claims[order_id] = _Claim(order_id, number, product, quantity, unit_price, invoiced)
            else:
                lost = True  # another transaction moved this order first: read it again
        if not lost:
            break
    return sorted(claims.values(), key=lambda c: c.order_id)


def _billed_ranges(order_ids: list[int]) -> dict[int, list[list[int]]]:
    """Which of each order's accepted pieces (0-based, counted in the order they were done) the
    invoices still standing bill. The counter ``Order.invoiced`` only says how many; this
    replays every invoice line (it takes the lowest pieces still free) and every credit note
    (it frees its invoice's pieces again) in the order they happened. Answers the free ranges
    ``[first, last + 1)`` per order."""
    events = [(issued_at, 0, invoice_id, order_id, quantity) for issued_at, invoice_id, order_id, quantity in db.session.execute(
        select(Invoice.issued_at, Invoice.id, InvoiceLine.order_id, InvoiceLine.quantity)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id).where(InvoiceLine.order_id.in_(order_ids)))]
    events += [(issued_at, 1, invoice_id, None, 0) for issued_at, invoice_id in db.session.execute(
        select(CreditNote.issued_at, CreditNote.invoice_id).join(InvoiceLine, InvoiceLine.invoice_id == CreditNote.invoice_id)
        .where(InvoiceLine.order_id.in_(order_ids)).distinct())]
    free: dict[int, list[list[int]]] = {oid: [[0, 2**62]] for oid in order_ids}
    taken: dict[int, list[tuple[int, int, int]]] = {}
    for _at, kind, invoice_id, order_id, quantity in sorted(events, key=lambda e: (e[0], e[1], e[2])):
        if kind == 0:
            taken.setdefault(invoice_id, []).extend(
                (order_id, lo, hi) for lo, hi in _take_lowest(free[order_id], quantity))
        else:
            for order_id, lo, hi in taken.pop(invoice_id, []):
                free[order_id] = _merged(free[order_id] + [[lo, hi]])
    return free


def _take_lowest(free: list[list[int]], quantity: int) -> list[tuple[int, int]]:
    """Take the ``quantity`` lowest pieces out of the free ranges (in place); answers the ranges taken."""
    taken = []
    while quantity > 0 and free:
        lo, hi = free[0]
        n = min(quantity, hi - lo)
        taken.append((lo, lo + n))
        quantity -= n
        if lo + n >= hi:
            free.pop(0)
        else:
            free[0][0] = lo + n
    return taken


def _merged(ranges: list[list[int]]) -> list[list[int]]:
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1]:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return out


def _work_period(claims: list[_Claim], up_to: date) -> tuple[date | None, date | None]:
    """The first and last work date of the pieces an invoice bills (read before its own lines
    are added). Each order's pieces are counted in the order they were done (its day tallies,
    corrections included); the invoice takes the lowest pieces no standing invoice bills
    (``_billed_ranges``), so the period runs from the day its first piece was done to the
    day its last was."""
    ids = [c.order_id for c in claims]
    free = _billed_ranges(ids)
    days: dict[int, list[tuple[date, int]]] = {}
    for order_id, work_date, accepted in db.session.execute(
            select(OrderDayTally.order_id, OrderDayTally.work_date, OrderDayTally.accepted)
            .where(OrderDayTally.order_id.in_(ids), OrderDayTally.work_date <= up_to)
            .order_by(OrderDayTally.order_id, OrderDayTally.work_date)):
        days.setdefault(order_id, []).append((work_date, int(accepted or 0)))

    def done_on(order_id: int, piece: int) -> date | None:  # the day the piece-th piece (0-based) was done
        count = 0
        for work_date, accepted in days.get(order_id, []):
            count += accepted
            if count > piece:
                return work_date
        return None

    starts, ends = [], []
    for claim in claims:
        ranges = _take_lowest(free[claim.order_id], claim.quantity)
        first = done_on(claim.order_id, ranges[0][0]) if ranges else None
        last = done_on(claim.order_id, ranges[-1][1] - 1) if ranges else None
        if first is None or last is None:  # tallies that do not add up (check-ledger names them): say nothing
            return None, None
        starts.append(first)
        ends.append(last)
    return min(starts), max(ends)


def validate_order_choice(client: Client, order_ids) -> list[int]:
    """The chosen order ids, all of which must be this client's orders (422 otherwise)."""
    ids = sorted({int(i) for i in order_ids or []})
    if not ids:
        return []
    found = set(db.session.scalars(select(Order.id).where(Order.id.in_(ids), Order.client_id == client.id)))
    if found != set(ids):
        raise ValidationError(fields={"order_ids": str(_l("Choose orders of this client."))})
    return ids


def issue_invoice(client: Client, order_ids=None, user=None, language: str = "zh",
                  issue_date: date | None = None, up_to: date | None = None) -> Invoice:
    """Invoice what ``client`` had accepted and not yet invoiced (all orders, or ``order_ids``),
    of the work done up to ``up_to`` (default: the issue date, so everything accepted). The
    invoice keeps that date and the period its pieces were done in (first to last work date).

    One line per order: the pieces × the order's unit price snapshot, half-up to the fen; the
    total is the sum of the lines. Nothing left → NothingToInvoice (409), and the caller's
    rollback leaves no trace (not even a number taken). The PDF is rendered once here and
    stored with its SHA-256; the invoice joins the hash chain.
    """
    if client is None:
        raise NotFound()
    if language not in LANGUAGES:
        raise ValidationError(fields={"language": str(_l("Chinese or English."))})
    issue_date = issue_date or local_today()
    if up_to is not None and up_to > issue_date:
        raise ValidationError(fields={"up_to": str(_l("The date cannot be in the future."))})
    up_to = up_to or issue_date
    # Up to the issue date is everything accepted: the order's own counter, no tallies to sum.
    cutoff = up_to if up_to < issue_date else None
    ids = validate_order_choice(client, order_ids)
    if not _pending(client.id, ids, cutoff):
        raise NothingToInvoice()
    year = issue_date.year
    # The counter row is the queue: concurrent issuers wait here, then read fresh counts.
    seq = numbers.next_number("invoice", year)
    claims = _claim_pieces(client.id, ids, cutoff)
    if not claims:
        raise NothingToInvoice()
    period_start, period_end = _work_period(claims, up_to)
    invoice = Invoice(number=f"{year}-{seq:06d}", year=year, seq=seq, client_id=client.id, issue_date=issue_date,
                      issued_by=audit.actor_of(user)[1], status="issued", paid_amount=Decimal("0.00"),
                      total=Decimal("0.00"), prev_hash=chain.GENESIS, hash=chain.GENESIS,
                      billed_up_to=up_to, period_start=period_start, period_end=period_end)
    db.session.add(invoice)
    db.session.flush()
    for claim in claims:
        db.session.add(InvoiceLine(invoice_id=invoice.id, order_id=claim.order_id, product_name=claim.product_name,
                                   quantity=claim.quantity, unit_price=claim.unit_price,
                                   amount=line_amount(claim.quantity, claim.unit_price)))
    db.session.flush()
    db.session.refresh(invoice, ["lines"])
    invoice.total = sum((line.amount for line in invoice.lines), Decimal("0.00"))
    pdf = render_invoice_pdf(invoice, language=language, order_numbers={c.order_id: c.order_number for c in claims})
    stored = files.store_file(f"invoice-{invoice.number}.pdf", "application/pdf", pdf)
    invoice.pdf_id = stored.id
    invoice.pdf_sha256 = stored.sha256
    invoice.prev_hash = chain.invoice_head(before_id=invoice.id)
    invoice.hash = chain.invoice_hash(invoice, invoice.lines)
    db.session.flush()
    audit.record("issue", "invoice", invoice.id, after={**audit.snapshot(invoice, INVOICE_FIELDS),
                 "lines": [{"order_id": c.order_id, "quantity": c.quantity} for c in claims]}, user=user)
    return invoice


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def stored_pdf(invoice: Invoice) -> bytes:
    """The invoice's PDF exactly as issued; StoredPdfChanged if its bytes no longer match."""
    return files.read_checked(invoice.pdf_id, invoice.pdf_sha256 or "missing")


# --- the document


def invoice_document(invoice: Invoice, order_numbers: dict[int, str] | None = None) -> dict:
    """A plain dict of already-formatted strings for the invoice template (PDF and print page)."""
    client = db.session.get_one(Client, invoice.client_id)
    if order_numbers is None:
        ids = [ln.order_id for ln in invoice.lines]
        order_numbers = {oid: number for oid, number in db.session.execute(select(Order.id, Order.number).where(Order.id.in_(ids)))}
    enterprise = enterprise_settings()
    due = invoice.issue_date + timedelta(days=client.payment_terms_days or 0)
    return {
        "enterprise": enterprise,
        "logo": logo_data_uri(enterprise["logo_file_id"]),
        "client": {"name": client.name, "address": client.address or "", "tax_id": client.tax_id or "",
                   "contact": client.contact or "", "phone": client.phone or ""},
        "number": invoice.number,
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": due.isoformat(),
        "terms_days": client.payment_terms_days or 0,
        "up_to": _iso(invoice.billed_up_to) or "",
        "period_start": _iso(invoice.period_start) or "",
        "period_end": _iso(invoice.period_end) or "",
        "lines": [{"order": order_numbers.get(ln.order_id, str(ln.order_id)), "product": ln.product_name,
                   "quantity": f"{ln.quantity:,}", "unit_price": format_rate(ln.unit_price),
                   "amount": format_money(ln.amount)} for ln in invoice.lines],
        "pieces": f"{sum(ln.quantity for ln in invoice.lines):,}",
        "total": format_money(invoice.total),
        "total_in_words": amount_in_words(invoice.total),
    }


def figure_columns(rows: Sequence[tuple[str, ...]], gap: int = 3) -> list[str]:
    """Each row's figures as one text: columns right-aligned, decimal points lined up, ``gap``
    spaces between columns. Printed in one fixed-pitch run (templates/pdf/_lines.html: the CJK
    face's half-width glyphs, exactly half an em), where an ideograph takes two cells. One run
    per line instead of a box per cell is what renders a 300-line invoice in under 3 s."""
    def cells(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

    def decimals(text: str) -> int:  # the dot and the digits after it
        return len(text) - text.index(".") if "." in text and text[-1:].isdigit() else 0

    columns = []
    for column in zip(*rows, strict=True):
        places = max(decimals(v) for v in column)
        padded = [v + " " * (places - decimals(v)) if v[-1:].isdigit() else v for v in column]
        width = max(cells(v) for v in padded)
        columns.append([" " * (width - cells(v)) + v for v in padded])
    return [(" " * gap).join(parts) for parts in zip(*columns, strict=True)]


def _with_figures(doc: dict, total: tuple[str, str, str]) -> dict:
    """Add the lines' figures as fixed-pitch texts (quantity, unit price, amount; the header and
    the total row too) for the PDF line list. Call inside the document's locale."""
    texts = figure_columns([(_("Quantity"), _("Unit price"), _("Amount"))]
                           + [(ln["quantity"], ln["unit_price"], ln["amount"]) for ln in doc["lines"]] + [total])
    doc["lines"] = [dict(ln, figures=text) for ln, text in zip(doc["lines"], texts[1:-1], strict=True)]
    doc.update(figures_head=texts[0], figures_total=texts[-1])
    return doc


def render_invoice_pdf(invoice: Invoice, language: str = "zh", order_numbers: dict[int, str] | None = None) -> bytes:
    from app.pdf import render_pdf

    with force_locale(language):
        doc = invoice_document(invoice, order_numbers)
        return render_pdf("pdf/invoice.html", doc=_with_figures(doc, (doc["pieces"], "", doc["total"])))


# --- void and payments


def render_credit_note_pdf(note: CreditNote, invoice: Invoice, language: str = "zh") -> bytes:
    from app.pdf import render_pdf

    with force_locale(language if language in LANGUAGES else "zh"):
        doc = invoice_document(invoice)
        doc.update(credit_number=note.number, credit_date=to_local(note.issued_at).date().isoformat(), reason=note.reason,
                   credit_total=format_money(-note.amount), credit_words=amount_in_words(-note.amount))
        return render_pdf("pdf/credit_note.html", doc=_with_figures(doc, ("", "", doc["credit_total"])))


def stored_credit_note_pdf(note: CreditNote) -> bytes:
    """The credit note's PDF as stored; NotFound before it has one, StoredPdfChanged if its
    bytes no longer match."""
    if not note.pdf_id:
        raise NotFound()
    return files.read_checked(note.pdf_id)


def void_invoice(invoice: Invoice, reason: str, user=None, language: str = "zh") -> CreditNote:
    """Void an unpaid invoice by a credit note (CN-YYYY-NNNNNN, its own gapless series, its PDF
    rendered once and stored); its pieces become invoiceable again. The invoice itself is not
    otherwise changed."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(fields={"reason": str(_l("Say why the invoice is voided."))})
    if len(reason) > 200:
        raise ValidationError(fields={"reason": str(_l("At most 200 characters."))})
    voided = rowcount(db.session.execute(
        update(Invoice).where(Invoice.id == invoice.id, Invoice.status == "issued", Invoice.paid_amount == 0)
        .values(status="void").execution_options(synchronize_session=False)
    ))
    db.session.refresh(invoice)
    if voided != 1:
        if invoice.status == "void":
            raise ConflictError(_l("This invoice is already void."), code="already_void")
        raise ConflictError(_l("Payments were recorded against this invoice; it cannot be voided."), code="invoice_paid")
    for line in invoice.lines:
        freed = rowcount(db.session.execute(
            update(Order).where(Order.id == line.order_id, Order.invoiced >= line.quantity)
            .values(invoiced=Order.invoiced - line.quantity).execution_options(synchronize_session=False)
        ))
        if freed != 1:
            raise ConflictError(_l("The order's invoiced count is inconsistent."), code="invoiced_inconsistent")
    today = local_today()
    seq = numbers.next_number("credit_note", today.year)
    note = CreditNote(number=f"CN-{today.year}-{seq:06d}", year=today.year, seq=seq, invoice_id=invoice.id,
                      amount=invoice.total, reason=reason, issued_by=audit.actor_of(user)[1])
    db.session.add(note)
    db.session.flush()
    note.pdf_id = files.store_file(f"credit-note-{note.number}.pdf", "application/pdf",
                             render_credit_note_pdf(note, invoice, language)).id
    db.session.flush()
    audit.record("void", "invoice", invoice.id, before={"status": "issued"},
                 after={"status": "void", "credit_note": note.number, "reason": reason}, user=user)
    return note


def mark_paid(invoice: Invoice, paid_on: date, amount: Decimal | None, user=None) -> Payment:
    """Record money received against an open invoice; it becomes paid when fully paid.
    More than is still owed is refused (422), and so is a void or fully paid invoice (409)."""
    if isinstance(amount, float):
        raise TypeError("money must be Decimal")
    errors = {}
    if amount is None or amount <= 0:
        errors["amount"] = str(_l("Must be more than zero."))
    elif Decimal(amount).is_finite() and int(Decimal(amount).as_tuple().exponent) < -2:
        errors["amount"] = str(_l("At most 2 decimal places."))
    if paid_on is None:
        errors["paid_on"] = str(_l("Required."))
    elif paid_on > local_today():
        errors["paid_on"] = str(_l("The date cannot be in the future."))
    if errors or amount is None:
        raise ValidationError(fields=errors)
    amount = round_money(amount)
    if invoice.status != "issued":
        raise InvoiceNotOpen()
    new_paid = Invoice.paid_amount + amount
    moved = rowcount(db.session.execute(
        update(Invoice).where(Invoice.id == invoice.id, Invoice.status == "issued", new_paid <= Invoice.total)
        .values(paid_amount=new_paid, status=case((new_paid >= Invoice.total, "paid"), else_="issued"))
        .execution_options(synchronize_session=False)
    ))
    db.session.refresh(invoice)
    if moved != 1:
        if invoice.status != "issued":
            raise InvoiceNotOpen()
        raise ValidationError(fields={"amount": str(_l("At most %(amount)s is still owed.",
                                                       amount=format_money(invoice.total - invoice.paid_amount)))})
    payment = Payment(invoice_id=invoice.id, paid_on=paid_on, amount=amount, recorded_by=audit.actor_of(user)[1])
    db.session.add(payment)
    db.session.flush()
    audit.record("payment", "invoice", invoice.id, after={"amount": amount, "paid_on": paid_on,
                 "paid_amount": invoice.paid_amount, "status": invoice.status}, user=user)
    return payment


# --- monthly statement


@dataclass
class Statement:
    client: Client
    start: date
    end: date
    delivered: list[dict] = field(default_factory=list)
    pieces_delivered: int = 0
    value_delivered: Decimal = Decimal("0.00")
    invoices: list[Invoice] = field(default_factory=list)
    credit_notes: list[CreditNote] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    pieces_invoiced: int = 0
    pieces_credited: int = 0
    invoiced: Decimal = Decimal("0.00")
    credited: Decimal = Decimal("0.00")
    paid: Decimal = Decimal("0.00")
    opening_balance: Decimal = Decimal("0.00")
    closing_balance: Decimal = Decimal("0.00")
    uninvoiced_pieces: int = 0
    invoice_numbers: dict = field(default_factory=dict)


def _balance_before(client_id: int, day: date) -> Decimal:
    """Invoiced − credited − paid for the client before ``day``, in three SUM queries."""
    invoiced = db.session.scalar(select(func.coalesce(func.sum(Invoice.total), 0))
                                 .where(Invoice.client_id == client_id, Invoice.issue_date < day))
    credited = db.session.scalar(select(func.coalesce(func.sum(CreditNote.amount), 0))
                                 .join(Invoice, Invoice.id == CreditNote.invoice_id)
                                 .where(Invoice.client_id == client_id, CreditNote.issued_at < utc_start_of(day)))
    paid = db.session.scalar(select(func.coalesce(func.sum(Payment.amount), 0))
                             .join(Invoice, Invoice.id == Payment.invoice_id)
                             .where(Invoice.client_id == client_id, Payment.paid_on < day))
    return round_money(Decimal(invoiced or 0) - Decimal(credited or 0) - Decimal(paid or 0))


def _issued_within(model, start: date, end: date):
    """Issued on one of the workshop's days ``start``..``end`` (not the server's UTC days)."""
    return (model.issued_at >= utc_start_of(start)) & (model.issued_at < utc_start_of(end + timedelta(days=1)))


def monthly_statement(client: Client, month: tuple[date, date]) -> Statement:
    """A client's account for one month: pieces delivered (accepted returns, corrections
    included) valued at each order's unit price, invoices and credit notes issued, payments
    received, and the balance owed at the start and end of the month."""
    start, end = month
    st = Statement(client=client, start=start, end=end)
    rows = db.session.execute(
        select(Order.id, Order.number, Product.name, Order.unit_price, func.sum(Return.accepted))
        .join(Return, Return.order_id == Order.id).join(Product, Product.id == Order.product_id)
        .where(Order.client_id == client.id, Return.work_date >= start, Return.work_date <= end,
               finished_returns())
        .group_by(Order.id, Order.number, Product.name, Order.unit_price).order_by(Order.id)
    ).all()
    for order_id, number, product, unit_price, pieces in rows:
        pieces = int(pieces or 0)
        if pieces == 0:
            continue
        value = line_amount(pieces, unit_price)
        st.delivered.append({"order_id": order_id, "order": number, "product": product, "pieces": pieces,
                             "unit_price": unit_price, "value": value})
        st.pieces_delivered += pieces
        st.value_delivered += value
    st.invoices = list(db.session.scalars(
        select(Invoice).options(selectinload(Invoice.lines))
        .where(Invoice.client_id == client.id, Invoice.issue_date >= start, Invoice.issue_date <= end)
        .order_by(Invoice.id)).all())
    st.credit_notes = list(db.session.scalars(
        select(CreditNote).join(Invoice, Invoice.id == CreditNote.invoice_id)
        .options(selectinload(CreditNote.invoice).selectinload(Invoice.lines))
        .where(Invoice.client_id == client.id, _issued_within(CreditNote, start, end))
        .order_by(CreditNote.id)).all())
    st.payments = list(db.session.scalars(
        select(Payment).join(Invoice, Invoice.id == Payment.invoice_id)
        .where(Invoice.client_id == client.id, Payment.paid_on >= start, Payment.paid_on <= end)
        .order_by(Payment.paid_on, Payment.id)).all())
    paid_ids = {p.invoice_id for p in st.payments}
    if paid_ids:
        st.invoice_numbers = {iid: number for iid, number in db.session.execute(
            select(Invoice.id, Invoice.number).where(Invoice.id.in_(paid_ids)))}
    st.invoiced = sum((i.total for i in st.invoices), Decimal("0.00"))
    st.pieces_invoiced = sum(ln.quantity for i in st.invoices for ln in i.lines)
    st.pieces_credited = sum(ln.quantity for c in st.credit_notes for ln in c.invoice.lines)
    st.credited = sum((c.amount for c in st.credit_notes), Decimal("0.00"))
    st.paid = sum((p.amount for p in st.payments), Decimal("0.00"))
    st.opening_balance = _balance_before(client.id, start)
    st.closing_balance = st.opening_balance + st.invoiced - st.credited - st.paid
    st.uninvoiced_pieces = int(db.session.scalar(
        select(func.coalesce(func.sum(Order.accepted - Order.invoiced), 0)).where(Order.client_id == client.id)) or 0)
    return st


def render_statement_pdf(st: Statement, language: str = "zh") -> bytes:
    from app.pdf import render_pdf

    with force_locale(language):
        enterprise = enterprise_settings()
        return render_pdf("pdf/statement.html", st=st, enterprise=enterprise, logo=logo_data_uri(enterprise["logo_file_id"]))


def receivables_summary() -> dict:
    """For the admin's home: unpaid invoices, what clients still owe on them, and accepted
    pieces not yet invoiced — three aggregates, two queries."""
    count, total, paid = db.session.execute(
        select(func.count(Invoice.id), func.coalesce(func.sum(Invoice.total), 0),
               func.coalesce(func.sum(Invoice.paid_amount), 0)).where(Invoice.status == "issued")).one()
    uninvoiced = db.session.scalar(select(func.coalesce(func.sum(Order.accepted - Order.invoiced), 0))) or 0
    return {"unpaid_count": count, "owed": round_money(Decimal(total) - Decimal(paid)), "uninvoiced_pieces": int(uninvoiced)}


# --- margins


def order_margins(client_id: int | None = None, order_ids=None) -> list[dict]:
    """Per order: finished pieces (its last step's accepted), revenue (pieces × unit price, one
    rounded line), labour cost (every step's accepted pieces × each batch's piece rate, one
    rounded line per step and rate, as on the payslips) and the margin. Two queries whatever
    the number of orders."""
    stmt = (select(Order, Product.name).join(Product, Product.id == Order.product_id)
            .options(selectinload(Order.client)).where(Order.accepted > 0).order_by(Order.id.desc()))
    if client_id:
        stmt = stmt.where(Order.client_id == client_id)
    if order_ids:
        stmt = stmt.where(Order.id.in_(list(order_ids)))
    orders = db.session.execute(stmt).all()
    if not orders:
        return []
    ids = [o.id for o, _n in orders]
    costs: dict[int, Decimal] = {}
    for order_id, rate, pieces in db.session.execute(
            select(Return.order_id, Return.piece_rate, func.sum(Return.accepted))
            .where(Return.order_id.in_(ids))
            .group_by(Return.order_id, Return.step_id, Return.piece_rate)).all():
        costs[order_id] = costs.get(order_id, Decimal("0.00")) + line_amount(int(pieces or 0), rate)
    result = []
    for order, product in orders:
        revenue = line_amount(order.accepted, order.unit_price)
        cost = costs.get(order.id, Decimal("0.00"))
        margin = revenue - cost
        pct = (margin * 100 / revenue).quantize(Decimal("0.1")) if revenue else None
        result.append({"order": order, "product": product, "pieces": order.accepted, "unit_price": order.unit_price,
                       "revenue": revenue, "cost": cost, "margin": margin, "margin_pct": pct})
    return result


def credit_notes_for(invoice_ids) -> dict[int, CreditNote]:
    if not invoice_ids:
        return {}
    rows = db.session.scalars(select(CreditNote).where(CreditNote.invoice_id.in_(list(invoice_ids)))).all()
    return {c.invoice_id: c for c in rows}


__all__ = [
    "NothingToInvoice", "issue_invoice", "void_invoice", "mark_paid", "monthly_statement",
    "order_margins", "enterprise_settings", "update_enterprise_settings", "stored_pdf",
]
