"""Scheduled jobs: the registry (name → function), their schedules, and the claimed run.

Each job calls one service and returns a short ``key=value`` summary. A run — on a schedule
tick or by hand — first inserts and commits its ``JobRun`` row (unique job and scheduled
time): the one process whose insert succeeds runs the job, every other process skips the
tick. The job then runs in its own transaction, committed once, and the row records when it
finished, how long it took, and its result or error.

Schedules are cron expressions in the workshop's time zone (``JOB_SCHEDULES`` in config.py):
five fields (minute hour day month day-of-week, day-of-week 0 or 7 = Sunday as in crontab),
or six with the seconds first (``"*/1 * * * * *"``: every second, as the tests use). ``off``
or an empty string switches a schedule off; the job can still be run by hand.
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.db_tx import writing
from app.extensions import db
from app.models import JobRun
from app.services import backup as backup_service
from app.services import jobs_service
from app.services.errors import ValidationError

log = logging.getLogger("jijian.jobs")


@dataclass(frozen=True)
class JobSpec:
    name: str
    label: object  # lazy, translated when shown
    run: Callable[[], str]


JOBS: dict[str, JobSpec] = {}


def job(name: str, label):
    def register(fn):
        JOBS[name] = JobSpec(name, label, fn)
        return fn

    return register


@job("mark_overdue", _l("Mark overdue batches"))
def mark_overdue() -> str:
    return jobs_service.mark_overdue()


@job("flag_orders_at_risk", _l("Flag orders at risk"))
def flag_orders_at_risk() -> str:
    return jobs_service.flag_orders_at_risk()


@job("close_pay_period", _l("Close last month's pay period"))
def close_pay_period() -> str:
    return jobs_service.close_previous_pay_period()


@job("backup", _l("Back up the database"))
def backup() -> str:
    done = backup_service.backup_database()
    extra = {"statistics_refreshed": 1} if backup_service.refresh_statistics() else {}  # nightly, after the copy
    return jobs_service.summary(file=done.path.name, bytes=done.size, removed=len(done.removed), **extra)


def job_runs_query(job: str | None):
    """Runs, newest tick first, optionally of one registered job (an unknown name is a 422)."""
    stmt = select(JobRun).order_by(JobRun.scheduled_for.desc(), JobRun.id.desc())
    if job:
        if job not in JOBS:
            raise ValidationError(fields={"job": str(_l("Unknown job. Known jobs: %(names)s.", names=", ".join(JOBS)))})
        stmt = stmt.where(JobRun.job == job)
    return stmt


# --- schedules

_CRONTAB_DAYS = {"0": "sun", "1": "mon", "2": "tue", "3": "wed", "4": "thu", "5": "fri", "6": "sat", "7": "sun"}
OFF = {"", "off", "none", "never", "-"}


def cron_fields(expr: str) -> dict | None:
    """The CronTrigger fields of a schedule, or None when it is switched off.
    Raises ValueError for a malformed expression."""
    expr = (expr or "").strip()
    if expr.lower() in OFF:
        return None
    parts = expr.split()
    if len(parts) == 5:
        parts = ["0", *parts]
    if len(parts) != 6:
        raise ValueError(f"schedule {expr!r}: expected 5 fields (or 6 with seconds first)")
    second, minute, hour, day, month, dow = parts
    # crontab counts days of the week from Sunday = 0; APScheduler from Monday = 0: use names.
    dow = re.sub(r"(?<![/\w])([0-7])(?![\w])", lambda m: _CRONTAB_DAYS[m.group(1)], dow)
    return {"second": second, "minute": minute, "hour": hour, "day": day, "month": month, "day_of_week": dow}


def trigger_for(expr: str, timezone: str):
    from apscheduler.triggers.cron import CronTrigger

    fields = cron_fields(expr)
    return None if fields is None else CronTrigger(timezone=timezone, **fields)


def schedules(app: Flask) -> dict[str, str]:
    """Every registered job with its configured expression ('' when unscheduled)."""
    configured = app.config.get("JOB_SCHEDULES", {})
    return {name: configured.get(name, "") for name in JOBS}


# --- the claimed run


@dataclass
class Outcome:
    job: str
    scheduled_for: datetime
    run: JobRun | None  # None: another process had claimed this tick

    @property
    def claimed(self) -> bool:
        return self.run is not None


def run_claimed(name: str, scheduled_for: datetime | None = None) -> Outcome:
    """Claim ``name``'s tick at ``scheduled_for`` (default: now) and, if ours, run it.

    Uses the current app context's session and commits three times: the claim, the job's
    work (rolled back whole on error), and the run's end. Errors are recorded, not raised."""
    spec = JOBS[name]
    tick = jobs_service.tick_key(scheduled_for) if scheduled_for else jobs_service.now_tick()
    db.session.rollback()  # start clean: the claim must be its own transaction
    with writing():
        run = jobs_service.claim_run(name, tick)
        try:
            db.session.commit()
        except IntegrityError:  # another process's claim committed between our insert and commit
            db.session.rollback()
            run = None
    if run is None:
        log.info("skipped %s %sZ: claimed elsewhere", name, tick.isoformat())
        return Outcome(name, tick, None)
    log.info("claimed %s %sZ", name, tick.isoformat())
    started = time.monotonic()
    result = error = None
    try:
        with writing():
            jobs_service.serialize_job(name)
            result = spec.run()
            db.session.commit()
    except Exception as exc:  # noqa: BLE001 - a failed run is recorded, the scheduler goes on
        db.session.rollback()
        log.exception("job %s failed", name)
        error = f"{type(exc).__name__}: {exc}"[:2000]
    elapsed_ms = int((time.monotonic() - started) * 1000)
    with writing():
        run = db.session.get_one(JobRun, run.id)
        jobs_service.finish_run(run, result=result, error=error)
        run.duration_ms = max(run.duration_ms or 0, elapsed_ms)
        db.session.commit()
    log.info("finished %s %sZ in %s ms: %s", name, tick.isoformat(), run.duration_ms, error or result)
    return Outcome(name, tick, run)


def run_tick(app: Flask, name: str, scheduled_for: datetime | None = None) -> Outcome:
    """What the scheduler calls for each tick: a fresh app context (and session) per run."""
    with app.app_context():
        try:
            return run_claimed(name, scheduled_for)
        finally:
            db.session.remove()
