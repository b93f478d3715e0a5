"""One page of a list: the page number from the query string, the rows and the total.

Pages call ``paged(stmt, int_arg("page"))`` (a bad number falls back to the first page); the
API calls ``api_page(stmt)``, which reads ``?page=&per_page=`` strictly (422 for anything but
a whole number of 1 or more) and answers ``{"items", **page.envelope()}``.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import request
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.services.errors import ValidationError

PER_PAGE = 25
API_PER_PAGE, API_MAX_PER_PAGE = 50, 200


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int

    def envelope(self) -> dict:
        """The API's list fields besides ``items``."""
        return {"total": self.total, "page": self.page, "per_page": self.per_page}


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


def paged_built(stmt, count, params: dict, page: int, per_page: int = PER_PAGE, scalars: bool = True) -> Page:
    """``paged`` for statements built once: ``stmt`` with ``limit`` and ``offset`` as bound
    parameters, ``count`` the statement that counts its rows, both run with ``params``."""
    page = max(page, 1)
    total = db.session.scalar(count, params) or 0
    result = db.session.execute(stmt, {**params, "limit": per_page, "offset": (page - 1) * per_page})
    items = list(result.unique().scalars()) if scalars else list(result.all())
    return Page(items, total, page, per_page)


def page_of(items: list, page: int, per_page: int = PER_PAGE) -> Page:
    """One page of a list already computed in full (its totals needed every row anyway)."""
    page = max(page, 1)
    return Page(items[(page - 1) * per_page:page * per_page], len(items), page, per_page)


# No list has a million pages; past it an offset would not fit the database's integers.
MAX_PAGE = 1_000_000


def int_arg(name: str, default: int = 1) -> int:
    """A positive whole number from the query string (``?page=``); ``default`` when absent or bad."""
    try:
        return min(max(int(request.args.get(name, default)), 1), MAX_PAGE)
    except (TypeError, ValueError):
        return default


def api_page_args() -> tuple[int, int]:
    """``(page, per_page)`` of an API list: 422 unless whole numbers of 1 or more; per_page at
    most 200. A page past the end is empty; past MAX_PAGE its offset would overflow."""
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", API_PER_PAGE))
    except ValueError:
        raise ValidationError(fields={"page": _("Must be a whole number.")}) from None
    if page < 1 or per_page < 1:
        raise ValidationError(fields={"page": _("Must be 1 or more.")})
    return min(page, MAX_PAGE), min(per_page, API_MAX_PER_PAGE)


def api_page(stmt, params: dict | None = None, scalars: bool = True) -> Page:
    """One page of ``stmt`` for the API, at most two queries: the total is known without
    counting when the first page is not full.

    ``params``: the statement was built once with ``limit`` and ``offset`` as bound
    parameters (and these other values); otherwise the page's limit and offset are added."""
    page, per_page = api_page_args()
    if params is None:
        result = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    else:
        params = {**params, "limit": per_page, "offset": (page - 1) * per_page}
        result = db.session.execute(stmt, params)
    items = list(result.unique().scalars()) if scalars else list(result.all())
    if page == 1 and len(items) < per_page:
        total = len(items)
    else:
        whole = stmt.limit(None).offset(None).order_by(None)
        total = db.session.scalar(select(func.count()).select_from(whole.subquery()), params or {}) or 0
    return Page(items, total, page, per_page)
