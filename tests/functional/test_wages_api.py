"""The wages API as API.md specifies: status codes, bodies, and rule 7 for workers."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Adjustment, PayPeriod, Payslip
from tests.wages_fixtures import close, issue_on, period_for, previous_month, return_on

pytestmark = pytest.mark.calendar  # runs again on the hard days (scripts/test.sh)


@pytest.fixture
def month(make):
    start, end = previous_month()
    station = make.station()
    order = make.order(station=station, product=make.product(piece_rate="0.0350"), quantity=5000)
    alice, bob = make.worker(station=station), make.worker(station=station)
    for worker, n in ((alice, 31), (bob, 5)):
        return_on(issue_on(make, order, worker, 100, start), start + timedelta(days=2), accepted=n)
    return {"start": start, "end": end, "station": station, "alice": alice, "bob": bob}


def test_pay_period_create_list_and_overlap(api, month):
    admin = api(role="admin")
    resp = admin.post("/pay-periods", json={"start": month["start"].isoformat(), "end": month["end"].isoformat()})
    assert resp.status_code == 201
    assert resp.json["status"] == "open" and resp.json["start"] == month["start"].isoformat()
    overlap = admin.post("/pay-periods", json={"start": (month["end"] - timedelta(days=2)).isoformat(),
                                               "end": (month["end"] + timedelta(days=10)).isoformat()})
    assert overlap.status_code == 409 and overlap.json["error"]["code"] == "overlapping_period"
    assert admin.post("/pay-periods", json={"start": "2026-13-01"}).status_code == 422
    backwards = admin.post("/pay-periods", json={"start": "2030-02-10", "end": "2030-02-01"})
    assert backwards.status_code == 422 and "end" in backwards.json["error"]["fields"]
    assert admin.get("/pay-periods").json["total"] == 1
    assert api(role="supervisor").post("/pay-periods", json={}).status_code == 403


def test_pay_period_defaults_to_the_calendar_month_of_its_start(api):
    resp = api(role="admin").post("/pay-periods", json={"start": "2031-02-14"})
    assert resp.status_code == 201
    assert (resp.json["start"], resp.json["end"]) == ("2031-02-01", "2031-02-28")


def test_adjustment_then_close_then_adjustment_refused(api, month):
    admin = api(role="admin")
    period_id = admin.post("/pay-periods", json={"start": month["start"].isoformat()}).json["id"]
    body = {"worker_id": month["alice"].id, "pay_period_id": period_id, "amount": "20.50", "reason": "全勤奖"}
    created = admin.post("/adjustments", json=body, headers={"Idempotency-Key": "adj-1"})
    assert created.status_code == 201 and created.json["amount"] == "20.50"
    assert admin.post("/adjustments", json=body, headers={"Idempotency-Key": "adj-1"}).json == created.json
    assert db.session.scalar(select(func.count(Adjustment.id))) == 1
    assert admin.post("/adjustments", json={**body, "amount": "0"}).status_code == 422
    assert admin.post("/adjustments", json={**body, "amount": 1.5}).status_code == 201  # JSON number, parsed as Decimal
    assert admin.post("/adjustments", json={**body, "amount": "1.505"}).status_code == 422
    assert admin.post("/adjustments", json={**body, "reason": ""}).status_code == 422
    assert admin.post("/adjustments", json={**body, "worker_id": 999999}).status_code == 422
    closed = admin.post(f"/pay-periods/{period_id}/close")
    assert closed.status_code == 200
    assert closed.json == {"id": period_id, "status": "closed", "payslips": 2, "total": "23.27"}  # 1.09+20.50+1.50 + 0.18
    assert admin.post(f"/pay-periods/{period_id}/close").status_code == 409
    late = admin.post("/adjustments", json=body)
    assert late.status_code == 409 and late.json["error"]["code"] == "period_closed"
    assert admin.post("/pay-periods/999999/close").status_code == 404


def test_payslips_list_pdf_and_export(api, month):
    period = period_for(month["start"], month["end"])
    close(period)
    admin = api(role="admin")
    items = admin.get(f"/pay-periods/{period.id}/payslips").json["items"]
    alice = next(i for i in items if i["worker_id"] == month["alice"].id)
    assert alice["gross"] == "1.09" and alice["net"] == "1.09" and alice["pieces"] == 31
    assert alice["lines"] == [{"kind": "piece", "product_id": alice["lines"][0]["product_id"],
                               "description": alice["lines"][0]["description"], "piece_rate": "0.0350",
                               "pieces": 31, "amount": "1.09"}]
    pdf = admin.get(f"/payslips/{alice['id']}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    xlsx = admin.get(f"/pay-periods/{period.id}/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert api(role="supervisor").get(f"/pay-periods/{period.id}/export.xlsx").status_code == 403
    assert admin.get("/pay-periods/999999/payslips").status_code == 404


def test_payroll_xlsx_has_one_row_a_worker_with_net_pay(api, month):
    import io

    from openpyxl import load_workbook

    period = period_for(month["start"], month["end"])
    close(period)
    data = api(role="admin").get(f"/pay-periods/{period.id}/export.xlsx").data
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert len(rows) == 1 + 2 + 1  # header, two workers, total
    nets = sorted(float(r[-1]) for r in rows[1:3])
    assert nets == [0.18, 1.09]


def test_worker_earnings_for_staff_and_range_validation(api, month):
    admin = api(role="admin")
    path = f"/workers/{month['alice'].id}/earnings?from={month['start']}&to={month['end']}"
    resp = admin.get(path)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    assert resp.json["amount"] == "1.09" and resp.json["pieces"] == 31
    assert resp.json["lines"][0]["piece_rate"] == "0.0350"
    assert admin.get(f"/workers/{month['alice'].id}/earnings?from=yesterday").status_code == 422
    assert admin.get(f"/workers/{month['alice'].id}/earnings?from=2030-02-02&to=2030-02-01").status_code == 422
    assert api(role="supervisor").get(path).status_code == 404  # another station's worker
    assert api(account=month["alice"]).get(path).status_code == 403


def test_me_endpoints_answer_only_the_workers_own_records(api, month):
    period = period_for(month["start"], month["end"])
    close(period)
    alice = api(account=month["alice"])
    me = alice.get(f"/me/earnings?from={month['start']}&to={month['end']}")
    assert me.status_code == 200 and me.json["worker_id"] == month["alice"].id and me.json["amount"] == "1.09"
    assert me.headers["Cache-Control"] == "no-store"
    batches = alice.get("/me/batches").json
    assert batches["total"] == 1 and {b["worker_id"] for b in batches["items"]} == {month["alice"].id}
    slips = alice.get("/me/payslips").json["items"]
    assert [s["worker_id"] for s in slips] == [month["alice"].id]
    bobs = db.session.scalar(select(Payslip.id).where(Payslip.worker_id == month["bob"].id))
    assert alice.get(f"/payslips/{slips[0]['id']}.pdf").status_code == 200
    assert alice.get(f"/payslips/{bobs}.pdf").status_code == 404
    assert alice.get(f"/pay-periods/{period.id}/payslips").status_code == 403
    assert alice.get(f"/workers/{month['bob'].id}/earnings").status_code == 403
    assert db.session.scalar(select(func.count(PayPeriod.id))) == 1
