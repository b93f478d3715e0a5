"""Timings of the scheduled jobs on a workshop-city-sized database (never asserted in tests).

    python -m bench.jobs_bench [--orders 2000] [--batches 20000] [--returns 100000]

Builds a throwaway SQLite database (or uses DATABASE_URL's PostgreSQL with --postgres — it
must be an empty scratch database), then times mark_overdue, flag_orders_at_risk (first run
and an idempotent second run) and a backup.
"""
from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from app import create_app
from app.extensions import db
from app.models import Batch, Order, Return, local_today, utcnow
from app.services import backup, catalog, jobs_service, org


def seed(n_orders: int, n_batches: int, n_returns: int) -> None:
    rng = random.Random(6)
    today = local_today()
    stations = [org.create_station(f"站点{i}", "路 1 号", "none") for i in range(10)]
    client = catalog.create_client(name="客户")
    product = catalog.create_product(client_id=client.id, name="礼盒", piece_rate=Decimal("0.35"),
                                     unit_price=Decimal("0.6"), material_cost=Decimal("0.05"))
    workers = [org.register_worker(name=f"工人{i}", phone=f"139{i:08d}", station_id=stations[i % 10].id, pin="258036")
               for i in range(100)]
    db.session.flush()
    orders = [{"number": f"B{i:06d}", "client_id": client.id, "product_id": product.id,
               "station_id": stations[i % 10].id, "quantity": 100000, "due_date": today + timedelta(days=rng.randint(-5, 40)),
               "unit_price": Decimal("0.6"), "status": "open", "committed": 0, "accepted": 0, "rejected": 0,
               "invoiced": 0, "at_risk": False, "created_at": utcnow(), "version": 1,
               "taken_on": today - timedelta(days=365)} for i in range(n_orders)]
    db.session.execute(Order.__table__.insert(), orders)
    order_ids = db.session.scalars(db.select(Order.id).order_by(Order.id)).all()
    batches = []
    for i in range(n_batches):
        w = workers[i % len(workers)]
        issued = today - timedelta(days=rng.randint(0, 30))
        batches.append({"code": f"C{i:07d}", "order_id": order_ids[i % len(order_ids)], "worker_id": w.id,
                        "station_id": w.station_id, "product_id": product.id, "quantity": 100,
                        "piece_rate": Decimal("0.35"), "material_cost": Decimal("0.05"), "issued_on": issued,
                        "issued_at": utcnow(), "due_date": issued + timedelta(days=7), "status": "open",
                        "overdue": False, "accepted": 0, "rejected": 0, "unused": 0})
    db.session.execute(Batch.__table__.insert(), batches)
    rows = db.session.execute(db.select(Batch.id, Batch.order_id, Batch.worker_id, Batch.station_id)).all()
    returns = []
    for i in range(n_returns):
        b = rows[i % len(rows)]
        returns.append({"batch_id": b.id, "order_id": b.order_id, "worker_id": b.worker_id, "station_id": b.station_id,
                        "product_id": product.id, "piece_rate": Decimal("0.35"), "accepted": 1, "rejected": 0,
                        "unused": 0, "work_date": today - timedelta(days=rng.randint(0, 20)), "recorded_at": utcnow()})
    db.session.execute(Return.__table__.insert(), returns)
    db.session.commit()


def timed(label: str, fn) -> None:
    started = time.perf_counter()
    result = fn()
    db.session.commit()
    print(f"{label:<34} {1000 * (time.perf_counter() - started):8.0f} ms   {result}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=20000)
    parser.add_argument("--returns", type=int, default=100000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="jijian-bench-"))
    url = os.environ["DATABASE_URL"] if args.postgres else f"sqlite:///{tmp / 'bench.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "FAST_PASSWORD_HASH": True, "BACKUP_DIR": str(tmp / "backups")})
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        seed(args.orders, args.batches, args.returns)
        print(f"seeded {args.orders} orders, {args.batches} batches, {args.returns} returns "
              f"in {time.perf_counter() - started:.1f} s ({db.engine.dialect.name})")
        timed("mark_overdue (first run)", jobs_service.mark_overdue)
        timed("mark_overdue (second run)", jobs_service.mark_overdue)
        timed("flag_orders_at_risk (first run)", jobs_service.flag_orders_at_risk)
        timed("flag_orders_at_risk (second run)", jobs_service.flag_orders_at_risk)
        timed("backup", lambda: f"{backup.backup_database().size // 1024} KiB")


if __name__ == "__main__":
    main()
