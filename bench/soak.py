"""Soak: 40 counter tablets and 300 workers' phones with think times against a real gunicorn,
on SQLite and PostgreSQL, then the ledger's invariants; with a backup taken mid-run and
restored into a fresh database (the restore drill).

    flock /tmp/jijian-bench.lock python -m bench.soak                 # both databases, 5 minutes each
    python -m bench.soak --db sqlite --seconds 900                    # one 15-minute run

Tablets (each a supervisor signed in, 2-6 s between taps): open the station's board and a
batch page, record returns through the API with an Idempotency-Key (one in ten re-sent with
the same key, as a flaky network would, and checked to answer as the first did), correct a
return, issue batches, close them. Phones (each a worker, 5-20 s between taps): sign in with
phone and PIN once, then the home page, earnings, pay statements, what they hold.

The load comes from Python threads with the standard library's HTTP client (one keep-alive
connection each), sleeping between taps: 340 mostly idle threads cost the server's two cores
far less than a load tool's own event loop would. Reported: p50/p95/p99 per page, statuses
per page, transport errors, "database is locked" in the server log, the checker's verdict,
and the restore drill's counts and money. Appended to bench/results/soak.txt.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import sys
import tempfile
import threading
import time
import uuid
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


# --- the clients


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency = defaultdict(list)
        self.status = defaultdict(Counter)
        self.transport = Counter()
        self.replay_mismatch = []

    def add(self, page: str, status, seconds: float) -> None:
        with self.lock:
            if isinstance(status, int):
                self.status[page][status] += 1
                self.latency[page].append(seconds)
            else:
                self.transport[page] += 1


class Client:
    """One device: a keep-alive connection and a cookie, as the browser keeps them."""

    def __init__(self, port: int, stats: Stats):
        self.port, self.stats = port, stats
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""
        self.last_used = 0.0

    def send(self, page: str, method: str, path: str, body=None, headers=None, form=False):
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
        t0 = time.perf_counter()
        if t0 - self.last_used > KEEPALIVE_S:  # the server has closed an idle connection: so would a browser
            self.conn.close()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.stats.add(page, None, 0)
            return None, b""
        self.last_used = time.perf_counter()
        self.stats.add(page, resp.status, self.last_used - t0)
        for value in resp.headers.get_all("Set-Cookie") or []:
            self.cookie = value.split(";", 1)[0]
        return resp.status, data


def _csrf(html: bytes) -> str:
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', html)
    return match.group(1).decode() if match else ""


class Tablet(threading.Thread):
    def __init__(self, port, stats, info, world, stop, rng, think=(2.0, 6.0), pause=None):
        super().__init__(daemon=True)
        self.client, self.info, self.world, self.stop, self.rng = Client(port, stats), info, world, stop, rng
        self.station = world["stations"][info["station"]]
        self.auth = {"Authorization": f"Bearer {info['token']}"}
        self.think, self.pause = think, pause
        self.recent: list[int] = []  # ids of returns this tablet recorded
        self.stats = stats

    def sign_in(self):
        status, page = self.client.send("login page", "GET", "/login")
        self.client.send("login", "POST", "/login", {"csrf_token": _csrf(page), "username": self.info["username"],
                                                    "password": PASSWORD}, form=True)

    def run(self):
        self.sign_in()
        while not self.stop.is_set():
            if self.pause is not None:
                self.pause.wait()
            self.tap()
            self.stop.wait(self.rng.uniform(*self.think))

    def tap(self):
        r, c, st = self.rng.random(), self.client, self.station
        batches = st["batches"]
        if not batches:
            return
        batch = self.rng.choice(batches)
        if r < 0.25:
            c.send("board", "GET", f"/stations/{st['id']}/board")
        elif r < 0.35:
            c.send("batch page", "GET", f"/batches/{batch}")
        elif r < 0.42:
            c.send("orders page", "GET", "/orders")
        elif r < 0.80:
            key = f"soak-{uuid.uuid4().hex}"
            body = {"accepted": self.rng.randint(1, 4), "rejected": self.rng.choice((0, 0, 0, 1))}
            headers = {**self.auth, "Idempotency-Key": key}
            status, data = c.send("API return", "POST", f"/api/v1/batches/{batch}/returns", body, headers)
            if status == 201:
                self.recent = (self.recent + [(batch, json.loads(data)["id"])])[-5:]
            if self.rng.random() < 0.1 and status is not None:
                again, data2 = c.send("API return (same key again)", "POST", f"/api/v1/batches/{batch}/returns",
                                      body, headers)
                if (again, data2) != (status, data):
                    with self.stats.lock:
                        self.stats.replay_mismatch.append((key, status, again))
        elif r < 0.86 and self.recent:
            of_batch, original = self.recent.pop()
            c.send("API correction", "POST", f"/api/v1/batches/{of_batch}/returns",
                   {"accepted": -1, "corrects": original, "reason": "数错了"},
                   {**self.auth, "Idempotency-Key": f"soak-{uuid.uuid4().hex}"})
        elif r < 0.95:
            worker = self.rng.choice(st["workers"])
            status, data = c.send("API issue batch", "POST", "/api/v1/batches",
                                  {"order_id": self.rng.choice(st["orders"]), "worker_id": worker, "quantity": 300},
                                  {**self.auth, "Idempotency-Key": f"soak-{uuid.uuid4().hex}"})
            if status == 201:
                batches.append(json.loads(data)["id"])
        elif len(batches) > 20:
            status, _ = c.send("API close batch", "POST", f"/api/v1/batches/{batch}/close", {"reason": "收工"},
                               {**self.auth, "Idempotency-Key": f"soak-{uuid.uuid4().hex}"})
            if status == 200 and batch in batches:
                batches.remove(batch)


class Phone(threading.Thread):
    def __init__(self, port, stats, info, stop, rng, think=(5.0, 20.0), pause=None):
        super().__init__(daemon=True)
        self.client, self.info, self.stop, self.rng, self.think, self.pause = Client(port, stats), info, stop, rng, \
            think, pause

    def run(self):
        self.stop.wait(self.rng.uniform(0, self.think[1]))  # phones wake up over the first seconds
        status, page = self.client.send("worker login page", "GET", "/w/login")
        self.client.send("worker login", "POST", "/w/login",
                         {"csrf_token": _csrf(page), "phone": self.info["phone"], "pin": PIN}, form=True)
        while not self.stop.is_set():
            if self.pause is not None:
                self.pause.wait()
            r = self.rng.random()
            if r < 0.5:
                self.client.send("home", "GET", "/home")
            elif r < 0.7:
                self.client.send("earnings", "GET", "/me/earnings")
            elif r < 0.85:
                self.client.send("pay statements", "GET", "/me/payslips")
            else:
                self.client.send("what I hold", "GET", "/me/batches")
            self.stop.wait(self.rng.uniform(*self.think))


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(round(p / 100 * len(values) + 0.5)) - 1))]


def table(stats: Stats) -> list[str]:
    lines = ["| page | requests | p50 ms | p95 ms | p99 ms | statuses | transport errors |", "|---|---|---|---|---|---|---|"]
    for page in sorted(set(stats.latency) | set(stats.transport)):
        lat = stats.latency[page]
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(stats.status[page].items()))
        lines.append(f"| {page} | {len(lat)} | {percentile(lat, 50) * 1000:.0f} | {percentile(lat, 95) * 1000:.0f} | "
                     f"{percentile(lat, 99) * 1000:.0f} | {statuses} | {stats.transport[page]} |")
    return lines


# --- one run


def run(dialect: str, args) -> tuple[str, bool]:
    from bench.servers import Server

    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix=f"jijian-soak-{dialect}-"))
        url = database(dialect, stack, tmp)
        app = make_app(url)
        t0 = time.monotonic()
        world = seed(app, args.tablets, args.phones)
        seeded = time.monotonic() - t0
        server = Server(url, "soak-" + uuid.uuid4().hex, tmp / "instance", workers=args.workers,
                        threads=args.threads).start()
        stack.callback(server.stop)
        stats, stop, pause = Stats(), threading.Event(), threading.Event()
        pause.set()
        rng = random.Random(args.seed)
        devices = [Tablet(server.port, stats, t, world, stop, random.Random(rng.random()), pause=pause)
                   for t in world["tablets"]]
        devices += [Phone(server.port, stats, p, stop, random.Random(rng.random()), pause=pause)
                    for p in world["phones"]]
        load = [os.getloadavg()]
        started = time.monotonic()
        for d in devices:
            d.start()
        drill = {}
        backup_at = started + args.seconds / 2
        while time.monotonic() < started + args.seconds:
            time.sleep(1)
            if len(load) < 2 and time.monotonic() > started + args.seconds / 2:
                load.append(os.getloadavg())
            if not drill and not args.no_backup and time.monotonic() >= backup_at:
                drill = backup_moment(app, pause, tmp, started)
        stop.set()
        pause.set()
        for d in devices:
            d.join(70)
        elapsed = time.monotonic() - started
        load.append(os.getloadavg())
        breaches = check(app)
        log = server.log.read_text(errors="replace") if server.log.exists() else ""
        locked = log.count("database is locked")
        server_errors = sum(v for page in stats.status.values() for k, v in page.items() if k >= 500)
        restored = restore_drill(dialect, drill, stack, tmp) if drill else None
        ok = not breaches and not server_errors and not locked and not stats.replay_mismatch and \
            (restored is None or restored["ok"])
        lines = [f"## soak {dialect}: {args.tablets} tablets, {args.phones} phones, {elapsed:.0f} s "
                 f"(seeded in {seeded:.0f} s), gunicorn {args.workers} workers x {args.threads} threads; "
                 f"load average " + " → ".join(f"{a:.2f}/{b:.2f}/{c:.2f}" for a, b, c in load), "",
                 *table(stats), "",
                 f"- 5xx: {server_errors}; 'database is locked' in the server log: {locked}; "
                 f"re-sent same-key returns answering differently: {len(stats.replay_mismatch)}",
                 f"- ledger: {'every invariant holds' if not breaches else str(len(breaches)) + ' breach(es)'}",
                 *[f"  - {b}" for b in breaches[:20]]]
        if restored is not None:
            lines += [f"- restore drill: backup taken at {drill['at_s']:.0f} s into the run ({drill['size']} bytes, "
                      f"load paused {drill['paused_s']:.1f} s for the moment's figures); restored into a fresh "
                      f"database in {restored['seconds']:.1f} s; checker on the copy: "
                      f"{'every invariant holds' if not restored['breaches'] else restored['breaches'][:5]}; "
                      f"figures at the backup's moment {'equal' if restored['equal'] else 'DIFFER'}: "
                      f"{json.dumps(drill['totals'], ensure_ascii=False)}"
                      + ("" if restored["equal"] else f" vs copy {json.dumps(restored['totals'], ensure_ascii=False)}")]
        return "\n".join(lines), ok


def backup_moment(app, pause: threading.Event, tmp: Path, started: float) -> dict:
    """Hold the devices between taps, let requests in flight finish, note the figures, back up,
    and let them go on."""
    from app.services.backup import backup_database

    t0 = time.monotonic()
    pause.clear()
    time.sleep(2.0)  # a tap already sent is answered within this (p99 is far below)
    figures = totals(app)
    with app.app_context():
        result = backup_database(tmp / "drill.backup")
    pause.set()
    return {"path": result.path, "size": result.size, "totals": figures, "paused_s": time.monotonic() - t0,
            "at_s": t0 - started}


def restore_drill(dialect: str, drill: dict, stack: ExitStack, tmp: Path) -> dict:
    from app.services.backup import restore_database

    url = database(dialect, stack, tmp, name="restored")
    app = make_app(url)
    t0 = time.monotonic()
    with app.app_context():
        restore_database(drill["path"])
    seconds = time.monotonic() - t0
    breaches = check(app)
    copy = totals(app)
    return {"seconds": seconds, "breaches": breaches, "totals": copy, "equal": copy == drill["totals"],
            "ok": not breaches and copy == drill["totals"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Soak: tablets and phones against gunicorn, then the checker.")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--tablets", type=int, default=40)
    parser.add_argument("--phones", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--no-backup", action="store_true", help="skip the restore drill")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args(argv)
    os.environ.setdefault("JIJIAN_INSTANCE", tempfile.mkdtemp(prefix="jijian-soak-instance-"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    all_ok = True
    for dialect in (["sqlite", "postgresql"] if args.db == "both" else [args.db]):
        text, ok = run(dialect, args)
        all_ok &= ok
        print(text, flush=True)
        with (RESULTS / "soak.txt").open("a", encoding="utf-8") as fh:
            fh.write(f"# {time.strftime('%Y-%m-%d %H:%M:%S %Z')} {' '.join(sys.argv[1:])}\n{text}\n\n")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
