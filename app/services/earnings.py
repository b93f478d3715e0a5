"""Earnings by rule 1, computed in SQL: for each worker, one line per product and piece rate
with all accepted pieces of the range (corrections included), multiplied exactly and rounded
half-up to the fen once per line; a worker's amount is the sum of their rounded lines.

Pay statements, the worker's phone, the API and the employment report all use these.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import bindparam, func, select

from app.extensions import db
from app.models import Product, Return
from app.money import line_amount


@dataclass(frozen=True)
class EarningsLine:
    worker_id: int
    product_id: int
    piece_rate: Decimal
    pieces: int
    amount: Decimal


def earnings_lines(start: date, end: date, worker_ids=None, station_id: int | None = None) -> list[EarningsLine]:
    """All earnings lines in [start, end], optionally for some workers or one station.

    One GROUP BY over the returns' covering index; lines whose pieces net to zero are dropped.
    """
    stmt = (
        select(Return.worker_id, Return.product_id, Return.piece_rate, func.sum(Return.accepted))
        .where(Return.work_date >= start, Return.work_date <= end)
        .group_by(Return.worker_id, Return.product_id, Return.piece_rate)
    )
    if worker_ids is not None:
        stmt = stmt.where(Return.worker_id.in_(list(worker_ids)))
    if station_id is not None:
        stmt = stmt.where(Return.station_id == station_id)
    lines = []
    for worker_id, product_id, rate, pieces in db.session.execute(stmt):
        pieces = int(pieces or 0)
        if pieces:
            lines.append(EarningsLine(worker_id, product_id, rate, pieces, line_amount(pieces, rate)))
    return lines


def totals_by_worker(lines: list[EarningsLine]) -> dict[int, tuple[int, Decimal]]:
    """worker_id → (pieces, amount) where amount is the sum of that worker's rounded lines."""
    totals: dict[int, list] = defaultdict(lambda: [0, Decimal("0.00")])
    for line in lines:
        totals[line.worker_id][0] += line.pieces
        totals[line.worker_id][1] += line.amount
    return {k: (v[0], v[1]) for k, v in totals.items()}


def worker_earnings(worker_id: int, start: date, end: date) -> dict:
    """One worker's earnings for the API and the phone: lines with product names, and totals."""
    lines = earnings_lines(start, end, worker_ids=[worker_id])
    names = dict(db.session.execute(select(Product.id, Product.name).where(
        Product.id.in_({line.product_id for line in lines}))).all()) if lines else {}
    out = [{"product_id": line.product_id, "product": names.get(line.product_id, ""), "piece_rate": line.piece_rate,
            "pieces": line.pieces, "amount": line.amount}
           for line in sorted(lines, key=lambda line: (line.product_id, line.piece_rate))]
    return {"worker_id": worker_id, "from": start, "to": end,
            "pieces": sum(line["pieces"] for line in out),
            "amount": sum((line["amount"] for line in out), Decimal("0.00")), "lines": out}


def worker_day_lines(worker_id: int, start: date, end: date) -> list[tuple[date, int, Decimal, int]]:
    """One worker's accepted pieces per work date, product and rate in [start, end]:
    ``(work_date, product_id, piece_rate, pieces)`` from one GROUP BY over the worker's index.

    Callers fold these into documents by rule 1 with ``lines_from_day_rows`` — summing pieces
    per product and rate first, rounding once per line — never by adding rounded days.
    """
    rows = db.session.execute(_WORKER_DAY_LINES, {"worker_id": worker_id, "start": start, "end": end})
    return [(day, product_id, rate, int(pieces or 0)) for day, product_id, rate, pieces in rows]


# The phone's home asks this on every visit: built once.
_WORKER_DAY_LINES = (
    select(Return.work_date, Return.product_id, Return.piece_rate, func.sum(Return.accepted))
    .where(Return.worker_id == bindparam("worker_id"), Return.work_date >= bindparam("start"),
           Return.work_date <= bindparam("end"))
    .group_by(Return.work_date, Return.product_id, Return.piece_rate)
)


def lines_from_day_rows(worker_id: int, rows, start: date, end: date) -> list[EarningsLine]:
    """Rule-1 lines for [start, end] from ``worker_day_lines`` rows (a wider range is fine)."""
    pieces: dict[tuple[int, Decimal], int] = defaultdict(int)
    for day, product_id, rate, n in rows:
        if start <= day <= end:
            pieces[(product_id, rate)] += n
    return [EarningsLine(worker_id, product_id, rate, n, line_amount(n, rate))
            for (product_id, rate), n in sorted(pieces.items()) if n]
