"""A seeded district for the report tests, and an independent oracle: the test keeps its own
ledger of what it recorded and computes the expected figures from that ledger in plain
Python (never through the report's queries)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import update

from app.extensions import db
from app.models import Worker
from app.services import production
from tests.clock import suite_start

YEAR = suite_start().date().year - 1  # a finished year before the suite's day: every work date is in the past
START, END = date(YEAR, 1, 1), date(YEAR, 3, 31)
LONG_AGO = datetime(YEAR - 2, 6, 1)


@dataclass
class Ledger:
    """What the scenario recorded, per worker: (product_id, rate, accepted) and batches."""

    workers: dict = field(default_factory=dict)  # id → dict(station, gender, birth_year, groups, registered)
    pieces: dict = field(default_factory=lambda: defaultdict(list))  # id → [(product_id, rate, accepted, day)]
    batches: list = field(default_factory=list)  # (station_id, issued_on)


def expected(ledger: Ledger, start: date, end: date, station_id=None) -> dict:
    """The report's figures, computed from the ledger alone."""
    def in_station(wid):
        return station_id is None or ledger.workers[wid]["station"] == station_id

    def working_age(w):
        if w["birth_year"] is None:
            return True
        age = end.year - w["birth_year"]
        return 16 <= age <= (55 if w["gender"] == "F" else 60)

    registered = sum(1 for wid, w in ledger.workers.items()
                     if in_station(wid) and w["registered"] <= end and working_age(w))
    active, pieces_total, wages = 0, 0, Decimal("0.00")
    groups = dict.fromkeys(["disabled", "relocated", "laid_off", "flexible", "age_40_55_women", "age_50_60_men"], 0)
    for wid, rows in ledger.pieces.items():
        if not in_station(wid):
            continue
        lines = defaultdict(int)
        for product_id, rate, accepted, day in rows:
            if start <= day <= end:
                lines[(product_id, rate)] += accepted
        pieces = sum(lines.values())
        if pieces <= 0:
            continue
        amount = sum((Decimal(n * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                      for (_p, rate), n in lines.items() if n), Decimal("0.00"))
        active += 1
        pieces_total += pieces
        wages += amount
        w = ledger.workers[wid]
        if working_age(w):
            for g in w["groups"]:
                groups[g] += 1
            if w["birth_year"] is not None:
                age = end.year - w["birth_year"]
                if w["gender"] == "F" and 40 <= age <= 55:
                    groups["age_40_55_women"] += 1
                if w["gender"] == "M" and 50 <= age <= 60:
                    groups["age_50_60_men"] += 1
    person_times = sum(1 for sid, day in ledger.batches if (station_id is None or sid == station_id) and start <= day <= end)
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    avg = (wages / active / months).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if active else Decimal("0.00")
    return {"registered": registered, "workers_active": active, "person_times": person_times, "pieces": pieces_total,
            "wages": wages, "avg_monthly_wage": avg, "groups": groups}


class Scenario:
    """Builds workers, batches and returns through the services and keeps the ledger."""

    def __init__(self, make):
        self.make = make
        self.ledger = Ledger()

    def worker(self, station, gender=None, birth_year=None, groups=(), registered=LONG_AGO, **kw):
        w = self.make.worker(station=station, gender=gender, birth_year=birth_year, groups=list(groups), **kw)
        db.session.execute(update(Worker).where(Worker.id == w.id).values(registered_on=registered))
        db.session.commit()
        self.ledger.workers[w.id] = {"station": station.id, "gender": gender, "birth_year": birth_year,
                                     "groups": list(groups), "registered": registered.date()}
        return w

    def batch(self, order, worker, quantity, issued_on):
        b = production.issue_batch(order=order, worker=worker, quantity=quantity, issued_on=issued_on,
                                   due_date=issued_on.replace(day=min(issued_on.day + 7, 28)))
        db.session.commit()
        self.ledger.batches.append((order.station_id, issued_on))
        return b

    def ret(self, batch, accepted, day, rejected=0, unused=0):
        r = production.record_return(batch=batch, accepted=accepted, rejected=rejected, unused=unused, work_date=day)
        db.session.commit()
        self.ledger.pieces[batch.worker_id].append((batch.product_id, batch.piece_rate, accepted, day))
        return r

    def correct(self, original, accepted, unused=0, reason="counted wrong"):
        r = production.record_correction(original=original, accepted=accepted, unused=unused, reason=reason)
        db.session.commit()
        self.ledger.pieces[original.worker_id].append((original.product_id, original.piece_rate, accepted, r.work_date))
        return r


def build_district(make):
    """Two stations, a dozen workers of all kinds, batches inside and outside the range."""
    s = Scenario(make)
    east, west = make.station(name="东城车间"), make.station(name="西郊服务站")
    box = make.product(piece_rate="0.0350")
    wig = make.product(piece_rate="38.0000")
    bag = make.product(piece_rate="0.0800")
    orders = {east.id: [make.order(station=east, product=box, quantity=100000, taken_on=date(END.year - 1, 12, 1)),
                        make.order(station=east, product=wig, quantity=1000, taken_on=date(END.year - 1, 12, 1))],
              west.id: [make.order(station=west, product=bag, quantity=100000, taken_on=date(END.year - 1, 12, 1)),
                        make.order(station=west, product=box, quantity=100000, taken_on=date(END.year - 1, 12, 1))]}
    y = END.year
    people = [
        # station, gender, birth_year, groups
        (east, "F", y - 45, ["disabled"]),           # 4050 woman, disabled
        (east, "F", y - 56, ["relocated"]),          # turns 56 by the range's end: out of working age
        (east, "M", y - 61, ["laid_off"]),           # turns 61: out
        (east, "M", y - 55, ["flexible", "laid_off"]),  # 4050 man
        (east, None, None, ["disabled"]),            # no birth year: working age, no age group
        (east, "F", y - 30, []),
        (west, "F", y - 55, ["flexible"]),           # exactly 55: still in
        (west, "M", y - 60, ["relocated"]),          # exactly 60: still in
        (west, "F", y - 40, ["laid_off"]),
        (west, "M", y - 16, []),
        (west, "F", y - 15, ["disabled"]),           # too young: registered does not count her
    ]
    workers = [s.worker(st, g, by, groups) for st, g, by, groups in people]
    late = s.worker(west, "F", y - 35, [], registered=datetime(y + 1, 1, 5))  # registered after the range
    idle = s.worker(east, "F", y - 42, ["disabled"])  # never works
    for i, w in enumerate(workers):
        order_a, order_b = orders[w.station_id]
        b1 = s.batch(order_a, w, 3000, date(y, 1, 3 + i))
        s.ret(b1, 333 + 7 * i, date(y, 1, 10 + i))
        s.ret(b1, 1 + i, date(y, 2, 1 + i))
        if i % 3 == 0:
            b2 = s.batch(order_b, w, 20, date(y, 2, 10))
            s.ret(b2, 3 + i % 5, date(y, 3, 1))
    # A worker with two batches whose only pieces are cancelled by a correction: not active.
    cancelled = s.worker(east, "F", y - 50, ["relocated"])
    b = s.batch(orders[east.id][0], cancelled, 50, date(y, 1, 20))
    r = s.ret(b, 12, date(y, 1, 21))
    s.correct(r, -12, unused=12)
    # Before and after the range: not counted.
    s.ret(s.batch(orders[west.id][0], late, 100, date(y - 1, 12, 20)), 40, date(y - 1, 12, 28))
    s.ret(s.batch(orders[west.id][0], late, 100, date(y, 4, 2)), 50, date(y, 4, 3))
    s.east, s.west, s.idle, s.cancelled, s.workers, s.late = east, west, idle, cancelled, workers, late
    return s
