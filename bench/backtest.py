"""The plan's backtest: replay a station's history through the plan (app/services/backtest.py)
and report the forecast error of pace (MAPE) and the share of planned batches that would have
come back by their due date.

    python -m bench.backtest                 # a generated year (bench/history.py), SQLite
    python -m bench.backtest --demo          # the demo's stations (flask seed-demo's data)
    BENCH_BACKTEST_WORKERS=120 BENCH_BACKTEST_DAYS=365 python -m bench.backtest

On a real database: ``flask --app wsgi backtest --station ID``.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORKERS = int(os.environ.get("BENCH_BACKTEST_WORKERS", "120"))
DAYS = int(os.environ.get("BENCH_BACKTEST_DAYS", "365"))


def oracle_mape(result) -> str:
    """The MAPE a forecast would have that knew each worker's real output over the 28 days
    from the issue: how much of the error is the horizon's own noise, which no formula sees."""
    from datetime import timedelta
    from decimal import Decimal

    from app.extensions import db
    from app.models import ProductStep
    from app.services import backtest as bt

    streams = bt._streams(result.station_id)
    units = {sid: Decimal(r) * 10_000 for sid, r in db.session.query(ProductStep.id, ProductStep.piece_rate)}
    errors = []
    for ln in result.measured:
        stream = streams[ln.worker_id]
        ahead = bt._before(stream, ln.day + timedelta(days=28))[1] - bt._before(stream, ln.day)[1]
        rate = Decimal(ahead) / units[ln.step_id] / 28
        errors.append(abs(rate - ln.real_pace) / ln.real_pace)
    return f"{sum(errors) / len(errors) * 100:.1f} %" if errors else "—"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--demo", action="store_true", help="the demo's data instead of a generated year")
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    from bench.history import scratch_app

    scratch_app("backtest")
    from app.extensions import db
    from app.models import Station, local_today
    from app.services.backtest import backtest, summary

    t0 = time.perf_counter()
    if args.demo:
        from app.commands.demo import seed_demo

        seed_demo(random.Random(args.seed))
        db.session.commit()
        print(f"demo data loaded in {time.perf_counter() - t0:.1f} s")
        for station in db.session.query(Station).order_by(Station.id):
            t = time.perf_counter()
            result = backtest(station.id)
            print(summary(f"{station.name}", result) + f" [{time.perf_counter() - t:.1f} s]")
        return
    from bench.history import generate

    made = generate(random.Random(args.seed), WORKERS, DAYS, local_today())
    print(f"generated {WORKERS} workers, {DAYS} days: {made['batches']:,} batches, {made['returns']:,} returns "
          f"in {time.perf_counter() - t0:.1f} s")
    t = time.perf_counter()
    result = backtest(made["station_id"])
    print(summary("generated year", result) + f" [{time.perf_counter() - t:.1f} s]")
    print(f"the MAPE of a forecast that knew each worker's next 28 days: {oracle_mape(result)}")


if __name__ == "__main__":
    main()
