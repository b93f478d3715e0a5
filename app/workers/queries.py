"""Read-side queries for the worker pages: each list loads in a fixed number of queries
whatever the number of rows."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, bindparam, case, func, null, or_, select
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.elements import BindParameter

from app.batches.queries import batch_stmt
from app.extensions import db
from app.models import Batch, Product, Return, Worker, local_today
from app.paging import PER_PAGE, Page, paged, paged_built
from app.permissions import scope_params, visible, visible_to_role
from app.services.errors import ValidationError
from app.services.production import FORECAST_DAYS


@dataclass
class WorkerRow:
    worker: Worker
    holding: int
    open_batches: int
    recent_per_day: float
    last_issued: object
    overdue: int = 0  # open batches past their due date with pieces still out


def _last_issued(station_id):
    """When each worker was last handed a batch (of the station: an id, or a bound parameter
    in a statement built once): one seek a worker in ``ix_batches_station_worker_issued_at``,
    not a read of every batch of the station."""
    stmt = select(func.max(Batch.issued_at)).where(Batch.worker_id == Worker.id)
    if station_id is not None:
        stmt = stmt.where(Batch.station_id == station_id)
    return stmt.scalar_subquery().label("last_issued")


def _rows_stmt(which: list, recent_first: bool, station_id):
    """The workers of ``which`` with when each was last handed a batch (the picker's order,
    ``recent_first``) or none, active first then by name."""
    if recent_first:
        which = [*which, Worker.active.is_(True)]
        last = _last_issued(station_id)
        stmt = select(Worker, last).order_by(last.desc().nulls_last(), Worker.name, Worker.id)
    else:
        stmt = select(Worker, null()).order_by(Worker.active.desc(), Worker.name, Worker.id)
    return stmt.options(joinedload(Worker.station)).where(*which), select(Worker.id).where(*which)


@lru_cache(maxsize=16)
def _list_stmts(role: str, one_station: bool, recent_first: bool):
    """A list without a search, built once per role: its page (``limit``, ``offset``) and its
    count, the station and the viewer's scope as bound parameters. Building and keying them
    cost about 1 ms of the issue page's picker, more than running them."""
    station: BindParameter = bindparam("station_id")
    which = [visible_to_role(Worker, role)]
    if one_station:
        which.append(Worker.station_id == station)
    stmt, count_of = _rows_stmt(which, recent_first, station if one_station else None)
    return (stmt.limit(bindparam("limit")).offset(bindparam("offset")),
            select(func.count()).select_from(count_of.subquery()))


@lru_cache(maxsize=2)
def _figures_stmts(one_station: bool):
    """What the workers of one page (``worker_ids``) hold and made lately, built once: building
    and keying the two statements cost about as much as running them."""
    outstanding = Batch.quantity - Batch.accepted - Batch.rejected - Batch.unused
    # A batch all brought back but not yet closed holds nothing: it is not counted open.
    held = (select(Batch.worker_id, func.sum(outstanding), func.count(Batch.id),
                   func.sum(case((Batch.due_date < bindparam("today"), 1), else_=0)))
            .where(Batch.worker_id.in_(bindparam("worker_ids", expanding=True)), Batch.status == "open", outstanding > 0)
            .group_by(Batch.worker_id))
    recent = (select(Return.worker_id, func.sum(Return.accepted))
              .where(Return.worker_id.in_(bindparam("worker_ids", expanding=True)), Return.work_date > bindparam("since"),
                     Return.work_date <= bindparam("today"))
              .group_by(Return.worker_id))
    if one_station:  # a station's own rows only
        held = held.where(Batch.station_id == bindparam("station_id"))
        recent = recent.where(Return.station_id == bindparam("station_id"))
    return held, recent


def _figures(station_id: int | None, worker_ids: list[int], today: date) -> tuple[dict, dict]:
    """For the workers of one page, two queries over their own batches and returns: worker →
    (pieces held, open batches, overdue batches), and worker → pieces accepted lately."""
    if not worker_ids:
        return {}, {}
    held, recent = _figures_stmts(station_id is not None)
    params = {"worker_ids": worker_ids, "today": today, "since": today - timedelta(days=FORECAST_DAYS),
              "station_id": station_id}
    holding = {wid: (int(h), int(n), int(o)) for wid, h, n, o in db.session.execute(held, params)}
    return holding, {wid: int(r or 0) for wid, r in db.session.execute(recent, params)}


def worker_rows(station_id: int | None, search: str | None = None, page: int = 1,
                per_page: int = PER_PAGE, today: date | None = None, recent_first: bool = False) -> Page:
    """Workers with what they hold now and their recent daily output, one page in four queries:
    the count, the page's workers, then what those workers hold and made lately.

    ``recent_first`` orders by who took a batch most recently (the batch picker)."""
    today = today or local_today()
    if search or not current_user.is_authenticated:
        which = [visible(Worker)]  # the workers listed
        if station_id is not None:
            which.append(Worker.station_id == station_id)
        if search:
            which.append(worker_search(station_id, search))
        stmt, count_of = _rows_stmt(which, recent_first, station_id)
        result = paged(stmt, page, per_page, scalars=False, count_of=count_of)
    else:
        stmt, count = _list_stmts(current_user.role, station_id is not None, recent_first)
        result = paged_built(stmt, count, {"station_id": station_id, **scope_params()}, page, per_page,
                             scalars=False)
    holding, recent = _figures(station_id, [w.id for w, _last in result.items], today)
    rows = []
    for worker, last in result.items:
        held, open_batches, overdue = holding.get(worker.id, (0, 0, 0))
        rows.append(WorkerRow(worker, held, open_batches, round(recent.get(worker.id, 0) / FORECAST_DAYS, 1), last,
                              overdue))
    result.items = rows
    return result


def worker_search(station_id: int | None, search: str):
    """The condition on ``Worker`` of a search box: part of the name or the phone number, or
    the name's pinyin (``pinyin_matches``)."""
    like = f"%{search.strip()}%"
    by_pinyin = pinyin_matches(station_id, search)
    return (or_(Worker.name.like(like), Worker.phone.like(like), Worker.id.in_(by_pinyin))
            if by_pinyin else or_(Worker.name.like(like), Worker.phone.like(like)))


SEARCH_MAX_LENGTH = 50


def search_text(raw: str | None) -> str:
    """What was typed in a worker search box, trimmed ("" for none). Longer than a name or a
    phone number could be, or with control characters in it, it is refused (ValidationError
    on ``q``), so the page says why instead of finding nobody."""
    text = (raw or "").strip()
    if len(text) > SEARCH_MAX_LENGTH or any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ValidationError(fields={"q": _("Type part of a name or a phone number (at most %(n)s characters).",
                                             n=SEARCH_MAX_LENGTH)})
    return text


def history_of_worker(worker: Worker, page: int) -> Page:
    """A worker's returns, newest first, with product name and batch code: two queries a page."""
    stmt = (select(Return, Product.name, Product.unit, Batch.code)
            .join(Batch, Batch.id == Return.batch_id).join(Product, Product.id == Return.product_id)
            .where(Return.worker_id == worker.id, visible(Return))
            .order_by(Return.work_date.desc(), Return.id.desc()))
    return paged(stmt, page, scalars=False)


def open_batches_of_worker(worker: Worker) -> list[Batch]:
    return list(db.session.scalars(
        batch_stmt().where(Batch.worker_id == worker.id, Batch.status == "open")
        .order_by(Batch.due_date, Batch.id)).unique())


def recent_accepted_of_worker(worker_id: int, today: date | None = None) -> int:
    today = today or local_today()
    return db.session.scalar(
        select(func.coalesce(func.sum(Return.accepted), 0)).where(
            and_(Return.worker_id == worker_id, Return.work_date > today - timedelta(days=FORECAST_DAYS),
                 Return.work_date <= today))) or 0


@lru_cache(maxsize=8192)
def name_pinyin(name: str) -> tuple[str, str]:
    """("gaoxiuying", "gxy") for 高秀英: full pinyin without tones, and the initials (pypinyin,
    every reading of a character that has several)."""
    from pypinyin import Style, lazy_pinyin

    full = "".join(lazy_pinyin(name, style=Style.NORMAL, errors="ignore")).lower()
    initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower()
    return full, initials


def pinyin_matches(station_id: int | None, search: str) -> list[int]:
    """Workers (of the station) whose name's pinyin or initials start with, or hold, what was
    typed in Latin letters: "gao" finds 高秀英, and so do "gxy" and "xiuying". A station has a
    few hundred workers; their names are read in one query and converted once per process."""
    typed = "".join(ch for ch in search.lower() if ch.isascii() and ch.isalpha())
    if not typed or typed != search.strip().lower().replace(" ", ""):
        return []
    stmt = select(Worker.id, Worker.name).where(visible(Worker))
    if station_id is not None:
        stmt = stmt.where(Worker.station_id == station_id)
    found = []
    for worker_id, name in db.session.execute(stmt):
        full, initials = name_pinyin(name)
        if typed in full or initials.startswith(typed):
            found.append(worker_id)
    return found
