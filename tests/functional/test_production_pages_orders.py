"""Orders, the order board, issuing a batch and its printed ticket, from the tablet pages."""
import re
import subprocess
from datetime import timedelta

import segno
from sqlalchemy import func, select

from app import files
from app.models import Batch, Order, Return, local_today
from app.services import production
from tests.production_pages_fixtures import PNG, follow, submit


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def order_data(product, station, **kw):
    data = {"client_id": str(product.client_id), "product_id": str(product.id), "station_id": str(station.id),
            "quantity": "1000", "due_date": (local_today() + timedelta(days=20)).isoformat(), "note": "加急"}
    data.update(kw)
    return data


def test_supervisor_takes_an_order_once_even_when_the_form_is_sent_twice(client, login_as, make, db):
    station = make.station()
    login_as("supervisor", station=station)
    product = make.product(name="黑枸杞礼盒折叠", unit_price="0.6000")
    first, posted = submit(client, "/orders/new", order_data(product, station))
    assert first.status_code == 303
    again = client.post("/orders/new", data=posted)
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
    assert count(db, Order) == 1
    order = db.session.scalar(select(Order))
    assert order.station_id == station.id and str(order.unit_price) == "0.6000"
    page = follow(client, first).text
    assert "黑枸杞礼盒折叠" in page and order.number in page


def test_order_with_bad_quantity_or_past_due_date_is_refused_in_chinese(client, login_as, make, db):
    station = make.station()
    login_as("supervisor", station=station)
    product = make.product()
    resp, _ = submit(client, "/orders/new", order_data(product, station, quantity="0"))
    assert resp.status_code == 422 and "必须大于零" in resp.text
    resp, _ = submit(client, "/orders/new", order_data(product, station, quantity="abc"))
    assert resp.status_code == 422 and "整数" in resp.text
    resp, _ = submit(client, "/orders/new", order_data(product, station,
                                                       due_date=(local_today() - timedelta(days=1)).isoformat()))
    assert resp.status_code == 422 and "交货日期不能早于今天" in resp.text
    assert count(db, Order) == 0


def test_supervisor_cannot_take_an_order_for_another_station(client, login_as, make, db):
    mine, theirs = make.station(), make.station()
    login_as("supervisor", station=mine)
    product = make.product()
    page = client.get("/orders/new").text
    assert theirs.name not in page
    resp, _ = submit(client, "/orders/new", order_data(product, theirs))
    assert resp.status_code == 422 and "没有这个站点" in resp.text
    assert count(db, Order) == 0


def test_product_of_another_client_is_refused(client, login_as, make, db):
    station = make.station()
    login_as("admin")
    product, other = make.product(), make.client()
    resp, _ = submit(client, "/orders/new", order_data(product, station, client_id=str(other.id)))
    assert resp.status_code == 422 and "该品种属于另一个客户" in resp.text
    assert count(db, Order) == 0


def test_two_people_editing_one_order_the_later_save_is_refused(client, login_as, make, db):
    from tests.helpers import form_values

    station = make.station()
    login_as("supervisor", station=station)
    order = make.order(station=station, quantity=500)
    url = f"/orders/{order.id}/edit"
    pages = [client.get(url).text, client.get(url).text]
    assert client.post(url, data={**form_values(pages[0]), "quantity": "600"}).status_code == 303
    later = client.post(url, data={**form_values(pages[1]), "quantity": "700"})
    assert later.status_code == 409 and "其他人刚刚保存了这条记录" in later.text
    db.session.expire_all()
    assert db.session.get(Order, order.id).quantity == 600


def test_order_quantity_below_what_is_handed_out_is_refused(client, login_as, make, db):
    station = make.station()
    login_as("supervisor", station=station)
    order = make.order(station=station, quantity=500)
    make.batch(order=order, quantity=300)
    resp, _ = submit(client, f"/orders/{order.id}/edit", {"quantity": "200"})
    assert resp.status_code == 409 and "300" in resp.text
    db.session.expire_all()
    assert db.session.get(Order, order.id).quantity == 500


def test_order_board_shows_progress_forecast_and_at_risk(client, login_as, make, db):
    station = make.station()
    login_as("supervisor", station=station)
    slow = make.order(station=station, product=make.product(name="假发手工钩针"), quantity=1000, due_in_days=5)
    batch = make.batch(order=slow, quantity=200)
    make.return_(batch=batch, accepted=14, rejected=2)  # 14 in 14 days: 1 a day, 986 left → far past due
    fine = make.order(station=station, product=make.product(name="手提纸袋粘贴"), quantity=100, due_in_days=60)
    b2 = make.batch(order=fine, quantity=100)
    make.return_(batch=b2, accepted=70)
    page = client.get(f"/stations/{station.id}/board").text
    cards = {m.group(1): m.group(0) for m in re.finditer(r'<article class="card board-card[^"]*" data-order="(\d+)">.*?</article>', page, re.S)}
    slow_card, fine_card = cards[str(slow.id)], cards[str(fine.id)]
    assert "假发手工钩针" in slow_card and "有延期风险" in slow_card and "at-risk" in slow_card
    assert (local_today() + timedelta(days=986)).isoformat() in slow_card
    assert "有延期风险" not in fine_card
    assert "合格 <b>70</b>" in fine_card and "工人手中 <b>30</b>" in fine_card and "未发料 <b>0</b>" in fine_card
    assert "合格 <b>14</b>" in slow_card and "不合格 <b>2</b>" in slow_card and "未发料 <b>800</b>" in slow_card


def test_supervisor_board_redirects_to_their_station_and_another_station_is_404(client, login_as, make):
    mine, theirs = make.station(), make.station()
    login_as("supervisor", station=mine)
    assert client.get("/board").headers["Location"].endswith(f"/stations/{mine.id}/board")
    assert client.get(f"/stations/{theirs.id}/board").status_code == 404


def test_issue_page_defaults_to_batch_size_and_lists_recent_workers_first(client, login_as, make, db):
    station = make.station()
    login_as("supervisor", station=station)
    order = make.order(station=station, product=make.product(batch_size=150), quantity=1000)
    make.worker(station=station, name="艾未领")
    recent = make.worker(station=station, name="包最近")
    batch = make.batch(order=order, worker=recent, quantity=40)
    make.return_(batch=batch, accepted=28)
    page = client.get(f"/orders/{order.id}/issue").text
    assert re.search(r'name="quantity"[^>]*value="150"', page)
    assert page.index("包最近") < page.index("艾未领")
    assert "手中 12" in page and "近期每天 2.0" in page
    found = client.get(f"/orders/{order.id}/issue?q=艾未").text
    assert "艾未领" in found and "包最近" not in found
    by_phone = client.get(f"/orders/{order.id}/issue?q={recent.phone[-6:]}").text
    assert "包最近" in by_phone and "艾未领" not in by_phone


def test_issuing_a_batch_records_once_and_leads_to_its_ticket(client, login_as, make, db):
    station = make.station()
    login_as("supervisor", station=station)
    order = make.order(station=station, quantity=500)
    worker = make.worker(station=station, name="王秀英")
    url = f"/orders/{order.id}/issue"
    first, posted = submit(client, url, {"worker_id": str(worker.id), "quantity": "120"})
    assert first.status_code == 303
    again = client.post(url, data=posted)
    assert again.headers["Location"] == first.headers["Location"]
    assert count(db, Batch) == 1
    batch = db.session.scalar(select(Batch))
    assert batch.quantity == 120 and batch.worker_id == worker.id
    # Issuing leads to the ticket, ready to print, which then goes on to the batch's page.
    ticket = follow(client, first).text
    assert batch.code in ticket and "print-ticket.js" in ticket and f'data-then="/batches/{batch.id}' in ticket
    page = client.get(f"/batches/{batch.id}").text
    assert batch.code in page and f"/batches/{batch.id}/ticket.pdf" in page


def test_issuing_more_than_is_left_is_refused_and_nothing_is_stored(client, login_as, make, db):
    station = make.station()
    login_as("supervisor", station=station)
    order = make.order(station=station, quantity=100)
    worker = make.worker(station=station)
    resp, _ = submit(client, f"/orders/{order.id}/issue", {"worker_id": str(worker.id), "quantity": "101"})
    assert resp.status_code == 409 and "该订单剩余可发数量不足" in resp.text
    resp, _ = submit(client, f"/orders/{order.id}/issue", {"quantity": "10"})
    assert resp.status_code == 422 and "必填" in resp.text
    assert count(db, Batch) == 0
    db.session.expire_all()
    assert db.session.get(Order, order.id).committed == 0


def test_a_worker_of_another_station_cannot_be_given_a_batch(client, login_as, make, db):
    station = make.station()
    login_as("supervisor", station=station)
    order = make.order(station=station)
    stranger = make.worker()
    resp, _ = submit(client, f"/orders/{order.id}/issue", {"worker_id": str(stranger.id), "quantity": "10"})
    assert resp.status_code == 422 and "请选择工人" in resp.text
    assert count(db, Batch) == 0


def _pdf_text(tmp_path, data, *args):
    path = tmp_path / "ticket.pdf"
    path.write_bytes(data)
    return subprocess.run([args[0], *args[1:], str(path), *(["-"] if args[0] == "pdftotext" else [])],
                          capture_output=True, text=True, check=True).stdout


def test_batch_ticket_pdf_is_chinese_with_an_embedded_cjk_font_and_the_code(client, login_as, make, db, tmp_path):

    station = make.station(name="东城幸福就业车间")
    login_as("supervisor", station=station)
    product = make.product(name="黑枸杞礼盒折叠", piece_rate="0.0350")
    product.picture_id = files.store_file("box.png", "image/png", PNG).id
    db.session.commit()
    order = make.order(station=station, product=product)
    batch = make.batch(order=order, worker=make.worker(station=station, name="王秀英"), quantity=200)
    resp = client.get(f"/batches/{batch.id}/ticket.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = _pdf_text(tmp_path, resp.data, "pdftotext", "-layout")
    for expected in ("王秀英", "黑枸杞礼盒折叠", batch.code, "发料单", "¥7.00", "200", batch.due_date.isoformat()):
        assert expected in text, expected
    fonts = _pdf_text(tmp_path, resp.data, "pdffonts")
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(" yes " in line for line in cjk)  # embedded
    info = _pdf_text(tmp_path, resp.data, "pdfinfo")
    assert re.search(r"Page size:\s+29[0-9.]+ x 41[0-9.]+ pts", info)  # A6


def test_ticket_qr_code_opens_the_batch_return_page(client, login_as, make, app):
    from app.batches.tickets import ticket_context

    station = make.station()
    login_as("supervisor", station=station)
    batch = make.batch(order=make.order(station=station))
    with app.test_request_context("/", base_url="http://jijian.example"):
        t = ticket_context(batch)
    assert t["url"] == f"http://jijian.example/batches/{batch.id}/return"
    assert t["qr"] == segno.make(t["url"], error="m").svg_data_uri(scale=4, border=2)
    assert client.get(f"/batches/{batch.id}/return").status_code == 200


def test_returns_move_the_board_figures(client, login_as, make, db):
    station = make.station()
    login_as("supervisor", station=station)
    order = make.order(station=station, quantity=300)
    batch = make.batch(order=order, quantity=100)
    production.record_return(batch=batch, accepted=60, rejected=5, unused=0)
    db.session.commit()
    page = client.get(f"/orders/{order.id}").text
    assert "合格 <b>60</b>" in page and "不合格 <b>5</b>" in page and "工人手中 <b>35</b>" in page
    assert count(db, Return) == 1


def test_admin_sees_every_station_board_with_tabs(client, login_as, make):
    a, b = make.station(name="东城幸福就业车间"), make.station(name="西郊就业创业服务站")
    make.order(station=b, product=make.product(name="手提纸袋粘贴"))
    login_as("admin")
    assert client.get("/board").headers["Location"].endswith(f"/stations/{a.id}/board")
    page = client.get(f"/stations/{b.id}/board").text
    assert "西郊就业创业服务站" in page and "东城幸福就业车间" in page and "手提纸袋粘贴" in page
