"""The supervisor's day at the counter, in real Chromium at tablet size: take an order, issue a
batch, open its return page by the ticket's QR URL, record a return with rejects through the
steppers, and see the order board change. Screenshots land in test-output/screenshots/."""
import io
import re
import subprocess
from datetime import timedelta

from app import files
from app.extensions import db
from app.models import Batch, Order, local_today
from tests.browser.conftest import open_nav, sign_in_staff


def product_picture() -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (240, 240), "#fff7ed")
    draw = ImageDraw.Draw(img)
    draw.rectangle((40, 70, 200, 200), fill="#7f1d1d", outline="#450a0a", width=6)
    draw.rectangle((40, 50, 200, 90), fill="#991b1b", outline="#450a0a", width=6)
    draw.rectangle((110, 50, 130, 200), fill="#facc15")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def set_up(make):
    station = make.station(name="东城幸福就业车间")
    make.staff("supervisor", station=station, username="zhan", password="correct-horse")
    client = make.client(name="宁夏红枸杞礼盒有限公司")
    product = make.product(client=client, name="黑枸杞礼盒折叠", piece_rate="0.3500", unit_price="0.6000",
                           batch_size=200)
    product.picture_id = files.store_file("box.png", "image/png", product_picture()).id
    db.session.commit()
    make.worker(station=station, name="王秀英", phone="13900000001")
    make.worker(station=station, name="李桂兰", phone="13900000002")
    other = make.order(station=station, product=product, quantity=400, due_in_days=3)
    make.batch(order=other, worker=make.worker(station=station, name="张玉梅"), quantity=100)
    return station, client, product


def ticket_url(page, base, batch_id, tmp_path) -> str:
    """Download the ticket PDF as the browser would and read the QR's URL printed under it."""
    resp = page.request.get(f"{base}/batches/{batch_id}/ticket.pdf")
    assert resp.status == 200 and resp.headers["content-type"] == "application/pdf"
    path = tmp_path / "ticket.pdf"
    path.write_bytes(resp.body())
    text = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "王秀英" in text and "黑枸杞礼盒折叠" in text
    return re.search(r"(http://\S+/batches/\d+/return)", text.replace("\n", "")).group(1)


def test_take_an_order_issue_a_batch_and_record_a_return_with_rejects(live, page_at, shot, tmp_path):
    server, make = live
    station, client, product = set_up(make)
    page = page_at("tablet")
    sign_in_staff(page, server.url, "zhan", "correct-horse")
    shot(page, "production-home-supervisor-tablet")

    # Take an order.
    page.click("text=订单看板")
    page.click("text=＋ 接订单")
    page.wait_for_url("**/orders/new")
    page.select_option("select[name=client_id]", str(client.id))
    page.select_option("select[name=product_id]", str(product.id))
    page.fill("input[name=quantity]", "1000")
    page.fill("input[name=due_date]", (local_today() + timedelta(days=20)).isoformat())
    shot(page, "production-order-new-tablet")
    page.click("button[type=submit].btn-primary")
    page.wait_for_url(re.compile(r"/orders/\d+$"))
    assert "订单" in page.locator(".flash").inner_text()
    db.session.rollback()  # end the test's read snapshot: see what the server committed
    order = db.session.query(Order).filter_by(quantity=1000).one()

    # Issue a batch: find the worker, the quantity is the product's usual 200.
    page.click("text=＋ 发料")
    page.wait_for_url(f"**/orders/{order.id}/issue")
    assert page.input_value("input[name=quantity]") == "200"
    page.fill("input[name=q]", "王秀")
    with page.expect_navigation():
        page.press("input[name=q]", "Enter")
    assert "q=" in page.url
    page.click("label.worker-pick:has-text('王秀英')")
    shot(page, "production-issue-tablet")
    page.click("text=发料并打印发料单")
    page.wait_for_url(re.compile(r"/batches/\d+\?issued=1"))
    db.session.rollback()
    batch = db.session.query(Batch).filter_by(order_id=order.id).one()
    assert batch.code in page.locator("h1").inner_text()
    shot(page, "production-batch-issued-tablet")

    # Open the return page by the ticket's QR URL; it opens with all 200 as accepted.
    url = ticket_url(page, server.url, batch.id, tmp_path)
    assert url == f"{server.url}/batches/{batch.id}/return"
    page.goto(url)
    assert page.input_value("input[name=accepted]") == "200"
    assert "全部 200 合格" in page.locator("#save-return").inner_text()

    # Three rejects and one unused through the steppers: accepted follows.
    for _ in range(3):
        page.click(".stepper-rejected .step-up")
    page.click(".stepper-unused .step-up")
    assert page.input_value("input[name=rejected]") == "3"
    assert page.input_value("input[name=accepted]") == "196"
    assert "合格 196，不合格 3，退料 1" in page.locator("#save-return").inner_text()
    box = page.locator(".stepper-rejected .step-up").bounding_box()
    assert box["height"] >= 60 and box["width"] >= 60
    shot(page, "production-return-tablet")
    page.click("#save-return")
    page.wait_for_url(re.compile(r"/returns/\d+/receipt"))
    receipt = page.locator(".receipt").inner_text()
    assert "196" in receipt and "¥68.60" in receipt and "王秀英" in receipt
    shot(page, "production-receipt-tablet")

    # The order board shows the change.
    page.goto(f"{server.url}/board")
    card = page.locator(f"article[data-order='{order.id}']")
    text = card.inner_text()
    assert "合格 196" in text.replace("\n", " ") and "不合格 3" in text.replace("\n", " ")
    assert "未发料 801" in text.replace("\n", " ")
    shot(page, "production-board-tablet")

    # The typed-code path from the board's box opens the same return page.
    page.fill("#scan-code", batch.code.lower())
    page.press("#scan-code", "Enter")
    page.wait_for_url(f"**/batches/{batch.id}/return")


def test_pages_at_phone_size(live, page_at, shot):
    server, make = live
    station, client, product = set_up(make)
    order = make.order(station=station, product=product, quantity=600, due_in_days=10)
    batch = make.batch(order=order, worker=make.worker(station=station, name="赵春梅"), quantity=150)
    make.return_(batch=batch, accepted=40, rejected=2)
    page = page_at("phone")
    sign_in_staff(page, server.url, "zhan", "correct-horse")
    shot(page, "production-home-supervisor-phone")
    for name, path in (("board", "/board"), ("return", f"/batches/{batch.id}/return"),
                       ("batch", f"/batches/{batch.id}"), ("issue", f"/orders/{order.id}/issue"),
                       ("workers", "/workers"), ("orders", "/orders")):
        page.goto(server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390 + 1, (name, width)  # nothing runs off the side of the phone
        shot(page, f"production-{name}-phone")
    page.goto(f"{server.url}/batches/{batch.id}/return")
    page.click(".stepper-rejected .step-up")
    assert page.input_value("input[name=accepted]") == "107"


def test_admin_adds_a_product_with_a_picture_and_changes_its_rate(live, page_at, shot, tmp_path):
    server, make = live
    make.staff("admin", username="boss", password="correct-horse")
    picture = tmp_path / "box.png"
    picture.write_bytes(product_picture())
    page = page_at("tablet")
    sign_in_staff(page, server.url, "boss", "correct-horse")
    open_nav(page, "客户")
    page.click("text=＋ 新客户")
    page.fill("input[name=name]", "绿源纸袋包装厂")
    page.fill("input[name=contact]", "王主管")
    page.click("button:has-text('保存')")
    page.wait_for_url("**/clients")
    page.click("text=＋ 品种")
    page.fill("input[name=name]", "手提纸袋粘贴")
    page.fill("input[name=piece_rate]", "0.08")
    page.fill("input[name=unit_price]", "0.13")
    page.fill("input[name=material_cost]", "0.02")
    page.fill("input[name=batch_size]", "500")
    page.set_input_files("input[name=picture]", str(picture))
    page.click("button:has-text('保存')")
    page.wait_for_url(re.compile(r"/products/\d+/edit"))
    page.fill("input[name=piece_rate]", "0.085")
    page.click("button:has-text('保存')")
    page.wait_for_load_state()
    history = page.locator("table.rate-history").inner_text()
    assert "¥0.08" in history and "¥0.085" in history
    assert page.locator("img.thumb").evaluate("img => img.naturalWidth") == 240
    shot(page, "production-product-edit-tablet")


def test_correct_and_close_pages_at_tablet_size(live, page_at, shot):
    server, make = live
    station, client, product = set_up(make)
    order = make.order(station=station, product=product, quantity=600)
    batch = make.batch(order=order, worker=make.worker(station=station, name="赵春梅"), quantity=150)
    ret = make.return_(batch=batch, accepted=100, rejected=2)
    page = page_at("tablet")
    sign_in_staff(page, server.url, "zhan", "correct-horse")
    page.goto(f"{server.url}/batches/{batch.id}")
    page.click("text=更正")
    page.wait_for_url(f"**/correct?return_id={ret.id}")
    for _ in range(2):
        page.click(".stepper-field:has(input[name=accepted]) .step-down")
    page.click(".stepper-field:has(input[name=rejected]) .step-up")
    page.click(".stepper-field:has(input[name=rejected]) .step-up")
    page.fill("input[name=reason]", "复检发现 2 个开胶")
    shot(page, "production-correct-tablet")
    page.click("text=记录更正")
    page.wait_for_url(f"**/batches/{batch.id}")
    assert "复检发现 2 个开胶" in page.locator("table.returns-table").inner_text()
    page.click("text=结单")
    shot(page, "production-close-tablet")
    assert "48" in page.locator(".stat-value").first.inner_text()
    page.check("input[name=reason_choice][value=lost]")  # pieces are missing: a reason and a tick
    page.check("input[name=confirm]")
    page.click("button:has-text('结单')")
    page.wait_for_url(f"**/batches/{batch.id}")
    assert "已结单" in page.locator("h1").inner_text()
    shot(page, "production-batch-closed-tablet")
