"""Recording returns from the tablet: by QR URL or typed code, one tap for the all-good case,
steppers for rejects, a photo, the receipt, corrections and closing a batch."""
import re
from datetime import timedelta
from io import BytesIO

from sqlalchemy import func, select

from app.models import Batch, PayPeriod, Return, StoredFile, local_today
from tests.helpers import form_values
from tests.production_pages_fixtures import PNG, follow, submit


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def setup_batch(make, login_as, quantity=100, **kw):
    station = make.station(**kw)
    login_as("supervisor", station=station)
    order = make.order(station=station, product=make.product(name="黑枸杞礼盒折叠", piece_rate="0.3500"), quantity=1000)
    return make.batch(order=order, worker=make.worker(station=station, name="王秀英"), quantity=quantity)


def test_return_form_opens_prefilled_with_what_is_still_out(client, login_as, make):
    batch = setup_batch(make, login_as)
    make.return_(batch=batch, accepted=30)
    page = client.get(f"/batches/{batch.id}/return").text
    assert re.search(r'name="accepted"[^>]*value="70"', page)
    assert re.search(r'name="rejected"[^>]*value="0"', page)
    assert "全部 70 合格 — 保存" in page


def test_all_good_return_is_one_tap_and_shows_the_receipt(client, login_as, make, db):
    batch = setup_batch(make, login_as)
    resp, _ = submit(client, f"/batches/{batch.id}/return")  # nothing changed: the one tap
    assert resp.status_code == 303 and "/receipt" in resp.headers["Location"]
    db.session.expire_all()
    assert db.session.get(Batch, batch.id).accepted == 100
    receipt = follow(client, resp).text
    assert "收货回执" in receipt and "王秀英" in receipt and "¥35.00" in receipt
    assert re.search(r'fig-value">100<', receipt)


def test_a_resent_return_records_once_and_shows_the_same_receipt(client, login_as, make, db):
    batch = setup_batch(make, login_as)
    first, posted = submit(client, f"/batches/{batch.id}/return", {"accepted": "40", "rejected": "3"})
    again = client.post(f"/batches/{batch.id}/return", data=posted)
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
    assert count(db, Return) == 1
    db.session.expire_all()
    b = db.session.get(Batch, batch.id)
    assert (b.accepted, b.rejected) == (40, 3)


def _size(data):
    from PIL import Image

    return Image.open(BytesIO(data)).size


def test_return_with_rejects_and_a_photo_keeps_the_photo_in_the_database(client, login_as, make, db):
    batch = setup_batch(make, login_as)
    resp, _ = submit(client, f"/batches/{batch.id}/return", {"accepted": "90", "rejected": "8", "unused": "2"},
                     files={"photo": (BytesIO(PNG), "rejects.png")})
    assert resp.status_code == 303
    row = db.session.scalar(select(Return))
    assert (row.accepted, row.rejected, row.unused) == (90, 8, 2) and row.photo_id
    photo = client.get(f"/returns/{row.id}/photo")
    assert photo.status_code == 200 and _size(photo.data) == (1, 1)  # re-encoded, metadata gone
    assert f"/returns/{row.id}/photo" in client.get(f"/batches/{batch.id}").text


def test_over_return_is_refused_in_chinese_and_nothing_is_stored(client, login_as, make, db):
    batch = setup_batch(make, login_as)
    resp, _ = submit(client, f"/batches/{batch.id}/return", {"accepted": "95", "rejected": "6"},
                     files={"photo": (BytesIO(PNG), "rejects.png")})
    assert resp.status_code == 409 and "数量超过了该工人手中未交回的数量" in resp.text
    resp, _ = submit(client, f"/batches/{batch.id}/return", {"accepted": "-1"})
    assert resp.status_code == 422 and "不能为负" in resp.text
    resp, _ = submit(client, f"/batches/{batch.id}/return",
                     {"work_date": (local_today() + timedelta(days=2)).isoformat()})
    assert resp.status_code == 422
    assert count(db, Return) == 0 and count(db, StoredFile) == 0
    db.session.expire_all()
    assert db.session.get(Batch, batch.id).accepted == 0


def test_typed_code_opens_the_return_page_and_an_unknown_code_says_so(client, login_as, make):
    batch = setup_batch(make, login_as)
    resp = client.get(f"/scan?code= {batch.code.lower()} ")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/batches/{batch.id}/return")
    scanned = client.get(f"/scan?code=http://jijian.example/batches/{batch.id}/return")
    assert scanned.headers["Location"].endswith(f"/batches/{batch.id}/return")
    unknown = client.get("/scan?code=ZZZZZZ")
    assert unknown.status_code == 404 and "本站没有编码为 ZZZZZZ 的发料单" in unknown.text


def test_another_stations_batch_code_is_not_found(client, login_as, make):
    theirs = make.batch()
    login_as("supervisor")
    assert client.get(f"/scan?code={theirs.code}").status_code == 404
    assert client.get(f"/scan?code=/batches/{theirs.id}/return").status_code == 404


def test_correction_with_negative_counts_points_at_the_original(client, login_as, make, db):
    batch = setup_batch(make, login_as)
    original = make.return_(batch=batch, accepted=50, rejected=0)
    url = f"/batches/{batch.id}/correct?return_id={original.id}"
    resp, _ = submit(client, url, {"accepted": "-5", "rejected": "5", "reason": "复检发现 5 个不合格"})
    assert resp.status_code == 303
    fix = db.session.scalar(select(Return).where(Return.corrects_id == original.id))
    assert (fix.accepted, fix.rejected, fix.reason) == (-5, 5, "复检发现 5 个不合格")
    page = follow(client, resp).text
    assert f"更正 #{original.id}" in page and "复检发现" in page


def test_correction_without_a_reason_is_refused(client, login_as, make, db):
    batch = setup_batch(make, login_as)
    original = make.return_(batch=batch, accepted=50)
    resp, _ = submit(client, f"/batches/{batch.id}/correct?return_id={original.id}", {"accepted": "-5", "reason": ""})
    assert resp.status_code == 422 and "请说明更正原因" in resp.text
    assert count(db, Return) == 1


def test_correction_in_a_closed_pay_period_is_refused_with_a_plain_message(client, login_as, make, db):
    batch = setup_batch(make, login_as)
    original = make.return_(batch=batch, accepted=50)
    today = local_today()
    db.session.add(PayPeriod(start=today - timedelta(days=40), end=today + timedelta(days=40), status="closed"))
    db.session.commit()
    resp, _ = submit(client, f"/batches/{batch.id}/correct?return_id={original.id}", {"accepted": "-5", "reason": "点错了"})
    # The refusal says what happened and who can help (an admin may reopen the period).
    assert resp.status_code == 409 and "已结账" in resp.text and "管理员" in resp.text
    assert count(db, Return) == 1


def test_closing_a_batch_shows_and_records_the_shortfall_by_station_policy(client, login_as, make, db):
    batch = setup_batch(make, login_as, shortfall_policy="material_cost")  # material cost 0.05
    make.return_(batch=batch, accepted=80, rejected=5, unused=5)
    page = client.get(f"/batches/{batch.id}/close").text
    assert re.search(r'stat-value">10<', page) and "扣" in page and "¥0.50" in page
    refused, _ = submit(client, f"/batches/{batch.id}/close", {"reason": "工人搬家"})  # not confirmed
    assert refused.status_code == 422 and "缺件结单前请勾选确认" in refused.text
    resp, posted = submit(client, f"/batches/{batch.id}/close", {"reason_choice": "moved", "reason": "工人搬家",
                                                                  "confirm": "y"})
    assert resp.status_code == 303
    assert client.post(f"/batches/{batch.id}/close", data=posted).headers["Location"] == resp.headers["Location"]
    db.session.expire_all()
    closed = db.session.get(Batch, batch.id)
    assert closed.status == "closed" and closed.shortfall == 10 and str(closed.shortfall_deduction) == "0.50"
    closed_page = client.get(f"/batches/{batch.id}/return").text
    assert "此发料单已结单" in closed_page and 'name="accepted"' not in closed_page
    late = client.post(f"/batches/{batch.id}/return", data={**form_values(closed_page), "idem_key": "late-1", "accepted": "1"})
    assert late.status_code == 409 and "此发料单已结单" in late.text
    assert count(db, Return) == 1


def test_receipt_of_another_stations_return_is_404(client, login_as, make):
    theirs = make.return_()
    login_as("supervisor")
    assert client.get(f"/returns/{theirs.id}/receipt").status_code == 404
    assert client.get(f"/returns/{theirs.id}/photo").status_code == 404


def test_other_stations_records_answer_404_on_every_page(client, login_as, make):
    theirs = make.return_()
    batch = theirs.batch
    login_as("supervisor")
    for url in (f"/orders/{batch.order_id}", f"/orders/{batch.order_id}/edit", f"/orders/{batch.order_id}/issue",
                f"/batches/{batch.id}", f"/batches/{batch.id}/return", f"/batches/{batch.id}/ticket.pdf",
                f"/batches/{batch.id}/close", f"/batches/{batch.id}/correct?return_id={theirs.id}",
                f"/workers/{batch.worker_id}", f"/stations/{batch.station_id}/board"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/batches/{batch.id}/return", data={"accepted": "1"}).status_code in (400, 404)


def test_an_expired_form_is_shown_again_with_what_was_typed(client, login_as, make, db):
    batch = setup_batch(make, login_as)
    page = client.get(f"/batches/{batch.id}/return").text
    values = {**form_values(page), "csrf_token": "expired", "accepted": "17"}
    resp = client.post(f"/batches/{batch.id}/return", data=values)
    assert resp.status_code == 422 and re.search(r'name="accepted"[^>]*value="17"', resp.text)
    assert count(db, Return) == 0


def test_a_double_tap_sent_at_the_same_moment_records_once(app, client, login_as, make, db):
    """Two copies of one form arrive together, each on its own connection: one return."""
    import threading

    from flask.testing import FlaskClient

    batch = setup_batch(make, login_as)
    page = client.get(f"/batches/{batch.id}/return").text
    data = {**form_values(page), "accepted": "60", "rejected": "2"}
    with client.session_transaction() as sess:
        signed_in = dict(sess)
    tablets = []
    for _ in range(2):
        tablet = FlaskClient(app, app.response_class, use_cookies=True)
        with tablet.session_transaction() as sess:
            sess.update(signed_in)
        tablets.append(tablet)
    url = f"/batches/{batch.id}/return"
    db.session.commit()
    barrier, answers = threading.Barrier(2), []

    def tap(tablet):
        barrier.wait()
        answers.append(tablet.post(url, data=data))

    threads = [threading.Thread(target=tap, args=(t,)) for t in tablets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [303, 303]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    db.session.expire_all()
    assert count(db, Return) == 1 and db.session.get(Batch, batch.id).accepted == 60


def test_an_older_receipt_shows_what_was_still_out_after_that_return(client, login_as, make):
    batch = setup_batch(make, login_as)
    first = make.return_(batch=batch, accepted=30)
    make.return_(batch=batch, accepted=50)
    receipt = client.get(f"/returns/{first.id}/receipt").text
    assert "本次收货后未交回：70" in receipt and "¥10.50" in receipt


def test_a_recorded_form_sent_again_with_other_figures_is_refused_plainly(client, login_as, make, db):
    batch = setup_batch(make, login_as)
    first, posted = submit(client, f"/batches/{batch.id}/return", {"accepted": "10"})
    assert first.status_code == 303
    changed = client.post(f"/batches/{batch.id}/return", data={**posted, "accepted": "12"})
    assert changed.status_code == 409 and "这张表已经提交并记录过了" in changed.text
    assert form_values(changed.text)["idem_key"] != posted["idem_key"]
    assert count(db, Return) == 1
