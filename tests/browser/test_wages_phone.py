"""The worker's phone (390×844) in real Chromium: big digits, the 30-day chart, what they hold
with pictures and overdue in red, their statements, and the read-aloud button."""
import io
from datetime import timedelta

from app.extensions import db
from app.models import StoredFile, local_today
from app.services import production
from tests.browser.conftest import sign_in_staff, sign_in_worker
from tests.wages_fixtures import close, period_for, previous_month

# Record what the page asks the speech engine to say, without needing a real voice.
SPEECH_SPY = """
window.__spoken = [];
if (window.speechSynthesis) {
  window.speechSynthesis.speak = function (u) { window.__spoken.push({text: u.text, lang: u.lang}); };
  window.speechSynthesis.getVoices = function () { return [{lang: "zh-CN", name: "test voice"}]; };
}
"""


def _png(color) -> StoredFile:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (96, 96), color).save(buf, "PNG")
    data = buf.getvalue()
    stored = StoredFile(filename="p.png", content_type="image/png", size=len(data), sha256="-", data=data)
    db.session.add(stored)
    db.session.commit()
    return stored


def _a_month_of_work(make):
    today = local_today()
    station = make.station(name="东城幸福就业车间")
    worker = make.worker(station=station, name="王秀英", phone="13900000001", pin="258036")
    boxes = make.product(name="黑枸杞礼盒折叠", piece_rate="0.3500", picture=_png((194, 65, 12)))
    wigs = make.product(name="假发手工钩针", piece_rate="38.0000")
    order = make.order(station=station, product=boxes, quantity=20_000, due_in_days=40)
    wig_order = make.order(station=station, product=wigs, quantity=50, due_in_days=40)
    start = today - timedelta(days=40)
    batch = production.issue_batch(order=order, worker=worker, quantity=5000, issued_on=start, due_date=today + timedelta(days=5))
    for i in range(0, 41, 2):
        production.record_return(batch=batch, accepted=40 + (i * 7) % 60, work_date=start + timedelta(days=i))
    production.issue_batch(order=order, worker=worker, quantity=200, issued_on=today - timedelta(days=9),
                           due_date=today - timedelta(days=2))  # overdue
    production.issue_batch(order=wig_order, worker=worker, quantity=3, due_date=today + timedelta(days=3))
    db.session.commit()
    first, last = previous_month()
    close(period_for(first, last))
    return worker


def test_worker_sees_hears_and_downloads_on_a_phone(live, page_at, shot):
    server, make = live
    _a_month_of_work(make)
    page = page_at("phone")
    page.add_init_script(SPEECH_SPY)
    sign_in_worker(page, server.url, "13900000001", "258036")

    today = page.get_by_test_id("today-amount")
    month = page.get_by_test_id("month-amount")
    assert today.inner_text().startswith("¥") and month.inner_text().startswith("¥")
    assert float(today.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 32
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('earn-chart'))")
    bars = page.evaluate("() => Chart.getChart(document.getElementById('earn-chart')).data.datasets[0].data.length")
    assert bars == 30
    overdue = page.locator(".held-item.is-overdue .held-due")
    assert overdue.count() == 1
    assert overdue.evaluate("e => getComputedStyle(e).color") == "rgb(185, 28, 28)"
    assert page.locator("img.held-pic").first.evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    shot(page, "wages-worker-home-phone")

    page.get_by_role("button", name="读给我听").click()
    spoken = page.evaluate("() => window.__spoken")
    assert spoken and spoken[0]["lang"] == "zh-CN"
    assert spoken[0]["text"].startswith("今天挣了") and "这个月挣了" in spoken[0]["text"]

    # A past statement opens as a phone-sized page; the A4 PDF is one tap further.
    page.locator("a.slip-row").first.click()
    page.wait_for_url("**/me/payslips/*")
    shot(page, "wages-worker-statement-phone")
    with page.expect_download() as download:
        page.click("a[href$='.pdf']")
    assert download.value.suggested_filename.endswith(".pdf")

    page.goto(f"{server.url}/me/earnings")
    assert page.locator(".lines li").count() >= 1
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    shot(page, "wages-worker-earnings-phone")
    page.goto(f"{server.url}/me/batches")
    assert page.locator(".held-item").count() == 3
    shot(page, "wages-worker-batches-phone")


def test_admin_closes_a_period_after_confirming(live, page_at, shot):
    server, make = live
    _a_month_of_work(make)
    make.staff("admin", username="boss", password="correct-horse")
    page = page_at("tablet")
    sign_in_staff(page, server.url, "boss", "correct-horse")
    page.goto(f"{server.url}/pay-periods")
    page.click("form[action='/pay-periods'] button[type=submit]")
    assert "未结账" in page.locator("h1").inner_text()
    shot(page, "wages-period-open-tablet")
    page.click("text=提前结账")  # this month has not ended: the button says so
    assert "还剩" in page.locator(".flash-warning").inner_text()
    shot(page, "wages-period-close-confirm-tablet")
    page.click("button.btn-danger")  # not ticked: refused, nothing closed
    assert "未结账" not in page.locator("h1").inner_text() and page.locator("input[name=early]").is_visible()
    page.check("input[name=early]")
    page.click("button.btn-danger")
    assert "已结账" in page.locator("h1").inner_text()
    shot(page, "wages-period-closed-tablet")
