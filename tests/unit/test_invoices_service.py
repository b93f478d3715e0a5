"""Invoicing service: lines by rule 1, gapless numbers, nothing twice, void, payments,
the hash chain, statements and margins."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from app.dates import month_bounds
from app.extensions import db
from app.invoices.serializers import statement_json
from app.models import CreditNote, Invoice, NumberCounter, Order, StoredFile, local_today
from app.services import chain, invoicing, production
from app.services.errors import ConflictError, StoredPdfChanged, ValidationError
from tests.invoices_fixtures import accepted_pieces

pytestmark = pytest.mark.calendar  # runs again on the hard days (scripts/test.sh)


def test_invoice_has_one_line_per_order_rounded_half_up_and_total_is_sum_of_lines(app, make):
    client, orders = accepted_pieces(make, orders=((100, "0.0350", 3), (100, "1.2345", 7)))
    invoice = invoicing.issue_invoice(client)
    db.session.commit()
    year = local_today().year
    assert invoice.number == f"{year}-000001"
    assert [(ln.order_id, ln.quantity, ln.amount) for ln in invoice.lines] == [
        (orders[0].id, 3, Decimal("0.11")),  # 0.105 → 0.11 half-up
        (orders[1].id, 7, Decimal("8.64")),  # 8.6415 → 8.64
    ]
    assert invoice.total == Decimal("8.75")
    db.session.expire_all()
    assert [db.session.get(Order, o.id).invoiced for o in orders] == [3, 7]


def test_second_issue_invoices_only_new_pieces_and_nothing_left_is_refused_storing_nothing(app, make):
    client, (order,) = accepted_pieces(make, orders=((100, "0.5000", 10),))
    invoicing.issue_invoice(client)
    db.session.commit()
    with pytest.raises(ConflictError) as exc:
        invoicing.issue_invoice(client)
    assert exc.value.code == "nothing_to_invoice"
    db.session.rollback()
    batch = make.batch(order=db.session.get(Order, order.id), quantity=5)
    make.return_(batch=batch, accepted=5)
    second = invoicing.issue_invoice(db.session.get(type(client), client.id))
    db.session.commit()
    assert second.seq == 2 and [ln.quantity for ln in second.lines] == [5]
    assert db.session.scalar(select(NumberCounter.last).where(NumberCounter.series == "invoice")) == 2


def test_rolled_back_issue_leaves_no_gap(app, make):
    client, _ = accepted_pieces(make)
    invoicing.issue_invoice(client)
    db.session.rollback()
    assert db.session.scalar(select(Invoice.id)) is None
    invoice = invoicing.issue_invoice(db.session.get(type(client), client.id))
    db.session.commit()
    assert invoice.seq == 1


def test_orders_of_another_client_are_refused(app, make):
    client, _ = accepted_pieces(make)
    _other, (foreign,) = accepted_pieces(make)
    with pytest.raises(ValidationError) as exc:
        invoicing.issue_invoice(client, [foreign.id])
    assert "order_ids" in exc.value.fields


def test_void_frees_the_pieces_and_reinvoicing_works(app, make):
    client, (order,) = accepted_pieces(make, orders=((100, "0.6000", 40),))
    invoice = invoicing.issue_invoice(client)
    db.session.commit()
    note = invoicing.void_invoice(invoice, "wrong client address")
    db.session.commit()
    assert note.number == f"CN-{local_today().year}-000001" and note.amount == Decimal("24.00")
    assert db.session.get(Invoice, invoice.id).status == "void"
    assert db.session.scalar(select(Order.invoiced).where(Order.id == order.id)) == 0
    again = invoicing.issue_invoice(client)
    db.session.commit()
    assert again.seq == 2 and again.total == Decimal("24.00")
    with pytest.raises(ConflictError):
        invoicing.void_invoice(db.session.get(Invoice, invoice.id), "twice")


def test_payments_make_the_invoice_paid_only_when_fully_paid_and_overpayment_is_refused(app, make):
    client, _ = accepted_pieces(make, orders=((100, "1.0000", 50),))
    invoice = invoicing.issue_invoice(client)
    db.session.commit()
    today = local_today()
    invoicing.mark_paid(invoice, today, Decimal("20.00"))
    db.session.commit()
    assert invoice.status == "issued" and invoice.paid_amount == Decimal("20.00")
    with pytest.raises(ValidationError):
        invoicing.mark_paid(invoice, today, Decimal("30.01"))
    db.session.rollback()
    invoicing.mark_paid(db.session.get(Invoice, invoice.id), today, Decimal("30.00"))
    db.session.commit()
    invoice = db.session.get(Invoice, invoice.id)
    assert invoice.status == "paid"
    with pytest.raises(ConflictError):
        invoicing.void_invoice(invoice, "too late")


def test_correction_below_invoiced_pieces_is_refused(app, make):
    client, (order,) = accepted_pieces(make, orders=((100, "1.0000", 10),))
    invoicing.issue_invoice(client)
    db.session.commit()
    original = db.session.scalars(select(production.Return).where(production.Return.order_id == order.id)).one()
    with pytest.raises(ConflictError):
        production.record_correction(original=original, accepted=-2, rejected=2, reason="miscounted")


def test_hash_chain_finds_a_row_or_pdf_changed_behind_the_apps_back(app, make):
    for _ in range(3):
        client, _orders = accepted_pieces(make)
        invoicing.issue_invoice(client)
        db.session.commit()
    assert chain.verify_invoices() == []
    second = db.session.scalars(select(Invoice).order_by(Invoice.id).offset(1)).first()
    db.session.execute(update(Invoice).where(Invoice.id == second.id).values(total=Decimal("1.00")))
    db.session.commit()
    problems = chain.verify_invoices()
    assert any(second.number in str(p) for p in problems)
    db.session.execute(update(Invoice).where(Invoice.id == second.id).values(total=sum(ln.amount for ln in second.lines)))
    db.session.execute(update(StoredFile).where(StoredFile.id == second.pdf_id).values(data=b"%PDF-forged"))
    db.session.commit()
    db.session.expire_all()
    assert [(p.entity_id, p.reason) for p in chain.verify_invoices()] == [(second.id, "the stored PDF differs from the one issued")]
    with pytest.raises(StoredPdfChanged):
        invoicing.stored_pdf(db.session.get(Invoice, second.id))


def test_statement_counts_delivered_invoiced_credited_paid_and_balance(app, make):
    client, (order,) = accepted_pieces(make, orders=((500, "0.5000", 100),))
    first = invoicing.issue_invoice(client)
    db.session.commit()
    invoicing.void_invoice(first, "redo")
    second = invoicing.issue_invoice(client)
    invoicing.mark_paid(second, local_today(), Decimal("20.00"))
    db.session.commit()
    today = local_today()
    st = invoicing.monthly_statement(client, month_bounds(today))
    assert st.pieces_delivered == 100 and st.value_delivered == Decimal("50.00")
    assert st.invoiced == Decimal("100.00") and st.credited == Decimal("50.00") and st.paid == Decimal("20.00")
    assert st.pieces_invoiced == 200 and st.pieces_credited == 100
    assert st.opening_balance == Decimal("0.00") and st.closing_balance == Decimal("30.00")
    assert statement_json(st)["balance"] == "30.00"
    last_month = today.replace(day=1) - timedelta(days=1)
    earlier = invoicing.monthly_statement(client, month_bounds(last_month))
    assert earlier.pieces_delivered == 0 and earlier.closing_balance == Decimal("0.00")


def test_margin_is_unit_price_against_piece_rates_on_accepted_pieces(app, make):
    client = make.client()
    product = make.product(client=client, piece_rate="0.3500", unit_price="0.6000")
    order = make.order(product=product, quantity=100)
    make.return_(batch=make.batch(order=order, quantity=30), accepted=30)
    from app.services import catalog

    catalog.update_product(product, piece_rate=Decimal("0.4000"))
    db.session.commit()
    make.return_(batch=make.batch(order=db.session.get(Order, order.id), quantity=10), accepted=10)
    (m,) = invoicing.order_margins(order_ids=[order.id])
    assert m["pieces"] == 40 and m["revenue"] == Decimal("24.00")
    assert m["cost"] == Decimal("10.50") + Decimal("4.00") and m["margin"] == Decimal("9.50")


def test_credit_notes_are_numbered_in_their_own_series(app, make):
    client, _ = accepted_pieces(make, orders=((100, "1.0000", 10), (100, "1.0000", 10)))
    a = invoicing.issue_invoice(client, [_[0].id])
    b = invoicing.issue_invoice(client, [_[1].id])
    db.session.commit()
    invoicing.void_invoice(b, "x")
    invoicing.void_invoice(a, "y")
    db.session.commit()
    assert sorted(c.seq for c in db.session.scalars(select(CreditNote))) == [1, 2]
    assert (a.seq, b.seq) == (1, 2)


def test_verify_invoices_command_reports_a_changed_invoice(app, make):
    client, _ = accepted_pieces(make)
    invoice = invoicing.issue_invoice(client)
    db.session.commit()
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["verify-invoices"])
    assert ok.exit_code == 0 and "intact" in ok.output
    db.session.execute(update(Invoice).where(Invoice.id == invoice.id).values(client_id=make.client().id))
    db.session.commit()
    bad = runner.invoke(args=["verify-invoices"])
    assert bad.exit_code == 1 and invoice.number in bad.output
