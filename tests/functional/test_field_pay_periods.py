"""Closing the current pay period early needs an explicit confirmation; a refused return says
who can help; an admin may reopen a period nobody has printed or exported, chained and audited."""
import pytest
from sqlalchemy import func, select

from app.dates import month_bounds
from app.extensions import db
from app.models import AuditEvent, PayPeriod, PayPeriodReopening, Payslip, local_today
from app.services import chain, wages
from tests.helpers import form_values
from tests.wages_fixtures import issue_on, period_for, return_on

pytestmark = pytest.mark.calendar  # runs again on the hard days (scripts/test.sh)


def _this_month(make):
    start, end = month_bounds(local_today())
    station = make.station()
    order = make.order(station=station, product=make.product(piece_rate="0.0350"), quantity=5000)
    worker = make.worker(station=station, name="高秀英")
    batch = issue_on(make, order, worker, 100, local_today())
    return_on(batch, local_today(), accepted=30, rejected=3)
    return {"period": period_for(start, end), "batch": batch, "station": station, "end": end}


def _payslips():
    return db.session.scalar(select(func.count(Payslip.id)))


def test_api_refuses_to_close_a_period_not_ended_without_early_and_stores_nothing(api, make):
    month = _this_month(make)
    admin = api(role="admin")
    url = f"/pay-periods/{month['period'].id}/close"
    refused = admin.post(url, json={})
    assert refused.status_code == 409 and refused.json["error"]["code"] == "period_not_ended"
    left = (month["end"] - local_today()).days + 1
    assert f"{left}" in refused.json["error"]["message"]
    assert _payslips() == 0 and db.session.get(PayPeriod, month["period"].id).status == "open"
    assert admin.post(url, json={"early": "yes"}).status_code == 409  # only a real true
    done = admin.post(url, json={"early": True})
    assert done.status_code == 200 and done.json["status"] == "closed" and done.json["payslips"] == 1
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity == "pay_period", AuditEvent.action == "close"))
    assert event.after["early"] is True and event.after["days_left"] == left


def test_close_page_names_the_days_left_and_needs_the_box_ticked(client, login_as, make):
    month = _this_month(make)
    login_as("admin")
    url = f"/pay-periods/{month['period'].id}/close"
    left = (month["end"] - local_today()).days + 1
    page = client.get(url).get_data(as_text=True)
    assert f"还剩 {left} 天" in page and 'name="early"' in page
    values = form_values(page)
    refused = client.post(url, data=values)
    assert refused.status_code == 422 and _payslips() == 0
    assert client.post(url, data={**values, "early": "y"}).status_code == 303
    assert _payslips() == 1


def test_a_return_in_a_closed_period_says_who_can_reopen_it(api, make):
    month = _this_month(make)
    wages.close_pay_period(month["period"], early=True)
    db.session.commit()
    sup = api(role="supervisor", station=month["station"])
    resp = sup.post(f"/batches/{month['batch'].id}/returns", json={"accepted": 1, "rejected": 0})
    assert resp.status_code == 409 and resp.json["error"]["code"] == "period_closed"
    assert "运营企业管理员" in resp.json["error"]["message"] and "重新打开" in resp.json["error"]["message"]


def test_admin_reopens_an_unprinted_period_chained_and_audited_and_can_close_it_again(client, login_as, make, api):
    month = _this_month(make)
    period_id = month["period"].id
    wages.close_pay_period(month["period"], early=True)
    db.session.commit()
    login_as("admin")
    page = client.get(f"/pay-periods/{period_id}").get_data(as_text=True)
    assert f'action="/pay-periods/{period_id}/reopen"' in page
    values = form_values(page)
    assert client.post(f"/pay-periods/{period_id}/reopen", data={**values, "reason": ""}).status_code == 303
    assert _payslips() == 1  # no reason: nothing changed
    assert client.post(f"/pay-periods/{period_id}/reopen", data={**values, "reason": "2号误结账"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(PayPeriod, period_id).status == "open" and _payslips() == 0
    assert db.session.scalar(select(func.count(PayPeriodReopening.id))) == 1
    assert chain.verify_payslips() == []
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reopen"))
    assert event.after["reason"] == "2号误结账" and event.before["payslips"] == 1
    # Work can be recorded again, and a second close chains after the reopening.
    sup = api(role="supervisor", station=month["station"])
    assert sup.post(f"/batches/{month['batch'].id}/returns", json={"accepted": 2, "rejected": 0}).status_code == 201
    wages.close_pay_period(db.session.get(PayPeriod, period_id), early=True)
    db.session.commit()
    slip = db.session.scalar(select(Payslip))
    assert slip.prev_hash == db.session.scalar(select(PayPeriodReopening.hash)) and slip.pieces == 32
    assert chain.verify_payslips() == []


def test_reopen_is_refused_once_statements_are_printed_or_exported(client, login_as, make, api):
    month = _this_month(make)
    period_id = month["period"].id
    wages.close_pay_period(month["period"], early=True)
    db.session.commit()
    login_as("admin")
    assert client.get(f"/pay-periods/{period_id}/export.csv").status_code == 200
    admin = api(role="admin")
    refused = admin.post(f"/pay-periods/{period_id}/reopen", json={"reason": "误结账"})
    assert refused.status_code == 409 and refused.json["error"]["code"] == "period_cannot_reopen"
    assert _payslips() == 1
    assert "不能再重新打开" in client.get(f"/pay-periods/{period_id}").get_data(as_text=True)


def test_verify_chain_finds_a_reopening_changed_behind_the_apps_back(make):
    month = _this_month(make)
    wages.close_pay_period(month["period"], early=True)
    wages.reopen_pay_period(db.session.get(PayPeriod, month["period"].id), "误结账")
    db.session.commit()
    db.session.execute(PayPeriodReopening.__table__.update().values(reason="别的"))
    assert any("reopening" in p.reason for p in chain.verify_payslips())
