"""Who gets the next batch: each worker's pace, and a suggested split of what one
step of an order can hand out now, so each batch can be finished by the due date.

The formula is in docs/pace.md; ``worker_paces`` is its one implementation. Reads only: the
plan is issued through ``issue_plan``, which calls ``production.issue_batch`` for every line
inside one savepoint (all or nothing).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from statistics import median

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, bindparam, case, func, select, type_coerce

from app.extensions import db
from app.models import Batch, Order, ProductStep, Return, Worker, local_today, utc_start_of
from app.services import production
from app.services.errors import ValidationError

WINDOW_DAYS = 28        # calendar days of history a pace is taken over
LOOKBACK_DAYS = 90      # calendar days before the window searched for a worker's first batch
PRIOR_DAYS = 3          # weight of the station's median, in days of history
# A plan counts on this share of each worker's pace: the cushion for the days off and slow
# weeks nobody can see coming (chosen by the backtest, bench/README.md "The plan's backtest").
PLAN_SHARE = Decimal("0.70")
RATE_SCALE = 10_000     # Rate columns hold 1/10,000 yuan
_CENT = Decimal("0.01")


@dataclass
class Pace:
    worker_id: int
    name: str
    pace_per_day: Decimal      # pieces of this step a working day, after pulling toward the median
    own_days: int              # calendar days of history when some of it is on this product and step, else 0
    days: int                  # calendar days of history (at most WINDOW_DAYS)
    holding: int               # pieces the worker holds now (all batches, open and not back)
    holding_load: Decimal      # those pieces in this step's units (by rate)
    # What she holds by due date: (due date, load in hundredths of this step's pieces), earliest
    # first; Σ load = holding_load × 100. How much of it competes with a new batch depends on
    # that batch's due date (``competing_load100``).
    held: tuple[tuple[date, int], ...] = ()


def _rate_units(value) -> int:
    """A rate column's stored integer (SUM(accepted × rate) stays exact on both databases)."""
    return int(value or 0)


def worker_paces(station_id: int, product_id: int, step_id: int, today: date | None = None,
                 holding: dict[int, list[tuple[date, int, int]]] | None = None,
                 registered_by: date | None = None) -> dict[int, Pace]:
    """Each active worker of the station's pace on one product and step (docs/pace.md).

    raw = what the worker brought back accepted over the last WINDOW_DAYS calendar days (or
    since their first batch, if later), valued at each batch's rate and divided by this
    step's rate, per calendar day — days off, and days between two visits, included: that is
    what a due date in calendar days needs. The pace pulls raw toward the station's median
    (of workers with history on this step, else of everyone's) by PRIOR_DAYS days of weight:
    pace = (n·raw + k·median) / (n + k), n the days of history (half of them when none of it
    is on this step). Three queries, whatever the number of workers.

    ``holding`` (worker → [(due date, pieces out, Σ pieces × stored rate)], a row a due date)
    and ``registered_by`` (only
    workers registered by then) replay a past day (``services/backtest``); by default what is
    out now, of every active worker.
    """
    today = today or local_today()
    step = db.session.get(ProductStep, step_id)
    rate = Decimal(step.piece_rate) if step is not None else Decimal("0")
    window_start = today - timedelta(days=WINDOW_DAYS - 1)
    params = {"station_id": station_id, "step_id": step_id, "window_start": window_start, "today": today,
              "lookback_start": window_start - timedelta(days=LOOKBACK_DAYS)}
    rows = db.session.connection().execute(_HISTORY_STMT, params).all()  # plain rows: a row a worker
    history = {worker_id: (int(own_pieces or 0), _rate_units(value)) for worker_id, own_pieces, value in rows}
    if holding is None:
        holding = open_holding(station_id)
    if registered_by is not None:
        params["registered_before"] = utc_start_of(registered_by + timedelta(days=1))
    workers = db.session.execute(_workers_stmt(registered_by is not None), params).all()

    raw: dict[int, tuple[Decimal, int, bool]] = {}
    for worker_id, _name, began in workers:
        if began is None or rate <= 0:
            continue
        span = (today - max(began, window_start)).days + 1
        own_pieces, worth = history.get(worker_id, (0, 0))
        raw[worker_id] = (Decimal(worth) / RATE_SCALE / rate / span, span, own_pieces > 0)
    with_own = [r for r, _n, mine in raw.values() if mine]
    pool = with_own or [r for r, _n, _mine in raw.values()]
    prior = Decimal(median(pool)) if pool else Decimal("0")
    out = {}
    for worker_id, name, _began in workers:
        value, span, mine = raw.get(worker_id, (prior, 0, False))
        weight = span if mine else span // 2  # history on other work only counts half
        pace = (weight * value + PRIOR_DAYS * prior) / (weight + PRIOR_DAYS)
        pieces_out, load100, held = 0, 0, []
        for due, pieces, load in sorted(holding.get(worker_id, ())):
            load_pieces = Decimal(load) / RATE_SCALE / rate if rate > 0 else Decimal(pieces)
            due_load100 = int(load_pieces.quantize(_CENT) * 100)
            pieces_out += pieces
            load100 += due_load100
            held.append((due, due_load100))
        out[worker_id] = Pace(worker_id, name, pace.quantize(_CENT), span if mine else 0, span,
                              pieces_out, Decimal(load100) / 100, tuple(held))
    return out


def open_holding(station_id: int) -> dict[int, list[tuple[date, int, int]]]:
    """What each worker of the station holds now, as ``worker_paces`` takes it: worker → [(due
    date, pieces out, Σ pieces × stored rate)], a row a due date. The station's open batches
    are read as rows (a few hundred, through ix_batches_station_status_due) and summed here:
    grouped in SQL, SQLite's planner would rather read every batch of the station in worker order."""
    sums: dict[tuple[int, date], list[int]] = {}
    for wid, due, n, v in db.session.execute(_OPEN_BATCHES_STMT, {"station_id": station_id}):
        total = sums.setdefault((wid, due), [0, 0])
        total[0] += int(n)
        total[1] += _rate_units(v)
    holding: dict[int, list[tuple[date, int, int]]] = {}
    for (wid, due), (n, v) in sums.items():
        holding.setdefault(wid, []).append((due, n, v))
    return holding


def competing_load100(pace: Pace, due_date: date, today: date) -> int:
    """What of the work she holds competes with a new batch due on ``due_date``, in hundredths
    of this step's pieces (docs/pace.md): held work due on or before that day (or overdue) in
    full; held work due later only for the share of its days that fall by then —
    ``load × days_left ÷ its own days left`` (both counted from today, both days included),
    rounded down to a hundredth. The page's script (static/js/issue-quantity.js) sums the same."""
    days_left = max((due_date - today).days + 1, 0)
    total = 0
    for held_due, load100 in pace.held:
        if held_due <= due_date or held_due <= today:  # due first, or overdue: in full
            total += load100
        else:
            total += load100 * days_left // ((held_due - today).days + 1)
    return total


# The stored integers of the rate columns (1/10,000 yuan), summed in SQL: exact on both databases.
_RATE_COLUMN = type_coerce(Return.__table__.c.piece_rate, BigInteger)
_BATCH_RATE_COLUMN = type_coerce(Batch.__table__.c.piece_rate, BigInteger)

# The pace's statements, built once (building and keying them cost ~0.6 ms a page, as much as
# the workers' query itself): what each worker brought back in the window, in all and of this
# step, valued at the stored rates; the station's open batches; its workers.
_HISTORY_STMT = (
    select(Return.worker_id,
           func.sum(case((Return.step_id == bindparam("step_id"), Return.accepted), else_=0)),
           func.sum(Return.accepted * _RATE_COLUMN))
    .where(Return.station_id == bindparam("station_id"), Return.work_date >= bindparam("window_start"),
           Return.work_date <= bindparam("today"))
    .group_by(Return.worker_id))


_OUTSTANDING = Batch.quantity - Batch.accepted - Batch.rejected - Batch.unused
_OPEN_BATCHES_STMT = (
    select(Batch.worker_id, Batch.due_date, _OUTSTANDING, _OUTSTANDING * _BATCH_RATE_COLUMN)
    .where(Batch.station_id == bindparam("station_id"), Batch.status == "open", _OUTSTANDING > 0))


@lru_cache(maxsize=2)
def _workers_stmt(registered: bool):
    """The station's active workers (registered before ``registered_before``, for a replayed
    day), by id, with when each one's history begins: their first batch in the window and the
    LOOKBACK_DAYS before it — one seek a worker in ix_batches_station_worker_issued_on."""
    first = (select(func.min(Batch.issued_on))
             .where(Batch.station_id == bindparam("station_id"), Batch.worker_id == Worker.id,
                    Batch.issued_on >= bindparam("lookback_start"), Batch.issued_on <= bindparam("today"))
             .scalar_subquery())
    stmt = select(Worker.id, Worker.name, first).where(Worker.station_id == bindparam("station_id"),
                                                        Worker.active.is_(True))
    if registered:
        stmt = stmt.where(Worker.registered_on < bindparam("registered_before"))
    return stmt.order_by(Worker.id)


@dataclass
class PlanLine:
    worker_id: int
    name: str
    quantity: int
    pace_per_day: Decimal
    holding: int
    expected_done: date


@dataclass
class Plan:
    order_id: int
    step_id: int
    available: int
    due_date: date
    items: list[PlanLine]
    unplaced: int
    days_late: int

    @property
    def feasible(self) -> bool:
        return self.unplaced == 0


def suggest_plan(order: Order, step_id: int | None = None, due_date: date | None = None,
                 today: date | None = None, paces: dict[int, Pace] | None = None,
                 steps: list[dict] | None = None) -> Plan:
    """A split of what ``step_id`` (default: the first step with pieces available) of ``order``
    can hand out now across the station's active workers, so each can finish by ``due_date``
    (default: the order's) at their pace. Days left count from today to the due date, both
    included. A worker gets at most floor(pace × PLAN_SHARE × days left − what they hold that
    competes with it: ``competing_load100``), in this step's units; the largest capacities first (fewer, larger batches, to those who hold little).
    What no one can take is ``unplaced``; ``days_late`` is how many more days the whole
    station would need for it at its total pace. Σ quantity + unplaced = available."""
    today = today or local_today()
    if steps is None:  # the issue page passes the order's steps it already read
        steps = production.order_steps(order)
    step = production.default_step(steps, step_id)
    if step_id is not None and step["step_id"] != step_id:
        raise ValidationError(fields={"step_id": str(_l("This order has no such step."))})
    due_date = due_date or order.due_date
    if due_date < today:
        raise ValidationError(fields={"due_date": str(_l("The due date cannot be before today."))})
    available = max(step["available"], 0)
    if paces is None:  # the issue page passes the paces it already read for its defaults
        paces = worker_paces(order.station_id, order.product_id, step["step_id"], today)
    items, left, days_late = split(paces, available, due_date, today)
    return Plan(order.id, step["step_id"], available, due_date, items, left, days_late)


def split(paces: dict[int, Pace], available: int, due_date: date, today: date) -> tuple[list[PlanLine], int, int]:
    """The split itself (docs/pace.md): ``available`` pieces over the workers of ``paces`` by
    capacity — PLAN_SHARE of what their pace makes by the due date, less what they hold that
    competes with it (``can_finish``) — largest first. Returns (lines, unplaced, days late at the station's counted-on pace)."""
    capacity = []
    share_days = _share_days(due_date, today)
    for pace in paces.values():
        can = _can_finish(pace, share_days, due_date, today)
        if can > 0:
            capacity.append((can, pace))
    capacity.sort(key=lambda c: (-c[0], c[1].holding, c[1].worker_id))
    items, left = [], available
    for can, pace in capacity:
        if left <= 0:
            break
        quantity = min(can, left)
        load = Decimal(competing_load100(pace, due_date, today)) / 100
        days = math.ceil((load + quantity) / pace.pace_per_day)
        items.append(PlanLine(pace.worker_id, pace.name, quantity, pace.pace_per_day, pace.holding,
                              today + timedelta(days=max(days, 1) - 1)))
        left -= quantity
    # PLAN_SHARE × Σ paces is Σ (pace × PLAN_SHARE) exactly: hundredths times hundredths.
    total_pace = PLAN_SHARE * sum((p.pace_per_day for p in paces.values()), Decimal("0")) if left > 0 else 0
    days_late = math.ceil(left / total_pace) if left > 0 and total_pace > 0 else (0 if left == 0 else -1)
    return items, left, days_late


def can_finish(pace: Pace, due_date: date, today: date) -> int:
    """Pieces of the step a worker can still finish by ``due_date`` (today to it, both days
    counted) at the share of her pace a plan counts on (PLAN_SHARE), less what she already
    holds that competes with it (``competing_load100``); never below 0. Whole hundredths
    throughout, as the page's script: ⌊(pace₁₀₀ × share₁₀₀ × days − load₁₀₀ × 100) / 10,000⌋."""
    return _can_finish(pace, _share_days(due_date, today), due_date, today)


def _can_finish(pace: Pace, share_days: int, due_date: date, today: date) -> int:
    """``can_finish`` with share₁₀₀ × days left (``_share_days``) worked out once for a whole
    station's workers."""
    load100 = competing_load100(pace, due_date, today) if pace.held else 0
    return max((int(pace.pace_per_day * 100) * share_days - load100 * 100) // 10_000, 0)


def _share_days(due_date: date, today: date) -> int:
    """share₁₀₀ × the days left to ``due_date`` (PLAN_SHARE read now: the backtest replays others)."""
    return int(PLAN_SHARE * 100) * max((due_date - today).days + 1, 0)


@dataclass
class BatchDefault:
    """The issue form's default quantity for one worker, and what it comes from."""
    worker_id: int
    name: str
    quantity: int | None        # None: no pace on record, the form keeps its usual batch
    pace_per_day: Decimal
    holding_load: Decimal
    plan_quantity: int | None   # the suggested split's line for her, when it has one
    held: tuple[tuple[date, int], ...] = ()  # Pace.held: what the page's script needs for another due date


def batch_defaults(paces: dict[int, Pace], plan: Plan | None, available: int, due_date: date,
                   today: date | None = None) -> dict[int, BatchDefault]:
    """What the issue form offers each worker when she is chosen, so no default hands one
    person more than she can finish or more than her share: what she can finish by the
    batch's due date at her pace (``can_finish``), no more than the suggested split gives her
    when it has a line for her, and no more than is available. 0 when what she holds already
    fills the days left; None when nobody at the station has a pace yet."""
    today = today or local_today()
    planned = {ln.worker_id: ln.quantity for ln in plan.items} if plan else {}
    out = {}
    share_days = _share_days(due_date, today)
    for worker_id, pace in paces.items():
        quantity = None
        if pace.pace_per_day > 0:
            quantity = min(_can_finish(pace, share_days, due_date, today), max(available, 0))
            if worker_id in planned:
                quantity = min(quantity, planned[worker_id])
        out[worker_id] = BatchDefault(worker_id, pace.name, quantity, pace.pace_per_day, pace.holding_load,
                                      planned.get(worker_id), pace.held)
    return out


def issue_plan(order: Order, items: list[dict], step_id: int | None = None, due_date: date | None = None,
               user=None) -> list[Batch]:
    """Issue every line ``{worker_id, quantity}`` of a plan as a batch of one step, due on the
    plan's due date — every batch or none (one savepoint: an over-issue on any line refuses
    them all, 409). Lines with a quantity of 0 are left out; a worker twice is refused (422)."""
    if not items:
        raise ValidationError(fields={"items": str(_l("Add at least one worker."))})
    errors, seen = {}, set()
    for i, item in enumerate(items):
        worker_id, quantity = item.get("worker_id"), item.get("quantity")
        if not isinstance(worker_id, int) or isinstance(worker_id, bool):
            errors[f"items.{i}.worker_id"] = str(_l("Choose a worker."))
        elif worker_id in seen:
            errors[f"items.{i}.worker_id"] = str(_l("This worker is already in the plan."))
        seen.add(worker_id)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            errors[f"items.{i}.quantity"] = str(_l("Must not be negative."))
    if errors:
        raise ValidationError(fields=errors)
    due_date = due_date or order.due_date
    if step_id is None:  # as the plan: the first step with pieces to hand out
        step_id = production.default_step(production.order_steps(order))["step_id"]
    workers = {w.id: w for w in db.session.scalars(select(Worker).where(
        Worker.id.in_(seen), Worker.station_id == order.station_id))}
    missing = {f"items.{i}.worker_id": str(_l("No such worker.")) for i, item in enumerate(items)
               if item["worker_id"] not in workers}
    if missing:
        raise ValidationError(fields=missing)
    batches = []
    with db.session.begin_nested():
        for item in items:
            if item["quantity"] == 0:
                continue
            batches.append(production.issue_batch(order=order, worker=workers[item["worker_id"]],
                                                  quantity=item["quantity"], due_date=due_date, user=user,
                                                  step_id=step_id))
    if not batches:
        raise ValidationError(fields={"items": str(_l("Add at least one worker."))})
    return batches
