"""One page of a list: the page number from the query string, the rows and the total."""
from __future__ import annotations

from dataclasses import dataclass

from flask import request
from sqlalchemy import func, select

from app.extensions import db

PER_PAGE = 25


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int


def paged(stmt, page: int, per_page: int = PER_PAGE, scalars: bool = True, count_of=None) -> Page:
    """One page of ``stmt`` and the total: two queries whatever the page size.

    ``count_of``: a cheaper statement with as many rows to count, when ``stmt`` only adds
    figures to each row (outer joins to per-row aggregates)."""
    page = max(page, 1)
    counted = stmt if count_of is None else count_of
    total = db.session.scalar(select(func.count()).select_from(counted.order_by(None).subquery())) or 0
    result = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    items = list(result.unique().scalars()) if scalars else list(result.all())
    return Page(items, total, page, per_page)


# No list has a million pages; past it an offset would not fit the database's integers.
MAX_PAGE = 1_000_000


def int_arg(name: str, default: int = 1) -> int:
    """A positive whole number from the query string (``?page=``); ``default`` when absent or bad."""
    try:
        return min(max(int(request.args.get(name, default)), 1), MAX_PAGE)
    except (TypeError, ValueError):
        return default
