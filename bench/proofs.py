"""What the proofs under load share (bench.soak, bench.crash): the database (a SQLite file or
a database on a throwaway PostgreSQL server), the seeded world of stations, tablets and
phones, the ledger's counts and money, the checker, and a device's HTTP client (keep-alive,
cookie, round robin over several app servers)."""
from __future__ import annotations

import http.client
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from contextlib import ExitStack
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PASSWORD, PIN = "correct-horse", "258036"  # a PIN the rules accept (not 123456)
KEEPALIVE_S = 1.5  # gunicorn keeps an idle connection 2 s


# --- the database


def database(dialect: str, stack: ExitStack, tmp: Path, name: str = "soak") -> str:
    if dialect == "sqlite":
        return f"sqlite:///{tmp / (name + '.sqlite3')}"
    from sqlalchemy import create_engine

    from tests.pgserver import PostgresServer

    server = getattr(database, "_pg", None)
    if server is None:
        server = PostgresServer()
        database._pg = server
        database._admin = server.start()
        stack.callback(lambda: (server.stop(), setattr(database, "_pg", None)))
    engine = create_engine(database._admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    engine.dispose()
    return database._admin.replace("/postgres?", f"/{name}?")


def make_app(url: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "soak", "FAST_PASSWORD_HASH": True})


def seed(app, tablets: int, phones: int, stations: int = 4) -> dict:
    """Stations with supervisors (one a tablet), workers, big orders, a batch out with every
    worker, and last month closed (so every phone has a pay statement)."""
    from app.extensions import db
    from app.models import Station
    from app.services import wages
    from app.services.accounts import issue_token
    from tests.makers import Makers
    from tests.wages_fixtures import close, issue_on, period_for, previous_month, return_on

    make = Makers()
    with app.app_context():
        db.create_all()
        start, end = previous_month()
        period = period_for(start, end)
        world = {"stations": [], "tablets": [], "phones": []}
        for s in range(stations):
            station = make.station(name=f"站点{s + 1}", shortfall_policy="material_cost" if s % 2 else "none")
            product = make.product()
            orders = [make.order(station=station, product=product, quantity=10_000_000) for _ in range(3)]
            info = {"id": station.id, "orders": [o.id for o in orders], "workers": [], "batches": []}
            for w in range(phones // stations):
                worker = make.worker(station=station, phone=f"139{s:02d}{w:06d}", pin=PIN)
                old = issue_on(make, orders[w % 3], worker, 40, start)
                return_on(old, start + timedelta(days=2), accepted=30, rejected=1)
                batch = make.batch(order=orders[w % 3], worker=worker, quantity=2000)
                info["workers"].append(worker.id)
                info["batches"].append(batch.id)
                world["phones"].append({"phone": worker.phone, "worker_id": worker.id})
            world["stations"].append(info)
        for t in range(tablets):
            info = world["stations"][t % stations]
            user = make.staff("supervisor", station=db.session.get(Station, info["id"]), username=f"tablet{t + 1}",
                              password=PASSWORD)
            token, _row = issue_token(user)
            world["tablets"].append({"username": user.username, "token": token, "station": t % stations})
        db.session.commit()
        close(period)
        wages.create_pay_period(*wages.month_bounds(end + timedelta(days=1)))
        db.session.commit()
        return world


TOTALS_SQL = {
    "returns": "SELECT count(*) FROM returns",
    "accepted": "SELECT coalesce(sum(accepted), 0) FROM returns",
    "batches": "SELECT count(*) FROM batches",
    "audit_events": "SELECT count(*) FROM audit_events",
    "idempotency_keys": "SELECT count(*) FROM idempotency_keys",
    "payslips": "SELECT count(*) FROM payslips",
}


def totals(app) -> dict:
    """Counts and money of the ledger: wages earned (pieces × rate per return, in fen),
    frozen pay statements and shortfall deductions."""
    from sqlalchemy import select, text

    from app.extensions import db
    from app.models import Batch, Payslip, Return

    with app.app_context():
        out = {k: int(db.session.execute(text(sql)).scalar()) for k, sql in TOTALS_SQL.items()}
        earned = sum((Decimal(a) * r for a, r in db.session.execute(select(Return.accepted, Return.piece_rate))),
                     Decimal("0"))
        out["earned_yuan"] = str(earned.quantize(Decimal("0.0001")))
        out["payslips_net_yuan"] = str(sum((n for (n,) in db.session.execute(select(Payslip.net))), Decimal("0.00")))
        out["shortfall_yuan"] = str(sum((d or Decimal("0.00") for (d,) in db.session.execute(
            select(Batch.shortfall_deduction))), Decimal("0.00")))
        db.session.remove()
        return out


def check(app) -> list:
    from app.extensions import db
    from app.services.ledger import check_ledger

    with app.app_context():
        try:
            return [str(b) for b in check_ledger()]
        finally:
            db.session.remove()


# --- the devices' HTTP


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency = defaultdict(list)
        self.when = defaultdict(list)  # seconds from ``started`` to each answer, beside ``latency``
        self.started = time.perf_counter()
        self.status = defaultdict(Counter)
        self.by_server = defaultdict(Counter)  # port → statuses
        self.transport = Counter()
        self.replay_mismatch = []

    def add(self, page: str, status, seconds: float, server: int | None = None) -> None:
        with self.lock:
            if isinstance(status, int):
                self.status[page][status] += 1
                self.latency[page].append(seconds)
                self.when[page].append(time.perf_counter() - self.started)
                self.by_server[server][status] += 1
            else:
                self.transport[page] += 1
                self.by_server[server]["transport error"] += 1


class Client:
    """One device: a keep-alive connection and a cookie, as the browser keeps them. Given
    several ports (app servers on one database), each request goes to the next server in
    turn, the cookie shared, as behind a round-robin load balancer."""

    def __init__(self, ports, stats: Stats, first: int = 0):
        self.ports = [ports] if isinstance(ports, int) else list(ports)
        self.stats = stats
        self.turn = first
        self.conns = {p: http.client.HTTPConnection("127.0.0.1", p, timeout=60) for p in self.ports}
        self.last_used = dict.fromkeys(self.ports, 0.0)
        self.cookie = ""

    def send(self, page: str, method: str, path: str, body=None, headers=None, form=False):
        port = self.ports[self.turn % len(self.ports)]
        self.turn += 1
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        if body is not None and not isinstance(body, (bytes, str)):
            if form:
                from urllib.parse import urlencode

                body = urlencode(body)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                body = json.dumps(body)
                headers["Content-Type"] = "application/json"
        conn = self.conns[port]
        t0 = time.perf_counter()
        if t0 - self.last_used[port] > KEEPALIVE_S:  # the server has closed an idle connection: so would a browser
            conn.close()
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            self.conns[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            self.stats.add(page, None, 0, port)
            return None, b""
        self.last_used[port] = time.perf_counter()
        self.stats.add(page, resp.status, self.last_used[port] - t0, port)
        for value in resp.headers.get_all("Set-Cookie") or []:
            self.cookie = value.split(";", 1)[0]
        return resp.status, data


# --- reporting


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(round(p / 100 * len(values) + 0.5)) - 1))]


def load_text(samples) -> str:
    """``os.getloadavg()`` samples as ``1/5/15 → …``."""
    return " → ".join(f"{a:.2f}/{b:.2f}/{c:.2f}" for a, b, c in samples)


def main_for_each_database(name: str, run, args) -> int:
    """Run ``run(dialect, args)`` → (report, ok) on the databases asked for, print each report
    and append it to bench/results/NAME.txt; 1 if any run failed."""
    from app.commands.translations import compile_catalogs, stale_catalogs

    if stale_catalogs():  # the servers would render the pages without their Chinese (cheaper than served)
        compile_catalogs()
    os.environ.setdefault("JIJIAN_INSTANCE", tempfile.mkdtemp(prefix=f"jijian-{name}-instance-"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    all_ok = True
    for dialect in (["sqlite", "postgresql"] if args.db == "both" else [args.db]):
        text, ok = run(dialect, args)
        all_ok &= ok
        print(text, flush=True)
        with (RESULTS / f"{name}.txt").open("a", encoding="utf-8") as fh:
            fh.write(f"# {time.strftime('%Y-%m-%d %H:%M:%S %Z')} {' '.join(sys.argv[1:])}\n{text}\n\n")
    return 0 if all_ok else 1
