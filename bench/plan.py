"""The plan's bench: a station of 300 workers with a year of returns, then
``planning.suggest_plan`` for an order of 20,000 pieces (target: under 1 s), on SQLite.

    python -m bench.plan

The year is bench/history.py's (fast and slow workers, rest days, sick days and stretches
away, visits every 1–3 days, 0–8 % rejected; described in bench/README.md); the plan runs
through the app's own service.
"""
from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORKERS = int(os.environ.get("BENCH_PLAN_WORKERS", "300"))
DAYS = int(os.environ.get("BENCH_PLAN_DAYS", "365"))


def build(rng: random.Random):
    from app.extensions import db
    from app.models import local_today
    from app.services import production
    from bench.history import generate, scratch_app

    app = scratch_app("plan")
    today = local_today()
    made = generate(rng, WORKERS, DAYS, today)
    order = production.create_order(client_id=made["client_id"], product_id=made["product_id"],
                                    station_id=made["station_id"], quantity=20_000, due_date=today + timedelta(days=9))
    db.session.commit()
    return app, order, made["batches"], made["returns"]


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
