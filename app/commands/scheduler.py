"""scheduler, run-job, backup, restore: scheduled work from the command line.

``flask --app wsgi scheduler`` is its own process beside the web server. Start one or several
(one per machine is fine): every tick is claimed in the database before it runs, so each runs
once however many schedulers and web workers there are.
"""
from __future__ import annotations

import logging
import signal
import sys
from datetime import UTC, datetime
from functools import partial

import click
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask, current_app

from app import jobs
from app.extensions import db
from app.services import backup as backup_service
from app.services.errors import DomainError

log = logging.getLogger("jijian.scheduler")


class TickExecutor(ThreadPoolExecutor):
    """APScheduler's thread pool, but each run is handed the tick's scheduled time — the key
    of its claim — instead of reading the clock, so every process names a tick alike."""

    def _do_submit_job(self, job, run_times):
        def callback(future):
            exc = future.exception()
            if exc:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, future.result())

        future = self._pool.submit(_run_ticks, job, job._jobstore_alias, run_times)
        future.add_done_callback(callback)


def _run_ticks(job, jobstore_alias, run_times):
    events = []
    for run_time in run_times:
        if job.misfire_grace_time is not None:
            late = (datetime.now(UTC) - run_time).total_seconds()
            if late > job.misfire_grace_time:
                log.warning("missed %s at %s by %.0f s", job.id, run_time.isoformat(), late)
                continue
        try:
            retval = job.func(*job.args, scheduled_for=run_time, **job.kwargs)
        except Exception as exc:  # noqa: BLE001 - logged; the scheduler keeps going
            log.exception("tick of %s failed", job.id)
            events.append(JobExecutionEvent(EVENT_JOB_ERROR, job.id, jobstore_alias, run_time, exception=exc))
        else:
            events.append(JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, jobstore_alias, run_time, retval=retval))
    return events


def build_scheduler(app: Flask) -> BlockingScheduler:
    """A BlockingScheduler with one CronTrigger per scheduled job (JOB_SCHEDULES)."""
    timezone = app.config["TIMEZONE"]
    scheduler = BlockingScheduler(
        timezone=timezone,
        executors={"default": TickExecutor(max_workers=app.config.get("JOB_THREADS", 4))},
        job_defaults={
            # Every tick is claimed, so none is coalesced away; a slow run does not make the
            # next tick skip; a tick late by more than the grace (a suspended machine) is dropped.
            "coalesce": False,
            "max_instances": 3,
            "misfire_grace_time": app.config.get("JOB_MISFIRE_GRACE_SECONDS", 3600),
        },
    )
    for name, expr in jobs.schedules(app).items():
        trigger = jobs.trigger_for(expr, timezone)
        if trigger is not None:
            scheduler.add_job(partial(jobs.run_tick, app, name), trigger, id=name, name=name)
    return scheduler


def _stop(signum, frame):
    raise SystemExit(0)


def register(app: Flask) -> None:
    @app.cli.command("scheduler")
    def scheduler_command():
        """Run the scheduled jobs (each tick claimed once across all processes)."""
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s", force=True)
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        real_app = current_app._get_current_object()  # type: ignore[attr-defined]  # a proxy, typed as Flask
        try:
            scheduler = build_scheduler(real_app)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        db.session.remove()
        for name, expr in jobs.schedules(real_app).items():
            log.info("%s: %s", name, expr or "off")
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        log.info("scheduler started")
        try:
            scheduler.start()
        except SystemExit:
            pass
        finally:
            if scheduler.running:
                scheduler.shutdown(wait=True)  # let running jobs record how they ended
            log.info("scheduler stopped")

    @app.cli.command("run-job")
    @click.argument("name", required=False)
    @click.option("--list", "list_jobs", is_flag=True, help="Name the jobs and their schedules.")
    def run_job_command(name, list_jobs):
        """Run one job now, through the same claim as the scheduler."""
        real_app = current_app._get_current_object()  # type: ignore[attr-defined]  # a proxy, typed as Flask
        if list_jobs or not name:
            for job_name, expr in jobs.schedules(real_app).items():
                click.echo(f"{job_name}\t{expr or 'off'}")
            if not list_jobs:
                raise click.UsageError("name a job (see --list)")
            return
        if name not in jobs.JOBS:
            raise click.BadParameter(f"unknown job {name!r}; see run-job --list", param_hint="NAME")
        outcome = jobs.run_claimed(name)
        if not outcome.claimed:
            click.echo(f"{name}: this second's run was already claimed by another process; nothing done")
            return
        run = outcome.run
        assert run is not None  # claimed
        if run.error:
            click.echo(f"{name}: failed after {run.duration_ms} ms: {run.error}", err=True)
            sys.exit(1)
        click.echo(f"{name}: done in {run.duration_ms} ms: {run.result}")

    @app.cli.command("backup")
    @click.argument("path", required=False, type=click.Path(dir_okay=False))
    def backup_command(path):
        """Back the database up to PATH (default: a new file in BACKUP_DIR, keeping BACKUP_KEEP)."""
        try:
            done = backup_service.backup_database(path)
        except (DomainError, RuntimeError) as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"backup written: {done.path} ({done.size} bytes)")
        for old in done.removed:
            click.echo(f"removed old backup: {old}")

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--force", is_flag=True, help="Overwrite a database that already holds data.")
    def restore_command(path, force):
        """Restore the database from a backup (stop the web server and scheduler first)."""
        try:
            backup_service.restore_database(path, force=force)
        except (DomainError, RuntimeError) as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"restored from {path}")
