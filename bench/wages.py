"""Wages benchmarks, on SQLite and on a throwaway PostgreSQL server.

1. Close a month of 2,000 workers and 300,000 returns: every statement computed, written in
   bulk and chained, the period closed and committed (target: under 2 s). In the same run the
   earnings step (services.earnings.earnings_lines) is timed against the bare SQL aggregate
   over the same rows, fetched through the raw DBAPI cursor (target: within 3×).
2. The worker's home page with 1,000,000 returns in the database, 16 concurrent clients each
   signed in as a different worker, against gunicorn on 127.0.0.1 (target: p95 under 50 ms).
   Twice: as served (a repeat visit with nothing new comes from the page cache, keyed by the
   worker's activity_seq), and with the cache off (PAGE_CACHE_SIZE=0: every visit rendered,
   as the first visit after each return is).

    python -m bench.wages                 # both databases, both parts
    python -m bench.wages --db sqlite --skip-home

Bench data is written straight through the DBAPI (COPY on PostgreSQL) for speed; what is
measured runs through the app's own services and pages.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import load  # noqa: E402
from bench.bulk import restore_touch_triggers, suspend_touch_triggers  # noqa: E402

WORKERS = 2000
CLOSE_RETURNS = 300_000
TOTAL_RETURNS = 1_000_000
STATIONS = 8
PRODUCTS = 12
BATCHES_PER_WORKER = 5
CLIENTS = 16
REQUESTS_PER_CLIENT = 150
HOME_SECONDS = 10  # with wrk: measured seconds after a 2 s warm-up
PIN = "258036"


def percentile(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    f = int(k)
    c = min(f + 1, len(values) - 1)
    return values[f] + (values[c] - values[f]) * (k - f)


# --- data


def month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def generate(conn, dialect: str, today: date, pin_hash: str) -> dict:
    """Stations, products, orders, workers, batches and returns (300k in last month, the rest
    spread over the five months before it and this month up to today)."""
    rng = random.Random(4)
    now = datetime.utcnow()
    last_start, last_end = month_bounds(today.replace(day=1) - timedelta(days=1))
    cur = conn.cursor()
    ph = "?" if dialect == "sqlite" else "%s"

    def many(sql, rows):
        cur.executemany(sql.replace("?", ph), rows)

    if dialect == "sqlite":  # the app's connections run in autocommit mode and BEGIN themselves
        cur.execute("PRAGMA cache_size=-400000")  # 400 MB: random inserts into five indexes
        cur.execute("BEGIN")
    suspend_touch_triggers(cur.execute, dialect)

    many("INSERT INTO stations (id, name, shortfall_policy, created_at) VALUES (?, ?, 'none', ?)",
         [(i, f"站点{i}", now) for i in range(1, STATIONS + 1)])
    many("INSERT INTO clients (id, name, payment_terms_days, version, created_at) VALUES (?, ?, 30, 1, ?)",
         [(1, "客户", now)])
    rates = [rng.randint(100, 4_000) for _ in range(PRODUCTS)]  # 0.0100–0.4000 yuan, 4 decimals
    many("INSERT INTO products (id, client_id, name, unit, piece_rate, unit_price, material_cost, batch_size, active, version, created_at) "
         "VALUES (?, 1, ?, '件', ?, ?, 0, 100, ?, 1, ?)",
         [(i + 1, f"品种{i + 1}", rates[i], rates[i] * 2, True, now) for i in range(PRODUCTS)])
    orders = {}
    order_rows = []
    for s in range(1, STATIONS + 1):
        for p in range(1, PRODUCTS + 1):
            oid = len(order_rows) + 1
            orders[(s, p)] = oid
            order_rows.append((oid, f"B-{oid:05d}", 1, p, s, 10**9, today + timedelta(days=30), rates[p - 1] * 2,
                               "open", 0, 0, 0, 0, False, now, 1, today - timedelta(days=365)))
    many("INSERT INTO orders (id, number, client_id, product_id, station_id, quantity, due_date, unit_price, status, "
         "committed, accepted, rejected, invoiced, at_risk, created_at, version, taken_on) "
         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
         order_rows)
    many("INSERT INTO workers (id, station_id, name, phone, pin_hash, is_disabled, is_relocated, is_laid_off, is_flexible, "
         "active, registered_on, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
         [(w, (w - 1) % STATIONS + 1, f"工人{w}", f"137{w:08d}", pin_hash, False, False, False, False, True, now, now)
          for w in range(1, WORKERS + 1)])
    batches = []  # (id, worker, station, product, order, rate)
    batch_rows = []
    for w in range(1, WORKERS + 1):
        station = (w - 1) % STATIONS + 1
        for k in range(BATCHES_PER_WORKER):
            bid = len(batches) + 1
            product = rng.randint(1, PRODUCTS)
            rate = rates[product - 1] + (k % 2) * 50  # a rate change between batches: two lines
            issued = today - timedelta(days=200 - k)
            status = "open" if k >= BATCHES_PER_WORKER - 2 else "closed"
            batches.append((bid, w, station, product, orders[(station, product)], rate))
            batch_rows.append((bid, f"C{bid:07d}", orders[(station, product)], w, station, product, 10**6, rate, 0,
                               issued, now, today + timedelta(days=rng.randint(-5, 10)), status, False, 0, 0, 0))
    many("INSERT INTO batches (id, code, order_id, worker_id, station_id, product_id, quantity, piece_rate, material_cost, "
         "issued_on, issued_at, due_date, status, overdue, accepted, rejected, unused) "
         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch_rows)
    conn.commit()

    if dialect == "sqlite":
        cur.execute("BEGIN")
    other_days = [today - timedelta(days=i) for i in range(0, 190) if not (last_start <= today - timedelta(days=i) <= last_end)]
    last_days = [last_start + timedelta(days=i) for i in range((last_end - last_start).days + 1)]

    def rows():
        for n in range(TOTAL_RETURNS):
            bid, w, s, p, o, rate = batches[rng.randrange(len(batches))]
            day = rng.choice(last_days) if n < CLOSE_RETURNS else rng.choice(other_days)
            accepted = rng.randint(1, 60)
            yield (bid, w, s, o, p, rate, accepted, rng.choice((0, 0, 0, 1)), 0, day, now)

    cols = "batch_id, worker_id, station_id, order_id, product_id, piece_rate, accepted, rejected, unused, work_date, recorded_at"
    if dialect == "postgresql":
        with cur.copy(f"COPY returns ({cols}) FROM STDIN") as copy:
            for row in rows():
                copy.write_row(row)
    else:
        cur.executemany(f"INSERT INTO returns ({cols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows())
    conn.commit()
    if dialect == "postgresql":
        for table in ("stations", "clients", "products", "orders", "workers", "batches"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        restore_touch_triggers(cur.execute, dialect)
        conn.commit()
        conn.autocommit = True  # what autovacuum would have done by the end of a month
        cur.execute("VACUUM ANALYZE")
        conn.autocommit = False
    else:
        restore_touch_triggers(cur.execute, dialect)
        cur.execute("ANALYZE")
    conn.commit()
    return {"last_start": last_start, "last_end": last_end}


# --- CPU seconds of a process tree (load-independent figures on a shared machine)


def tree_cpu_seconds(root_pid: int | None) -> float:
    """utime + stime of ``root_pid`` and all its descendants, from /proc."""
    if not root_pid:
        return 0.0
    parents, cpu = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [root_pid]
    while todo:
        pid = todo.pop()
        total += cpu.get(pid, 0.0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


def postmaster_pid(app) -> int | None:
    from app.extensions import db

    if db.engine.dialect.name != "postgresql":
        return None
    from sqlalchemy import text

    data_dir = db.session.scalar(text("SHOW data_directory"))
    db.session.rollback()
    try:
        return int(Path(data_dir, "postmaster.pid").read_text().split()[0])
    except OSError:
        return None


# --- part 1: closing a month


def bench_close(app, info, repeats: int = 3) -> dict:
    from sqlalchemy import text

    from app.db_tx import writing
    from app.extensions import db
    from app.services import chain, wages
    from app.services.earnings import earnings_lines

    start, end = info["last_start"], info["last_end"]
    out = {}
    with app.app_context():
        with writing():  # a reused database: start from no periods at all
            for table in ("payslip_lines", "payslips", "adjustments", "pay_periods"):
                db.session.execute(text(f"DELETE FROM {table}"))
            db.session.commit()
        n_returns = db.session.scalar(text("SELECT count(*) FROM returns WHERE work_date BETWEEN :s AND :e"),
                                      {"s": start, "e": end})
        out["returns_in_month"] = n_returns
        # earnings step vs bare SQL aggregate, same rows, same run, interleaved
        raw_sql = ("SELECT worker_id, product_id, piece_rate, sum(accepted) FROM returns "
                   "WHERE work_date >= {p} AND work_date <= {p} GROUP BY worker_id, product_id, piece_rate")
        service_t, bare_t = [], []
        for _ in range(7):
            db.session.rollback()
            t0 = time.perf_counter()
            lines = earnings_lines(start, end)
            service_t.append(time.perf_counter() - t0)
            db.session.rollback()
            conn = db.session.connection().connection.dbapi_connection
            cur = conn.cursor()
            ph = "?" if db.engine.dialect.name == "sqlite" else "%s"
            t0 = time.perf_counter()
            cur.execute(raw_sql.format(p=ph), (start.isoformat(), end.isoformat()) if ph == "?" else (start, end))
            bare_rows = cur.fetchall()
            bare_t.append(time.perf_counter() - t0)
            cur.close()
        out["earnings_lines"] = len(lines)
        assert len(bare_rows) >= len(lines)
        out["earnings_step_ms"] = statistics.median(service_t) * 1000
        out["bare_aggregate_ms"] = statistics.median(bare_t) * 1000
        out["ratio"] = out["earnings_step_ms"] / out["bare_aggregate_ms"]

        closes, cpu = [], []
        db.session.rollback()
        with writing():  # the computing part of a close alone, for the breakdown
            period = wages.create_pay_period(start, end)
            db.session.flush()
            t0 = time.perf_counter()
            wages.compute_statements(period)
            out["compute_statements_ms"] = (time.perf_counter() - t0) * 1000
            db.session.rollback()
            db.session.expunge_all()
        for i in range(repeats):
            with writing():
                period = wages.create_pay_period(start, end)
                db.session.commit()
                pg = postmaster_pid(app)
                t0, c0, s0 = time.perf_counter(), time.process_time(), tree_cpu_seconds(pg)
                result = wages.close_pay_period(period, early=True)  # whatever month the bench loaded
                db.session.commit()
                closes.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0 + tree_cpu_seconds(pg) - s0)
            out["payslips"] = result.payslips
            out["lines_written"] = db.session.scalar(text("SELECT count(*) FROM payslip_lines"))
            t0 = time.perf_counter()
            problems = chain.verify_payslips()
            out["verify_ms"] = (time.perf_counter() - t0) * 1000
            assert problems == [], problems[:3]
            if i < repeats - 1:  # undo, to close the same month again
                with writing():
                    db.session.execute(text("DELETE FROM payslip_lines"))
                    db.session.execute(text("DELETE FROM payslips"))
                    db.session.execute(text("DELETE FROM pay_periods"))
                    db.session.commit()
                    db.session.expunge_all()
        out["close_ms"] = [round(c * 1000) for c in closes]
        out["close_best_ms"] = min(closes) * 1000
        out["close_app_cpu_ms"] = min(cpu) * 1000  # this process plus the PostgreSQL server's processes
        out["load_average"] = os.getloadavg()[0]
    return out


# --- part 2: the worker's home page under load


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_home(env: dict, workers_to_use: list[int], pg_pid: int | None = None) -> dict:
    import requests

    port = free_port()
    web_workers = int(os.environ.get("BENCH_WEB_WORKERS", "2"))
    threads = int(os.environ.get("BENCH_WEB_THREADS", "1"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(web_workers),
         "--threads", str(threads), "--log-level", "warning",
         *os.environ.get("BENCH_GUNICORN_ARGS", "").split(), "wsgi:app"],
        cwd=ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(base + "/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        sessions = []
        for w in workers_to_use:
            s = requests.Session()
            page = s.get(base + "/w/login").text
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
            resp = s.post(base + "/w/login", data={"csrf_token": token.group(1), "phone": f"137{w:08d}", "pin": PIN},
                          allow_redirects=False)
            assert resp.status_code in (302, 303), resp.status_code
            sessions.append(s)
        for s in sessions:  # warm up every web worker's caches
            for _ in range(5):
                r = s.get(base + "/home")
                assert r.status_code == 200 and "no-store" in r.headers.get("Cache-Control", "")
        if load.available():
            # wrk: one connection a signed-in worker, each with its own session cookie.
            cookies = [{"Cookie": "; ".join(f"{k}={v}" for k, v in s.cookies.get_dict().items())} for s in sessions]
            phase = [("GET", "/home", None, {})]
            load.run(base, phase, len(sessions), 2, warmup=0, per_client_headers=cookies)  # warm-up, not counted
            s0 = tree_cpu_seconds(proc.pid) + tree_cpu_seconds(pg_pid)
            row = load.run(base, phase, len(sessions), HOME_SECONDS, warmup=0, per_client_headers=cookies)
            server_cpu = tree_cpu_seconds(proc.pid) + tree_cpu_seconds(pg_pid) - s0
            return {"requests": row["requests"], "errors": row["errors"], "p50_ms": row["p50_ms"], "p95_ms": row["p95_ms"],
                    "p99_ms": row["p99_ms"], "throughput_rps": row["rps"], "generator": "wrk",
                    "gunicorn": f"{web_workers} workers x {threads} threads", "clients": len(sessions),
                    "server_cpu_ms_per_request": server_cpu * 1000 / max(1, row["requests"]) if row["requests"] else None}
        latencies: list[float] = []
        lock = threading.Lock()
        barrier = threading.Barrier(len(sessions))

        def client(s):
            mine = []
            barrier.wait()
            for _ in range(REQUESTS_PER_CLIENT):
                t0 = time.perf_counter()
                r = s.get(base + "/home")
                mine.append(time.perf_counter() - t0)
                assert r.status_code == 200 and "no-store" in r.headers.get("Cache-Control", "")
            with lock:
                latencies.extend(mine)

        t0, s0 = time.perf_counter(), tree_cpu_seconds(proc.pid) + tree_cpu_seconds(pg_pid)
        threads_ = [threading.Thread(target=client, args=(s,)) for s in sessions]
        for t in threads_:
            t.start()
        for t in threads_:
            t.join()
        wall = time.perf_counter() - t0
        server_cpu = tree_cpu_seconds(proc.pid) + tree_cpu_seconds(pg_pid) - s0
        ms = [v * 1000 for v in latencies]
        return {"requests": len(ms), "p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95),
                "p99_ms": percentile(ms, 99), "throughput_rps": len(ms) / wall, "generator": "python threads",
                "gunicorn": f"{web_workers} workers x {threads} threads", "clients": len(sessions),
                "server_cpu_ms_per_request": server_cpu * 1000 / len(ms)}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def single_request_profile(app, worker_id: int) -> dict:
    """Server-side time of one home page render (test client, no network), median of 30."""
    from app.models import Worker

    with app.app_context():
        client = app.test_client()
        from app.extensions import db

        worker = db.session.get(Worker, worker_id)
        from app.auth.loader import session_keys

        with client.session_transaction() as sess:
            sess.update(session_keys(worker))
            sess["_fresh"] = True
        out = {}
        for label, size in (("home_render_median_ms", 0), ("home_cached_median_ms", 4096)):
            app.config["PAGE_CACHE_SIZE"] = size
            app.extensions.pop("page_caches", None)
            times = []
            for _ in range(30):
                t0 = time.perf_counter()
                assert client.get("/home").status_code == 200
                times.append(time.perf_counter() - t0)
            out[label] = statistics.median(times) * 1000
        return out


# --- driver


def run(dialect: str, skip_home: bool, keep: str | None = None) -> dict:
    from app import create_app
    from app.auth.passwords import hash_secret
    from app.extensions import db
    from app.models import local_today

    workdir = Path(keep) if keep else Path(tempfile.mkdtemp(prefix=f"jijian-bench-{dialect}-"))
    workdir.mkdir(parents=True, exist_ok=True)
    reuse = keep is not None and dialect == "sqlite" and (workdir / "bench.sqlite3").exists()
    server = None
    try:
        if dialect == "sqlite":
            url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        else:
            from sqlalchemy import create_engine, text

            from tests.pgserver import PostgresServer

            server = PostgresServer()
            admin_url = server.start()
            engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(text("CREATE DATABASE jijian_bench"))
            engine.dispose()
            url = admin_url.replace("/postgres?", "/jijian_bench?")
        config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret"}
        app = create_app(config)
        with app.app_context():
            today = local_today()
            if reuse:
                last_start, last_end = month_bounds(today.replace(day=1) - timedelta(days=1))
                info = {"last_start": last_start, "last_end": last_end}
            else:
                db.create_all()
                pin_hash = hash_secret(PIN)
                t0 = time.perf_counter()
                raw = db.engine.raw_connection()
                info = generate(raw.dbapi_connection, dialect, today, pin_hash)
                raw.close()
                print(f"[{dialect}] generated {TOTAL_RETURNS:,} returns in {time.perf_counter() - t0:.1f}s", flush=True)
        result = {"db": dialect, **bench_close(app, info)}
        print(f"[{dialect}] close: {result}", flush=True)
        if not skip_home:
            result.update(single_request_profile(app, 7))
            env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-secret", "JIJIAN_INSTANCE": str(workdir)}
            rng = random.Random(16)
            with app.app_context():
                pg_pid = postmaster_pid(app)
            clients = rng.sample(range(1, WORKERS + 1), CLIENTS)
            result["home"] = bench_home(env, clients, pg_pid)
            print(f"[{dialect}] home: {result['home']}", flush=True)
            result["home_rendered"] = bench_home({**env, "PAGE_CACHE_SIZE": "0"}, clients, pg_pid)
            print(f"[{dialect}] home, every visit rendered: {result['home_rendered']}", flush=True)
        return result
    finally:
        if server is not None:
            server.stop()
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--skip-home", action="store_true")
    parser.add_argument("--keep", help="SQLite only: keep (and reuse) the generated database in this folder")
    args = parser.parse_args()
    dialects = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    results = [run(d, args.skip_home, args.keep) for d in dialects]
    print("\n== wages bench")
    for r in results:
        print(f"{r['db']:>10}: close {r['returns_in_month']:,} returns / {r['payslips']:,} statements "
              f"({r['lines_written']:,} lines): best {r['close_best_ms']:.0f} ms (runs {r['close_ms']}); "
              f"earnings step {r['earnings_step_ms']:.0f} ms vs bare aggregate {r['bare_aggregate_ms']:.0f} ms "
              f"= {r['ratio']:.2f}x; all statements computed {r['compute_statements_ms']:.0f} ms; verify {r['verify_ms']:.0f} ms; CPU in close (app + database) {r['close_app_cpu_ms']:.0f} ms; "
              f"load average {r['load_average']:.1f} on {os.cpu_count()} CPUs")
        for name, how, one in (("home", "as served", "home_cached_median_ms"),
                               ("home_rendered", "every visit rendered", "home_render_median_ms")):
            if name not in r:
                continue
            h = r[name]
            print(f"{'':>10}  home page ({how}), {TOTAL_RETURNS:,} returns, {h['clients']} clients ({h.get('generator')}), "
                  f"{h['gunicorn']}: p50 {h['p50_ms']:.1f} ms, p95 {h['p95_ms']:.1f} ms, p99 {h['p99_ms']:.1f} ms, "
                  f"{h['throughput_rps']:.0f} req/s; server CPU {h['server_cpu_ms_per_request']:.1f} ms a request; "
                  f"one answer in-process (no network) {r[one]:.1f} ms")


if __name__ == "__main__":
    main()
