"""A small ledger that touches every rule the checker knows: batches open and closed (with a
charged shortfall), returns and a correction, a pay period closed, reopened and closed again
with payslips and an adjustment, invoices issued and voided
(with a credit note). Every invariant holds."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from app.dates import month_bounds
from app.extensions import db
from app.services import invoicing, production, wages
from tests.wages_fixtures import close, issue_on, period_for, previous_month, return_on


def build_ledger_world(make) -> dict:
    station = make.station(shortfall_policy="material_cost")
    client = make.client()
    product = make.product(client=client)
    order = make.order(station=station, product=product, quantity=500)
    other_order = make.order(station=station, product=make.product(client=client), quantity=200)
    ann, bo = make.worker(station=station), make.worker(station=station)

    start, end = previous_month()
    closed_period = period_for(start, end)
    last_month = issue_on(make, order, ann, 60, start)
    return_on(last_month, start + timedelta(days=1), accepted=30, rejected=2)
    return_on(last_month, end, accepted=10, unused=5)
    wages.add_adjustment(worker=ann, period=closed_period, amount=Decimal("12.50"), reason="全勤")
    db.session.commit()
    close(closed_period)
    wages.reopen_pay_period(closed_period, "太早了")  # closed, reopened, closed again: still one ledger
    db.session.commit()
    close(closed_period)

    open_period = period_for(*month_bounds(end + timedelta(days=1)))
    batch = make.batch(order=order, worker=bo, quantity=80)
    first = make.return_(batch=batch, accepted=20, rejected=1)
    production.record_correction(original=first, accepted=-2, reason="点错了")
    db.session.commit()
    short = make.batch(order=other_order, worker=bo, quantity=30)
    make.return_(batch=short, accepted=25)
    production.close_batch(batch=short, reason="done")
    db.session.commit()

    issued = invoicing.issue_invoice(client)
    db.session.commit()
    invoicing.void_invoice(issued, "开错了")
    db.session.commit()
    again = invoicing.issue_invoice(client)
    db.session.commit()
    extra = make.return_(batch=batch, accepted=7)
    db.session.expire_all()
    return {"station": station.id, "order": order.id, "other_order": other_order.id, "batch": batch.id,
            "closed_batch": short.id, "last_month_batch": last_month.id, "return": first.id, "late_return": extra.id,
            "closed_period": closed_period.id, "open_period": open_period.id, "void_invoice": issued.id,
            "invoice": again.id, "workers": (ann.id, bo.id), "year": again.year}
