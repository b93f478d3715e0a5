"""Pay periods, adjustments, shortfall deductions and frozen pay statements (rules 1, 5, 9).

- Periods never overlap: checked here, and on PostgreSQL also by an exclusion constraint,
  so two admins creating overlapping periods at once cannot both succeed.
- Closing a period computes every worker's statement from the SQL earnings aggregate
  (services.earnings), the period's adjustments and the shortfall deductions of batches
  closed inside it; writes them in bulk; chains their hashes; and marks the period closed,
  all in the caller's one transaction. Afterwards nothing dated inside it can change.
- The chain: each payslip is chained after the last one, with a global, increasing ``seq``
  (services.chain holds the hashes and their check).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import BindParameter

from app.dates import month_bounds
from app.extensions import db
from app.models import (
    Adjustment,
    AuditEvent,
    Batch,
    PayPeriod,
    PayPeriodReopening,
    Payslip,
    PayslipLine,
    Product,
    StatementsPdf,
    Worker,
    local_today,
    utcnow,
)
from app.models.guards import lock_workers_in_order
from app.money import round_money
from app.paging import Page, page_of, paged
from app.services import audit, chain
from app.services.earnings import earnings_lines, line_descriptions, step_names
from app.services.errors import ConflictError, ValidationError

ZERO = Decimal("0.00")
RATE_Q = Decimal("0.0001")


class PeriodOverlap(ConflictError):
    code = "overlapping_period"

    def default_message(self):
        return _l("This pay period overlaps another one.")


class PeriodAlreadyClosed(ConflictError):
    code = "period_closed"

    def default_message(self):
        return _l("This pay period is closed; nothing in it can change.")


class PeriodNotEnded(ConflictError):
    code = "period_not_ended"

    def default_message(self):
        return _l("This pay period has not ended; closing it early needs an explicit confirmation.")


class PeriodCannotReopen(ConflictError):
    code = "period_cannot_reopen"

    def default_message(self):
        return _l("This pay period cannot be reopened.")


# --- periods


def overlapping_period(start: date, end: date) -> PayPeriod | None:
    return db.session.scalar(select(PayPeriod).where(PayPeriod.start <= end, PayPeriod.end >= start)
                             .order_by(PayPeriod.start).limit(1))


def create_pay_period(start: date | None = None, end: date | None = None, user=None) -> PayPeriod:
    """A new open period; by default the calendar month of ``start`` (or of today).

    Refused with 422 when it ends before it starts, 409 (``overlapping_period``) when it
    overlaps any other period — also when a concurrent request created that one (PostgreSQL's
    exclusion constraint, or the unique start date).
    """
    if start is None and end is None:
        start, end = month_bounds(local_today())
    elif end is None:
        assert start is not None  # both None is the branch above
        start, end = month_bounds(start)
    elif start is None:
        start = month_bounds(end)[0]
    if end < start:
        raise ValidationError(fields={"end": str(_l("The end cannot be before the start."))})
    if (end - start).days > 366:
        raise ValidationError(fields={"end": str(_l("A pay period is at most a year long."))})
    other = overlapping_period(start, end)
    if other is not None:
        raise PeriodOverlap(fields={"start": str(_l("Overlaps the period %(start)s – %(end)s.",
                                                    start=other.start.isoformat(), end=other.end.isoformat()))})
    period = PayPeriod(start=start, end=end, status="open")
    try:
        with db.session.begin_nested():
            db.session.add(period)
    except IntegrityError:
        raise PeriodOverlap() from None
    audit.record("create", "pay_period", period.id, after={"start": start, "end": end}, user=user)
    return period


def _lock_period(period_id: int, share: bool = False) -> PayPeriod | None:
    """Read the period again under a row lock (PostgreSQL), so closing it waits for, and is
    seen by, concurrent adjustments and returns."""
    stmt = select(PayPeriod).where(PayPeriod.id == period_id).execution_options(populate_existing=True)
    return db.session.scalar(stmt.with_for_update(read=share))


# --- adjustments


def add_adjustment(*, worker: Worker, period: PayPeriod, amount: Decimal | None, reason: str, user=None) -> Adjustment:
    """A bonus (positive) or deduction (negative) for ``worker`` in an open ``period``.

    422 for a zero amount, more than two decimals or no reason; 409 when the period is closed.
    """
    reason = (reason or "").strip()
    errors = {}
    if amount is None or Decimal(amount) == 0:
        errors["amount"] = str(_l("Enter an amount other than zero."))
    elif Decimal(amount) != round_money(Decimal(amount)):
        errors["amount"] = str(_l("Enter an amount with at most %(n)s decimal places.", n=2))
    elif abs(Decimal(amount)) >= Decimal("1000000"):
        errors["amount"] = str(_l("This amount is too large."))
    if not reason:
        errors["reason"] = str(_l("Say why."))
    if errors or amount is None:
        raise ValidationError(fields=errors)
    locked = _lock_period(period.id, share=True)
    if locked is None or locked.status != "open":
        raise PeriodAlreadyClosed(fields={"pay_period_id": str(PeriodAlreadyClosed().message)})
    adjustment = Adjustment(worker_id=worker.id, pay_period_id=period.id, amount=round_money(Decimal(amount)),
                            reason=reason[:200], created_by=audit.actor_of(user)[1] or audit.actor_of(user)[0])
    db.session.add(adjustment)
    db.session.flush()
    audit.record("create", "adjustment", adjustment.id,
                 after={"worker_id": worker.id, "pay_period_id": period.id, "amount": adjustment.amount,
                        "reason": adjustment.reason}, user=user)
    return adjustment


# --- what a period holds (open: a preview; closing: the frozen statement)


@dataclass
class StatementLine:
    kind: str  # piece | adjustment | shortfall
    description: str
    amount: Decimal
    product_id: int | None = None
    piece_rate: Decimal | None = None
    pieces: int | None = None


@dataclass
class Statement:
    worker_id: int
    station_id: int
    worker_name: str
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def pieces(self) -> int:
        return sum(line.pieces or 0 for line in self.lines if line.kind == "piece")

    @property
    def gross(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.kind == "piece"), ZERO)

    @property
    def adjustments(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.kind == "adjustment"), ZERO)

    @property
    def deductions(self) -> Decimal:
        """Shortfall deductions, as a positive amount."""
        return -sum((line.amount for line in self.lines if line.kind == "shortfall"), ZERO)

    @property
    def net(self) -> Decimal:
        return self.gross + self.adjustments - self.deductions


def shortfall_rows(start: date, end: date, worker_ids=None, station_id: int | None = None):
    """Batches closed in [start, end] whose shortfall the station's policy charges."""
    stmt = (select(Batch.worker_id, Batch.code, Batch.shortfall, Batch.shortfall_deduction, Product.name.label("product"),
                   Batch.product_id, Batch.step_id)
            .join(Product, Product.id == Batch.product_id)
            .where(Batch.closed_on >= start, Batch.closed_on <= end, Batch.shortfall_deduction > 0)
            .order_by(Batch.worker_id, Batch.closed_on, Batch.id))
    if worker_ids is not None:
        stmt = stmt.where(Batch.worker_id.in_(list(worker_ids)))
    if station_id is not None:
        stmt = stmt.where(Batch.station_id == station_id)
    return db.session.execute(stmt).all()


def compute_statements(period: PayPeriod, worker_ids=None, station_id: int | None = None) -> list[Statement]:
    """Every worker's statement for ``period`` as it stands now, in a fixed number of queries
    whatever the number of workers: piece lines (rule 1, from the SQL aggregate), then
    adjustments, then shortfall deductions. Workers with nothing at all get no statement."""
    start, end = period.start, period.end
    piece_lines = earnings_lines(start, end, worker_ids=worker_ids, station_id=station_id)
    adj_stmt = (select(Adjustment.worker_id, Adjustment.amount, Adjustment.reason)
                .where(Adjustment.pay_period_id == period.id).order_by(Adjustment.worker_id, Adjustment.id))
    if worker_ids is not None:
        adj_stmt = adj_stmt.where(Adjustment.worker_id.in_(list(worker_ids)))
    adjustments = db.session.execute(adj_stmt).all()
    shortfalls = shortfall_rows(start, end, worker_ids=worker_ids, station_id=station_id)

    ids = {line.worker_id for line in piece_lines} | {a.worker_id for a in adjustments} | {s.worker_id for s in shortfalls}
    if not ids:
        return []
    w_stmt = select(Worker.id, Worker.station_id, Worker.name).where(Worker.id.in_(ids))
    if station_id is not None:
        w_stmt = w_stmt.where(Worker.station_id == station_id)
    workers = {row.id: row for row in db.session.execute(w_stmt)}
    descriptions = line_descriptions(piece_lines)
    step_seq = {sid: seq for sid, (_name, seq) in step_names({line.step_id for line in piece_lines}).items()}

    statements: dict[int, Statement] = {}

    def statement_of(worker_id: int) -> Statement | None:
        row = workers.get(worker_id)
        if row is None:
            return None
        if worker_id not in statements:
            statements[worker_id] = Statement(worker_id, row.station_id, row.name)
        return statements[worker_id]

    for line in sorted(piece_lines, key=lambda x: (x.worker_id, x.product_id, step_seq[x.step_id] if x.step_id in step_seq else 0, x.piece_rate)):
        st = statement_of(line.worker_id)
        if st is not None:
            st.lines.append(StatementLine("piece", descriptions[(line.product_id, line.step_id)][:200], line.amount,
                                          line.product_id, line.piece_rate.quantize(RATE_Q), line.pieces))
    for adj in adjustments:
        st = statement_of(adj.worker_id)
        if st is not None:
            st.lines.append(StatementLine("adjustment", adj.reason, adj.amount))
    shortfall_products = line_descriptions(shortfalls) if shortfalls else {}
    for sf in shortfalls:
        st = statement_of(sf.worker_id)
        if st is not None:  # per step: the batch's step is named when its product has several
            desc = str(_l("Lost materials: batch %(code)s, %(product)s", code=sf.code,
                          product=shortfall_products[(sf.product_id, sf.step_id)]))
            st.lines.append(StatementLine("shortfall", desc[:200], -sf.shortfall_deduction, pieces=sf.shortfall))
    return [statements[k] for k in sorted(statements)]


# --- closing


def bulk_insert(table, rows: list[dict]) -> None:
    """Insert many rows of ``table`` in one go: COPY on PostgreSQL, executemany elsewhere.

    Values pass through each column's own type (Money → scaled integers), as an INSERT would;
    columns left out take their Python defaults.
    """
    if not rows:
        return
    bind = db.session.connection()
    if bind.dialect.name != "postgresql":
        db.session.execute(insert(table), rows)
        return
    columns = [c for c in table.columns if c.name in rows[0] or (c.default is not None and not c.primary_key)]
    converters = []
    for column in columns:
        process = column.type.bind_processor(bind.dialect)
        default = column.default.arg if column.default is not None and column.name not in rows[0] else None
        converters.append((column.name, process, default))
    dbapi = bind.connection.dbapi_connection
    assert dbapi is not None  # the session's connection is open: it just ran the lock
    cursor = dbapi.cursor()
    names = ", ".join(f'"{c.name}"' for c in columns)
    with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            values = []
            for name, process, default in converters:
                value = row[name] if default is None else (default(None) if callable(default) else default)
                values.append(process(value) if process is not None else value)
            copy.write_row(values)
    cursor.close()


@dataclass(frozen=True)
class CloseResult:
    period: PayPeriod
    payslips: int
    total: Decimal


def days_left(period: PayPeriod, today: date | None = None) -> int:
    """The period's days from today to its end, both included (0 once it has ended)."""
    today = today or local_today()
    return (period.end - today).days + 1 if period.end >= today else 0


def close_pay_period(period: PayPeriod, user=None, early: bool = False) -> CloseResult:
    """Freeze every worker's statement for ``period`` and close it (rule 5).

    Payslips and their lines are written in bulk and chained after the last payslip; the
    period turns closed in the same transaction, so either all of it happens or none.
    409 when the period is already closed, and 409 ``period_not_ended`` when its last day is
    today or later unless ``early`` says the caller confirmed closing it early. Returns,
    corrections and adjustments dated inside it are refused from then on
    (services.periods.ensure_open).
    """
    locked = _lock_period(period.id)
    if locked is None or locked.status != "open":
        raise PeriodAlreadyClosed()
    left = days_left(locked)
    if left and not early:
        raise PeriodNotEnded(_l("This pay period runs until %(end)s: %(n)s days are left, today included. "
                                "Closing it now refuses every return dated in them; confirm closing it early.",
                                end=locked.end.isoformat(), n=left))
    chain.lock_payslip_chain()
    statements = compute_statements(locked)
    # Each statement's trigger touches its worker at commit: take those rows now, in id order.
    lock_workers_in_order(db.session, [st.worker_id for st in statements])
    seq, prev = chain.payslip_head()
    now = utcnow()
    slip_rows, line_sets = [], []
    for st in statements:
        seq += 1
        lines = [{"kind": ln.kind, "product_id": ln.product_id, "description": ln.description[:200],
                  "piece_rate": ln.piece_rate, "pieces": ln.pieces, "amount": ln.amount} for ln in st.lines]
        values: dict[str, Any] = {"seq": seq, "pay_period_id": locked.id, "worker_id": st.worker_id, "station_id": st.station_id,
                  "worker_name": st.worker_name, "pieces": st.pieces, "gross": st.gross,
                  "adjustments": st.adjustments, "deductions": st.deductions, "net": st.net}
        digest = chain.payslip_hash(prev, lines=lines, **values)
        slip_rows.append({**values, "prev_hash": prev, "hash": digest, "created_at": now})
        line_sets.append(lines)
        prev = digest
    if slip_rows:
        # One bulk write (no RETURNING), then one query maps each seq to the id it was given.
        bulk_insert(Payslip.__table__, slip_rows)
        ids: dict[int, int] = {seq: pid for seq, pid in db.session.execute(
            select(Payslip.seq, Payslip.id).where(Payslip.pay_period_id == locked.id))}
        line_rows = [{**line, "payslip_id": ids[row["seq"]]} for row, lines in zip(slip_rows, line_sets, strict=True)
                     for line in lines]
        if line_rows:
            bulk_insert(PayslipLine.__table__, line_rows)
    total = sum((st.net for st in statements), ZERO)
    db.session.execute(update(PayPeriod).where(PayPeriod.id == locked.id).values(
        status="closed", closed_at=now, closed_by=audit.actor_of(user)[1] or audit.actor_of(user)[0])
        .execution_options(synchronize_session=False))
    db.session.flush()
    db.session.refresh(locked)
    after = {"status": "closed", "payslips": len(slip_rows), "total": total, "last_hash": prev if slip_rows else None}
    if left:
        after.update(early=True, days_left=left)
    audit.record("close", "pay_period", locked.id, before={"status": "open"}, after=after, user=user)
    return CloseResult(locked, len(slip_rows), total)


# --- reopening a period closed too soon


@lru_cache(maxsize=1)
def _reopen_facts_stmt():
    # One statement for the five facts, built once: the period's page asks them on every visit
    # (building it cost more than running it). The payslips' two read ix_payslips_period_list.
    period_id: BindParameter[int] = bindparam("period_id", type_=Integer)
    of_period = Payslip.pay_period_id == period_id
    return select(
        select(func.count(Payslip.id)).where(of_period, Payslip.pdf_id.is_not(None)).scalar_subquery(),
        select(func.count(StatementsPdf.id)).where(StatementsPdf.pay_period_id == period_id).scalar_subquery(),
        select(func.count(AuditEvent.id)).where(AuditEvent.entity == "pay_period", AuditEvent.entity_id == period_id,
                                                AuditEvent.action == "export").scalar_subquery(),
        select(func.max(Payslip.seq)).where(of_period).scalar_subquery(),
        select(func.max(Payslip.seq)).scalar_subquery())


def reopen_blockers(period: PayPeriod) -> list[str]:
    """Why ``period`` may not be reopened; empty when it may.

    A closed period may be reopened only while nobody can have relied on its statements:
    none printed (no statement PDF stored), the payroll never exported for payment, and no
    later statement chained after its own.
    """
    if period.status != "closed":
        return [str(_l("The period is open."))]
    printed, bulk, exported, own_last, chain_last = db.session.execute(_reopen_facts_stmt(),
                                                                       {"period_id": period.id}).one()
    reasons = []
    if printed or bulk:
        reasons.append(str(_l("Its pay statements have been printed or downloaded.")))
    if exported:
        reasons.append(str(_l("Its payroll has been exported for payment.")))
    if own_last is not None and chain_last != own_last:
        reasons.append(str(_l("Statements of a later close are chained after its own.")))
    return reasons


def reopen_pay_period(period: PayPeriod, reason: str, user=None) -> PayPeriodReopening:
    """Open a closed ``period`` again (admins, after an early close by mistake).

    Refused (409 ``period_cannot_reopen``) for the reasons of ``reopen_blockers``; 422 without
    a reason. Its statements are removed from the end of the chain, and a reopening record is
    chained in their place: it names the hash it removed, and the next statement links to it,
    so ``chain.verify`` still proves every row and shows where statements were withdrawn.
    Audited like the close.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(fields={"reason": str(_l("Say why the period is reopened."))})
    locked = _lock_period(period.id)
    chain.lock_payslip_chain()
    blockers = reopen_blockers(locked) if locked is not None else ["?"]
    if blockers:
        raise PeriodCannotReopen(_l("This pay period cannot be reopened: %(why)s", why=" ".join(blockers)))
    assert locked is not None  # no period: a blocker above
    old_seq, removed_hash = chain.payslip_head()
    slips = db.session.execute(select(Payslip.id, Payslip.seq, Payslip.net, Payslip.worker_id)
                               .where(Payslip.pay_period_id == locked.id)).all()
    lock_workers_in_order(db.session, [s.worker_id for s in slips])
    ids = [s.id for s in slips]
    if ids:
        db.session.execute(delete(PayslipLine).where(PayslipLine.payslip_id.in_(ids)))
        db.session.execute(delete(Payslip).where(Payslip.id.in_(ids)))
    db.session.flush()
    base_seq, prev = chain.payslip_head()
    now = utcnow().replace(microsecond=0)
    who = audit.actor_of(user)[1] or audit.actor_of(user)[0]
    total = sum((s.net for s in slips), ZERO)
    values: dict[str, Any] = {"pay_period_id": locked.id, "base_seq": base_seq, "removed_from": min((s.seq for s in slips), default=0),
              "removed_to": max((s.seq for s in slips), default=0), "payslips": len(slips), "total": total,
              "reason": reason[:200], "reopened_by": who, "reopened_at": now}
    record = PayPeriodReopening(**values, prev_hash=prev, removed_hash=removed_hash,
                                hash=chain.reopening_hash(prev_hash=prev, removed_hash=removed_hash, **values))
    db.session.add(record)
    db.session.execute(update(PayPeriod).where(PayPeriod.id == locked.id).values(status="open", closed_at=None,
                                                                                 closed_by=None)
                       .execution_options(synchronize_session=False))
    db.session.flush()
    db.session.refresh(locked)
    audit.record("reopen", "pay_period", locked.id, before={"status": "closed", "payslips": len(slips), "total": total,
                                                           "last_hash": removed_hash if old_seq else None},
                 after={"status": "open", "reason": reason, "chain_hash": record.hash}, user=user)
    return record


# --- reading


def _payslip_rows(period: PayPeriod, station_id: int | None):
    # The columns shown, not whole statements: the district's period is some 2,000 rows.
    stmt = (select(Payslip.worker_id, Payslip.worker_name, Payslip.station_id, Payslip.id.label("payslip_id"),
                   Payslip.pieces, Payslip.gross, Payslip.adjustments, Payslip.deductions, Payslip.net)
            .where(Payslip.pay_period_id == period.id).order_by(Payslip.station_id, Payslip.worker_name, Payslip.id))
    if station_id is not None:
        stmt = stmt.where(Payslip.station_id == station_id)
    return stmt


def period_totals(period: PayPeriod, station_id: int | None = None) -> list[dict]:
    """The overview of a period: one row per worker (pieces, gross, adjustments, deductions,
    net) — from the frozen payslips when closed, computed live while open."""
    if period.status == "closed":
        return [row._asdict() for row in db.session.execute(_payslip_rows(period, station_id))]
    rows = [{"worker_id": st.worker_id, "worker_name": st.worker_name, "station_id": st.station_id, "payslip_id": None,
             "pieces": st.pieces, "gross": st.gross, "adjustments": st.adjustments, "deductions": st.deductions,
             "net": st.net} for st in compute_statements(period, station_id=station_id)]
    return sorted(rows, key=lambda r: (r["station_id"], r["worker_name"], r["worker_id"]))


def sum_rows(rows: list[dict]) -> dict:
    return {"workers": len(rows), "pieces": sum(r["pieces"] for r in rows),
            "gross": sum((r["gross"] for r in rows), ZERO), "adjustments": sum((r["adjustments"] for r in rows), ZERO),
            "deductions": sum((r["deductions"] for r in rows), ZERO), "net": sum((r["net"] for r in rows), ZERO)}


@lru_cache(maxsize=4)
def _closed_page_stmts(one_station: bool):
    # The period's page asks both on every visit: built once (building them cost about as much
    # as running them). Both read ix_payslips_period_list alone, the page in its order.
    of_period = [Payslip.pay_period_id == bindparam("period_id")]
    if one_station:
        of_period.append(Payslip.station_id == bindparam("station_id"))
    sums = select(func.count(Payslip.id), func.sum(Payslip.pieces), func.sum(Payslip.gross),
                  func.sum(Payslip.adjustments), func.sum(Payslip.deductions), func.sum(Payslip.net)).where(*of_period)
    rows = (select(Payslip.worker_id, Payslip.worker_name, Payslip.station_id, Payslip.id.label("payslip_id"),
                   Payslip.pieces, Payslip.gross, Payslip.adjustments, Payslip.deductions, Payslip.net)
            .where(*of_period).order_by(Payslip.station_id, Payslip.worker_name, Payslip.id)
            .limit(bindparam("limit")).offset(bindparam("offset")))
    return sums, rows


def period_page(period: PayPeriod, page: int, per_page: int, station_id: int | None = None,
                worker_ids=None) -> tuple[Page, dict]:
    """One page of the period's overview (``period_totals``' rows, in the same order) and the
    totals of the whole period (of the station, when given), never of the page's rows.

    ``worker_ids``: a statement selecting the ids of the workers to list (a search); the
    totals stay the period's. Closed: the totals (their count is the list's, unless searched)
    and the page are two SQL statements over the frozen payslips, a search's count a third.
    Open: the totals are the sum of every worker's statement as computed (rule 1 rounds each
    worker's lines), so all are computed and the page is a slice of them."""
    if period.status == "closed":
        sums, rows = _closed_page_stmts(station_id is not None)
        params = {"period_id": period.id, "station_id": station_id}
        workers, pieces, gross, adjustments, deductions, net = db.session.execute(sums, params).one()
        totals = {"workers": workers, "pieces": int(pieces or 0), "gross": gross or ZERO,
                  "adjustments": adjustments or ZERO, "deductions": deductions or ZERO, "net": net or ZERO}
        if worker_ids is not None:
            found = _payslip_rows(period, station_id).where(Payslip.worker_id.in_(worker_ids))
            return paged(found, page, per_page, scalars=False), totals
        page = max(page, 1)
        items = db.session.execute(rows, {**params, "limit": per_page, "offset": (page - 1) * per_page}).all()
        return Page(list(items), workers, page, per_page), totals
    rows = period_totals(period, station_id)
    totals = sum_rows(rows)
    if worker_ids is not None:
        listed = set(db.session.scalars(worker_ids))
        rows = [r for r in rows if r["worker_id"] in listed]
    return page_of(rows, page, per_page), totals


EARLY_IN_MONTH_DAYS = 7  # the phone shows last month's total beside this month's until the 7th


def worker_phone_summary(worker_id: int, today: date) -> dict:
    """Today, this month so far and the last 30 days of one worker, from one query.

    Today's and the month's figures are documents by rule 1 (pieces summed per product and
    rate, rounded once per line); each day of the chart is rounded as its own document.
    """
    from app.money import line_amount
    from app.services.earnings import lines_from_day_rows, worker_day_lines

    month_start = today.replace(day=1)
    chart_start = today - timedelta(days=29)
    # Early in a month (the 1st: the month is one day old) the phone also says what last month
    # came to, from the same query.
    previous_start = (month_start - timedelta(days=1)).replace(day=1)
    rows = worker_day_lines(worker_id, min(previous_start, chart_start), today)
    today_lines = lines_from_day_rows(worker_id, rows, today, today)
    month_lines = lines_from_day_rows(worker_id, rows, month_start, today)
    previous_lines = lines_from_day_rows(worker_id, rows, previous_start, month_start - timedelta(days=1))
    by_day: dict[date, Decimal] = defaultdict(lambda: ZERO)
    for day, _product_id, rate, pieces, _step_id in rows:  # one (day, product, step, rate) row: a line of that day
        by_day[day] += line_amount(pieces, rate)
    days = [(chart_start + timedelta(days=i), by_day[chart_start + timedelta(days=i)]) for i in range(30)]
    return {"today": today, "today_amount": sum((line.amount for line in today_lines), ZERO),
            "today_pieces": sum(line.pieces for line in today_lines),
            "month_amount": sum((line.amount for line in month_lines), ZERO),
            "month_pieces": sum(line.pieces for line in month_lines), "days": days,
            "previous_month": previous_start, "show_previous_month": today.day <= EARLY_IN_MONTH_DAYS,
            "previous_month_amount": sum((line.amount for line in previous_lines), ZERO)}


# --- what a worker sees of her own returns


def worker_returns_query(worker_id, batch_id=None):
    """The worker's returns, newest first: (return, product name, batch code) rows — every
    return with what was accepted and rejected, the supervisor's note (why pieces were
    rejected) and whether there is a photo. Corrections are rows of their own."""
    from app.models import Return

    stmt = (select(Return, Product.name, Batch.code)
            .join(Product, Product.id == Return.product_id).join(Batch, Batch.id == Return.batch_id)
            .where(Return.worker_id == worker_id)
            .order_by(Return.work_date.desc(), Return.id.desc()))
    if batch_id is not None:
        stmt = stmt.where(Return.batch_id == batch_id)
    return stmt


def worker_returns(worker_id: int, batch_id: int | None = None, limit: int = 50, offset: int = 0):
    """``limit`` rows of ``worker_returns_query`` from ``offset``. The page's returns are picked
    from the worker's index first and only they are joined to their product and batch: SQLite
    joined every return of the worker before sorting (600 on the bench's data)."""
    params = {"worker_id": worker_id, "limit": limit, "offset": offset}
    if batch_id is not None:
        params["batch_id"] = batch_id
    return db.session.execute(_worker_returns_stmt(batch_id is not None), params).all()


@lru_cache(maxsize=2)
def _worker_returns_stmt(of_one_batch: bool):
    # The phone's home and its returns and batch pages ask this on every visit: built once (built
    # per call, the statement and SQLAlchemy's key for its compiled cache cost ~0.5 ms).
    from app.models import Return

    page = select(Return.id).where(Return.worker_id == bindparam("worker_id"))
    if of_one_batch:
        page = page.where(Return.batch_id == bindparam("batch_id"))
    page = (page.order_by(Return.work_date.desc(), Return.id.desc())
            .limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer)))
    batch_id: BindParameter | None = bindparam("batch_id") if of_one_batch else None
    return worker_returns_query(bindparam("worker_id"), batch_id).where(Return.id.in_(page.scalar_subquery()))


def open_statement_preview(worker_id: int, today: date | None = None):
    """The statement the worker's open period would give today (pieces, bonuses and
    deductions, lost materials, net), so the phone can say why "this month" and the statement
    differ; None when no open period covers today."""
    from app.services.periods import period_covering

    period = period_covering(today or local_today())
    if period is None or period.status != "open":
        return None
    found = compute_statements(period, worker_ids=[worker_id])
    return (period, found[0]) if found else (period, None)


def payroll_exported_on(period_id: int):
    """When the period's payroll was first exported for payment (the bank file), or None."""
    return db.session.scalar(select(func.min(AuditEvent.at)).where(
        AuditEvent.entity == "pay_period", AuditEvent.entity_id == period_id, AuditEvent.action == "export"))
