"""Helpers for the wages tests: production in a past month, a closed period, bearer clients."""
from __future__ import annotations

from datetime import date, timedelta

from app.dates import month_bounds
from app.extensions import db
from app.models import local_today
from app.services import production, wages


def previous_month() -> tuple[date, date]:
    first_this = local_today().replace(day=1)
    return month_bounds(first_this - timedelta(days=1))


def issue_on(make, order, worker, quantity, day: date):
    batch = production.issue_batch(order=order, worker=worker, quantity=quantity, issued_on=day,
                                   due_date=day + timedelta(days=7))
    db.session.commit()
    return batch


def return_on(batch, day: date, accepted=0, rejected=0, unused=0):
    row = production.record_return(batch=batch, accepted=accepted, rejected=rejected, unused=unused, work_date=day)
    db.session.commit()
    return row


def period_for(start: date, end: date):
    period = wages.create_pay_period(start, end)
    db.session.commit()
    return period


def close(period):
    result = wages.close_pay_period(period)
    db.session.commit()
    return result
