"""Invoices to clients, credit notes, payments and gapless per-year number series."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import utcnow
from app.models.catalog import Client
from app.money import Money, Rate


class NumberCounter(Model):
    """The last number taken in a series for a year; advanced inside the caller's transaction."""

    __tablename__ = "number_counters"
    series: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class NumberedDocument:
    """A document of a gapless per-year number series (services.numbers): ``number`` is
    spelled from ``year`` and ``seq``, and (year, seq) is unique in its table."""

    # First in the table, as the migrations made them (a mixin's columns would come last).
    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-4)
    number: Mapped[str] = mapped_column(String(20), unique=True, sort_order=-3)
    year: Mapped[int] = mapped_column(sort_order=-2)
    seq: Mapped[int] = mapped_column(sort_order=-1)


class Invoice(NumberedDocument, Model):
    __tablename__ = "invoices"
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    issue_date: Mapped[date]
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by: Mapped[str | None] = mapped_column(String(100))
    total: Mapped[Decimal] = mapped_column(Money())
    status: Mapped[str] = mapped_column(String(20), default="issued")
    paid_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    pdf_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # The work it bills: pieces accepted up to ``billed_up_to``, done from ``period_start`` to
    # ``period_end`` (the first and last work date of the pieces billed). None before they were kept.
    billed_up_to: Mapped[date | None]
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]

    client: Mapped[Client] = relationship()
    lines: Mapped[list[InvoiceLine]] = relationship(order_by="InvoiceLine.id")

    __table_args__ = (
        UniqueConstraint("year", "seq", name="uq_invoices_year_seq"),
        CheckConstraint("status in ('issued', 'paid', 'void')", name="status"),
    )


class InvoiceLine(Model):
    __tablename__ = "invoice_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    product_name: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Rate())
    amount: Mapped[Decimal] = mapped_column(Money())

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_pos"),)


class CreditNote(NumberedDocument, Model):
    """Voids one invoice, in its own number series; frees the invoice's pieces."""

    __tablename__ = "credit_notes"
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), unique=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    reason: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by: Mapped[str | None] = mapped_column(String(100))
    pdf_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))

    invoice: Mapped[Invoice] = relationship()

    __table_args__ = (UniqueConstraint("year", "seq", name="uq_credit_notes_year_seq"),)


class Payment(Model):
    """Money received from a client against an invoice."""

    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    paid_on: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(Money())
    recorded_by: Mapped[str | None] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("amount > 0", name="amount_pos"),)
