"""The hash chains keep proving rows hashed before they shared one module: the hashes below
were computed by the payslip and invoice code as it stood before (wages.payslip_hash,
wages.reopening_hash, invoicing.invoice_hash), for rows with these very values."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import text, update

from app import files
from app.extensions import db
from app.models import Invoice, InvoiceLine, PayPeriod, PayPeriodReopening, Payslip, PayslipLine, StoredFile
from app.services import chain, ledger

SLIP_1 = "e0a58c5d72b420ed95b9b50ac777a0fc8ebb7ecb8c3116a229797b1d6b070a85"
SLIP_2 = "e04d4d05715f8f898eeb9d289d917504072743962f6a14fa88bb1a721c9200f3"
SLIP_3_WITHDRAWN = "6cb0bc41c6bf1f73f008595076e36f21a5f5e3dfa26d38c58b47f6b5bf07f1a9"
REOPENING = "800a4a2984f57fc6462350e94b5b9b9db9558ae55d95a0a04c67657a72d99b55"
SLIP_3 = "249c07b58fa4f1d6c9f84573a33060e41f2fd8e2960ec61572c0c2b90942cfc7"
INVOICE_1 = "0ca8509194796304d3b96b5581ccf41156eed9b93c81d6a4c063f5166af961db"
INVOICE_2 = "1c033cdfcfccf1768cb1f6e705c5c727a08b7dbced3fc3ca7ca4130f433145bf"

FULL_MONTH = [("piece", 1, "礼盒折叠 @ ¥0.0350", Decimal("0.0350"), 1234, Decimal("43.19")),
              ("adjustment", None, "全勤奖", None, None, Decimal("20.00"))]
WITH_SHORTFALL = [("piece", 1, "礼盒折叠 @ ¥0.0350", Decimal("0.0350"), 100, Decimal("3.50")),
                  ("shortfall", 1, "丢失材料：批次 B-1", None, 3, Decimal("-0.15"))]
REOPENED_AT = datetime(2026, 3, 2, 1, 2, 3)


def _lines(rows):
    return [{"kind": k, "product_id": p, "description": d, "piece_rate": r, "pieces": n, "amount": a}
            for k, p, d, r, n, a in rows]


def _slip_values(seq, period_id, rows, worker_id=1, name="王秀英"):
    lines = _lines(rows)
    gross = sum((ln["amount"] for ln in lines if ln["kind"] == "piece"), Decimal("0.00"))
    adjustments = sum((ln["amount"] for ln in lines if ln["kind"] == "adjustment"), Decimal("0.00"))
    deductions = -sum((ln["amount"] for ln in lines if ln["kind"] == "shortfall"), Decimal("0.00"))
    return {"seq": seq, "pay_period_id": period_id, "worker_id": worker_id, "station_id": 1, "worker_name": name,
            "pieces": sum(ln["pieces"] for ln in lines if ln["kind"] == "piece"), "gross": gross,
            "adjustments": adjustments, "deductions": deductions, "net": gross + adjustments - deductions}, lines


def _reopening_values():
    return {"pay_period_id": 2, "base_seq": 2, "removed_from": 3, "removed_to": 3, "payslips": 1,
            "total": Decimal("63.19"), "reason": "提前结算错了", "reopened_by": "admin", "reopened_at": REOPENED_AT}


def test_the_chain_module_computes_the_hashes_the_old_code_stored():
    v1, l1 = _slip_values(1, 1, FULL_MONTH)
    v2, l2 = _slip_values(2, 1, WITH_SHORTFALL, 2, "李桂兰")
    v3, l3 = _slip_values(3, 2, FULL_MONTH)
    v3b, l3b = _slip_values(3, 2, WITH_SHORTFALL)
    assert chain.payslip_hash(chain.GENESIS, lines=l1, **v1) == SLIP_1
    assert chain.payslip_hash(SLIP_1, lines=l2, **v2) == SLIP_2
    assert chain.payslip_hash(SLIP_2, lines=l3, **v3) == SLIP_3_WITHDRAWN
    assert chain.reopening_hash(prev_hash=SLIP_2, removed_hash=SLIP_3_WITHDRAWN, **_reopening_values()) == REOPENING
    assert chain.payslip_hash(REOPENING, lines=l3b, **v3b) == SLIP_3


def _old_chain(make):
    """Rows as the old code wrote them: two closes, the second reopened and closed again, and
    two invoices; every hash literal, none computed here."""
    station = make.station()
    workers = [make.worker(station=station, name=name) for name in ("王秀英", "李桂兰")]
    product = make.product(name="黑枸杞礼盒")
    order = make.order(station=station, product=product)
    assert (station.id, [w.id for w in workers], product.id, product.client_id, order.id) == (1, [1, 2], 1, 1, 1)
    db.session.add_all([PayPeriod(id=1, start=date(2026, 1, 1), end=date(2026, 1, 31), status="closed"),
                        PayPeriod(id=2, start=date(2026, 2, 1), end=date(2026, 2, 28), status="closed")])
    db.session.flush()
    for slip_id, (seq, period_id, rows, who, prev, digest) in enumerate(
            [(1, 1, FULL_MONTH, (1, "王秀英"), chain.GENESIS, SLIP_1),
             (2, 1, WITH_SHORTFALL, (2, "李桂兰"), SLIP_1, SLIP_2),
             (3, 2, WITH_SHORTFALL, (1, "王秀英"), REOPENING, SLIP_3)], start=1):
        values, lines = _slip_values(seq, period_id, rows, *who)
        db.session.add(Payslip(id=slip_id, prev_hash=prev, hash=digest, **values))
        db.session.flush()
        db.session.add_all([PayslipLine(payslip_id=slip_id, **ln) for ln in lines])
    db.session.add(PayPeriodReopening(id=1, prev_hash=SLIP_2, removed_hash=SLIP_3_WITHDRAWN, hash=REOPENING,
                                      **_reopening_values()))
    pdfs = [StoredFile(id=i, filename=f"invoice-2026-00000{i}.pdf", content_type="application/pdf", size=len(data),
                       sha256=files.digest(data), data=data)
            for i, data in ((1, b"%PDF-1.7 golden one"), (2, b"%PDF-1.7 golden two"))]
    db.session.add_all(pdfs)
    db.session.flush()
    for inv_id, prev, digest, lines in ((1, chain.GENESIS, INVOICE_1, [(1, 1234, "74.04"), (2, 5, "0.30")]),
                                        (2, INVOICE_1, INVOICE_2, [(3, 100, "6.00")])):
        db.session.add(Invoice(id=inv_id, number=f"2026-00000{inv_id}", year=2026, seq=inv_id, client_id=1,
                               issue_date=date(2026, 3, 31), total=sum((Decimal(a) for _, _, a in lines), Decimal("0.00")),
                               status="issued", paid_amount=Decimal("0.00"), pdf_id=inv_id, pdf_sha256=pdfs[inv_id - 1].sha256,
                               prev_hash=prev, hash=digest))
        db.session.flush()
        db.session.add_all([InvoiceLine(id=line_id, invoice_id=inv_id, order_id=1, product_name="黑枸杞礼盒",
                                        quantity=q, unit_price=Decimal("0.0600"), amount=Decimal(a)) for line_id, q, a in lines])
    db.session.commit()


def test_a_chain_stored_by_the_old_code_still_verifies(app, make):
    _old_chain(make)
    assert chain.verify() == []
    assert ledger.check_chains() == []


def test_one_problem_type_names_the_changed_row_of_either_chain(app, make):
    _old_chain(make)
    db.session.execute(text("UPDATE payslips SET worker_name = '李桂' WHERE id = 2"))
    db.session.execute(update(Invoice).where(Invoice.id == 1).values(issue_date=date(2026, 3, 30)))
    db.session.commit()
    found = {(p.chain, p.entity, p.entity_id, p.reason) for p in chain.verify()}
    assert found == {
        ("payslip", "payslip", 2, "hash does not match its fields and lines (changed behind the app's back)"),
        ("invoice", "invoice", 1, "hash does not match its fields and lines (changed behind the app's back)"),
    }
    assert {(b.rule, b.entity, b.entity_id) for b in ledger.check_chains()} == {
        ("payslip_chain", "payslip", 2), ("invoice_chain", "invoice", 1)}
