"""Pay periods, frozen pay statements and adjustments."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import utcnow
from app.models.org import Station, Worker
from app.money import Money, Rate


class PayPeriod(Model):
    __tablename__ = "pay_periods"
    id: Mapped[int] = mapped_column(primary_key=True)
    start: Mapped[date]
    end: Mapped[date]
    status: Mapped[str] = mapped_column(String(20), default="open")
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint('"end" >= start', name="end_after_start"),
        CheckConstraint("status in ('open', 'closed')", name="status"),
        UniqueConstraint("start", name="uq_pay_periods_start"),
    )


class Payslip(Model):
    """A worker's frozen pay statement (结算单) for a closed period, hash-chained."""

    __tablename__ = "payslips"
    id: Mapped[int] = mapped_column(primary_key=True)
    pay_period_id: Mapped[int] = mapped_column(ForeignKey("pay_periods.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    worker_name: Mapped[str] = mapped_column(String(50))
    pieces: Mapped[int]
    gross: Mapped[Decimal] = mapped_column(Money())
    adjustments: Mapped[Decimal] = mapped_column(Money())
    deductions: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    net: Mapped[Decimal] = mapped_column(Money())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    seq: Mapped[int] = mapped_column(unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    pdf_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))

    pay_period: Mapped[PayPeriod] = relationship()
    worker: Mapped[Worker] = relationship()
    station: Mapped[Station] = relationship()
    lines: Mapped[list[PayslipLine]] = relationship(order_by="PayslipLine.id")

    __table_args__ = (
        UniqueConstraint("pay_period_id", "worker_id", name="uq_payslips_period_worker"),
        # The period's page from the index alone: its statements in the page's order (a page
        # reads its 50 entries, not a sort of the period's ~2,000), the totals summed over it,
        # and the reopen check's printed statements and last seq. Written at the close (pdf_id when
        # a statement is first printed).
        Index("ix_payslips_period_list", "pay_period_id", "station_id", "worker_name", "id", "worker_id", "pieces",
              "gross", "adjustments", "deductions", "net", "pdf_id", "seq"),
    )


class PayslipLine(Model):
    __tablename__ = "payslip_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    payslip_id: Mapped[int] = mapped_column(ForeignKey("payslips.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="piece")  # piece | adjustment | shortfall
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    description: Mapped[str] = mapped_column(String(200))
    piece_rate: Mapped[Decimal | None] = mapped_column(Rate())
    pieces: Mapped[int | None]
    amount: Mapped[Decimal] = mapped_column(Money())


class Adjustment(Model):
    """A bonus (positive) or deduction (negative) on one worker's pay statement."""

    __tablename__ = "adjustments"
    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"))
    pay_period_id: Mapped[int] = mapped_column(ForeignKey("pay_periods.id"))
    amount: Mapped[Decimal] = mapped_column(Money())
    reason: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    worker: Mapped[Worker] = relationship()

    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_nonzero"),
        Index("ix_adjustments_period_worker", "pay_period_id", "worker_id"),
    )


class PayPeriodReopening(Model):
    """A closed period opened again: its statements were withdrawn from the end of the
    payslip chain, and this record takes their place in it (see wages.reopen_pay_period)."""

    __tablename__ = "pay_period_reopenings"
    id: Mapped[int] = mapped_column(primary_key=True)
    pay_period_id: Mapped[int] = mapped_column(ForeignKey("pay_periods.id"), index=True)
    base_seq: Mapped[int] = mapped_column(index=True)  # the last statement still in the chain
    removed_from: Mapped[int]
    removed_to: Mapped[int]
    payslips: Mapped[int]
    total: Mapped[Decimal] = mapped_column(Money())
    reason: Mapped[str] = mapped_column(String(200))
    reopened_by: Mapped[str] = mapped_column(String(100))
    reopened_at: Mapped[datetime]
    removed_hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class StatementsPdf(Model):
    """A closed period's pay statements printed together (every station or one, one or two a
    sheet), stored on its first download. Later downloads are found by this row and read by
    its file's id and hash, so they are byte-identical or refused."""

    __tablename__ = "statements_pdfs"
    id: Mapped[int] = mapped_column(primary_key=True)
    pay_period_id: Mapped[int] = mapped_column(ForeignKey("pay_periods.id"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    per_sheet: Mapped[int]
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("per_sheet in (1, 2)", name="per_sheet"),)
