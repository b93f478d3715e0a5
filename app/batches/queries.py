"""Read-side queries for the batch and return pages: each list loads in a fixed number of
queries whatever the number of rows (joined eager loads and one aggregate per figure)."""
from __future__ import annotations

from datetime import date
from functools import lru_cache

from flask_login import current_user
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Batch, Return, local_today
from app.paging import Page, paged
from app.permissions import scope_params, visible, visible_to_role


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


@lru_cache(maxsize=16)
def _overdue_count_stmt(role: str, one_station: bool):
    # The board and the supervisor's home ask this on every visit: built once.
    stmt = select(func.count(Batch.id)).where(visible_to_role(Batch, role), Batch.overdue_clause(bindparam("today")))
    return stmt.where(Batch.station_id == bindparam("station_id")) if one_station else stmt


def overdue_count(station_id: int | None, today: date | None = None) -> int:
    params = {"today": today or local_today(), "station_id": station_id, **scope_params()}
    return db.session.scalar(_overdue_count_stmt(current_user.role, station_id is not None), params) or 0


def returns_of_batch(batch: Batch) -> list[Return]:
    """The batch's returns, oldest first, with who recorded them: one query."""
    return list(db.session.scalars(
        select(Return).where(Return.batch_id == batch.id).options(joinedload(Return.recorded_by))
        .order_by(Return.id)).unique())


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
