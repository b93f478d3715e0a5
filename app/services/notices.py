"""Notices for a station's supervisors: overdue batches and orders at risk.

A notice is tied to one record (``entity``/``entity_id``) and one condition (``kind``). The jobs
call :func:`sync_notices` with the records that currently meet the condition; it opens a notice
for each record that has no unresolved one and resolves the notices whose record no longer
meets it. Running it twice with the same input changes nothing the second time, and a dismissed
notice stays dismissed (it is not reopened) until its condition clears.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from app.db_tx import rowcount
from app.extensions import db
from app.models import Batch, Notice, Order, utcnow
from app.permissions import visible

OVERDUE_BATCH = "overdue_batch"
ORDER_AT_RISK = "order_at_risk"
KIND_ENTITY = {OVERDUE_BATCH: "batch", ORDER_AT_RISK: "order"}


@dataclass(frozen=True)
class Wanted:
    """A record that should carry an open notice."""

    station_id: int
    entity_id: int
    message: str  # stored English fallback; pages render the notice from the live record


@dataclass
class SyncResult:
    opened: int = 0
    resolved: int = 0


def sync_notices(kind: str, wanted: list[Wanted]) -> SyncResult:
    """Make the unresolved notices of ``kind`` match ``wanted``, in three statements whatever
    the numbers (per thousand stale ones): read the unresolved ones, insert the missing ones,
    resolve the stale ones."""
    entity = KIND_ENTITY[kind]
    open_rows = db.session.execute(
        select(Notice.id, Notice.entity_id).where(Notice.kind == kind, Notice.resolved_at.is_(None))
    ).all()
    have = {entity_id: notice_id for notice_id, entity_id in open_rows}
    want = {w.entity_id: w for w in wanted}
    result = SyncResult()
    now = utcnow()
    new = [w for entity_id, w in want.items() if entity_id not in have]
    if new:
        db.session.execute(
            Notice.__table__.insert(),
            [{"station_id": w.station_id, "kind": kind, "entity": entity, "entity_id": w.entity_id,
              "message": w.message[:300], "created_at": now} for w in new],
        )
        result.opened = len(new)
    stale = [notice_id for entity_id, notice_id in have.items() if entity_id not in want]
    for i in range(0, len(stale), 1000):  # bounded IN lists (PostgreSQL takes at most 65535 parameters)
        db.session.execute(
            update(Notice).where(Notice.id.in_(stale[i:i + 1000]), Notice.resolved_at.is_(None))
            .values(resolved_at=now).execution_options(synchronize_session=False)
        )
    result.resolved = len(stale)
    return result


def open_notices_query(user=None):
    """Unresolved, undismissed notices the user may see, newest first."""
    return (select(Notice)
            .where(visible(Notice, user), Notice.resolved_at.is_(None), Notice.dismissed_at.is_(None))
            .order_by(Notice.created_at.desc(), Notice.id.desc()))


def count_open(user=None) -> int:
    stmt = open_notices_query(user).order_by(None).with_only_columns(func.count(Notice.id))
    return db.session.scalar(stmt) or 0


@dataclass
class ShownNotice:
    notice: Notice
    text: str
    batch: Batch | None = None
    order: Order | None = None


def open_notices_for(user=None, limit: int = 50, kind: str | None = None) -> list[ShownNotice]:
    """The notices to show (of one ``kind``, or all), each with its text in the reader's
    language built from the live record; three queries whatever the number of notices."""
    stmt = open_notices_query(user)
    if kind is not None:
        stmt = stmt.where(Notice.kind == kind)
    notices = db.session.scalars(stmt.limit(limit)).all()
    batch_ids = [n.entity_id for n in notices if n.kind == OVERDUE_BATCH]
    order_ids = [n.entity_id for n in notices if n.kind == ORDER_AT_RISK]
    batches = {b.id: b for b in db.session.scalars(
        select(Batch).where(Batch.id.in_(batch_ids)).options(joinedload(Batch.worker), joinedload(Batch.order))
    )} if batch_ids else {}
    orders = {o.id: o for o in db.session.scalars(
        select(Order).where(Order.id.in_(order_ids)).options(joinedload(Order.product))
    )} if order_ids else {}
    shown = []
    for n in notices:
        if n.kind == OVERDUE_BATCH and n.entity_id in batches:
            b = batches[n.entity_id]
            shown.append(ShownNotice(n, overdue_batch_text(b), batch=b))
        elif n.kind == ORDER_AT_RISK and n.entity_id in orders:
            o = orders[n.entity_id]
            shown.append(ShownNotice(n, order_at_risk_text(o), order=o))
        else:
            shown.append(ShownNotice(n, n.message))
    return shown


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def overdue_batch_text(b: Batch) -> str:
    return _("Batch %(code)s: %(worker)s still holds %(n)s pieces, due %(due)s.",
             code=b.code, worker=b.worker.name, n=b.outstanding, due=_day(b.due_date))


def order_at_risk_text(o: Order) -> str:
    if o.forecast_date is None:
        return _("Order %(number)s (%(product)s): no pieces came back in the last 14 days; due %(due)s.",
                 number=o.number, product=o.product.name, due=_day(o.due_date))
    return _("Order %(number)s (%(product)s): at the recent pace it will be done %(forecast)s, after its due date %(due)s.",
             number=o.number, product=o.product.name, forecast=_day(o.forecast_date), due=_day(o.due_date))


@dataclass
class NoticeGroup:
    kind: str
    count: int
    shown: list[ShownNotice]


def open_notice_groups(user=None, per_group: int = 5) -> list[NoticeGroup]:
    """One group per kind of open notice: how many, and the newest few to show. A station
    with forty overdue batches reads one line, not forty."""
    stmt = (open_notices_query(user).order_by(None)
            .with_only_columns(Notice.kind, func.count(Notice.id)).group_by(Notice.kind))
    counts: dict[str, int] = {kind: n for kind, n in db.session.execute(stmt)}
    return [NoticeGroup(kind, counts[kind], open_notices_for(user, limit=per_group, kind=kind))
            for kind in (OVERDUE_BATCH, ORDER_AT_RISK) if counts.get(kind)]


def dismiss_kind(kind: str, user=None) -> int:
    """Dismiss every open notice of ``kind`` the user can see, at once; how many."""
    result = db.session.execute(
        update(Notice).where(visible(Notice, user), Notice.kind == kind, Notice.resolved_at.is_(None),
                             Notice.dismissed_at.is_(None))
        .values(dismissed_at=utcnow()).execution_options(synchronize_session=False))
    return rowcount(result)


def dismiss(notice: Notice) -> Notice:
    """Hide a notice from the station's home; it stays on record and resolves as usual."""
    if notice.dismissed_at is None:
        notice.dismissed_at = utcnow()
        db.session.flush()
    return notice
