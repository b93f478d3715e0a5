"""The worker's phone shows each return with its rejects, reason and photo; her month agrees
with the statement or says why; past statements open as a phone page; her own ticket's QR
lands on her batch; GET /api/v1/me/returns (finding 3)."""
from sqlalchemy import select

from app import files
from app.extensions import db
from app.models import local_today
from app.services import production, wages
from tests.wages_fixtures import close, issue_on, period_for, previous_month, return_on

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def _her(make):
    station = make.station()
    worker = make.worker(station=station, name="高秀英")
    order = make.order(station=station, product=make.product(name="黑枸杞礼盒折叠", piece_rate="0.3500"), quantity=1000)
    batch = production.issue_batch(order=order, worker=worker, quantity=40)
    photo = files.store_file("rejects.png", "image/png", PNG)
    ret = production.record_return(batch=batch, accepted=30, rejected=3, note="胶水溢出", photo=photo)
    db.session.commit()
    return worker, batch, ret


def test_home_and_returns_page_show_the_rejects_with_reason_and_photo(client, login_as, make):
    worker, batch, ret = _her(make)
    login_as("worker", account=worker)
    home = client.get("/home").text
    assert "合格 30 件" in home and "不合格 3 件" in home and "胶水溢出" in home
    assert f"/returns/{ret.id}/photo" in home
    page = client.get("/me/returns").text
    assert "不合格 3 件" in page and "胶水溢出" in page and local_today().isoformat() in page
    assert client.get(f"/returns/{ret.id}/photo").status_code == 200


def test_another_workers_returns_and_batch_stay_hidden(client, login_as, make):
    _worker, batch, _ret = _her(make)
    other = make.worker(station=batch.worker.station)
    login_as("worker", account=other)
    assert "胶水溢出" not in client.get("/me/returns").text
    assert client.get(f"/me/batches/{batch.id}").status_code == 404


def test_scanning_her_own_ticket_lands_on_her_batch(client, login_as, make):
    worker, batch, _ret = _her(make)
    login_as("worker", account=worker)
    resp = client.get(f"/batches/{batch.id}/return")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/me/batches/{batch.id}")
    page = client.get(f"/me/batches/{batch.id}").text
    assert "黑枸杞礼盒折叠" in page and "不合格 3 件" in page and ">7<" in page  # 40 − 33 still out


def test_month_agrees_with_the_statement_or_says_why(client, login_as, make):
    worker, batch, _ret = _her(make)
    period = wages.create_pay_period(*wages.month_bounds(local_today()))
    wages.add_adjustment(worker=worker, period=period, amount=-2, reason="迟交")
    db.session.commit()
    login_as("worker", account=worker)
    page = client.get("/me/earnings").text
    preview = page[page.index('id="statement-preview"'):]
    assert "¥10.50" in preview and "-¥2.00" in preview and "¥8.50" in preview  # 30 × 0.35 − 2
    assert "结算单还会加上奖励" in preview


def test_a_past_statement_opens_as_a_phone_page_with_the_pdf_one_tap_further(client, login_as, make):
    start, end = previous_month()
    station = make.station()
    worker = make.worker(station=station)
    order = make.order(station=station, product=make.product(piece_rate="0.3500"))
    return_on(issue_on(make, order, worker, 50, start), start, accepted=20, rejected=1)
    period = period_for(start, end)
    wages.add_adjustment(worker=worker, period=period, amount=5, reason="全勤奖")
    db.session.commit()
    close(period)
    from app.models import Payslip

    slip = db.session.scalar(select(Payslip))
    login_as("worker", account=worker)
    assert f"/me/payslips/{slip.id}" in client.get("/me/payslips").text
    page = client.get(f"/me/payslips/{slip.id}").text
    assert "全勤奖" in page and "¥12.00" in page and "尚未交付发放" in page
    assert f"/payslips/{slip.id}.pdf" in page


def test_api_me_returns_lists_her_returns_only(api, make):
    worker, batch, ret = _her(make)
    other = make.worker(station=batch.worker.station)
    mine = api(worker).get("/me/returns").json
    assert mine["total"] == 1
    item = mine["items"][0]
    assert {k: item[k] for k in ("id", "batch_id", "product", "accepted", "rejected", "note")} == {
        "id": ret.id, "batch_id": batch.id, "product": "黑枸杞礼盒折叠", "accepted": 30, "rejected": 3, "note": "胶水溢出"}
    assert {"step", "work_date", "reason"} <= item.keys()
    assert api(other).get("/me/returns").json == {"items": [], "total": 0, "page": 1, "per_page": mine["per_page"]}


def test_a_worker_not_signed_in_who_scans_her_ticket_is_offered_the_worker_sign_in(client, make):
    _worker, batch, _ret = _her(make)
    resp = client.get(f"/batches/{batch.id}/return")
    login = client.get(resp.headers["Location"]).text
    assert f"/w/login?next=/me/batches/{batch.id}" in login.replace("%2F", "/")
