"""Two scheduler processes and gunicorn with three workers share one database for a few
seconds of per-second ticks: every tick runs exactly once, and only in a scheduler."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import requests
from sqlalchemy import select

from app.extensions import db
from app.models import Notice
from tests.clock import command_at
from tests.jobs_fixtures import days_ago, runs

ROOT = Path(__file__).resolve().parents[2]
TICKING_SECONDS = 5
LOG_LINE = re.compile(r"(claimed|skipped) (\w+) (\S+)Z")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(predicate, timeout=120, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _healthy(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_two_schedulers_beside_three_web_workers_run_each_tick_exactly_once(app, make, tmp_path, clock):
    station = make.station()
    order = make.order(station=station, quantity=300, due_in_days=2)
    batch = make.batch(order=order, quantity=30, issued_on=days_ago(6), due_date=days_ago(1))
    order_id, batch_id = order.id, batch.id
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.remove()
    db.engine.dispose()  # the test holds no connection while the processes run

    env = {**os.environ, "DATABASE_URL": url, "JIJIAN_INSTANCE": str(tmp_path / "instance"),
           "SECRET_KEY": "test-secret", "JIJIAN_ENV": "development", "PYTHONUNBUFFERED": "1",
           "JOB_MARK_OVERDUE": "* * * * * *", "JOB_FLAG_AT_RISK": "* * * * * *",
           "JOB_CLOSE_PAY_PERIOD": "off", "JOB_BACKUP": "off"}
    port = _free_port()
    logs = [tmp_path / "scheduler-a.log", tmp_path / "scheduler-b.log", tmp_path / "gunicorn.log"]
    commands = [  # each process's clock starts at the test's "now" (JIJIAN_TEST_TODAY)
        command_at(clock.now, "flask", "--app", "wsgi", "scheduler"),
        command_at(clock.now, "flask", "--app", "wsgi", "scheduler"),
        command_at(clock.now, "gunicorn", "--workers", "3", "--bind", f"127.0.0.1:{port}", "wsgi:app"),
    ]
    procs = []
    try:
        for command, log in zip(commands, logs, strict=True):
            procs.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT))
        _wait_for(lambda: all("scheduler started" in log.read_text() for log in logs[:2]), what="both schedulers")
        _wait_for(lambda: _healthy(port), what="gunicorn")
        # The web workers serve requests while the schedulers tick.
        until = time.monotonic() + TICKING_SECONDS
        served = 0
        while time.monotonic() < until:
            served += requests.get(f"http://127.0.0.1:{port}/login", timeout=10).status_code == 200
            time.sleep(0.05)
        assert served > 0
    finally:
        for proc in procs[:2]:
            proc.send_signal(signal.SIGTERM)  # schedulers: finish running jobs, then exit
        procs[2].send_signal(signal.SIGINT)  # gunicorn: quick shutdown
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert [p.returncode for p in procs[:2]] == [0, 0], [log.read_text()[-3000:] for log in logs[:2]]

    hostname = socket.gethostname()
    schedulers = {f"{hostname}:{p.pid}"[:100] for p in procs[:2]}
    attempts = Counter()
    claims = Counter()
    for log in logs[:2]:
        for verb, job, tick in LOG_LINE.findall(log.read_text()):
            attempts[(job, tick)] += 1
            claims[(job, tick)] += verb == "claimed"

    for job in ("mark_overdue", "flag_orders_at_risk"):
        rows = runs(job)
        ticks = [r.scheduled_for for r in rows]
        assert len(ticks) >= 3, job
        assert len(set(ticks)) == len(ticks), f"{job}: a tick ran twice"
        expected = [ticks[0] + timedelta(seconds=i) for i in range(int((ticks[-1] - ticks[0]).total_seconds()) + 1)]
        assert ticks == expected, f"{job}: a tick is missing"
        assert all(r.finished_at is not None and r.error is None for r in rows)
        assert {r.host for r in rows} <= schedulers, "a web worker ran a job"
        for r in rows:
            assert claims[(job, r.scheduled_for.isoformat())] == 1
        # Only the first run found work to do: no run repeated another's effect.
        assert sum("marked=1" in r.result or "changed=1" in r.result for r in rows) == 1
    # Both schedulers really competed for the same ticks.
    assert any(n == 2 for n in attempts.values())

    db.session.expire_all()
    open_notices = db.session.execute(
        select(Notice.kind, Notice.entity_id).where(Notice.resolved_at.is_(None)).order_by(Notice.kind)).all()
    assert [tuple(n) for n in open_notices] == [("order_at_risk", order_id), ("overdue_batch", batch_id)]
