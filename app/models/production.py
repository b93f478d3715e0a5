"""Orders, take-home batches and the append-only record of returns.

Counters on orders and batches are kept by conditional UPDATEs in the production service
and guarded by CHECK constraints, so conservation holds under concurrent requests.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, and_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import utcnow
from app.models.catalog import Client, Product, ProductStep
from app.models.org import Station, User, Worker
from app.money import Money, Rate


class OrderProgress:
    """What an order's progress, forecast and risk are read from: shared by the model and the
    board's plain rows (``orders.queries.BoardOrder``)."""

    quantity: int
    committed: int
    accepted: int
    rejected: int
    due_date: date
    status: str

    @property
    def unissued(self) -> int:
        return self.quantity - self.committed

    @property
    def out_with_workers(self) -> int:
        return self.committed - self.accepted - self.rejected


class Order(OrderProgress, Model):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    quantity: Mapped[int]
    # The workshop's day the order was taken (entered late: its real day, rule 12).
    taken_on: Mapped[date]
    due_date: Mapped[date]
    note: Mapped[str | None] = mapped_column(String(500))
    # Snapshot of the product's unit price when the order was taken (rule 2).
    unit_price: Mapped[Decimal] = mapped_column(Rate())
    status: Mapped[str] = mapped_column(String(20), default="open")
    # issued to workers minus unused materials returned: what is out plus what came back.
    committed: Mapped[int] = mapped_column(default=0)
    accepted: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    invoiced: Mapped[int] = mapped_column(default=0)
    forecast_date: Mapped[date | None]
    at_risk: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    client: Mapped[Client] = relationship()
    product: Mapped[Product] = relationship()
    station: Mapped[Station] = relationship()

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_pos"),
        CheckConstraint("committed >= 0 and committed <= quantity", name="conservation"),
        CheckConstraint("accepted >= 0 and rejected >= 0", name="counts_nonneg"),
        CheckConstraint("invoiced >= 0 and invoiced <= accepted", name="invoiced_le_accepted"),
        CheckConstraint("status in ('open', 'done', 'cancelled')", name="status"),
    )
    __mapper_args__ = {"version_id_col": version}


class OrderStep(Model):
    """One step's counters on an order of a product made in several steps (rule 14).

    An order keeps the steps its product had when it was taken. An order of a one-step product
    has no rows here: the order's own counters are its one step's. ``taken_next`` is what the
    next step has out or back from this step's accepted pieces (its issued, net of unused),
    kept on this row so that handing out step k+1 and correcting step k's accepted pieces
    both move one row, and never pass each other, under concurrency.
    """

    __tablename__ = "order_steps"
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("product_steps.id"), primary_key=True)
    seq: Mapped[int]
    last: Mapped[bool] = mapped_column(default=False)
    # Handed out for this step, net of unused materials returned: what is out plus what came back.
    committed: Mapped[int] = mapped_column(default=0)
    accepted: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    taken_next: Mapped[int] = mapped_column(default=0)

    step: Mapped[ProductStep] = relationship()

    __table_args__ = (
        CheckConstraint("committed >= 0 and accepted >= 0 and rejected >= 0", name="counts_nonneg"),
        CheckConstraint("taken_next >= 0 and taken_next <= accepted", name="next_le_accepted"),
        Index("ix_order_steps_order_seq", "order_id", "seq", unique=True),
    )


class Batch(Model):
    """Materials for N pieces of one order handed to one worker (发料单)."""

    __tablename__ = "batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    # The step of the product this batch is for (rule 14); its rate is the step's when issued.
    step_id: Mapped[int | None] = mapped_column(ForeignKey("product_steps.id"))
    quantity: Mapped[int]
    # Snapshot of the piece rate in force when issued (rule 2).
    piece_rate: Mapped[Decimal] = mapped_column(Rate())
    material_cost: Mapped[Decimal] = mapped_column(Rate(), default=Decimal("0"))
    issued_on: Mapped[date]
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_date: Mapped[date]
    status: Mapped[str] = mapped_column(String(20), default="open")
    overdue: Mapped[bool] = mapped_column(default=False)
    accepted: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    unused: Mapped[int] = mapped_column(default=0)
    closed_at: Mapped[datetime | None]
    closed_on: Mapped[date | None]
    close_reason: Mapped[str | None] = mapped_column(String(200))
    shortfall: Mapped[int | None]
    shortfall_policy: Mapped[str | None] = mapped_column(String(20))
    shortfall_deduction: Mapped[Decimal | None] = mapped_column(Money())

    order: Mapped[Order] = relationship()
    worker: Mapped[Worker] = relationship()
    product: Mapped[Product] = relationship()
    product_step: Mapped[ProductStep | None] = relationship()
    station: Mapped[Station] = relationship()
    issued_by: Mapped[User | None] = relationship()

    @property
    def step(self) -> str | None:
        """The step's name."""
        return self.product_step.name if self.product_step is not None else None

    @property
    def step_label(self) -> str | None:
        """The step as the ticket, the receipt and the phone name it: a product made in one
        step has one step named like it, and that is not repeated."""
        name = self.step
        return name if name and name != self.product.name else None

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_pos"),
        CheckConstraint("accepted >= 0 and rejected >= 0 and unused >= 0", name="counts_nonneg"),
        CheckConstraint("accepted + rejected + unused <= quantity", name="conservation"),
        CheckConstraint("status in ('open', 'closed')", name="status"),
        Index("ix_batches_worker_status", "worker_id", "status"),
        Index("ix_batches_station_status_due", "station_id", "status", "due_date"),
        Index("ix_batches_order", "order_id", "status"),
        Index("ix_batches_issued_on", "issued_on", "station_id"),
        # A station's batches by worker: each worker's last batch taken (the issue page's picker,
        # most recent first) reads this index alone, and what each holds reads its open entries.
        Index("ix_batches_station_worker", "station_id", "worker_id", "status", "issued_at"),
        # One seek a worker: when each was last handed a batch (the picker's order) and the
        # first batch of each one's pace history (planning.worker_paces).
        Index("ix_batches_station_worker_issued_at", "station_id", "worker_id", "issued_at"),
        Index("ix_batches_station_worker_issued_on", "station_id", "worker_id", "issued_on"),
    )

    @property
    def outstanding(self) -> int:
        return self.quantity - self.accepted - self.rejected - self.unused

    def is_overdue(self, today: date) -> bool:
        """Open, past its due date, and something still out with the worker."""
        return self.status == "open" and self.due_date < today and self.outstanding > 0

    @classmethod
    def overdue_clause(cls, today):  # a date, or a bound parameter in a statement built once
        """The SQL form of ``is_overdue``: the one definition every list, count and job uses."""
        return and_(cls.status == "open", cls.due_date < today,
                    cls.accepted + cls.rejected + cls.unused < cls.quantity)


class Return(Model):
    """One record of what came back for a batch (收货记录). Never edited or deleted.

    A correction is another row with signed counts that points at the row it corrects.
    worker, station, product and piece rate are copied from the batch so that wage and
    report aggregates read this table alone through covering indexes.
    """

    __tablename__ = "returns"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    step_id: Mapped[int | None] = mapped_column(ForeignKey("product_steps.id"))
    piece_rate: Mapped[Decimal] = mapped_column(Rate())
    accepted: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    unused: Mapped[int] = mapped_column(default=0)
    work_date: Mapped[date]
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("returns.id"))
    reason: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    batch: Mapped[Batch] = relationship()
    corrects: Mapped[Return | None] = relationship(remote_side=[id])
    recorded_by: Mapped[User | None] = relationship()

    __table_args__ = (
        CheckConstraint(
            "corrects_id is not null or (accepted >= 0 and rejected >= 0 and unused >= 0)",
            name="only_corrections_negative",
        ),
        CheckConstraint("corrects_id is null or reason is not null", name="correction_reason"),
        Index("ix_returns_batch", "batch_id"),
        # Earnings grouped by worker, product, step and rate stream from this index in order,
        # without a sort: the district report's year, and one worker's lines (worker_id first).
        # With ANALYZE statistics SQLite skip-scans it to the date range inside each group.
        # (Named before steps existed; the reports name it in INDEXED BY.)
        Index("ix_returns_worker_product_rate", "worker_id", "product_id", "step_id", "piece_rate", "work_date",
              "accepted"),
        # Period close and reports: all workers over a date range.
        Index("ix_returns_date_worker", "work_date", "worker_id", "product_id", "step_id", "piece_rate", "accepted"),
        Index("ix_returns_order_date", "order_id", "work_date", "accepted"),
        # A station's returns over a range of days: the pace of each of its workers on a step
        # (the issue page's suggested split), their recent output, its pieces per day — read
        # from the index alone.
        Index("ix_returns_station_date", "station_id", "work_date", "worker_id", "step_id", "piece_rate", "accepted"),
    )


class ReturnMonth(Model):
    """Accepted pieces of one earnings line (worker, product, step, rate: rule 1) in one
    calendar month, moved by database triggers in the same statement as every INSERT,
    UPDATE and DELETE of a return (app/models/guards.py), so it holds exactly what the month's
    returns sum to. Reports over whole months read its few rows, not every return;
    ``check-ledger`` compares the two.
    """

    __tablename__ = "return_months"
    # The first day of the returns' work_date month.
    month: Mapped[date] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    # 0 for returns without a step: a key column cannot be NULL and still match on upsert.
    step_id: Mapped[int] = mapped_column(primary_key=True)
    piece_rate: Mapped[Decimal] = mapped_column(Rate(), primary_key=True)
    pieces: Mapped[int] = mapped_column(BigInteger)


class OrderDayTally(Model):
    """Accepted pieces per order and work date, moved in the same transaction as each return
    and correction: the order board's 14-day pace reads 14 rows an order, not every return."""

    __tablename__ = "order_day_tallies"
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    work_date: Mapped[date] = mapped_column(primary_key=True)
    accepted: Mapped[int] = mapped_column(default=0)

