"""The hash chains of closed pay statements and issued invoices (rule 9).

Two chains, one mechanism: every chained row stores ``prev_hash`` (the hash of the row before
it, ``GENESIS`` for the first) and ``hash``, the SHA-256 (hex) of its canonical text, which
starts from ``prev_hash``. Amounts are written as ``money.api_amount`` (``12.30``), rates as
``money.api_rate`` (``0.0350``), text as UTF-8.

- **Payslips** form one global chain in ``seq`` order. A reopened period withdraws its
  statements from the end of the chain and a ``PayPeriodReopening`` record takes their place
  (its hash names the hash it removed), so the chain still proves every row.
- **Invoices** form one chain in id order; an invoice's text covers its PDF's SHA-256, and
  ``verify`` also hashes the stored bytes themselves.

The canonical texts are frozen: changing either layout would change every stored hash. The
payslip layout joins its fields with the unit separator (U+001F); the invoice layout, older,
is sorted JSON. ``verify`` walks both and answers one list of ``ChainProblem``.

Functions here flush nothing and commit nothing; ``lock_payslip_chain`` and ``payslip_head``
are for the services that append (wages.close_pay_period, wages.reopen_pay_period).
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import selectinload

from app import files
from app.extensions import db
from app.models import Invoice, PayPeriodReopening, Payslip, PayslipLine, StoredFile
from app.money import api_amount, api_rate

GENESIS = "0" * 64
SEPARATOR = "\x1f"
# Taken by every transaction that appends to the payslip chain (PostgreSQL); SQLite's write
# lock already serialises writers. Invoices queue on their number counter row instead.
PAYSLIP_CHAIN_LOCK_KEY = 4_410_001
ZERO = Decimal("0.00")


def digest(canonical: str) -> str:
    """The one hash of the chains: SHA-256 of the canonical text's UTF-8, in hex."""
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    """One row of a chain that does not prove itself: ``chain`` is ``payslip`` or ``invoice``,
    ``entity``/``entity_id`` the row (``pay_period_reopening`` for a reopening record), ``where``
    how a person finds it (seq, worker and period; the invoice number), ``reason`` what is wrong."""

    chain: str
    entity: str
    entity_id: int | None
    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.entity.replace('_', ' ')} {self.entity_id} ({self.where}): {self.reason}"


# --- the canonical texts


def _amount(value) -> str:
    return api_amount(value) or ""  # an amount is never None here; a rate may be


def payslip_hash(prev_hash: str, *, seq: int, pay_period_id: int, worker_id: int, station_id: int,
                 worker_name: str, pieces: int, gross, adjustments, deductions, net, lines) -> str:
    """A payslip's hash: the previous hash, its key fields and its lines, in order."""
    parts = [prev_hash, str(seq), str(pay_period_id), str(worker_id), str(station_id), worker_name, str(pieces),
             _amount(gross), _amount(adjustments), _amount(deductions), _amount(net)]
    for line in lines:
        parts.append("|".join((line["kind"], str(line["product_id"] or ""), line["description"],
                               api_rate(line["piece_rate"]) or "",
                               "" if line["pieces"] is None else str(line["pieces"]), _amount(line["amount"]))))
    return digest(SEPARATOR.join(parts))


def reopening_hash(*, prev_hash: str, removed_hash: str, pay_period_id: int, base_seq: int, removed_from: int,
                   removed_to: int, payslips: int, total, reason: str, reopened_by: str, reopened_at) -> str:
    """A reopening record's hash: the hash it follows, the hash it withdrew and what it withdrew."""
    parts = ["reopen", prev_hash, removed_hash, str(pay_period_id), str(base_seq), str(removed_from), str(removed_to),
             str(payslips), _amount(total), reason, reopened_by, reopened_at.replace(microsecond=0).isoformat()]
    return digest(SEPARATOR.join(parts))


def invoice_hash(invoice: Any, lines: Iterable[Any]) -> str:
    """An invoice's hash: the previous hash and its key fields (not its status or payments,
    which change lawfully), its lines and its PDF's hash."""
    payload = {
        "prev": invoice.prev_hash, "number": invoice.number, "year": invoice.year, "seq": invoice.seq,
        "client_id": invoice.client_id, "issue_date": invoice.issue_date.isoformat(),
        "total": api_amount(invoice.total), "pdf_sha256": invoice.pdf_sha256,
        "lines": [[ln.order_id, ln.product_name, ln.quantity, api_rate(ln.unit_price), api_amount(ln.amount)]
                  for ln in sorted(lines, key=lambda ln: ln.id)],
    }
    if getattr(invoice, "billed_up_to", None) is not None:  # the period it bills, kept since; older ones hash as before
        payload["period"] = [invoice.billed_up_to.isoformat(), _day(invoice.period_start), _day(invoice.period_end)]
    return digest(json.dumps(payload, sort_keys=True, ensure_ascii=False))


def _day(value) -> str | None:
    return value.isoformat() if value else None


# --- appending


def lock_payslip_chain() -> None:
    """Serialise appenders of the payslip chain for the rest of the transaction."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PAYSLIP_CHAIN_LOCK_KEY})


def payslip_head() -> tuple[int, str]:
    """(last seq, last hash) of the payslip chain; (0, GENESIS) when empty. A reopening
    chained after the last statement is the head."""
    row = db.session.execute(select(Payslip.seq, Payslip.hash).order_by(Payslip.seq.desc()).limit(1)).first()
    seq, head = (row.seq, row.hash) if row else (0, GENESIS)
    reopened = db.session.scalar(select(PayPeriodReopening.hash).where(PayPeriodReopening.base_seq == seq)
                                 .order_by(PayPeriodReopening.id.desc()).limit(1))
    return seq, reopened or head


def invoice_head(before_id: int) -> str:
    """The hash an invoice with id ``before_id`` links to: the last one issued before it."""
    last = db.session.scalar(select(Invoice.hash).where(Invoice.id < before_id).order_by(Invoice.id.desc()).limit(1))
    return last or GENESIS


# --- checking


PAYSLIP_COLUMNS = (Payslip.id, Payslip.seq, Payslip.prev_hash, Payslip.hash, Payslip.pay_period_id, Payslip.worker_id,
                   Payslip.station_id, Payslip.worker_name, Payslip.pieces, Payslip.gross, Payslip.adjustments,
                   Payslip.deductions, Payslip.net)
LINE_COLUMNS = (PayslipLine.payslip_id, PayslipLine.kind, PayslipLine.product_id, PayslipLine.description,
                PayslipLine.piece_rate, PayslipLine.pieces, PayslipLine.amount)


def verify(batch_size: int = 5000) -> list[ChainProblem]:
    """Every problem of both chains: the payslips' (with their reopenings), then the invoices'.
    Empty when every row still proves itself."""
    return verify_payslips(batch_size) + verify_invoices()


def verify_payslips(batch_size: int = 5000) -> list[ChainProblem]:
    """Recompute every payslip's hash from its stored fields and lines, in seq order.

    One problem per fault: a field or line changed, a row removed from the middle (broken
    link), seq out of order, a net that is not the sum of its lines, a reopening record
    changed. Reads ``batch_size`` payslips at a time.
    """
    problems: list[ChainProblem] = []
    reopenings = defaultdict(list)
    for r in db.session.scalars(select(PayPeriodReopening).order_by(PayPeriodReopening.id)):
        reopenings[r.base_seq].append(r)

    def through_reopenings(prev: str, seq: int) -> str:
        """The chain's hash after the reopenings chained at ``seq`` (checked one by one)."""
        for r in reopenings.get(seq, []):
            expected = reopening_hash(prev_hash=r.prev_hash, removed_hash=r.removed_hash, pay_period_id=r.pay_period_id,
                                      base_seq=r.base_seq, removed_from=r.removed_from, removed_to=r.removed_to,
                                      payslips=r.payslips, total=r.total, reason=r.reason, reopened_by=r.reopened_by,
                                      reopened_at=r.reopened_at)
            if r.prev_hash != prev or expected != r.hash:
                problems.append(ChainProblem("payslip", "pay_period_reopening", r.id,
                                             f"after seq {seq}, pay period {r.pay_period_id}",
                                             "the reopening does not match the chain (changed behind the app's back)"))
            prev = r.hash
        return prev

    prev = through_reopenings(GENESIS, 0)
    last_seq = 0
    while True:
        slips = db.session.execute(select(*PAYSLIP_COLUMNS).where(Payslip.seq > last_seq).order_by(Payslip.seq)
                                   .limit(batch_size)).all()
        if not slips:
            break
        lines_by = defaultdict(list)
        for line in db.session.execute(select(*LINE_COLUMNS).where(PayslipLine.payslip_id.in_([s.id for s in slips]))
                                       .order_by(PayslipLine.payslip_id, PayslipLine.id)):
            lines_by[line.payslip_id].append({"kind": line.kind, "product_id": line.product_id,
                                              "description": line.description, "piece_rate": line.piece_rate,
                                              "pieces": line.pieces, "amount": line.amount})
        for slip in slips:
            lines = lines_by.get(slip.id, [])
            expected = payslip_hash(slip.prev_hash, seq=slip.seq, pay_period_id=slip.pay_period_id,
                                    worker_id=slip.worker_id, station_id=slip.station_id,
                                    worker_name=slip.worker_name, pieces=slip.pieces, gross=slip.gross,
                                    adjustments=slip.adjustments, deductions=slip.deductions or ZERO,
                                    net=slip.net, lines=lines)
            where = f"seq {slip.seq}, worker {slip.worker_id}, pay period {slip.pay_period_id}"
            problems += [ChainProblem("payslip", "payslip", slip.id, where, reason) for reason in _faults(
                linked=slip.prev_hash == prev, hashed=expected == slip.hash,
                summed=sum((ln["amount"] for ln in lines), ZERO) == slip.net, total="net")]
            prev, last_seq = through_reopenings(slip.hash, slip.seq), slip.seq
    return problems


def verify_invoices() -> list[ChainProblem]:
    """Recompute every invoice's hash in id order and hash its stored PDF's bytes (not the
    file's sha256 column, which could be edited too)."""
    problems: list[ChainProblem] = []
    prev = GENESIS
    invoices = db.session.scalars(select(Invoice).options(selectinload(Invoice.lines)).order_by(Invoice.id)).all()
    pdf_hashes = _stored_hashes([i.pdf_id for i in invoices if i.pdf_id])
    for inv in invoices:
        faults = _faults(linked=inv.prev_hash == prev, hashed=invoice_hash(inv, inv.lines) == inv.hash,
                         summed=sum((ln.amount for ln in inv.lines), ZERO) == inv.total, total="total")
        if inv.pdf_id is None or pdf_hashes.get(inv.pdf_id) != inv.pdf_sha256:
            faults.append("the stored PDF differs from the one issued")
        problems += [ChainProblem("invoice", "invoice", inv.id, f"number {inv.number}", reason) for reason in faults]
        prev = inv.hash
    return problems


def _faults(*, linked: bool, hashed: bool, summed: bool, total: str) -> list[str]:
    """What is wrong with one chained row, in the words of ``ChainProblem.reason``."""
    faults = []
    if not linked:
        faults.append("prev_hash does not match the previous row's hash (a row removed or changed)")
    if not hashed:
        faults.append("hash does not match its fields and lines (changed behind the app's back)")
    if not summed:
        faults.append(f"{total} is not the sum of its lines")
    return faults


def _stored_hashes(file_ids: Sequence[int], chunk: int = 100) -> dict[int, str]:
    hashes = {}
    for start in range(0, len(file_ids), chunk):
        for file_id, data in db.session.execute(
                select(StoredFile.id, StoredFile.data).where(StoredFile.id.in_(file_ids[start:start + chunk]))):
            hashes[file_id] = files.digest(data)
    return hashes
