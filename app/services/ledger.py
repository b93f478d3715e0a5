"""The ledger's invariants, checked over the whole database: one function, ``check_ledger``,
used by ``flask --app wsgi check-ledger``, the test suite and every proof in ``bench/``.

Each rule reads the database as it is (SQL aggregates, no ORM state) and names every row
that breaks it, so a row changed behind the app's back, a crash that left half a write, or a
bug in a service shows up as a ``Breach`` naming the rule, the table and the row:

- ``batch_counters`` / ``order_counters``: a batch's accepted, rejected and unused are the
  sums of its returns; an order's accepted and rejected are the sums of its returns and its
  ``committed`` is what its batches issued less the unused materials returned (rule 3).
- ``over_return`` / ``over_issue``: no batch holds more back than it issued, no count below
  zero, no order committed past its quantity.
- ``batch_shortfall``: a closed batch's shortfall is what never came back, charged by its
  policy.
- ``return_copy``: a return's worker, station, order, product and rate are its batch's.
- ``day_tallies``: the order's daily tallies equal the accepted pieces of its returns.
- ``return_months``: the monthly rollup holds, for each month and earnings line, what its
  returns accepted (its triggers keep it so; a row changed behind them shows here).
- ``invoiced_once``: an order's invoiced pieces are the lines of its invoices that are not
  void, and never more than it accepted (rule 6).
- ``invoice_numbers`` / ``credit_note_numbers``: per year 1, 2, … without a gap or a repeat,
  the number spelled from its year and seq, and the counter at the last one taken.
- ``invoice_complete``: an invoice has lines and its PDF; a void one has its credit note.
- ``payslip_chain`` / ``invoice_chain``: the hash chains (``chain.verify``).
- ``closed_period``: a closed period's payslips are those its close recorded, and equal what
  its returns, adjustments and shortfalls still give (nothing changed inside it since); an
  open period has none.
- ``audit_trail``: every batch issued and closed, return and correction, period closed and
  invoice issued has its audit event.
- ``constraints`` / ``integrity``: every CHECK and foreign key of the schema holds row by
  row (also where the database was told to skip them); SQLite's ``integrity_check`` is ok;
  PostgreSQL has no constraint left NOT VALID.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import CheckConstraint, func, literal_column, select, text

from app.extensions import db
from app.models import (
    AuditEvent,
    Batch,
    CreditNote,
    Invoice,
    InvoiceLine,
    NumberCounter,
    Order,
    OrderDayTally,
    PayPeriod,
    Payslip,
    Return,
)
from app.money import round_money

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Breach:
    """One row breaking one rule."""

    rule: str
    entity: str
    entity_id: object
    detail: str

    def __str__(self) -> str:
        where = self.entity if self.entity_id is None else f"{self.entity} {self.entity_id}"
        return f"[{self.rule}] {where}: {self.detail}"


def _rows(stmt, params=None):
    return db.session.execute(stmt, params or {}).all()


# --- production counters


def _return_sums(key):
    return (select(key.label("k"), func.coalesce(func.sum(Return.accepted), 0).label("accepted"),
                   func.coalesce(func.sum(Return.rejected), 0).label("rejected"),
                   func.coalesce(func.sum(Return.unused), 0).label("unused"))
            .group_by(key).subquery())


def _breaches(rule: str, entity: str, describe, stmt) -> list[Breach]:
    """One breach of ``rule`` for each row ``stmt`` finds (its first column the row's id)."""
    return [Breach(rule, entity, r[0], describe(r)) for r in _rows(stmt)]


def check_batches() -> list[Breach]:
    out = []
    sums = _return_sums(Return.batch_id)
    acc, rej, unu = (func.coalesce(sums.c[n], 0) for n in ("accepted", "rejected", "unused"))
    out += _breaches("batch_counters", "batch", lambda r: (
        f"{r.code}: counters accepted/rejected/unused {r[2]}/{r[3]}/{r[4]}, its returns sum to {r[5]}/{r[6]}/{r[7]}"),
        select(Batch.id, Batch.code, Batch.accepted, Batch.rejected, Batch.unused, acc, rej, unu)
        .outerjoin(sums, sums.c.k == Batch.id)
        .where((Batch.accepted != acc) | (Batch.rejected != rej) | (Batch.unused != unu)).order_by(Batch.id))
    out += _breaches("over_return", "batch", lambda r: (
        f"{r.code}: {r.accepted}+{r.rejected}+{r.unused} back of {r.quantity} issued"),
        select(Batch.id, Batch.code, Batch.quantity, Batch.accepted, Batch.rejected, Batch.unused)
        .where((Batch.accepted + Batch.rejected + Batch.unused > Batch.quantity) | (Batch.accepted < 0)
               | (Batch.rejected < 0) | (Batch.unused < 0)).order_by(Batch.id))
    for r in _rows(select(Batch.id, Batch.code, Batch.quantity, Batch.accepted, Batch.rejected, Batch.unused,
                          Batch.shortfall, Batch.shortfall_policy, Batch.shortfall_deduction, Batch.material_cost)
                   .where(Batch.status == "closed").order_by(Batch.id)):
        outstanding = r.quantity - r.accepted - r.rejected - r.unused
        if r.shortfall != outstanding:
            out.append(Breach("batch_shortfall", "batch", r.id,
                              f"{r.code}: shortfall {r.shortfall}, but {outstanding} never came back"))
            continue
        expected = (round_money(Decimal(outstanding) * r.material_cost)
                    if r.shortfall_policy == "material_cost" and outstanding > 0 else ZERO)
        if r.shortfall_deduction != expected:
            out.append(Breach("batch_shortfall", "batch", r.id,
                              f"{r.code}: shortfall deduction {r.shortfall_deduction}, policy "
                              f"{r.shortfall_policy} gives {expected}"))
    for r in _rows(select(Return.id, Return.batch_id).join(Batch, Batch.id == Return.batch_id)
                   .where((Return.worker_id != Batch.worker_id) | (Return.station_id != Batch.station_id)
                          | (Return.order_id != Batch.order_id) | (Return.product_id != Batch.product_id)
                          | (Return.piece_rate != Batch.piece_rate)).order_by(Return.id)):
        out.append(Breach("return_copy", "return", r.id,
                          f"its worker, station, order, product or rate differ from batch {r.batch_id}'s"))
    return out


def check_orders() -> list[Breach]:
    out = []
    sums = _return_sums(Return.order_id)
    issued = (select(Batch.order_id.label("k"), func.sum(Batch.quantity).label("quantity"))
              .group_by(Batch.order_id).subquery())
    acc, rej, unu = (func.coalesce(sums.c[n], 0) for n in ("accepted", "rejected", "unused"))
    committed = func.coalesce(issued.c.quantity, 0) - unu
    out += _breaches("order_counters", "order", lambda r: (
        f"{r.number}: accepted/rejected/committed {r.accepted}/{r.rejected}/{r.committed}, "
        f"its returns and batches give {r.r_acc}/{r.r_rej}/{r.r_com}"),
        select(Order.id, Order.number, Order.accepted, Order.rejected, Order.committed,
               acc.label("r_acc"), rej.label("r_rej"), committed.label("r_com"))
        .outerjoin(sums, sums.c.k == Order.id).outerjoin(issued, issued.c.k == Order.id)
        .where((Order.accepted != acc) | (Order.rejected != rej) | (Order.committed != committed)).order_by(Order.id))
    out += _breaches("over_issue", "order", lambda r: f"{r.number}: {r.committed} committed of {r.quantity} ordered",
                     select(Order.id, Order.number, Order.committed, Order.quantity)
                     .where((Order.committed > Order.quantity) | (Order.committed < 0)).order_by(Order.id))
    return out


def check_day_tallies() -> list[Breach]:
    sums = (select(Return.order_id, Return.work_date, func.sum(Return.accepted).label("accepted"))
            .group_by(Return.order_id, Return.work_date))
    by_day = {(r.order_id, r.work_date): int(r.accepted) for r in _rows(sums)}
    tallies = {(r.order_id, r.work_date): r.accepted
               for r in _rows(select(OrderDayTally.order_id, OrderDayTally.work_date, OrderDayTally.accepted))}
    out = []
    for key in sorted(set(by_day) | set(tallies)):
        want, have = by_day.get(key, 0), tallies.get(key, 0)
        if want != have:
            out.append(Breach("day_tallies", "order", key[0],
                              f"tally of {key[1].isoformat()} is {have}, its returns accepted {want}"))
    return out


def check_return_months() -> list[Breach]:
    from app.models.guards import ROLLUP_KEY, ROLLUP_MONTH

    # Plain SQL on both sides, so each month and rate reads back in the same raw form.
    month = ROLLUP_MONTH[db.session.get_bind().dialect.name].format(day="work_date")
    returns = text(f"SELECT {month}, worker_id, product_id, COALESCE(step_id, 0), piece_rate, SUM(accepted) "
                   f"FROM returns GROUP BY {month}, worker_id, product_id, COALESCE(step_id, 0), piece_rate")
    want = {tuple(r[:5]): int(r[5]) for r in _rows(returns)}
    have = {tuple(r[:5]): int(r[5]) for r in _rows(text(f"SELECT {ROLLUP_KEY}, pieces FROM return_months"))}
    out = []
    for key in sorted(set(want) | set(have), key=str):
        if want.get(key, 0) != have.get(key, 0):
            month_first, worker_id, product_id, step_id, rate = key
            out.append(Breach("return_months", "worker", worker_id,
                              f"{str(month_first)[:7]}, product {product_id}, step {step_id}, scaled rate {rate}: "
                              f"the rollup holds {have.get(key, 0)} pieces, its returns accepted {want.get(key, 0)}"))
    return out


# --- invoices


def check_invoicing() -> list[Breach]:
    out = []
    lines = (select(InvoiceLine.order_id.label("k"), func.sum(InvoiceLine.quantity).label("quantity"))
             .join(Invoice, Invoice.id == InvoiceLine.invoice_id).where(Invoice.status != "void")
             .group_by(InvoiceLine.order_id).subquery())
    billed = func.coalesce(lines.c.quantity, 0)
    for r in _rows(select(Order.id, Order.number, Order.invoiced, Order.accepted, billed.label("billed"))
                   .outerjoin(lines, lines.c.k == Order.id)
                   .where((Order.invoiced != billed) | (Order.invoiced > Order.accepted)).order_by(Order.id)):
        out.append(Breach("invoiced_once", "order", r.id,
                          f"{r.number}: invoiced {r.invoiced} of {r.accepted} accepted, invoice lines not void "
                          f"hold {r.billed}"))
    out += _check_series("invoice_numbers", "invoice", Invoice, "invoice", "{year}-{seq:06d}")
    out += _check_series("credit_note_numbers", "credit_note", CreditNote, "credit_note", "CN-{year}-{seq:06d}")
    line_counts = dict(_rows(select(InvoiceLine.invoice_id, func.count()).group_by(InvoiceLine.invoice_id)))
    notes = dict(_rows(select(CreditNote.invoice_id, CreditNote.number)))
    for r in _rows(select(Invoice.id, Invoice.number, Invoice.status, Invoice.pdf_id).order_by(Invoice.id)):
        if not line_counts.get(r.id):
            out.append(Breach("invoice_complete", "invoice", r.id, f"{r.number} has no lines"))
        if r.pdf_id is None:
            out.append(Breach("invoice_complete", "invoice", r.id, f"{r.number} has no stored PDF"))
        if (r.status == "void") != (r.id in notes):
            out.append(Breach("invoice_complete", "invoice", r.id,
                              f"{r.number} is {r.status} with {'credit note ' + notes[r.id] if r.id in notes else 'no credit note'}"))
    return out


def _check_series(rule: str, entity: str, model, series: str, spelling: str) -> list[Breach]:
    out = []
    by_year = defaultdict(list)
    for r in _rows(select(model.id, model.year, model.seq, model.number).order_by(model.year, model.seq, model.id)):
        by_year[r.year].append(r)
        if r.number != spelling.format(year=r.year, seq=r.seq):
            out.append(Breach(rule, entity, r.id, f"number {r.number} is not year {r.year}, seq {r.seq}"))
    counters = dict(_rows(select(NumberCounter.year, NumberCounter.last).where(NumberCounter.series == series)))
    for year in sorted(set(by_year) | set(counters)):
        rows = by_year.get(year, [])
        seqs = [r.seq for r in rows]
        seen = set()
        for r in rows:
            if r.seq in seen:
                out.append(Breach(rule, entity, r.id, f"{year}: seq {r.seq} taken twice"))
            seen.add(r.seq)
        missing = sorted(set(range(1, max(seqs, default=0) + 1)) - seen)
        if missing:
            shown = ", ".join(str(s) for s in missing[:10]) + (" …" if len(missing) > 10 else "")
            out.append(Breach(rule, entity, None, f"{year}: numbers missing from the series: {shown}"))
        last = counters.get(year, 0)
        if last != max(seqs, default=0):
            out.append(Breach(rule, entity, None,
                              f"{year}: the counter is at {last}, the last {entity.replace('_', ' ')} is "
                              f"{max(seqs, default=0)}"))
    return out


# --- the hash chains and the closed periods


def check_chains() -> list[Breach]:
    from app.services import chain

    return [Breach(f"{p.chain}_chain", p.entity, p.entity_id, f"{p.where}: {p.reason}") for p in chain.verify()]


def check_periods() -> list[Breach]:
    """A closed period's payslips are what its close recorded and what its records still give."""
    from app.services.wages import compute_statements

    out = []
    slips: defaultdict[int, dict] = defaultdict(dict)
    for r in _rows(select(Payslip.pay_period_id, Payslip.worker_id, Payslip.id, Payslip.pieces, Payslip.gross,
                          Payslip.adjustments, Payslip.deductions, Payslip.net)):
        slips[r.pay_period_id][r.worker_id] = r
    closes = {}
    for r in _rows(select(AuditEvent.entity_id, AuditEvent.after)
                   .where(AuditEvent.entity == "pay_period", AuditEvent.action == "close").order_by(AuditEvent.id)):
        closes[r.entity_id] = r.after or {}  # the last close counts (a period can be reopened)
    for period in db.session.scalars(select(PayPeriod).order_by(PayPeriod.start)):
        label = f"{period.start.isoformat()}–{period.end.isoformat()}"
        held = slips.get(period.id, {})
        if period.status != "closed":
            if held:
                out.append(Breach("closed_period", "pay_period", period.id,
                                  f"{label} is open but holds {len(held)} payslip(s) (half a close)"))
            continue
        recorded = closes.get(period.id)
        if recorded is None:
            out.append(Breach("closed_period", "pay_period", period.id, f"{label} is closed without its close event"))
        else:
            total = sum((r.net for r in held.values()), ZERO)
            if int(recorded.get("payslips", -1)) != len(held) or Decimal(str(recorded.get("total", "NaN"))) != total:
                out.append(Breach("closed_period", "pay_period", period.id,
                                  f"{label}: closed with {recorded.get('payslips')} payslip(s) totalling "
                                  f"{recorded.get('total')}, now {len(held)} totalling {total}"))
        now = {st.worker_id: st for st in compute_statements(period)}
        for worker_id in sorted(set(now) | set(held)):
            st, slip = now.get(worker_id), held.get(worker_id)
            if slip is None:
                assert st is not None  # in one of the two, and not in held
                out.append(Breach("closed_period", "pay_period", period.id,
                                  f"{label}: worker {worker_id} now earns {st.net} in it but has no payslip"))
                continue
            figures = (slip.pieces, slip.gross, slip.adjustments, slip.deductions, slip.net)
            expected = (st.pieces, st.gross, st.adjustments, st.deductions, st.net) if st else (0, ZERO, ZERO, ZERO, ZERO)
            if tuple(figures) != tuple(expected):
                out.append(Breach("closed_period", "payslip", slip.id,
                                  f"{label}, worker {worker_id}: frozen pieces/gross/adjustments/deductions/net "
                                  f"{'/'.join(map(str, figures))}, its records now give {'/'.join(map(str, expected))}"))
    return out


# --- the audit trail


def check_audit() -> list[Breach]:
    out = []

    def missing(entity, id_col, where, actions, label_col=None):
        events = (select(AuditEvent.entity_id).where(AuditEvent.entity == entity, AuditEvent.action.in_(actions))
                  .scalar_subquery())
        cols = [id_col] + ([label_col] if label_col is not None else [])
        stmt = select(*cols).where(id_col.not_in(events))
        if where is not None:
            stmt = stmt.where(where)
        for r in _rows(stmt.order_by(id_col)):
            name = f"{r[1]} " if label_col is not None else ""
            out.append(Breach("audit_trail", entity, r[0],
                              f"{name}has no '{'/'.join(actions)}' audit event"))

    missing("batch", Batch.id, None, ["issue"], Batch.code)
    missing("batch", Batch.id, Batch.status == "closed", ["close"], Batch.code)
    missing("return", Return.id, None, ["return", "correct"])
    missing("pay_period", PayPeriod.id, PayPeriod.status == "closed", ["close"])
    missing("invoice", Invoice.id, None, ["issue"], Invoice.number)
    missing("invoice", Invoice.id, Invoice.status == "void", ["void"], Invoice.number)
    return out


# --- the database's own guarantees


def check_constraints() -> list[Breach]:
    """Every CHECK and foreign key of the schema, re-evaluated row by row on either database
    (SQLite can be told ``foreign_keys=OFF``, PostgreSQL ``session_replication_role``)."""
    out = []
    for table in db.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        for constraint in table.constraints:
            if not isinstance(constraint, CheckConstraint):
                continue
            stmt = select(*pk).select_from(table).where(~literal_column(f"({constraint.sqltext})")).limit(50)
            for r in _rows(stmt):
                out.append(Breach("constraints", table.name, r[0] if len(r) == 1 else tuple(r),
                                  f"breaks CHECK {constraint.name or ''} ({constraint.sqltext})"))
        for fk in table.foreign_keys:
            parent = fk.column.table.alias("parent")
            child_col = fk.parent
            stmt = (select(*pk, child_col).select_from(
                table.outerjoin(parent, parent.c[fk.column.name] == child_col))
                .where(child_col.is_not(None), parent.c[fk.column.name].is_(None)).limit(50))
            for r in _rows(stmt):
                key = r[0] if len(pk) == 1 else tuple(r[:len(pk)])
                out.append(Breach("constraints", table.name, key,
                                  f"{child_col.name}={r[-1]} points at no {fk.column.table.name} row"))
    return out


def check_integrity() -> list[Breach]:
    out = []
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite":
        for (message,) in db.session.execute(text("PRAGMA integrity_check")).all():
            if message != "ok":
                out.append(Breach("integrity", "database", None, f"SQLite integrity_check: {message}"))
    elif dialect == "postgresql":
        for r in db.session.execute(text(
                "SELECT conrelid::regclass::text AS tbl, conname FROM pg_constraint "
                "WHERE NOT convalidated AND connamespace = current_schema()::regnamespace ORDER BY 1, 2")):
            out.append(Breach("integrity", r.tbl, None, f"constraint {r.conname} is NOT VALID (never checked)"))
    return out


RULES = (check_batches, check_orders, check_day_tallies, check_return_months, check_invoicing, check_chains,
         check_periods, check_audit, check_constraints, check_integrity)


def check_ledger() -> list[Breach]:
    """Every invariant of the ledger over the whole database; an empty list when all hold.

    Reads only (the caller's session, no flush of its own), so it can run on a live
    database, a restored copy, or inside a test after corrupting a row.
    """
    breaches: list[Breach] = []
    for rule in RULES:
        breaches.extend(rule())
    return breaches


__all__ = ["Breach", "check_ledger", "RULES"]
