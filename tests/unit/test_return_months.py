"""The monthly rollup of the returns (``return_months``, kept by triggers): after returns over
several months, corrections that lower and raise pieces, a late correction landing in another
month, a back-dated return, steps and two rates in one month, the earnings read from it are
those read from the returns, for every station and range, on SQLite and PostgreSQL."""
from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from app.dates import month_bounds, previous_month
from app.extensions import db
from app.models import Worker
from app.money import line_amount, line_amount_fen_sql
from app.services import catalog, production
from app.services.earnings import earnings_lines, totals_by_worker
from app.services.ledger import check_return_months
from app.services.reports import _in_whole_months, earnings_totals, report_lines
from tests.conftest import BACKEND
from tests.wages_fixtures import close, issue_on, period_for, return_on


def _correct(original, accepted, unused=0):
    row = production.record_correction(original=original, accepted=accepted, unused=unused, reason="点错了")
    db.session.commit()
    return row


@pytest.fixture
def months(make, clock):
    """Two stations' work over three months; answers the months' first and last days."""
    today = clock.today
    last_first, last_last = previous_month(today)
    early_first, early_last = previous_month(last_first)
    east, west = make.station(name="东城"), make.station(name="西郊")
    box = make.product(piece_rate="0.0350")
    wig = catalog.create_product(client_id=make.client().id, name="假发", unit="顶", piece_rate=None,
                                 unit_price=Decimal("60"), material_cost=Decimal("2"),
                                 steps=[{"name": "打结", "piece_rate": Decimal("38.0000")},
                                        {"name": "整理", "piece_rate": Decimal("6.0000")}])
    db.session.commit()
    boxes = make.order(station=east, product=box, quantity=10_000)
    wigs = make.order(station=west, product=wig, quantity=500)
    ann, bo = make.worker(station=east), make.worker(station=east)
    cy, di = make.worker(station=west), make.worker(station=west)

    first_rate = issue_on(make, boxes, ann, 400, early_first)
    early = return_on(first_rate, early_first, accepted=7)
    return_on(first_rate, early_last, accepted=5)
    tie = return_on(first_rate, last_first + timedelta(days=2), accepted=11)  # 11 × 0.035 = 0.385 → 0.39
    _correct(tie, -2, unused=2)  # lowered
    raised = return_on(first_rate, last_first + timedelta(days=3), accepted=4)
    _correct(raised, 3)  # raised
    catalog.update_product(box, piece_rate=Decimal("0.0355"))
    db.session.commit()
    second_rate = issue_on(make, boxes, ann, 400, last_first)
    assert second_rate.piece_rate == Decimal("0.0355")
    return_on(second_rate, last_last, accepted=9)  # the same month at the second rate
    for worker in (ann, bo):
        return_on(issue_on(make, boxes, worker, 50, today), today, accepted=3)

    knot = issue_on(make, wigs, cy, 40, early_first)
    return_on(knot, early_first + timedelta(days=1), accepted=20)
    return_on(knot, last_last, accepted=6)
    steps = catalog.steps_of(wig.id)
    trim = production.issue_batch(order=wigs, worker=di, quantity=20, step_id=steps[1].id, issued_on=last_first)
    db.session.commit()
    return_on(trim, last_first + timedelta(days=4), accepted=15)
    # Back-dated: recorded now, dated last month.
    return_on(trim, last_first, accepted=2)

    # The early month closes; a late correction of one of its returns lands in this month,
    # where that line has nothing else: a negative line (-1 × 0.035 = -0.035 → -0.04).
    close(period_for(early_first, early_last))
    late = _correct(early, -1, unused=1)
    assert late.work_date == today
    return {"today": today, "early": (early_first, early_last), "last": (last_first, last_last),
            "stations": (east.id, west.id)}


def _station_workers(station_id):
    return db.session.scalars(select(Worker.id).where(Worker.station_id == station_id)).all()


def _sorted(lines):
    return sorted(lines, key=lambda line: (line.worker_id, line.product_id, line.step_id or 0, line.piece_rate))


def test_the_rollup_gives_the_earnings_of_the_returns_for_every_station_and_range(months):
    today, (early_first, early_last), (last_first, last_last) = months["today"], months["early"], months["last"]
    this_first = today.replace(day=1)
    whole = [(early_first, early_last), (last_first, last_last), (this_first, today), (early_first, today),
             (this_first, month_bounds(today)[1]), (early_first, last_last)]
    partial = [(last_first, last_first + timedelta(days=2)), (early_first + timedelta(days=1), last_last)]
    assert check_return_months() == []
    for (start, end), station_id in itertools.product(whole + partial, (None, *months["stations"])):
        assert _in_whole_months(start, end) is ((start, end) in whole)
        ids = _station_workers(station_id) if station_id else None
        from_returns = earnings_lines(start, end, worker_ids=ids)
        assert earnings_totals(start, end, station_id) == totals_by_worker(from_returns), (start, end, station_id)
        if (start, end) in whole:
            assert _sorted(report_lines(start, end, station_id)) == _sorted(from_returns), (start, end, station_id)
    # The scenario has what it says: two rates in last month, both steps, and a negative line.
    last = earnings_lines(last_first, last_last)
    assert {line.piece_rate for line in last} >= {Decimal("0.0350"), Decimal("0.0355"), Decimal("38.0000"),
                                                  Decimal("6.0000")}
    assert any(line.pieces < 0 for line in earnings_lines(this_first, today))


def test_the_rollup_follows_an_update_or_a_delete_where_the_append_only_guards_are_lifted(months):
    guards = (["DROP TRIGGER returns_no_update", "DROP TRIGGER returns_no_delete"] if BACKEND == "sqlite"
              else ["DROP TRIGGER returns_append_only ON returns"])
    last_first, _last_last = months["last"]
    try:
        for stmt in guards:
            db.session.execute(text(stmt))
        first, second, third = db.session.scalars(text(
            "SELECT id FROM returns WHERE id NOT IN (SELECT corrects_id FROM returns WHERE corrects_id IS NOT NULL) "
            "ORDER BY id LIMIT 3")).all()
        db.session.execute(text("UPDATE returns SET accepted = accepted + 5 WHERE id = :id"), {"id": first})
        db.session.execute(text("UPDATE returns SET work_date = :day, piece_rate = piece_rate + 1 WHERE id = :id"),
                           {"id": second, "day": last_first.isoformat()})
        db.session.execute(text("DELETE FROM returns WHERE id = :id"), {"id": third})
        db.session.execute(text("UPDATE returns SET note = 'seen' WHERE id = :id"), {"id": first})
        assert check_return_months() == []
    finally:
        db.session.rollback()
    assert db.session.execute(text("SELECT count(*) FROM returns WHERE note = 'seen'")).scalar() == 0


def test_a_line_rounded_in_sql_is_the_line_rounded_by_the_rule(app):
    """Ties half-up (away from zero), negative lines, big ones, every scale of rate."""
    rates = [1, 49, 50, 51, 99, 149, 150, 350, 355, 1250, 9999, 380000, 1234567]
    pieces = [-1001, -11, -3, -1, 0, 1, 2, 3, 7, 11, 99, 1000, 123457, 2_000_000]
    pairs = list(itertools.product(pieces, rates))
    values = ", ".join(f"({p}, {r})" for p, r in pairs)
    # BIGINT operands, as the rollup's columns are (a literal on PostgreSQL is a 4-byte integer).
    p, r = ("v.p", "v.r") if BACKEND != "sqlite" else ("column1", "column2")
    amount = line_amount_fen_sql(f"CAST({p} AS BIGINT)", f"CAST({r} AS BIGINT)")
    rows = db.session.execute(text(f"SELECT {p}, {r}, {amount} FROM (VALUES {values})"
                                   + (" AS v (p, r)" if BACKEND != "sqlite" else ""))).all()
    assert len(rows) == len(pairs)
    for p, r, fen in rows:
        assert Decimal(int(fen)).scaleb(-2) == line_amount(p, Decimal(r).scaleb(-4)), (p, r, fen)
