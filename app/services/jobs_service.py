"""What the scheduled jobs do, and the claim that makes each tick run once.

Every function here flushes and never commits — the job runner (``app.jobs``) commits: the
claim, then the run's work once, then its end. Each job is safe to run twice: a second run over
the same data changes nothing more.
"""
from __future__ import annotations

import os
import socket
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.dates import previous_month
from app.db_tx import rowcount
from app.extensions import db
from app.models import Batch, JobRun, Order, PayPeriod, Setting, local_today, utcnow
from app.services import audit, notices, production
from app.services.errors import ValidationError

# --- the claim: one row per job and scheduled tick


def tick_key(scheduled_for: datetime) -> datetime:
    """A tick's key: naive UTC truncated to the second (every process computes the same)."""
    if scheduled_for.tzinfo is not None:
        scheduled_for = scheduled_for.astimezone(UTC).replace(tzinfo=None)
    return scheduled_for.replace(microsecond=0)


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def claim_run(job: str, scheduled_for: datetime) -> JobRun | None:
    """Insert the run's row (flushed; the runner commits it before the job starts: that commit
    is the claim). The unique (job, scheduled_for) index lets exactly one process win; the
    others get None and must skip the tick."""
    run = JobRun(job=job, scheduled_for=tick_key(scheduled_for), started_at=utcnow(), host=runner_name())
    try:
        with db.session.begin_nested():
            db.session.add(run)
    except IntegrityError:
        return None
    return run


def finish_run(run: JobRun, result: str | None = None, error: str | None = None) -> JobRun:
    """Record how the claimed run ended (the caller commits)."""
    run.finished_at = utcnow()
    run.duration_ms = max(0, int((run.finished_at - run.started_at).total_seconds() * 1000))
    run.result = result
    run.error = error
    return run


def serialize_job(job: str) -> None:
    """On PostgreSQL, runs of one job wait for each other (a transaction-scoped advisory lock),
    so two ticks' runs never interleave. SQLite's BEGIN IMMEDIATE serializes them already."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(zlib.crc32(f"jijian-job:{job}".encode()))))


def summary(**counts) -> str:
    """A run's result as ``key=value`` words (the history page translates the keys)."""
    return " ".join(f"{k}={v}" for k, v in counts.items())


# --- overdue batches


def mark_overdue(today: date | None = None) -> str:
    """Open batches past their due date with pieces still out are overdue, every other batch is not; each overdue
    batch has one unresolved notice for its station, and the notices of batches no longer
    overdue (returned, closed, due date moved) are resolved. A fixed number of statements."""
    today = today or local_today()
    marked = rowcount(db.session.execute(
        update(Batch).where(Batch.overdue_clause(today), Batch.overdue.is_(False))
        .values(overdue=True).execution_options(synchronize_session=False)
    ))
    cleared = rowcount(db.session.execute(
        update(Batch).where(Batch.overdue.is_(True), ~Batch.overdue_clause(today))
        .values(overdue=False).execution_options(synchronize_session=False)
    ))
    rows = db.session.execute(
        select(Batch.id, Batch.station_id, Batch.code, Batch.due_date)
        .where(Batch.status == "open", Batch.overdue.is_(True))
    ).all()
    wanted = [notices.Wanted(station_id, batch_id, f"Batch {code} is overdue (due {due.isoformat()}).")
              for batch_id, station_id, code, due in rows]
    synced = notices.sync_notices(notices.OVERDUE_BATCH, wanted)
    return summary(overdue=len(rows), marked=marked, cleared=cleared,
                   notices_opened=synced.opened, notices_resolved=synced.resolved)


# --- orders at risk

AT_RISK_CHUNK = 500  # orders per IN (...) list


def flag_orders_at_risk(today: date | None = None) -> str:
    """Each open order's forecast completion (the last 14 days' pace of accepted pieces, as on
    the order board) is stored, and ``at_risk`` says whether it falls after the due date;
    orders no longer open are not at risk. Notices follow ``at_risk``. The user-facing
    ``version`` is left alone, so a supervisor's edit is never refused because the job ran.
    A fixed number of statements per 500 orders."""
    today = today or local_today()
    changes, wanted, flagged, checked = [], [], 0, 0
    last_id = 0
    while True:
        orders = db.session.scalars(
            select(Order).where(Order.id > last_id, or_(Order.status == "open", Order.at_risk.is_(True)))
            .order_by(Order.id).limit(AT_RISK_CHUNK)
        ).all()
        if not orders:
            break
        last_id = orders[-1].id
        recent = production.recent_accepted_by_order([o.id for o in orders if o.status == "open"], today)
        for order in orders:
            checked += 1
            if order.status == "open":
                forecast = production.forecast_from_pace(order, recent.get(order.id, 0), today)
                risky = production.is_at_risk(order, forecast, today)
            else:
                forecast, risky = order.forecast_date, False
            if (forecast, risky) != (order.forecast_date, bool(order.at_risk)):
                changes.append({"oid": order.id, "fd": forecast, "ar": risky})
            if risky:
                flagged += 1
                wanted.append(notices.Wanted(order.station_id, order.id,
                                             f"Order {order.number} may finish after its due date {order.due_date.isoformat()}."))
    if changes:
        table = Order.__table__
        db.session.execute(
            table.update().where(table.c.id == bindparam("oid")).values(forecast_date=bindparam("fd"), at_risk=bindparam("ar")),
            changes,
        )
        db.session.expire_all()
    synced = notices.sync_notices(notices.ORDER_AT_RISK, wanted)
    return summary(checked=checked, at_risk=flagged, changed=len(changes),
                   notices_opened=synced.opened, notices_resolved=synced.resolved)


# --- closing the previous month's pay period

AUTO_CLOSE_ENABLED = "jobs.auto_close_enabled"
AUTO_CLOSE_DAY = "jobs.auto_close_day"
DEFAULT_CLOSE_DAY = 5


@dataclass
class AutoClose:
    enabled: bool
    day: int


def auto_close_settings() -> AutoClose:
    """The admin's switch: off unless turned on; the day of the month it closes (1–28)."""
    rows: dict[str, str | None] = {key: value for key, value in db.session.execute(
        select(Setting.key, Setting.value).where(Setting.key.in_([AUTO_CLOSE_ENABLED, AUTO_CLOSE_DAY])))}
    try:
        day = int(rows.get(AUTO_CLOSE_DAY) or DEFAULT_CLOSE_DAY)
    except ValueError:
        day = DEFAULT_CLOSE_DAY
    return AutoClose(enabled=rows.get(AUTO_CLOSE_ENABLED) == "1", day=min(max(day, 1), 28))


def save_auto_close(enabled: bool, day: int, user=None) -> AutoClose:
    """Store the switch (audited: it decides when payslips freeze)."""
    if not 1 <= int(day) <= 28:
        raise ValidationError(fields={"day": str(_l("A day from 1 to 28."))})
    before = auto_close_settings()
    for key, value in ((AUTO_CLOSE_ENABLED, "1" if enabled else "0"), (AUTO_CLOSE_DAY, str(int(day)))):
        row = db.session.get(Setting, key)
        if row is None:
            db.session.add(Setting(key=key, value=value))
        else:
            row.value = value
    db.session.flush()
    after = auto_close_settings()
    audit.record("update", "setting", None, before=before.__dict__, after=after.__dict__, user=user)
    return after


def close_previous_pay_period(today: date | None = None, force: bool = False) -> str:
    """On or after the configured day, close last month's pay period through the wages
    service (creating the period first if nobody did). Off unless the admin switched it on
    (``force`` skips the switch and the day, for a hand run). Closed already: nothing."""
    today = today or local_today()
    settings = auto_close_settings()
    if not force and not settings.enabled:
        return "switched off"
    if not force and today.day < settings.day:
        return summary(waiting_until_day=settings.day)
    start, end = previous_month(today)
    period = db.session.scalar(select(PayPeriod).where(PayPeriod.start == start, PayPeriod.end == end))
    from app.services import wages  # wages imports production services; keep the job module light

    if period is None:
        try:
            period = wages.create_pay_period(start, end)
        except wages.PeriodOverlap:
            # Someone set up periods that are not calendar months: leave them to the admin.
            other = wages.overlapping_period(start, end)
            where = f"{other.start.isoformat()}..{other.end.isoformat()}" if other else "another_period"
            return summary(period=f"{start.isoformat()}..{end.isoformat()}", skipped=f"overlaps_{where}")
    if period.status == "closed":
        return summary(period=f"{start.isoformat()}..{end.isoformat()}", already_closed=1)
    outcome = wages.close_pay_period(period)
    return summary(period=f"{start.isoformat()}..{end.isoformat()}", closed=1, payslips=outcome.payslips)


# --- timestamps for hand runs


def now_tick() -> datetime:
    return tick_key(datetime.now(UTC))
