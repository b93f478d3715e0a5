"""Helpers for the scheduled-jobs tests: counts of what the jobs touch, and dating rows."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Batch, JobRun, Notice, Order, local_today


def days_ago(n: int) -> date:
    return local_today() - timedelta(days=n)


def set_batch_due(batch_id: int, due: date) -> None:
    db.session.execute(update(Batch).where(Batch.id == batch_id).values(due_date=due))
    db.session.commit()


def open_notices(kind: str | None = None) -> list[Notice]:
    stmt = select(Notice).where(Notice.resolved_at.is_(None)).order_by(Notice.id)
    if kind:
        stmt = stmt.where(Notice.kind == kind)
    db.session.expire_all()
    return db.session.scalars(stmt).all()


def notice_count() -> int:
    return db.session.scalar(select(func.count(Notice.id)))


def state_of_jobs() -> tuple:
    """Everything the jobs may change, to prove a second run changes nothing more."""
    db.session.expire_all()
    batches = db.session.execute(select(Batch.id, Batch.overdue).order_by(Batch.id)).all()
    orders = db.session.execute(select(Order.id, Order.forecast_date, Order.at_risk, Order.version).order_by(Order.id)).all()
    notices = db.session.execute(select(Notice.id, Notice.kind, Notice.entity_id, Notice.resolved_at,
                                        Notice.dismissed_at).order_by(Notice.id)).all()
    return tuple(map(tuple, batches)), tuple(map(tuple, orders)), tuple(map(tuple, notices))


def runs(job: str | None = None) -> list[JobRun]:
    stmt = select(JobRun).order_by(JobRun.scheduled_for, JobRun.id)
    if job:
        stmt = stmt.where(JobRun.job == job)
    db.session.expire_all()
    return db.session.scalars(stmt).all()
