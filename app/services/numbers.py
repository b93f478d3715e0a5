"""Gapless per-year number series (orders, invoices, credit notes).

The counter row is advanced inside the caller's transaction: a rolled-back document gives its
number back, and concurrent issuers queue on the counter row, so numbers stay gapless.
"""
from __future__ import annotations

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import NumberCounter


def next_number(series: str, year: int) -> int:
    """The next number in ``series`` for ``year``, starting at 1."""
    for _attempt in range(3):
        taken = db.session.execute(
            update(NumberCounter)
            .where(NumberCounter.series == series, NumberCounter.year == year)
            .values(last=NumberCounter.last + 1)
            .returning(NumberCounter.last)
        ).scalar()
        if taken is not None:
            return int(taken)
        try:
            with db.session.begin_nested():
                db.session.execute(insert(NumberCounter).values(series=series, year=year, last=1))
            return 1
        except IntegrityError:
            continue  # another transaction created the row first; advance it instead
    raise RuntimeError(f"could not take a number in series {series}")
