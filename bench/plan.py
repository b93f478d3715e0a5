"""The plan's bench: a station of 300 workers with a year of returns, then
``planning.suggest_plan`` for an order of 20,000 pieces (target: under 1 s), on SQLite.

    python -m bench.plan

The year is generated with spread: paces drawn log-normally (fast and slow workers, a median
of about 40 pieces a day), each worker off on about a third of the days and on a few
stretches of a week, 0–8 % of what they make rejected. Rows go in through the DBAPI; the plan
runs through the app's own service.
"""
from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORKERS = int(os.environ.get("BENCH_PLAN_WORKERS", "300"))
DAYS = int(os.environ.get("BENCH_PLAN_DAYS", "365"))


def build(rng: random.Random):
    from app import create_app
    from app.extensions import db
    from app.models import local_today
    from app.services import catalog, org, production

    tmp = tempfile.mkdtemp(prefix="jijian-plan-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/plan.sqlite3", "SECRET_KEY": "bench",
                      "FAST_PASSWORD_HASH": True, "TESTING": True})
    ctx = app.app_context()
    ctx.push()
    db.create_all()
    today = local_today()
    station = org.create_station("基准站", "路 1 号", "none")
    client = catalog.create_client(name="客户")
    product = catalog.create_product(client_id=client.id, name="礼盒", piece_rate=Decimal("0.3500"),
                                     unit_price=Decimal("0.6000"))
    db.session.commit()
    step_id = product.steps[0].id
    from app.auth.passwords import hash_secret

    pin_hash = hash_secret("258036")
    workers = [org.register_worker(name=f"工人{i}", phone=f"137{i:08d}", station_id=station.id, pin="258036",
                                   pin_hash=pin_hash) for i in range(WORKERS)]
    db.session.commit()
    worker_ids = [w.id for w in workers]
    client_id, product_id, station_id = client.id, product.id, station.id
    db.session.commit()  # no read transaction left open beside the raw writes below
    conn = db.engine.raw_connection()
    cur = conn.cursor()
    start = today - timedelta(days=DAYS)
    batch_id = 0
    returns = []
    batches = []
    rate = 3500  # 0.35 yuan, stored in 1/10,000
    order_id = 1
    cur.execute("INSERT INTO orders (id, number, client_id, product_id, station_id, quantity, taken_on, due_date, "
                "unit_price, status, committed, accepted, rejected, invoiced, at_risk, created_at, version) VALUES "
                "(?, 'D-HIST', ?, ?, ?, 10000000, ?, ?, 6000, 'done', 0, 0, 0, 0, 0, ?, 1)",
                (order_id, client_id, product_id, station_id, start.isoformat(), today.isoformat(), start.isoformat()))
    for wid in worker_ids:
        pace = rng.lognormvariate(3.7, 0.45)  # median ~40 a day
        off = {start + timedelta(days=d) for d in range(DAYS) if rng.random() < 0.33}
        for _ in range(rng.randint(0, 3)):  # a week away now and then
            away = rng.randrange(DAYS)
            off |= {start + timedelta(days=away + k) for k in range(7)}
        reject = rng.uniform(0, 0.08)
        day = start
        while day < today:
            batch_id += 1
            quantity = int(pace * 7) + 1
            batches.append((batch_id, f"B{batch_id:07d}", order_id, wid, station_id, product_id, step_id, quantity,
                            rate, 0, day.isoformat(), day.isoformat(), (day + timedelta(days=7)).isoformat(), "closed",
                            0, 0, 0, 0))
            made = 0
            for k in range(7):
                d = day + timedelta(days=k)
                if d in off or d >= today or made >= quantity:
                    continue
                n = min(quantity - made, max(0, round(rng.gauss(pace, pace * 0.25))))
                if n <= 0:
                    continue
                rej = round(n * reject)
                returns.append((batch_id, wid, station_id, order_id, product_id, step_id, rate, n - rej, rej, 0,
                                d.isoformat(), d.isoformat()))
                made += n
            day += timedelta(days=7)
    cur.executemany("INSERT INTO batches (id, code, order_id, worker_id, station_id, product_id, step_id, quantity, "
                    "piece_rate, material_cost, issued_on, issued_at, due_date, status, overdue, accepted, rejected, "
                    "unused) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batches)
    cur.executemany("INSERT INTO returns (batch_id, worker_id, station_id, order_id, product_id, step_id, piece_rate, "
                    "accepted, rejected, unused, work_date, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    returns)
    conn.commit()
    conn.close()
    order = production.create_order(client_id=client_id, product_id=product_id, station_id=station_id,
                                    quantity=20_000, due_date=today + timedelta(days=9))
    db.session.commit()
    return app, order, len(batches), len(returns)


def main() -> None:
    from app.extensions import db
    from app.services import planning

    rng = random.Random(18)
    t0 = time.perf_counter()
    _app, order, n_batches, n_returns = build(rng)
    print(f"built {WORKERS} workers, {n_batches:,} batches, {n_returns:,} returns in {time.perf_counter() - t0:.1f} s")
    times = []
    for _ in range(7):
        db.session.expire_all()
        t = time.perf_counter()
        plan = planning.suggest_plan(order)
        times.append(time.perf_counter() - t)
    print(f"suggest_plan: median {statistics.median(times) * 1000:.0f} ms, min {min(times) * 1000:.0f} ms "
          f"(7 runs); {len(plan.items)} workers placed, unplaced {plan.unplaced}, feasible {plan.feasible}")


if __name__ == "__main__":
    main()
