"""Every page that records something goes through one path (app/submission.py): a form sent
twice records once, and its key sent again with another body is refused (rule 8)."""
from datetime import timedelta

from sqlalchemy import func, select

from app.dates import month_bounds
from app.models import InsurancePolicy, PayPeriod
from tests.helpers import form_values


def _count(model) -> int:
    from app.extensions import db

    return db.session.scalar(select(func.count(model.id)))


def test_a_pay_period_key_sent_again_with_other_dates_is_refused_and_stores_nothing(client, login_as, clock):
    login_as("admin")
    page = client.get("/pay-periods").get_data(as_text=True)
    values = form_values(page[page.index('action="/pay-periods"'):])
    start, end = month_bounds(clock.today.replace(day=1) - timedelta(days=400))
    first = client.post("/pay-periods", data={**values, "start": start.isoformat(), "end": end.isoformat()})
    assert first.status_code == 303
    assert client.post("/pay-periods", data={**values, "start": start.isoformat(), "end": end.isoformat()}).status_code == 303
    later_start, later_end = month_bounds(end + timedelta(days=1))
    other = client.post("/pay-periods", data={**values, "start": later_start.isoformat(), "end": later_end.isoformat()})
    assert other.status_code == 409
    assert _count(PayPeriod) == 1


def test_an_insurance_key_sent_again_with_another_policy_is_refused_and_stores_nothing(client, login_as, clock):
    today = clock.today
    login_as("admin")
    values = form_values(client.get("/reports/insurance").get_data(as_text=True))
    data = {**values, "insurer": "中国人保", "policy_number": "PICC-1", "start": today.replace(day=1).isoformat(),
            "end": (today + timedelta(days=365)).isoformat(), "premium_per_person_month": "6.50"}
    assert client.post("/reports/insurance", data=data).status_code == 303
    other = client.post("/reports/insurance", data={**data, "policy_number": "PICC-2"})
    assert other.status_code == 409
    assert _count(InsurancePolicy) == 1
