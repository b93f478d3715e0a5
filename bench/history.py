"""A generated station history with the spread of a real one, for the plan's benches
(``bench.plan`` times the plan on it, ``bench.backtest`` replays it). Described in
bench/README.md ("The generated history").

Each worker has their own pace, drawn log-normally (median about 40 pieces a day, the
fastest several times the slowest); new workers start at 60 % of it and reach it over their
first 30 working days. They rest on their own weekly days (none, one or two), are off sick on
about 4 % of days and away for one or two stretches of 5–14 days a year. On a working day
they make their pace ± 20 %; what they make they bring back on their visits to the station
(every 1–3 days, a habit of each) and when a batch is finished, 0–8 % of it rejected. A
batch is about a week of their work (5–9 days at their pace, in tens), due 9 days after it is
handed out; on the visit that finishes one they take the next. A batch still unfinished 21
days after its issue is closed with what is left as unused. Workers join over the year (a
third of them after it began).

Rows go in as bulk INSERTs (SQLite or PostgreSQL): one station, one client, one product of one
step at 0.35, one order holding the year's batches.
"""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

RATE = 3500  # 0.35 yuan, in 1/10,000


def scratch_app(name: str):
    """An app on a new SQLite database in a temporary folder, its context pushed, tables made."""
    import tempfile

    from app import create_app
    from app.extensions import db

    folder = tempfile.mkdtemp(prefix=f"jijian-{name}-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/{name}.sqlite3", "SECRET_KEY": "bench",
                      "FAST_PASSWORD_HASH": True, "TESTING": True})
    app.app_context().push()
    db.create_all()
    return app


def generate(rng: random.Random, workers: int, days: int, today: date) -> dict:
    """Write a station of ``workers`` and ``days`` days of history ending yesterday into the
    app's database (inside an app context). Returns ids and counts."""
    from sqlalchemy import func, insert, select

    from app.auth.passwords import hash_secret
    from app.extensions import db
    from app.models import Batch, Order, Return, Worker, utc_start_of
    from app.services import catalog, org

    station = org.create_station("基准站", "路 1 号", "none")
    client = catalog.create_client(name="客户")
    product = catalog.create_product(client_id=client.id, name="礼盒", piece_rate=Decimal("0.3500"),
                                     unit_price=Decimal("0.6000"))
    db.session.commit()
    step_id = product.steps[0].id
    start = today - timedelta(days=days)
    pin_hash = hash_secret("258036")
    people = []
    for i in range(workers):
        joined = start if rng.random() < 2 / 3 else start + timedelta(days=rng.randrange(days * 3 // 4))
        w = org.register_worker(name=f"工人{i}", phone=f"137{i:08d}", station_id=station.id, pin="258036",
                                pin_hash=pin_hash)
        people.append((w, joined))
    db.session.flush()
    for w, joined in people:
        db.session.get(Worker, w.id).registered_on = utc_start_of(joined)
    db.session.commit()
    ids = {"station_id": station.id, "client_id": client.id, "product_id": product.id, "step_id": step_id}
    order_id = db.session.execute(insert(Order.__table__).values(
        number="D-HIST", client_id=client.id, product_id=product.id, station_id=station.id, quantity=100_000_000,
        taken_on=start, due_date=today, unit_price=Decimal("0.6000"), status="done", committed=0, accepted=0,
        rejected=0, invoiced=0, at_risk=False, created_at=utc_start_of(start), version=1)
        .returning(Order.__table__.c.id)).scalar_one()
    batches, returns = [], []
    first_id = (db.session.scalar(select(func.max(Batch.id))) or 0) + 1
    for w, joined in people:
        _worker_year(rng, w.id, joined, today, station.id, product.id, step_id, order_id, batches, returns, first_id)
    columns = ("id", "code", "order_id", "worker_id", "station_id", "product_id", "step_id", "quantity", "piece_rate",
               "issued_on", "issued_at", "due_date", "status", "accepted", "rejected", "unused", "closed_on")
    rate = Decimal(RATE) / 10_000
    rows = [dict(zip(columns, row, strict=True)) for row in batches]
    for row in rows:
        row.update(piece_rate=rate, material_cost=Decimal("0"), overdue=False, issued_at=utc_start_of(row["issued_on"]))
    for chunk in range(0, len(rows), 5000):
        db.session.execute(insert(Batch.__table__), rows[chunk:chunk + 5000])
    keys = ("batch_id", "worker_id", "station_id", "order_id", "product_id", "step_id", "piece_rate", "accepted",
            "rejected", "unused", "work_date", "recorded_at")
    rows = [dict(zip(keys, row, strict=True)) for row in returns]
    for row in rows:
        row.update(piece_rate=rate, recorded_at=utc_start_of(row["work_date"]))
    for chunk in range(0, len(rows), 5000):
        db.session.execute(insert(Return.__table__), rows[chunk:chunk + 5000])
    db.session.commit()
    return {**ids, "batches": len(batches), "returns": len(returns)}


def _worker_year(rng, worker_id, joined, today, station_id, product_id, step_id, order_id, batches, returns,
                 first_id):
    pace = rng.lognormvariate(3.7, 0.5)
    rest = set(rng.sample(range(7), rng.choice((0, 1, 1, 1, 2, 2))))
    away = set()
    for _ in range(rng.choice((1, 1, 2))):
        first = joined + timedelta(days=rng.randrange(max(1, (today - joined).days)))
        away |= {first + timedelta(days=k) for k in range(rng.randint(5, 14))}
    visit_every = rng.choice((1, 2, 2, 3, 3))
    reject = rng.uniform(0, 0.08)
    new = joined > today - timedelta(days=365) and rng.random() < 0.5
    worked = 0
    batch: list = []  # [id, quantity, issued, made and not yet brought back, accepted, rejected, row index]
    day = joined
    since_visit = 0

    def issue(on):
        index = len(batches)
        bid = first_id + index
        quantity = max(10, round(pace * rng.uniform(5, 9) / 10) * 10)
        batch[:] = [bid, quantity, on, 0, 0, 0, index]
        batches.append([bid, f"H{bid:07d}", order_id, worker_id, station_id, product_id, step_id, quantity, RATE,
                        on, on, on + timedelta(days=9), "closed", 0, 0, 0, None])

    def bring_back(on, finished):
        made = batch[3]
        if made <= 0:
            return
        rejected = sum(1 for _ in range(made) if rng.random() < reject)
        returns.append((batch[0], worker_id, station_id, order_id, product_id, step_id, RATE, made - rejected,
                        rejected, 0, on, on))
        batch[4] += made - rejected
        batch[5] += rejected
        batch[3] = 0
        row = batches[batch[6]]
        row[13], row[14] = batch[4], batch[5]
        if finished:
            row[16] = on

    def close_unfinished(on):
        row = batches[batch[6]]
        unused = batch[1] - batch[4] - batch[5]
        if unused > 0:
            returns.append((batch[0], worker_id, station_id, order_id, product_id, step_id, RATE, 0, 0, unused, on, on))
        row[15], row[16] = max(unused, 0), on

    issue(joined)
    while day < today:
        working = day.weekday() not in rest and day not in away and rng.random() > 0.04
        if working:
            ramp = min(1.0, 0.6 + 0.4 * worked / 30) if new else 1.0
            can = max(0, round(rng.gauss(pace * ramp, pace * ramp * 0.2)))
            left = batch[1] - batch[4] - batch[5] - batch[3]
            batch[3] += min(can, left)
            worked += 1
            since_visit += 1
            finished = batch[4] + batch[5] + batch[3] >= batch[1]
            if finished or since_visit >= visit_every:
                bring_back(day, finished)
                since_visit = 0
                if finished:
                    issue(day)
        if (day - batch[2]).days >= 21 and batch[4] + batch[5] < batch[1]:
            bring_back(day, False)
            close_unfinished(day)
            if day + timedelta(days=1) < today:
                issue(day + timedelta(days=1))
        day += timedelta(days=1)
    # The batch in hand at the end stays open.
    row = batches[batch[6]]
    if row[16] is None:
        row[12] = "open"
