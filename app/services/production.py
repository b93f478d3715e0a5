"""Orders, take-home batches and returns: the production record (rules 2, 3, 4, 9).

Conservation is enforced by conditional UPDATEs of the counters on batches and orders (and
by CHECK constraints behind them), so two tablets recording against one batch at once can
never push it past what was issued, on SQLite and PostgreSQL alike.
"""
from __future__ import annotations

import math
import secrets
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from app.db_tx import rowcount
from app.extensions import db
from app.models import (
    Batch,
    Order,
    OrderDayTally,
    OrderStep,
    Product,
    ProductStep,
    Return,
    Station,
    Worker,
    local_today,
    utcnow,
)
from app.models.base import local_tz
from app.models.production import OrderProgress
from app.money import round_money
from app.services import audit, catalog, numbers, periods
from app.services.errors import ConflictError, ValidationError

ORDER_FIELDS = ("number", "client_id", "product_id", "station_id", "quantity", "taken_on", "due_date", "unit_price", "status", "note")
BATCH_FIELDS = ("code", "order_id", "worker_id", "step_id", "quantity", "piece_rate", "issued_on", "due_date", "status",
                "accepted", "rejected", "unused", "shortfall", "shortfall_policy", "shortfall_deduction")
RETURN_FIELDS = ("batch_id", "accepted", "rejected", "unused", "work_date", "recorded_at", "corrects_id", "reason", "note")
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: easy to read aloud and type
FORECAST_DAYS = 14
BATCH_WEEK = 7  # days a batch is out unless its order is due sooner


class OverIssue(ConflictError):
    code = "over_issue"

    def default_message(self):
        return _l("This order does not have that many pieces left to hand out.")


class OverStep(ConflictError):
    code = "over_step"

    def default_message(self):
        return _l("The previous step has not accepted that many pieces yet.")


class OverReturn(ConflictError):
    code = "over_return"

    def default_message(self):
        return _l("More pieces than are still out with this worker.")


class BatchClosed(ConflictError):
    code = "batch_closed"

    def default_message(self):
        return _l("This batch is closed.")


# --- orders


def create_order(*, client_id: int, product_id: int, station_id: int, quantity: int, due_date: date,
                 note: str | None = None, user=None, taken_on: date | None = None) -> Order:
    """Take an order; it keeps the product's unit price as of now (rule 2). ``taken_on`` (the
    day it was taken, default today) is never in the future and the due date never before it
    (rule 12): 422 on every path alike."""
    product = db.session.get(Product, product_id)
    today = local_today()
    taken_on = taken_on or today
    errors = check_order_dates(taken_on, due_date, today)
    if product is None or not product.active:
        errors["product_id"] = str(_l("No such product."))
    elif product.client_id != client_id:
        errors["product_id"] = str(_l("This product belongs to another client."))
    if db.session.get(Station, station_id) is None:
        errors["station_id"] = str(_l("No such station."))
    if quantity is None or quantity <= 0:
        errors["quantity"] = str(_l("Must be more than zero."))
    if errors:
        raise ValidationError(fields=errors)
    assert product is not None  # else a field error above
    year = today.year
    number = f"D{year}-{numbers.next_number('order', year):05d}"
    order = Order(number=number, client_id=client_id, product_id=product_id, station_id=station_id,
                  quantity=quantity, taken_on=taken_on, due_date=due_date, note=note or None, unit_price=product.unit_price,
                  created_by_id=getattr(user, "id", None) if getattr(user, "kind", "") == "staff" else None)
    db.session.add(order)
    db.session.flush()
    steps = db.session.scalars(select(ProductStep).where(ProductStep.product_id == product_id)
                               .order_by(ProductStep.seq)).all()
    if len(steps) > 1:  # the order keeps the steps its product has now (rule 14)
        for step in steps:
            db.session.add(OrderStep(order_id=order.id, step_id=step.id, seq=step.seq, last=step is steps[-1],
                                     committed=0, accepted=0, rejected=0, taken_next=0))
        db.session.flush()
    audit.record("create", "order", order.id, after=audit.snapshot(order, ORDER_FIELDS), user=user)
    return order


# --- the dates of the record (rule 12): one rule each, for the pages, the API, the CLI and the outbox


def check_order_dates(taken_on: date, due_date: date | None, today: date) -> dict[str, str]:
    """Field errors for an order's dates: taken today or earlier; due on or after that day."""
    if taken_on > today:
        return {"taken_on": str(_l("The order date cannot be in the future."))}
    if due_date is not None and due_date < taken_on:
        message = _l("The due date cannot be before today.") if taken_on == today \
            else _l("The due date cannot be before the order date.")
        return {"due_date": str(message)}
    return {}


def check_issue_dates(order: Order, issued_on: date, due_date: date, today: date) -> dict[str, str]:
    """Field errors for a batch's dates: issued today or earlier but not before its order was
    taken; due on or after the issue day. (A closed pay period is a 409, checked apart.)"""
    if issued_on > today:
        return {"issued_on": str(_l("The issue date cannot be in the future."))}
    if issued_on < order.taken_on:
        return {"issued_on": str(_l("The issue date cannot be before the order was taken (%(day)s).",
                                    day=order.taken_on.isoformat()))}
    if due_date < issued_on:
        message = _l("The due date cannot be before today.") if issued_on == today \
            else _l("The due date cannot be before the issue date.")
        return {"due_date": str(message)}
    return {}


def parse_recorded_at(value) -> datetime | None:
    """``recorded_at`` as a tablet sends it (when it counted a return): ISO 8601 with an
    offset, or nothing; 422 otherwise. Answers an aware datetime."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            moment = None
    if moment is None or moment.tzinfo is None:
        raise ValidationError(fields={"recorded_at": str(_l("A time with its offset, like 2026-12-01T09:30:00+08:00."))})
    return moment


# --- steps of an order (rule 14)


def order_steps(order: Order) -> list[dict]:
    """Each step of ``order`` with its progress, in order: ``{step_id, seq, name, piece_rate,
    issued, accepted, rejected, out, available}``. ``issued`` is what was handed out for the
    step net of unused materials returned; ``available`` is what can be handed out for it
    now: the order's unissued pieces for the first step, what the previous step accepted and
    the step does not have out or back for the others. An order of a one-step product has
    one step, whose figures are the order's."""
    return order_steps_many([order])[order.id]


def order_steps_many(orders, several_only: bool = False) -> dict[int, list[dict]]:
    """``order_steps`` for many orders in two queries; with ``several_only``, only the orders
    of products made in several steps, in one query (the board shows steps only for them)."""
    orders = list(orders)
    if not orders:
        return {}
    rows = db.session.execute(_ORDER_STEPS, {"order_ids": [o.id for o in orders]}).all()
    by_order: dict[int, list] = {}
    for row, name, rate in rows:
        by_order.setdefault(row.order_id, []).append((row, name, rate))
    single = [] if several_only else [o for o in orders if o.id not in by_order]
    firsts = {}
    if single:
        firsts = {st.product_id: st for st in db.session.scalars(
            select(ProductStep).where(ProductStep.product_id.in_({o.product_id for o in single}), ProductStep.seq == 1))}
    out: dict[int, list[dict]] = {}
    for order in orders:
        if order.id not in by_order:
            if several_only:
                continue
            first = firsts.get(order.product_id)
            out[order.id] = [{"step_id": first.id if first else None, "seq": 1, "name": first.name if first else "",
                              "piece_rate": first.piece_rate if first else None, "issued": order.committed,
                              "accepted": order.accepted, "rejected": order.rejected, "out": order.out_with_workers,
                              "available": order.unissued, "last": True}]
            continue
        steps, before = [], None
        for row, name, rate in by_order[order.id]:
            available = order.unissued if before is None else before.accepted - before.taken_next
            steps.append({"step_id": row.step_id, "seq": row.seq, "name": name, "piece_rate": rate,
                          "issued": row.committed, "accepted": row.accepted, "rejected": row.rejected,
                          "out": row.committed - row.accepted - row.rejected, "available": available,
                          "last": row.last})
            before = row
        out[order.id] = steps
    return out


# Every board and issue page asks it: built once (building it cost about as much as running it).
_ORDER_STEPS = (
    select(OrderStep, ProductStep.name, ProductStep.piece_rate).join(ProductStep, ProductStep.id == OrderStep.step_id)
    .where(OrderStep.order_id.in_(bindparam("order_ids", expanding=True))).order_by(OrderStep.order_id, OrderStep.seq)
)


def finished_returns():
    """A SQL condition on ``Return``: the return is of finished goods — its order is of a
    one-step product, or the batch was for the order's last step (rule 14)."""
    from sqlalchemy import exists, or_

    return or_(
        ~exists().where(OrderStep.order_id == Return.order_id),
        exists().where(OrderStep.order_id == Return.order_id, OrderStep.step_id == Return.step_id, OrderStep.last),
    )


def default_step(steps: list[dict], step_id: int | None = None) -> dict:
    """The step the issue form offers: the one asked for, else the first with pieces to hand
    out, else the first."""
    for st in steps:
        if step_id is not None and st["step_id"] == step_id:
            return st
    return next((st for st in steps if st["available"] > 0), steps[0])


def step_of_order(order: Order, step_id: int | None) -> tuple[ProductStep, OrderStep | None]:
    """The step of ``order`` a batch would be for (the first when ``step_id`` is None) and its
    counters (None on a one-step order). A step that is not the order's answers 422."""
    if step_id is None:
        row = db.session.scalar(select(OrderStep).where(OrderStep.order_id == order.id, OrderStep.seq == 1))
        step = row.step if row is not None else db.session.scalars(  # every product has a first step
            select(ProductStep).where(ProductStep.product_id == order.product_id, ProductStep.seq == 1)).one()
        return step, row
    row = db.session.get(OrderStep, (order.id, step_id))
    if row is not None:
        return row.step, row
    asked = db.session.get(ProductStep, step_id)
    has_rows = db.session.scalar(select(OrderStep.seq).where(OrderStep.order_id == order.id).limit(1)) is not None
    if asked is None or has_rows or asked.product_id != order.product_id or asked.seq != 1:
        raise ValidationError(fields={"step_id": str(_l("This order has no such step."))})
    return asked, None


def update_order(order: Order, expected_version: int | None = None, user=None, **changes) -> Order:
    """Change an order's quantity, due date, note or status, unless someone saved since
    ``expected_version``; the quantity never drops below what is already committed."""
    from app.services.catalog import StaleEdit

    if expected_version is not None and int(expected_version) != order.version:
        raise StaleEdit()
    before = audit.snapshot(order, ORDER_FIELDS)
    quantity = changes.get("quantity")
    if quantity is not None and quantity < order.committed:
        raise ConflictError(_l("The quantity cannot be less than what is already handed out (%(n)s).", n=order.committed),
                            code="quantity_below_issued", fields={"quantity": str(_l("At least %(n)s.", n=order.committed))})
    if changes.get("due_date") is not None and changes["due_date"] < order.taken_on:
        raise ValidationError(fields={"due_date": str(_l("The due date cannot be before the order date."))})
    for key in ("quantity", "due_date", "note", "status"):
        if changes.get(key) is not None:
            setattr(order, key, changes[key])
    db.session.flush()
    audit.record("update", "order", order.id, before=before, after=audit.snapshot(order, ORDER_FIELDS), user=user)
    return order


def forecast_completion(order: Order, today: date | None = None) -> date | None:
    """When the order will be done at the last 14 days' pace of accepted pieces; None if no pace."""
    today = today or local_today()
    recent = recent_accepted_by_order([order.id], today).get(order.id, 0)
    return forecast_from_pace(order, recent, today)


def recent_accepted_by_order(order_ids, today: date | None = None) -> dict[int, int]:
    """Accepted pieces of the last 14 days for many orders, in one query over the daily
    tallies (for the board)."""
    today = today or local_today()
    if not order_ids:
        return {}
    rows = db.session.execute(_RECENT_ACCEPTED, {"order_ids": list(order_ids), **recent_window(today)}).all()
    return {order_id: int(total or 0) for order_id, total in rows}


def recent_window(today: date) -> dict[str, date]:
    """The parameters of the last 14 days' tallies: after ``after``, up to ``today``."""
    return {"after": today - timedelta(days=FORECAST_DAYS), "today": today}


def recent_accepted_of(order_id):
    """``recent_accepted_by_order`` as a column of a query over orders (``order_id`` its
    orders' id): the same sum, 0 for none, read with the orders rather than in a query of its own."""
    return (select(func.coalesce(func.sum(OrderDayTally.accepted), 0))
            .where(OrderDayTally.order_id == order_id,
                   OrderDayTally.work_date > bindparam("after"), OrderDayTally.work_date <= bindparam("today"))
            .scalar_subquery())


_RECENT_ACCEPTED = (
    select(OrderDayTally.order_id, func.sum(OrderDayTally.accepted))
    .where(OrderDayTally.order_id.in_(bindparam("order_ids", expanding=True)),
           OrderDayTally.work_date > bindparam("after"), OrderDayTally.work_date <= bindparam("today"))
    .group_by(OrderDayTally.order_id)
)


def _upsert_tally(insert):
    stmt = insert(OrderDayTally.__table__)  # the VALUES come from the parameters
    return stmt.on_conflict_do_update(index_elements=["order_id", "work_date"],
                                      set_={"accepted": OrderDayTally.__table__.c.accepted + stmt.excluded.accepted})


# Every return and correction runs one: built once for each database.
_UPSERT_TALLY = {"sqlite": _upsert_tally(sqlite_insert), "postgresql": _upsert_tally(pg_insert)}


def _tally(order_id: int, work_date: date, accepted: int) -> None:
    """Move the order's accepted pieces of ``work_date`` with the return that moved them."""
    if accepted:
        conn = db.session.connection()
        conn.execute(_UPSERT_TALLY[conn.dialect.name], {"order_id": order_id, "work_date": work_date, "accepted": accepted})


def forecast_from_pace(order: OrderProgress, recent: int, today: date | None = None) -> date | None:
    today = today or local_today()
    remaining = order.quantity - order.accepted
    if remaining <= 0:
        return today
    if recent <= 0:
        return None
    days = math.ceil(Decimal(remaining) * FORECAST_DAYS / recent)
    if days > (date.max - today).days:  # a huge order at a trickle: later than any due date
        return date.max
    return today + timedelta(days=days)


def is_at_risk(order: OrderProgress, forecast: date | None, today: date | None = None) -> bool:
    """An open order with pieces left is at risk when its forecast falls after its due date,
    or, with no pace at all, when the due date is three days away or past."""
    today = today or local_today()
    if order.status != "open" or order.accepted >= order.quantity:
        return False
    if forecast is None:  # no pace yet: at risk only when the due date is near
        return today >= order.due_date - timedelta(days=3)
    return forecast > order.due_date


# --- batches


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


def default_due_date(order: Order, issued_on: date | None = None) -> date:
    """A batch's due date when none is given: a week after it is handed out, or the order's
    due date if that is sooner, and never before the day it is handed out (a late order)."""
    issued_on = issued_on or local_today()
    return max(issued_on, min(order.due_date, issued_on + timedelta(days=BATCH_WEEK)))


def issue_batch(*, order: Order, worker: Worker, quantity: int, due_date: date | None = None,
                user=None, step_id: int | None = None, issued_on: date | None = None) -> Batch:
    """Hand ``quantity`` pieces of one step of ``order`` (the first by default) to ``worker``
    at the step's piece rate in force today (rules 2, 14; a rate dated later waits for its day).

    The first step is capped by the order's unissued pieces (OverIssue, 409); a later step by
    what the previous step accepted less what this step already has out or back (OverStep,
    409 ``over_step``). Both hold under concurrency: conditional UPDATEs, taken in one order
    (this step's row, then the previous step's or the order's) by every writer.
    """
    errors = {}
    if quantity is None or quantity <= 0:
        errors["quantity"] = str(_l("Must be more than zero."))
    if not worker.active:
        errors["worker_id"] = str(_l("This worker is no longer active."))
    elif worker.station_id != order.station_id:
        errors["worker_id"] = str(_l("This worker belongs to another station."))
    today = local_today()
    issued_on = issued_on or today
    due_date = due_date or default_due_date(order, issued_on)
    errors.update(check_issue_dates(order, issued_on, due_date, today))
    if errors:
        raise ValidationError(fields=errors)
    step, counters = step_of_order(order, step_id)
    if order.status != "open":
        raise ConflictError(_l("This order is not open."), code="order_not_open")
    if issued_on != today:  # back-dated: only into an open pay period (409)
        periods.ensure_open(issued_on, field="issued_on")
    conn = db.session.connection()
    if counters is not None:
        conn.execute(update(OrderStep).where(OrderStep.order_id == order.id, OrderStep.step_id == step.id)
                     .values(committed=OrderStep.committed + quantity))
    if counters is None or counters.seq == 1:
        taken = conn.execute(
            update(Order)
            .where(Order.id == order.id, Order.status == "open", Order.committed + quantity <= Order.quantity)
            .values(committed=Order.committed + quantity)
        ).rowcount
        if taken != 1:
            db.session.refresh(order)
            raise OverIssue(fields={"quantity": str(_l("At most %(n)s pieces are left to hand out.", n=order.unissued))})
    else:
        taken = conn.execute(
            update(OrderStep)
            .where(OrderStep.order_id == order.id, OrderStep.seq == counters.seq - 1,
                   OrderStep.taken_next + quantity <= OrderStep.accepted)
            .values(taken_next=OrderStep.taken_next + quantity)
        ).rowcount
        if taken != 1:
            previous = db.session.scalar(select(OrderStep.accepted - OrderStep.taken_next).where(
                OrderStep.order_id == order.id, OrderStep.seq == counters.seq - 1))
            raise OverStep(fields={"quantity": str(_l("At most %(n)s pieces are ready for this step.", n=previous or 0))})
    product = db.session.get_one(Product, order.product_id)
    # The step's rate in force today, the day it is entered (a back-dated batch too, as before
    # dated rates: a rate dated later waits for its day).
    rate = catalog.bring_rate_up_to_date(step, today)
    for _attempt in range(5):
        batch = Batch(code=_new_code(), order_id=order.id, worker_id=worker.id, station_id=order.station_id,
                      product_id=order.product_id, step_id=step.id, quantity=quantity, piece_rate=rate,
                      material_cost=product.material_cost, issued_on=issued_on, due_date=due_date,
                      issued_by_id=getattr(user, "id", None) if getattr(user, "kind", "") == "staff" else None)
        try:
            with db.session.begin_nested():
                db.session.add(batch)
            break
        except IntegrityError:  # a code collision: draw another
            continue
    else:
        raise RuntimeError("could not draw a unique batch code")
    db.session.refresh(order)
    if counters is not None:
        db.session.expire(counters)
    audit.record("issue", "batch", batch.id, after=audit.snapshot(batch, BATCH_FIELDS), user=user)
    return batch


def _move_batch_counts(require_open: bool):
    """The conditional UPDATE behind conservation (rule 3): it moves a batch's counters only
    if none goes below zero and together they stay within the quantity issued. Built once,
    with bound parameters, since every return runs it."""
    conditions = [
        Batch.id == bindparam("batch_id"),
        Batch.accepted + bindparam("accepted") >= 0, Batch.rejected + bindparam("rejected") >= 0,
        Batch.unused + bindparam("unused") >= 0,
        Batch.accepted + Batch.rejected + Batch.unused + bindparam("total") <= Batch.quantity,
    ]
    if require_open:
        conditions.append(Batch.status == "open")
    return (update(Batch).where(*conditions)
            .values(accepted=Batch.accepted + bindparam("accepted"), rejected=Batch.rejected + bindparam("rejected"),
                    unused=Batch.unused + bindparam("unused"))
            .execution_options(synchronize_session=False))


MOVE_OPEN_BATCH = _move_batch_counts(require_open=True)
MOVE_ANY_BATCH = _move_batch_counts(require_open=False)
# The order follows its batch: accepted never below what is invoiced; unused materials go
# back to the order's unissued stock.
MOVE_ORDER = (update(Order)
              .where(Order.id == bindparam("order_id"), Order.accepted + bindparam("accepted") >= Order.invoiced,
                     Order.committed - bindparam("unused") <= Order.quantity)
              .values(accepted=Order.accepted + bindparam("accepted"), rejected=Order.rejected + bindparam("rejected"),
                      committed=Order.committed - bindparam("unused"))
              .execution_options(synchronize_session=False))


# A batch of a step moves that step's counters first (on orders with several steps); its
# accepted pieces never drop below what the next step already took from them.
MOVE_ORDER_STEP = (update(OrderStep)
                   .where(OrderStep.order_id == bindparam("os_order"), OrderStep.step_id == bindparam("os_step"),
                          OrderStep.accepted + bindparam("accepted") >= OrderStep.taken_next)
                   .values(accepted=OrderStep.accepted + bindparam("accepted"),
                           rejected=OrderStep.rejected + bindparam("rejected"),
                           committed=OrderStep.committed - bindparam("unused"))
                   .returning(OrderStep.seq, OrderStep.last)
                   .execution_options(synchronize_session=False))
MOVE_PREVIOUS_STEP = (update(OrderStep)
                      .where(OrderStep.order_id == bindparam("os_order"), OrderStep.seq == bindparam("os_seq"),
                             OrderStep.taken_next - bindparam("unused") <= OrderStep.accepted)
                      .values(taken_next=OrderStep.taken_next - bindparam("unused"))
                      .execution_options(synchronize_session=False))
_HAS_STEPS = select(OrderStep.seq).where(OrderStep.order_id == bindparam("os_order")).limit(1)


def _has_steps(conn, order_id: int) -> bool:
    return conn.execute(_HAS_STEPS, {"os_order": order_id}).first() is not None


def _apply_counts(batch: Batch, accepted: int, rejected: int, unused: int, require_open: bool = True) -> int:
    """Move the batch's, its step's and the order's counters by the given (signed) counts, or
    raise; answers the finished pieces moved (accepted at the order's last step).

    With ``require_open`` the batch must still be open when the UPDATE takes its row, so a
    return racing a close is refused (BatchClosed) rather than landing on a closed batch.
    """
    counts = {"accepted": accepted, "rejected": rejected, "unused": unused}
    # On the session's connection, as plain SQL: the ORM's UPDATE path costs far more than the
    # UPDATE itself, and nothing in the session needs synchronising (the counters are expired).
    conn = db.session.connection()
    moved = conn.execute(MOVE_OPEN_BATCH if require_open else MOVE_ANY_BATCH,
                         {"batch_id": batch.id, "total": accepted + rejected + unused, **counts}).rowcount
    if moved != 1:
        db.session.refresh(batch)
        if require_open and batch.status != "open":
            raise BatchClosed()
        raise OverReturn(fields={"accepted": str(_l("At most %(n)s pieces are still out.", n=batch.outstanding))})
    step = None
    if batch.step_id is not None:
        step = conn.execute(MOVE_ORDER_STEP, {"os_order": batch.order_id, "os_step": batch.step_id, **counts}).first()
        if step is None and _has_steps(conn, batch.order_id):
            raise ConflictError(_l("The next step already has these pieces; correct its batches first."),
                                code="taken_by_next_step")
    if step is not None:  # an order of a product made in several steps
        if step.seq > 1 and unused:
            # Unused materials of step k go back to step k's available pieces.
            moved = conn.execute(MOVE_PREVIOUS_STEP, {"os_order": batch.order_id, "os_seq": step.seq - 1,
                                                      "unused": unused}).rowcount
            if moved != 1:
                raise OverStep()
        counts = {"accepted": accepted if step.last else 0, "rejected": rejected,
                  "unused": unused if step.seq == 1 else 0}
    moved = conn.execute(MOVE_ORDER, {"order_id": batch.order_id, **counts}).rowcount
    if moved != 1:
        raise ConflictError(_l("These pieces are already invoiced; void the invoice first."), code="already_invoiced")
    # The counters moved in SQL: reload them when next read, not now (the common path never does).
    db.session.expire(batch, ["accepted", "rejected", "unused"])
    return counts["accepted"]


_INSERT_RETURN = insert(Return.__table__).returning(Return.__table__.c.id)


def _insert_return(**values) -> Return:
    """Insert one return as plain SQL (the ORM's flush costs several times the INSERT, inside
    the write lock) and hand back the row as a persistent Return, as if loaded."""
    values["recorded_at"] = values.get("recorded_at") or utcnow()
    new_id = db.session.connection().execute(_INSERT_RETURN, values).scalar_one()
    row = Return(id=new_id, **values)
    make_transient_to_detached(row)
    db.session.add(row)
    return row


def record_return(*, batch: Batch, accepted: int, rejected: int = 0, unused: int = 0,
                  work_date: date | None = None, note: str | None = None, user=None, photo=None,
                  recorded_at=None) -> Return:
    """Record what came back for an open batch. Counts are non-negative and together never
    exceed what is still out (OverReturn, 409); a date in a closed pay period is refused.

    ``recorded_at`` (aware, or ISO 8601 with an offset) is when a tablet counted it, offline:
    kept as the row's time, and the work date defaults to its day in the workshop's timezone.
    The work date is never in the future nor before the batch's issue date (422)."""
    recorded_at = parse_recorded_at(recorded_at)
    accepted, rejected, unused = int(accepted or 0), int(rejected or 0), int(unused or 0)
    errors = {}
    for name, value in (("accepted", accepted), ("rejected", rejected), ("unused", unused)):
        if value < 0:
            errors[name] = str(_l("Must not be negative."))
    if not errors and accepted + rejected + unused == 0:
        errors["accepted"] = str(_l("Enter at least one piece."))
    today = local_today()
    if work_date is None:
        work_date = recorded_at.astimezone(local_tz()).date() if recorded_at is not None else today
    errors.update(check_work_date(batch, work_date, today))
    if errors:
        raise ValidationError(fields=errors)
    if batch.status != "open":
        raise BatchClosed()
    periods.ensure_open(work_date)
    finished = _apply_counts(batch, accepted, rejected, unused)
    _tally(batch.order_id, work_date, finished)
    row = _insert_return(batch_id=batch.id, worker_id=batch.worker_id, station_id=batch.station_id,
                         order_id=batch.order_id, product_id=batch.product_id, step_id=batch.step_id,
                         piece_rate=batch.piece_rate,
                         accepted=accepted, rejected=rejected, unused=unused, work_date=work_date, corrects_id=None,
                         reason=None, note=note or None, photo_id=getattr(photo, "id", None),
                         recorded_at=recorded_at.astimezone(UTC).replace(tzinfo=None) if recorded_at else None,
                         recorded_by_id=getattr(user, "id", None) if getattr(user, "kind", "") == "staff" else None)
    audit.record("return", "return", row.id, after=audit.snapshot(row, RETURN_FIELDS), user=user)
    return row


def check_work_date(batch: Batch, work_date: date, today: date) -> dict[str, str]:
    """Field errors for a return's work date: not in the future, not before the batch's issue day."""
    if work_date > today:
        return {"work_date": str(_l("The work date cannot be in the future."))}
    if work_date < batch.issued_on:
        return {"work_date": str(_l("The work date cannot be before the batch was issued."))}
    return {}


def record_correction(*, original: Return, accepted: int = 0, rejected: int = 0, unused: int = 0,
                      reason: str, user=None, work_date: date | None = None) -> Return:
    """Correct a recorded return by a new signed row pointing at it (rule 4).

    The correction is dated like the original while that pay period is open. Once it is
    closed, a late correction goes into the open period of today, so a frozen
    payslip never changes; a correction explicitly dated inside a closed period is refused
    (PeriodClosed, 409). The corrected return never goes below zero.
    """
    accepted, rejected, unused = int(accepted or 0), int(rejected or 0), int(unused or 0)
    if not (reason or "").strip():
        raise ValidationError(fields={"reason": str(_l("Say why this is corrected."))})
    if accepted == rejected == unused == 0:
        raise ValidationError(fields={"accepted": str(_l("A correction changes at least one count."))})
    if original.corrects_id is not None:
        raise ValidationError(fields={"corrects": str(_l("Correct the original return, not a correction."))})
    # Two corrections of one return at once: the batch row lock (PostgreSQL; SQLite already
    # holds the write lock) makes the second see the first before it sums what was corrected.
    db.session.execute(select(Batch.id).where(Batch.id == original.batch_id).with_for_update())
    so_far = db.session.execute(
        select(func.coalesce(func.sum(Return.accepted), 0), func.coalesce(func.sum(Return.rejected), 0),
               func.coalesce(func.sum(Return.unused), 0)).where(Return.corrects_id == original.id)
    ).one()
    net = (original.accepted + so_far[0] + accepted, original.rejected + so_far[1] + rejected,
           original.unused + so_far[2] + unused)
    if min(net) < 0:
        raise ConflictError(_l("A correction cannot take a return below zero."), code="over_correction",
                            fields={"accepted": str(_l("The corrected counts would be below zero."))})
    if work_date is None:
        work_date = original.work_date if not periods.is_closed(original.work_date) else local_today()
    # Read again under the lock: a close committed since this request loaded the batch must be
    # seen, or its shortfall would not follow the correction (found by bench.crash).
    batch = db.session.get_one(Batch, original.batch_id, populate_existing=True)
    errors = check_work_date(batch, work_date, local_today())
    if errors:
        raise ValidationError(fields=errors)
    periods.ensure_open(work_date)
    finished = _apply_counts(batch, accepted, rejected, unused, require_open=False)
    _tally(batch.order_id, work_date, finished)
    if batch.status == "closed":
        _settle_shortfall(batch)
    row = _insert_return(batch_id=batch.id, worker_id=batch.worker_id, station_id=batch.station_id,
                         order_id=batch.order_id, product_id=batch.product_id, step_id=batch.step_id,
                         piece_rate=batch.piece_rate,
                         accepted=accepted, rejected=rejected, unused=unused, work_date=work_date,
                         corrects_id=original.id, reason=reason.strip(), note=None, photo_id=None,
                         recorded_by_id=getattr(user, "id", None) if getattr(user, "kind", "") == "staff" else None)
    audit.record("correct", "return", row.id, before=audit.snapshot(original, RETURN_FIELDS),
                 after=audit.snapshot(row, RETURN_FIELDS), user=user)
    return row


def shortfall_preview(batch: Batch) -> tuple[int, Decimal | None]:
    """What closing ``batch`` now records: its shortfall (the pieces still out) and the
    deduction its station's policy makes for them at the batch's material cost, half-up to
    the fen (None: the policy charges nothing). The close page shows it before the close."""
    shortfall = batch.outstanding
    if batch.station.shortfall_policy != "material_cost":
        return shortfall, None
    return shortfall, round_money(Decimal(shortfall) * batch.material_cost)


def _settle_shortfall(batch: Batch) -> None:
    batch.shortfall, deduction = shortfall_preview(batch)
    batch.shortfall_policy = batch.station.shortfall_policy
    batch.shortfall_deduction = deduction or Decimal("0.00")


def close_batch(*, batch: Batch, reason: str | None = None, user=None) -> Batch:
    """Close a batch: what never came back is its shortfall, charged by the station's policy
    in the pay period of the closing day (refused if that period is already closed)."""
    periods.ensure_open(local_today(), field="reason")
    before = audit.snapshot(batch, BATCH_FIELDS)
    closed = rowcount(db.session.execute(
        update(Batch).where(Batch.id == batch.id, Batch.status == "open")
        .values(status="closed").execution_options(synchronize_session=False)
    ))
    if closed != 1:
        raise BatchClosed()
    db.session.refresh(batch)
    batch.closed_at = utcnow()
    batch.closed_on = local_today()
    batch.close_reason = reason or None
    batch.overdue = False
    _settle_shortfall(batch)
    db.session.flush()
    db.session.refresh(batch)
    audit.record("close", "batch", batch.id, before=before, after=audit.snapshot(batch, BATCH_FIELDS), user=user)
    return batch
