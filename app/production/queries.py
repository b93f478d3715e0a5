"""Read-side queries for the production pages: each list loads in a fixed number of queries
whatever the number of rows (joined eager loads and one aggregate per figure, never a query
per row)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Batch, Order, Product, Return, Worker, local_today
from app.permissions import visible
from app.services.production import FORECAST_DAYS, forecast_from_pace, is_at_risk, recent_accepted_by_order

PER_PAGE = 25


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int


def paged(stmt, page: int, per_page: int = PER_PAGE, scalars: bool = True) -> Page:
    """One page of ``stmt`` and the total: two queries whatever the page size."""
    page = max(page, 1)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    result = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    items = list(result.unique().scalars()) if scalars else list(result.all())
    return Page(items, total, page, per_page)


# --- orders and the board


@dataclass
class BoardRow:
    order: Order
    forecast: date | None
    at_risk: bool
    recent: int

    def share(self, count: int) -> float:
        """Width of a progress-bar segment, in percent of the order quantity."""
        return round(100 * max(count, 0) / self.order.quantity, 2) if self.order.quantity else 0


def order_stmt():
    return (select(Order).where(visible(Order))
            .options(joinedload(Order.client), joinedload(Order.product), joinedload(Order.station)))


def board_rows(station_id: int, today: date | None = None) -> list[BoardRow]:
    """Open orders of a station with their forecast and risk: two queries for any number."""
    today = today or local_today()
    orders = list(db.session.scalars(
        order_stmt().where(Order.station_id == station_id, Order.status == "open")
        .order_by(Order.due_date, Order.id)).unique())
    return with_forecasts(orders, today)


def with_forecasts(orders: list[Order], today: date | None = None) -> list[BoardRow]:
    today = today or local_today()
    recent = recent_accepted_by_order([o.id for o in orders], today)
    rows = []
    for order in orders:
        pace = recent.get(order.id, 0)
        forecast = forecast_from_pace(order, pace, today)
        rows.append(BoardRow(order, forecast, is_at_risk(order, forecast, today), pace))
    return rows


# --- workers


@dataclass
class WorkerRow:
    worker: Worker
    holding: int
    open_batches: int
    recent_per_day: float
    last_issued: object


def _holding_subquery(station_id: int | None):
    outstanding = Batch.quantity - Batch.accepted - Batch.rejected - Batch.unused
    stmt = (select(Batch.worker_id.label("worker_id"), func.sum(outstanding).label("holding"),
                   func.count(Batch.id).label("open_batches"))
            .where(Batch.status == "open").group_by(Batch.worker_id))
    if station_id is not None:
        stmt = stmt.where(Batch.station_id == station_id)
    return stmt.subquery()


def worker_rows(station_id: int | None, search: str | None = None, page: int = 1,
                per_page: int = PER_PAGE, today: date | None = None, recent_first: bool = False) -> Page:
    """Workers with what they hold now and their recent daily output, one page in two queries.

    ``recent_first`` orders by who took a batch most recently (the batch picker)."""
    today = today or local_today()
    holding = _holding_subquery(station_id)
    recent = (select(Return.worker_id.label("worker_id"), func.sum(Return.accepted).label("recent"))
              .where(Return.work_date > today - timedelta(days=FORECAST_DAYS), Return.work_date <= today)
              .group_by(Return.worker_id))
    last = select(Batch.worker_id.label("worker_id"), func.max(Batch.issued_at).label("last_issued")) \
        .group_by(Batch.worker_id)
    if station_id is not None:  # a station's own rows only: the aggregates stay small on a big database
        recent = recent.where(Return.station_id == station_id)
        last = last.where(Batch.station_id == station_id)
    recent, last = recent.subquery(), last.subquery()
    stmt = (select(Worker, func.coalesce(holding.c.holding, 0), func.coalesce(holding.c.open_batches, 0),
                   func.coalesce(recent.c.recent, 0), last.c.last_issued)
            .outerjoin(holding, holding.c.worker_id == Worker.id)
            .outerjoin(recent, recent.c.worker_id == Worker.id)
            .outerjoin(last, last.c.worker_id == Worker.id)
            .options(joinedload(Worker.station))
            .where(visible(Worker)))
    if station_id is not None:
        stmt = stmt.where(Worker.station_id == station_id)
    if search:
        like = f"%{search.strip()}%"
        stmt = stmt.where(or_(Worker.name.like(like), Worker.phone.like(like)))
    if recent_first:
        stmt = stmt.where(Worker.active.is_(True)).order_by(
            case((last.c.last_issued.is_(None), 1), else_=0), last.c.last_issued.desc(), Worker.name, Worker.id)
    else:
        stmt = stmt.order_by(Worker.active.desc(), Worker.name, Worker.id)
    result = paged(stmt, page, per_page, scalars=False)
    result.items = [WorkerRow(w, int(h), int(n), round(int(r) / FORECAST_DAYS, 1), li)
                    for w, h, n, r, li in result.items]
    return result


# --- batches


def batch_stmt():
    return (select(Batch).where(visible(Batch))
            .options(joinedload(Batch.worker), joinedload(Batch.product), joinedload(Batch.order)))


def batches_page(status: str | None, page: int, station_id: int | None = None, worker_id: int | None = None,
                 order_id: int | None = None, today: date | None = None) -> Page:
    """Batches by status: ``open``, ``overdue`` (open and past due), ``closed`` or all."""
    today = today or local_today()
    stmt = batch_stmt()
    if status == "open":
        stmt = stmt.where(Batch.status == "open").order_by(Batch.due_date, Batch.id)
    elif status == "overdue":
        stmt = stmt.where(Batch.overdue_clause(today)) \
            .order_by(Batch.due_date, Batch.id)
    elif status == "closed":
        stmt = stmt.where(Batch.status == "closed").order_by(Batch.closed_at.desc(), Batch.id.desc())
    else:
        stmt = stmt.order_by(Batch.issued_at.desc(), Batch.id.desc())
    if station_id is not None:
        stmt = stmt.where(Batch.station_id == station_id)
    if worker_id is not None:
        stmt = stmt.where(Batch.worker_id == worker_id)
    if order_id is not None:
        stmt = stmt.where(Batch.order_id == order_id)
    return paged(stmt, page)


def overdue_count(station_id: int | None, today: date | None = None) -> int:
    today = today or local_today()
    stmt = select(func.count(Batch.id)).where(visible(Batch), Batch.overdue_clause(today))
    if station_id is not None:
        stmt = stmt.where(Batch.station_id == station_id)
    return db.session.scalar(stmt) or 0


def returns_of_batch(batch: Batch) -> list[Return]:
    """The batch's returns, oldest first, with who recorded them: one query."""
    return list(db.session.scalars(
        select(Return).where(Return.batch_id == batch.id).options(joinedload(Return.recorded_by))
        .order_by(Return.id)).unique())


def history_of_worker(worker: Worker, page: int) -> Page:
    """A worker's returns, newest first, with product name and batch code: two queries a page."""
    stmt = (select(Return, Product.name, Product.unit, Batch.code)
            .join(Batch, Batch.id == Return.batch_id).join(Product, Product.id == Return.product_id)
            .where(Return.worker_id == worker.id, visible(Return))
            .order_by(Return.work_date.desc(), Return.id.desc()))
    return paged(stmt, page, scalars=False)


def open_batches_of_worker(worker: Worker) -> list[Batch]:
    return list(db.session.scalars(
        batch_stmt().where(Batch.worker_id == worker.id, Batch.status == "open")
        .order_by(Batch.due_date, Batch.id)).unique())


def find_batch_by_code(code: str) -> Batch | None:
    code = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    if not code:
        return None
    return db.session.scalar(select(Batch).where(Batch.code == code, visible(Batch)))


def outstanding_after(row: Return, batch: Batch) -> int:
    """What was still out with the worker right after ``row`` was recorded (for its receipt)."""
    done = db.session.execute(
        select(func.coalesce(func.sum(Return.accepted + Return.rejected + Return.unused), 0))
        .where(Return.batch_id == batch.id, Return.id <= row.id)).scalar_one()
    return batch.quantity - int(done)


def recent_accepted_of_worker(worker_id: int, today: date | None = None) -> int:
    today = today or local_today()
    return db.session.scalar(
        select(func.coalesce(func.sum(Return.accepted), 0)).where(
            and_(Return.worker_id == worker_id, Return.work_date > today - timedelta(days=FORECAST_DAYS),
                 Return.work_date <= today))) or 0
