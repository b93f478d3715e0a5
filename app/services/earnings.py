"""Earnings by rule 1, computed in SQL: for each worker, one line per product, step (工序,
rule 14) and piece rate with all accepted pieces of the range (corrections included), multiplied exactly and rounded
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
from app.models import Product, ProductStep, Return
from app.money import line_amount


@dataclass(frozen=True)
class EarningsLine:
    worker_id: int
    product_id: int
    piece_rate: Decimal
    pieces: int
    amount: Decimal
    step_id: int | None = None


def earnings_lines(start: date, end: date, worker_ids=None, station_id: int | None = None) -> list[EarningsLine]:
    """All earnings lines in [start, end], optionally for some workers or one station.

    One GROUP BY over the returns' covering index; lines whose pieces net to zero are dropped.
    """
    stmt = (
        select(Return.worker_id, Return.product_id, Return.step_id, Return.piece_rate, func.sum(Return.accepted))
        .where(Return.work_date >= start, Return.work_date <= end)
        .group_by(Return.worker_id, Return.product_id, Return.step_id, Return.piece_rate)
    )
    if worker_ids is not None:
        stmt = stmt.where(Return.worker_id.in_(list(worker_ids)))
    if station_id is not None:
        stmt = stmt.where(Return.station_id == station_id)
    lines = []
    for worker_id, product_id, step_id, rate, pieces in db.session.execute(stmt):
        pieces = int(pieces or 0)
        if pieces:
            lines.append(EarningsLine(worker_id, product_id, rate, pieces, line_amount(pieces, rate), step_id))
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
    names = product_names({line.product_id for line in lines})
    steps = step_names({line.step_id for line in lines})
    out = [{"product_id": line.product_id, "product": names.get(line.product_id, ""), "step_id": line.step_id,
            "step": steps[line.step_id][0] if line.step_id in steps else None, "piece_rate": line.piece_rate,
            "pieces": line.pieces, "amount": line.amount}
           for line in sorted(lines, key=_line_order(steps))]
    return {"worker_id": worker_id, "from": start, "to": end,
            "pieces": sum(line.pieces for line in lines),
            "amount": sum((line.amount for line in lines), Decimal("0.00")), "lines": out}


def product_names(product_ids) -> dict[int, str]:
    ids = [i for i in product_ids if i is not None]
    if not ids:
        return {}
    return {pid: name for pid, name in db.session.execute(select(Product.id, Product.name).where(Product.id.in_(ids)))}


def step_names(step_ids) -> dict[int, tuple[str, int]]:
    """step_id → (name, seq), one query."""
    ids = [i for i in step_ids if i is not None]
    if not ids:
        return {}
    return {sid: (name, seq) for sid, name, seq in db.session.execute(
        select(ProductStep.id, ProductStep.name, ProductStep.seq).where(ProductStep.id.in_(ids)))}


def _line_order(steps):
    """Lines in the order a document prints them: product, step in its order of work, rate."""
    return lambda line: (line.product_id, steps.get(line.step_id, ("", 0))[1], line.piece_rate)


def line_descriptions(lines) -> dict[tuple[int, int | None], str]:
    """(product_id, step_id) → a document line's description: the product's name, and the
    step's after it when the product is made in several steps (a one-step product's lines
    read exactly as before steps existed). Two queries."""
    names = product_names({line.product_id for line in lines})
    product_ids = list(names)
    steps: dict[int, dict[int, str]] = {}
    if product_ids:
        for sid, product_id, name in db.session.execute(
                select(ProductStep.id, ProductStep.product_id, ProductStep.name)
                .where(ProductStep.product_id.in_(product_ids))):
            steps.setdefault(product_id, {})[sid] = name
    out = {}
    for line in lines:
        product = names.get(line.product_id, "")
        of_product = steps.get(line.product_id, {})
        step = of_product.get(line.step_id)
        out[(line.product_id, line.step_id)] = f"{product} · {step}" if len(of_product) > 1 and step else product
    return out


def worker_day_lines(worker_id: int, start: date, end: date) -> list[tuple[date, int, Decimal, int, int | None]]:
    """One worker's accepted pieces per work date, product, step and rate in [start, end]:
    ``(work_date, product_id, piece_rate, pieces, step_id)`` from one GROUP BY over the
    worker's index.

    Callers fold these into documents by rule 1 with ``lines_from_day_rows`` — summing pieces
    per product, step and rate first, rounding once per line — never by adding rounded days.
    """
    rows = db.session.execute(_WORKER_DAY_LINES, {"worker_id": worker_id, "start": start, "end": end})
    return [(day, product_id, rate, int(pieces or 0), step_id) for day, product_id, step_id, rate, pieces in rows]


# The phone's home asks this on every visit: built once.
_WORKER_DAY_LINES = (
    select(Return.work_date, Return.product_id, Return.step_id, Return.piece_rate, func.sum(Return.accepted))
    .where(Return.worker_id == bindparam("worker_id"), Return.work_date >= bindparam("start"),
           Return.work_date <= bindparam("end"))
    .group_by(Return.work_date, Return.product_id, Return.step_id, Return.piece_rate)
)


def lines_from_day_rows(worker_id: int, rows, start: date, end: date) -> list[EarningsLine]:
    """Rule-1 lines for [start, end] from ``worker_day_lines`` rows (a wider range is fine)."""
    pieces: dict[tuple[int, int, Decimal], int] = defaultdict(int)
    for day, product_id, rate, n, step_id in rows:
        if start <= day <= end:
            pieces[(product_id, step_id or 0, rate)] += n
    return [EarningsLine(worker_id, product_id, rate, n, line_amount(n, rate), step_id or None)
            for (product_id, step_id, rate), n in sorted(pieces.items()) if n]
