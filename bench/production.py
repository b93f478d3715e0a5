"""Production benchmark: the return page's data, the order board's data and recording
returns, each against a bare endpoint of the same stack measured in the same run.

    python -m bench.production                  # build the data, serve, measure, report
    python -m bench.production --seconds 20     # longer phases
    python -m bench.production --reuse          # keep the database built by an earlier run

1. Builds a SQLite database with 2,000 workers, 500 orders, 100,000 take-home batches and
   1,000,000 returns: the few catalogue and account rows go through the services, the bulk by
   ``executemany`` on one raw connection (returns' indexes dropped during the load and built
   after it). 440 orders are done, one after another over 18 months; 60 are open, started in
   the last two months (15 on each station's board). The counters on batches and orders are computed from the very rows inserted, so
   the data obeys conservation exactly as the app keeps it; the script checks it afterwards.
2. Serves it with gunicorn, 2 workers (``--threads`` as scripts/run.sh), on 127.0.0.1 only.
3. Drives 16 concurrent clients (a bounded thread pool, one keep-alive connection each,
   closed loop, fixed time per phase after a warm-up): GET /healthz (bare), GET
   /api/v1/batches/{batch_id} (the return page's data), GET /api/v1/orders?status=open (the
   order board's data), POST /api/v1/batches/{batch_id}/returns (each with its own
   Idempotency-Key, as the tablets send).
4. Prints a table (p50/p95/p99, requests per second, errors, ratios to bare) and writes it,
   with the raw figures as JSON, to bench/results/ (git-ignored).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import load
from bench.bulk import restore_touch_triggers, suspend_touch_triggers

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"

WORKERS = 2_000
ORDERS = 500
BATCHES_PER_ORDER = 200  # on average
RETURNS_PER_BATCH = 10  # 500 × 200 × 10 = 1,000,000 returns
STATIONS = 4
OPEN_ORDERS = 60  # 15 a station on the board; the other 440 are done, spread over 18 months
HISTORY_DAYS = 540
HEADROOM = 200_000  # unissued pieces left on each open order for the write phase


# --- building the data


def _rate_int(text: str) -> int:
    """A rate as stored: an integer count of 1/10,000 yuan."""
    from decimal import Decimal

    return int(Decimal(text).scaleb(4))


def build(db_path: Path, seed: int = 2026) -> dict:
    """Create the schema and fill it; return what the load phases need (ids, tokens)."""
    from decimal import Decimal

    from app import create_app
    from app.auth.passwords import hash_secret
    from app.extensions import db
    from app.models import Return, local_today
    from app.services import accounts, catalog, org

    rng = random.Random(seed)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "FAST_PASSWORD_HASH": True})
    started = time.perf_counter()
    with app.app_context():
        db.create_all()
        stations = [org.create_station(f"站点{i + 1}", f"幸福路 {i + 1} 号", "none") for i in range(STATIONS)]
        admin = accounts.create_staff("bench-admin", "bench-password", "admin")
        supervisors = [accounts.create_staff(f"bench-sup{i + 1}", "bench-password", "supervisor", s.id)
                       for i, s in enumerate(stations)]
        products = []
        for c in range(10):
            client = catalog.create_client(name=f"客户{c + 1}")
            for p in range(2):
                rate = Decimal(rng.choice(["0.0350", "0.1200", "0.3500", "0.0800", "1.2000"]))
                products.append(catalog.create_product(client_id=client.id, name=f"品种{c + 1}-{p + 1}",
                                                       piece_rate=rate, unit_price=rate * 2,
                                                       material_cost=Decimal("0.0100")))
        db.session.flush()
        product_rows = [(p.id, p.client_id, _rate_int(str(p.piece_rate)), _rate_int(str(p.unit_price)))
                        for p in products]
        station_ids = [s.id for s in stations]
        sup_ids = {s.station_id: s.id for s in supervisors}
        pin_hash = hash_secret("258036")
        db.session.commit()
        tokens = {"admin": accounts.issue_token(admin)[0]}
        for sup in supervisors:
            tokens[f"station:{sup.station_id}"] = accounts.issue_token(sup)[0]
        db.session.commit()
        today = local_today()
        return_indexes = list(Return.__table__.indexes)
        from sqlalchemy.schema import CreateIndex

        create_index_sql = [str(CreateIndex(ix).compile(db.engine)) for ix in return_indexes]
        db.engine.dispose()

    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("PRAGMA cache_size=-200000")
    conn.execute("BEGIN")
    suspend_touch_triggers(conn.execute, "sqlite")
    for ix in return_indexes:
        conn.execute(f"DROP INDEX {ix.name}")
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")

    # workers: 500 a station
    conn.executemany(
        "INSERT INTO workers (id, station_id, name, phone, pin_hash, birth_year, gender, is_disabled, is_relocated, "
        "is_laid_off, is_flexible, active, registered_on, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,1,?,?)",
        [(w, station_ids[(w - 1) % STATIONS], f"工人{w:04d}", f"139{w:08d}", pin_hash, rng.randint(1966, 2000),
          rng.choice("FFFM"), int(rng.random() < 0.1), int(rng.random() < 0.1), 0, 0, now, now)
         for w in range(1, WORKERS + 1)])
    workers_by_station = defaultdict(list)
    for w in range(1, WORKERS + 1):
        workers_by_station[station_ids[(w - 1) % STATIONS]].append(w)

    orders, batches, bench_batches = [], [], []
    batch_id, return_id = 0, 0
    returns_buffer: list = []
    # Open orders started in the last two months and have had batches at the pace of a
    # six-week order so far; the done orders, one after another over the history, take the
    # rest, so there are exactly ORDERS × BATCHES_PER_ORDER × RETURNS_PER_BATCH returns.
    plan = {}
    for o in range(ORDERS - OPEN_ORDERS + 1, ORDERS + 1):
        age = rng.randint(10, 60)
        plan[o] = (today - timedelta(days=age), age - 1, max(20, min(BATCHES_PER_ORDER, age * BATCHES_PER_ORDER // 45)))
    done_batches = ORDERS * BATCHES_PER_ORDER - sum(n for _c, _l, n in plan.values())
    for o in range(1, ORDERS - OPEN_ORDERS + 1):
        created = today - timedelta(days=HISTORY_DAYS - (o - 1) * (HISTORY_DAYS - 70) // (ORDERS - OPEN_ORDERS))
        plan[o] = (created, 45, done_batches // (ORDERS - OPEN_ORDERS) + (o <= done_batches % (ORDERS - OPEN_ORDERS)))
    for o in range(1, ORDERS + 1):
        station_id = station_ids[(o - 1) % STATIONS]
        product_id, client_id, piece_rate, unit_price = product_rows[(o - 1) % len(product_rows)]
        is_open = o > ORDERS - OPEN_ORDERS
        created, last_issue, batch_count = plan[o]
        committed = accepted = rejected = 0
        for _b in range(batch_count):
            batch_id += 1
            worker_id = rng.choice(workers_by_station[station_id])
            issued_on = created + timedelta(days=rng.randint(0, last_issue))
            b_acc = b_rej = 0
            for _r in range(RETURNS_PER_BATCH):
                return_id += 1
                acc, rej = rng.randint(1, 4), int(rng.random() < 0.1)
                b_acc, b_rej = b_acc + acc, b_rej + rej
                work_date = min(today, issued_on + timedelta(days=rng.randint(0, 14)))
                returns_buffer.append((return_id, batch_id, worker_id, station_id, o, product_id, piece_rate,
                                       acc, rej, work_date.isoformat(), sup_ids[station_id], now))
            quantity = b_acc + b_rej + rng.randint(0, 5)
            closed = not is_open or rng.random() < 0.9
            shortfall = quantity - b_acc - b_rej if closed else None
            batches.append((batch_id, f"B{batch_id:07d}", o, worker_id, station_id, product_id, quantity, piece_rate,
                            100, issued_on.isoformat(), now, sup_ids[station_id],
                            (issued_on + timedelta(days=7)).isoformat(), "closed" if closed else "open",
                            b_acc, b_rej, 0, min(today, issued_on + timedelta(days=15)).isoformat() if closed else None,
                            shortfall, "none" if closed else None, 0 if closed else None))
            committed, accepted, rejected = committed + quantity, accepted + b_acc, rejected + b_rej
        if is_open:  # one wide-open batch per open order takes the write phase's returns
            batch_id += 1
            worker_id = rng.choice(workers_by_station[station_id])
            batches.append((batch_id, f"W{batch_id:07d}", o, worker_id, station_id, product_id, HEADROOM, piece_rate,
                            100, (today - timedelta(days=1)).isoformat(), now, sup_ids[station_id],
                            (today + timedelta(days=7)).isoformat(), "open", 0, 0, 0, None, None, None, None))
            bench_batches.append((batch_id, station_id))
            committed += HEADROOM
        quantity = committed + (2_000 if is_open else 0)
        due = today + timedelta(days=rng.randint(5, 60)) if is_open else today - timedelta(days=rng.randint(1, 30))
        orders.append((o, f"D{today.year}-{o:05d}", client_id, product_id, station_id, quantity, due.isoformat(),
                       unit_price, "open" if is_open else "done", committed, accepted, rejected, 0, 0, now, 1,
                       created.isoformat()))
        if len(returns_buffer) >= 100_000:
            _insert_returns(conn, returns_buffer)
            returns_buffer.clear()
    _insert_returns(conn, returns_buffer)
    conn.executemany(
        "INSERT INTO orders (id, number, client_id, product_id, station_id, quantity, due_date, unit_price, status, "
        "committed, accepted, rejected, invoiced, at_risk, created_at, version, note, taken_on) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [row[:-1] + (None, (today - timedelta(days=HISTORY_DAYS + 1)).isoformat()) for row in orders])
    conn.executemany(
        "INSERT INTO batches (id, code, order_id, worker_id, station_id, product_id, quantity, piece_rate, material_cost, "
        "issued_on, issued_at, issued_by_id, due_date, status, accepted, rejected, unused, closed_on, shortfall, "
        "shortfall_policy, shortfall_deduction, overdue) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0)",
        batches)
    conn.execute("INSERT INTO number_counters (series, year, last) VALUES ('order', ?, ?)", (today.year, ORDERS))
    for sql in create_index_sql:
        conn.execute(sql)
    # The board's daily tallies, as the app keeps them beside every return.
    conn.execute("INSERT INTO order_day_tallies (order_id, work_date, accepted) "
                 "SELECT order_id, work_date, sum(accepted) FROM returns GROUP BY order_id, work_date")
    restore_touch_triggers(conn.execute, "sqlite")
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    built_in = time.perf_counter() - started
    history = [(b[0], b[4]) for b in batches if b[1].startswith("B")]
    return {"tokens": tokens, "history_batches": history, "bench_batches": bench_batches,
            "stations": station_ids, "built_in_s": round(built_in, 1), "db": str(db_path)}


def _insert_returns(conn, rows) -> None:
    conn.executemany(
        "INSERT INTO returns (id, batch_id, worker_id, station_id, order_id, product_id, piece_rate, accepted, rejected, "
        "unused, work_date, recorded_by_id, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,0,?,?,?)", rows)


def check_consistency(db_path: Path) -> dict:
    """Conservation in the stored data: counters equal the returns, nothing over-issued."""
    conn = sqlite3.connect(db_path)
    q = conn.execute
    counts = {
        "workers": q("SELECT count(*) FROM workers").fetchone()[0],
        "orders": q("SELECT count(*) FROM orders").fetchone()[0],
        "batches": q("SELECT count(*) FROM batches").fetchone()[0],
        "returns": q("SELECT count(*) FROM returns").fetchone()[0],
    }
    counts["batches_off"] = q(
        "SELECT count(*) FROM batches b LEFT JOIN (SELECT batch_id, sum(accepted) a, sum(rejected) r, sum(unused) u "
        "FROM returns GROUP BY batch_id) s ON s.batch_id = b.id "
        "WHERE coalesce(s.a, 0) != b.accepted OR coalesce(s.r, 0) != b.rejected OR coalesce(s.u, 0) != b.unused "
        "OR b.accepted + b.rejected + b.unused > b.quantity").fetchone()[0]
    counts["orders_off"] = q(
        "SELECT count(*) FROM orders o JOIN (SELECT order_id, sum(quantity - unused) c, sum(accepted) a, sum(rejected) r "
        "FROM batches GROUP BY order_id) s ON s.order_id = o.id "
        "WHERE s.c != o.committed OR s.a != o.accepted OR s.r != o.rejected OR o.committed > o.quantity").fetchone()[0]
    counts["orders_off"] += q(  # the board's daily tallies equal the returns of each order and day
        "SELECT count(*) FROM (SELECT order_id, work_date, sum(accepted) a FROM returns GROUP BY order_id, work_date) s "
        "FULL JOIN order_day_tallies t ON t.order_id = s.order_id AND t.work_date = s.work_date "
        "WHERE coalesce(s.a, 0) != coalesce(t.accepted, 0)").fetchone()[0]
    conn.close()
    return counts


# --- serving


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(db_path: Path, port: int, workers: int, threads: int, log_path: Path, *, database_url: str | None = None,
          env: dict | None = None, cwd: Path = ROOT) -> subprocess.Popen:
    """gunicorn on 127.0.0.1:``port`` serving the app in ``cwd`` (another checkout, to compare
    two versions) on ``database_url`` (default: the SQLite file ``db_path``)."""
    instance = db_path.parent / "instance"
    instance.mkdir(exist_ok=True)
    env = {**os.environ, "DATABASE_URL": database_url or f"sqlite:///{db_path}", "JIJIAN_INSTANCE": str(instance),
           "JIJIAN_ENV": "production", "SECRET_KEY": uuid.uuid4().hex, **(env or {})}
    cmd = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
           "--threads", str(threads), "--log-level", "warning",
           *os.environ.get("BENCH_GUNICORN_ARGS", "").split(), "wsgi:app"]
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"gunicorn did not answer; see {log_path}")


# --- load


class Phase:
    def __init__(self, name: str, make_request):
        self.name, self.make_request = name, make_request
        self.latencies: list[float] = []
        self.statuses: dict = defaultdict(int)
        self.errors = 0
        self.elapsed = 0.0


def run_phase(port: int, phase: Phase, clients: int, seconds: float, warmup: float) -> Phase:
    """``clients`` threads, each with one keep-alive connection, in a closed loop for
    ``warmup`` (not counted) then ``seconds``."""
    lock = threading.Lock()
    start_barrier = threading.Barrier(clients + 1)
    state = {"measure_from": None, "stop_at": None}

    def client_loop(i):
        rng = random.Random(i)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies, statuses, errors = [], defaultdict(int), 0
        start_barrier.wait()
        while True:
            now = time.perf_counter()
            if now >= state["stop_at"]:
                break
            method, path, body, headers = phase.make_request(rng)
            headers = {k: v.replace("{uniq}", uuid.uuid4().hex) for k, v in headers.items()}
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = None
            t1 = time.perf_counter()
            if t0 >= state["measure_from"]:
                if status is None:
                    errors += 1
                else:
                    statuses[status] += 1
                    latencies.append(t1 - t0)
        conn.close()
        with lock:
            phase.latencies.extend(latencies)
            phase.errors += errors
            for k, v in statuses.items():
                phase.statuses[k] += v

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    t_start = time.perf_counter()
    state["measure_from"] = t_start + warmup
    state["stop_at"] = t_start + warmup + seconds
    start_barrier.wait()
    for t in threads:
        t.join()
    phase.elapsed = seconds
    return phase


def _pct(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def summarize(phase: Phase, ok_statuses=(200,)) -> dict:
    lat = sorted(phase.latencies)
    ok = sum(v for k, v in phase.statuses.items() if k in ok_statuses)
    bad = phase.errors + sum(v for k, v in phase.statuses.items() if k not in ok_statuses)
    return {"name": phase.name, "requests": ok + bad, "ok": ok, "errors": bad,
            "statuses": {str(k): v for k, v in sorted(phase.statuses.items())},
            "rps": round(ok / phase.elapsed, 1), "p50_ms": round(_pct(lat, 50) * 1000, 2),
            "p95_ms": round(_pct(lat, 95) * 1000, 2), "p99_ms": round(_pct(lat, 99) * 1000, 2)}


def measure(port: int, name: str, make_request, ok_statuses, args, seconds: float | None = None) -> dict:
    """One phase: by wrk when it is installed (the load generator then takes little CPU), else
    by Python threads."""
    seconds = seconds or args.seconds
    if load.available() and not args.python_clients:
        rng = random.Random(name)
        requests = [make_request(rng) for _ in range(4000)]
        row = load.run(f"http://127.0.0.1:{port}", requests, args.clients, seconds, args.warmup, ok_statuses)
        return {"name": name, "generator": "wrk", **row}
    row = summarize(run_phase(port, Phase(name, make_request), args.clients, seconds, args.warmup), ok_statuses)
    return {**row, "generator": "python threads"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (scripts/run.sh uses 4)")
    parser.add_argument("--db", type=Path, default=RESULTS / "bench-production.sqlite3")
    parser.add_argument("--reuse", action="store_true", help="reuse the database (and its meta) of an earlier run")
    parser.add_argument("--python-clients", action="store_true", help="drive the load from Python threads even if wrk is installed")
    parser.add_argument("--only", default="", help="comma-separated phases to run besides bare: batch,board,post")
    args = parser.parse_args(argv)

    RESULTS.mkdir(parents=True, exist_ok=True)
    meta_path = args.db.with_suffix(".meta.json")
    if args.reuse and meta_path.exists() and args.db.exists():
        meta = json.loads(meta_path.read_text())
        print(f"reusing {args.db}")
    else:
        print(f"building {args.db} …", flush=True)
        meta = build(args.db)
        meta_path.write_text(json.dumps(meta))
        print(f"built in {meta['built_in_s']} s", flush=True)
    before = check_consistency(args.db)
    print("data:", {k: before[k] for k in ("workers", "orders", "batches", "returns")},
          "counters off:", before["batches_off"] + before["orders_off"], flush=True)

    load_before = [round(x, 2) for x in os.getloadavg()]
    port = _free_port()
    log_path = RESULTS / "gunicorn.log"
    proc = serve(args.db, port, args.workers, args.threads, log_path)
    tokens = meta["tokens"]
    history = meta["history_batches"]
    bench_batches = meta["bench_batches"]
    board_station = meta["stations"][0]

    def auth(station_id):
        return {"Authorization": f"Bearer {tokens[f'station:{station_id}']}"}

    def bare(rng):
        return "GET", "/healthz", None, {}

    def batch_page(rng):
        batch_id, station_id = rng.choice(history)
        return "GET", f"/api/v1/batches/{batch_id}", None, auth(station_id)

    def order_board(rng):
        return "GET", "/api/v1/orders?status=open", None, auth(board_station)

    def record_return(rng):
        batch_id, station_id = rng.choice(bench_batches)
        body = json.dumps({"accepted": 1, "rejected": rng.choice((0, 0, 0, 1))})
        headers = {**auth(station_id), "Content-Type": "application/json", "Idempotency-Key": "{uniq}"}
        return "POST", f"/api/v1/batches/{batch_id}/returns", body, headers

    results = []
    try:
        phases = (("bare", "bare GET /healthz", bare, (200,)),
                  ("batch", "return page data GET /batches/{id}", batch_page, (200,)),
                  ("board", "order board GET /orders?status=open", order_board, (200,)),
                  ("post", "record return POST /batches/{id}/returns", record_return, (201,)))
        only = {"bare", *filter(None, args.only.split(","))} if args.only else None
        for key, name, fn, ok in phases:
            if only is not None and key not in only:
                continue
            print(f"measuring {name} …", flush=True)
            results.append(measure(port, name, fn, ok, args))
        bare_row = results[0]
        results.append(measure(port, "bare GET /healthz (again)", bare, (200,), args, seconds=args.seconds / 2))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    after = check_consistency(args.db)

    for row in results:
        row["p95_vs_bare"] = round(row["p95_ms"] / bare_row["p95_ms"], 2)
        row["rps_vs_bare"] = round(row["rps"] / bare_row["rps"], 2)
    report = {
        "at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                    "loadavg_before": load_before, "loadavg_after": [round(x, 2) for x in os.getloadavg()]},
        "setup": {"clients": args.clients, "gunicorn_workers": args.workers, "threads": args.threads,
                  "seconds": args.seconds, "warmup": args.warmup, "db": "sqlite (WAL)"},
        "data": {k: after[k] for k in ("workers", "orders", "batches", "returns")},
        "built_in_s": meta.get("built_in_s"),
        "consistent_after": after["batches_off"] == 0 and after["orders_off"] == 0,
        "results": results,
    }
    lines = [
        f"Jijian production bench — {report['at']}, {os.cpu_count()} CPUs, gunicorn {args.workers} workers × "
        f"{args.threads} threads on 127.0.0.1, {args.clients} concurrent clients ({results[0]['generator']}), {args.seconds:g} s a phase",
        f"data: {report['data']['workers']:,} workers, {report['data']['orders']:,} orders, "
        f"{report['data']['batches']:,} batches, {report['data']['returns']:,} returns (built in {meta.get('built_in_s')} s); "
        f"counters consistent after the run: {report['consistent_after']}",
        f"machine load average (1, 5, 15 min) before: {report['machine']['loadavg_before']}, "
        f"after: {report['machine']['loadavg_after']} (other work on the machine shares its {os.cpu_count()} CPUs)",
        "",
        f"{'endpoint':44} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8} {'errors':>7} {'p95/bare':>9} {'rps/bare':>9}",
    ]
    for row in results:
        lines.append(f"{row['name']:44} {row['p50_ms']:8.2f} {row['p95_ms']:8.2f} {row['p99_ms']:8.2f} "
                     f"{row['rps']:8.1f} {row['errors']:7d} {row['p95_vs_bare']:9.2f} {row['rps_vs_bare']:9.2f}")
    text = "\n".join(lines)
    print()
    print(text)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"production-{stamp}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    (RESULTS / f"production-{stamp}.txt").write_text(text + "\n")
    (RESULTS / "production-latest.txt").write_text(text + "\n")
    return 0 if report["consistent_after"] else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
