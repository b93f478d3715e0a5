"""The district employment report for a year with 2,000 workers and 1,000,000 returns, on
SQLite and on PostgreSQL (a throwaway server, like the tests'). Target: under 1 s.

    python -m bench.reports                      # both databases
    python -m bench.reports --db sqlite --returns 200000

Data is built by bulk insert (executemany on SQLite, COPY on PostgreSQL), straight into the
tables with scaled integers for money, so building takes seconds, not hours. Timings print as
a table and are appended to bench/results/reports.txt.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from bench.bulk import restore_touch_triggers, suspend_touch_triggers

STATIONS = 20
PRODUCTS = 12
RATES = [350, 1200, 800, 380000, 500, 2500, 900, 1500, 4000, 700, 300, 2000]  # 1/10,000 yuan
YEAR = 2025


def build(engine, workers: int, returns: int, seed: int = 7) -> dict:
    """Bulk-load a year of work: stations, a catalogue, workers, orders, batches and returns."""
    from app.extensions import db

    rng = random.Random(seed)
    now = datetime(YEAR, 1, 1)
    start = date(YEAR, 1, 1)
    per_batch = 10
    batches = returns // per_batch
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        dialect = engine.dialect.name
        suspend_touch_triggers(conn.exec_driver_sql, dialect)

        def load(table: str, columns: list[str], rows):
            rows = list(rows)
            if dialect == "postgresql":
                with raw.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in columns)
                raw.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

        load("stations", ["id", "name", "shortfall_policy", "created_at"],
             [(i, f"站点{i:02d}", "none", now) for i in range(1, STATIONS + 1)])
        load("clients", ["id", "name", "payment_terms_days", "version", "created_at"],
             [(i, f"客户{i}", 30, 1, now) for i in range(1, 4)])
        load("products", ["id", "client_id", "name", "unit", "piece_rate", "unit_price", "material_cost",
                          "batch_size", "active", "version", "created_at"],
             [(i, i % 3 + 1, f"品种{i}", "个", RATES[i - 1], RATES[i - 1] * 2, 0, 100, True, 1, now)
              for i in range(1, PRODUCTS + 1)])
        worker_rows = []
        for i in range(1, workers + 1):
            gender = rng.choice(["F", "F", "F", "M", None])
            flags = [rng.random() < p for p in (0.08, 0.1, 0.15, 0.2)]
            worker_rows.append((i, (i - 1) % STATIONS + 1, f"工人{i}", f"139{i:08d}", "x",
                                rng.choice([None, *range(1955, 2008)]), gender, *flags, True, now, now))
        load("workers", ["id", "station_id", "name", "phone", "pin_hash", "birth_year", "gender", "is_disabled",
                         "is_relocated", "is_laid_off", "is_flexible", "active", "registered_on", "created_at"],
             worker_rows)
        orders = STATIONS * PRODUCTS
        order_rows = []
        for o in range(1, orders + 1):
            station, product = (o - 1) // PRODUCTS + 1, (o - 1) % PRODUCTS + 1
            order_rows.append((o, f"D{YEAR}-{o:05d}", (product % 3) + 1, product, station, 10_000_000,
                               date(YEAR, 12, 31), RATES[product - 1] * 2, "open", 0, 0, 0, 0, False, now, 1,
                               date(YEAR - 1, 12, 1)))
        load("orders", ["id", "number", "client_id", "product_id", "station_id", "quantity", "due_date", "unit_price",
                        "status", "committed", "accepted", "rejected", "invoiced", "at_risk", "created_at", "version",
                        "taken_on"],
             order_rows)
        batch_rows, return_rows = [], []
        rid = 0
        for b in range(1, batches + 1):
            worker = rng.randint(1, workers)
            station = (worker - 1) % STATIONS + 1
            product = rng.randint(1, PRODUCTS)
            order = (station - 1) * PRODUCTS + product
            issued = start + timedelta(days=rng.randint(0, 350))
            quantity = 400
            batch_rows.append((b, f"B{b:010d}", order, worker, station, product, quantity, RATES[product - 1], 0,
                               issued, now, issued + timedelta(days=7), "open", False, 0, 0, 0))
            for k in range(per_batch):
                rid += 1
                accepted = rng.randint(1, 30)
                return_rows.append((rid, b, worker, station, order, product, RATES[product - 1], accepted, 0, 0,
                                    min(issued + timedelta(days=k // 2), date(YEAR, 12, 31)), now))
        load("batches", ["id", "code", "order_id", "worker_id", "station_id", "product_id", "quantity", "piece_rate",
                         "material_cost", "issued_on", "issued_at", "due_date", "status", "overdue", "accepted",
                         "rejected", "unused"], batch_rows)
        for chunk in range(0, len(return_rows), 200_000):
            load("returns", ["id", "batch_id", "worker_id", "station_id", "order_id", "product_id", "piece_rate",
                             "accepted", "rejected", "unused", "work_date", "recorded_at"],
                 return_rows[chunk:chunk + 200_000])
        if dialect == "postgresql":
            for table in ("stations", "clients", "products", "workers", "orders", "batches", "returns"):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        restore_touch_triggers(conn.exec_driver_sql, dialect)
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()  # PostgreSQL keeps statistics only when the transaction commits
    db.session.remove()
    return {"workers": workers, "returns": rid, "batches": batches}


def _timed(fn, runs: int) -> tuple[list[float], list[float], object]:
    """Wall-clock and this process's CPU seconds per run (the database server's CPU is not in
    the second figure for PostgreSQL)."""
    wall, cpu, result = [], [], None
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu, result


def time_report(runs: int = 5) -> dict:
    from app.services.reports import employment_report, station_dashboard

    year, year_cpu, report = _timed(lambda: employment_report(date(YEAR, 1, 1), date(YEAR, 12, 31)), runs)
    station, _c, _r = _timed(lambda: employment_report(date(YEAR, 1, 1), date(YEAR, 12, 31), station_id=1), runs)
    month, _c, _r = _timed(lambda: employment_report(date(YEAR, 6, 1), date(YEAR, 6, 30)), runs)
    dash, _c, _r = _timed(lambda: station_dashboard(today=date(YEAR, 12, 20)), runs)
    return {"year": year, "year_cpu": year_cpu, "station_year": station, "month": month, "dashboard": dash,
            "report": report}


def run(backend: str, workers: int, returns: int) -> dict:
    from app import create_app
    from app.extensions import db

    server = None
    tmp = Path(tempfile.mkdtemp(prefix="jijian-bench-"))
    if backend == "postgresql":
        from sqlalchemy import create_engine, text

        from tests.pgserver import PostgresServer

        server = PostgresServer()
        admin_url = server.start()
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("CREATE DATABASE jijian_bench"))
        engine.dispose()
        url = admin_url.replace("/postgres?", "/jijian_bench?")
    else:
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    try:
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            db.create_all()
            t0 = time.perf_counter()
            sizes = build(db.engine, workers, returns)
            build_s = time.perf_counter() - t0
            result = time_report()
            db.session.remove()
            db.engine.dispose()
        return {"backend": backend, "build_s": build_s, **sizes, **result}
    finally:
        if server is not None:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--workers", type=int, default=2000)
    parser.add_argument("--returns", type=int, default=1_000_000)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    lines = [f"# employment report bench, {datetime.now().isoformat(timespec='seconds')}"]
    for backend in backends:
        r = run(backend, args.workers, args.returns)
        rep = r["report"]
        lines.append(
            f"{backend:10s} workers={r['workers']} returns={r['returns']} batches={r['batches']} built in {r['build_s']:.1f}s | "
            f"district year median {statistics.median(r['year']):.3f}s (min {min(r['year']):.3f}s, "
            f"app CPU {statistics.median(r['year_cpu']):.3f}s) | "
            f"one station year {statistics.median(r['station_year']):.3f}s | district month {statistics.median(r['month']):.3f}s | "
            f"dashboard {statistics.median(r['dashboard']):.3f}s | active={rep['workers_active']} pieces={rep['pieces']} "
            f"wages={rep['wages']} person_times={rep['person_times']} | load average {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} CPUs")
        print(lines[-1], flush=True)
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    with (out / "reports.txt").open("a") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
