"""Rule 6 under concurrency: 20 issuers at once, each in its own thread, app context, session
and database connection (SQLite or PostgreSQL, as TEST_DATABASE says)."""
import threading

from sqlalchemy import func, select

from app.db_tx import writing
from app.extensions import db
from app.models import Client, Invoice, InvoiceLine, Order, local_today
from app.services import chain, invoicing
from app.services.errors import ConflictError
from tests.invoices_fixtures import accepted_pieces


def test_twenty_concurrent_issuers_get_unique_gapless_numbers_and_no_piece_is_invoiced_twice(app, make):
    clients = []
    for _ in range(10):
        client, _orders = accepted_pieces(make, orders=((200, "0.5000", 30), (200, "0.7500", 20)))
        clients.append(client.id)
    db.session.commit()
    barrier = threading.Barrier(20)
    outcomes, errors = [], []

    def issuer(client_id):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                with writing():
                    try:
                        invoice = invoicing.issue_invoice(db.session.get(Client, client_id))
                        number = invoice.number
                        db.session.commit()
                        outcomes.append(number)
                    except ConflictError as exc:
                        db.session.rollback()
                        outcomes.append(exc.code)
            except Exception as exc:  # noqa: BLE001 - reported in the test's thread
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issuer, args=(cid,)) for cid in clients * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    year = local_today().year
    numbers = sorted(o for o in outcomes if o != "nothing_to_invoice")
    assert numbers == [f"{year}-{n:06d}" for n in range(1, 11)]  # unique and gapless
    assert outcomes.count("nothing_to_invoice") == 10
    db.session.expire_all()
    per_order = dict(db.session.execute(select(InvoiceLine.order_id, func.sum(InvoiceLine.quantity))
                                        .group_by(InvoiceLine.order_id)).all())
    for order in db.session.scalars(select(Order)):
        assert per_order[order.id] == order.accepted == order.invoiced  # every piece exactly once
    assert db.session.scalar(select(func.count(Invoice.id))) == 10
    assert chain.verify_invoices() == []


def test_concurrent_voids_of_one_invoice_issue_one_credit_note_and_free_the_pieces_once(app, make):
    from app.models import CreditNote

    client, (order,) = accepted_pieces(make, orders=((200, "0.5000", 30),))
    invoice_id = invoicing.issue_invoice(client).id
    db.session.commit()
    barrier = threading.Barrier(6)
    outcomes, errors = [], []

    def voider():
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                with writing():
                    try:
                        note = invoicing.void_invoice(db.session.get(Invoice, invoice_id), "重复作废测试")
                        number = note.number
                        db.session.commit()
                        outcomes.append(number)
                    except ConflictError as exc:
                        db.session.rollback()
                        outcomes.append(exc.code)
            except Exception as exc:  # noqa: BLE001 - reported in the test's thread
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=voider) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sorted(outcomes) == [f"CN-{local_today().year}-000001"] + ["already_void"] * 5
    db.session.expire_all()
    assert db.session.scalar(select(func.count(CreditNote.id))) == 1
    assert db.session.get(Order, order.id).invoiced == 0
