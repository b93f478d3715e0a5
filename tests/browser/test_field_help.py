"""The help guide (finding 13): its screenshots are taken here, by the browser, from real pages
(app/static/help/*.png, copies in test-output/), and every page links to it."""
from datetime import timedelta
from pathlib import Path

from app.extensions import db
from app.models import local_today
from app.services import production, wages
from tests.browser.conftest import sign_in_staff, sign_in_worker

HELP_PICTURES = Path(__file__).resolve().parents[2] / "app" / "static" / "help"


def _world(make):
    station = make.station(name="东城幸福就业车间")
    make.staff("supervisor", station=station, username="zhan", password="correct-horse")
    make.staff("admin", username="boss", password="correct-horse")
    worker = make.worker(station=station, name="王秀英", phone="13900000001", pin="258036")
    order = make.order(station=station, product=make.product(name="黑枸杞礼盒折叠", piece_rate="0.3500"), quantity=2000)
    batch = production.issue_batch(order=order, worker=worker, quantity=200,
                                   due_date=local_today() + timedelta(days=5))
    production.record_return(batch=batch, accepted=60, rejected=3, note="胶水溢出")
    period = wages.create_pay_period(*wages.month_bounds(local_today()))
    db.session.commit()
    return order, batch, period


def _picture(page, shot, name):
    HELP_PICTURES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(HELP_PICTURES / f"{name}.png"))  # the visible part: small files
    shot(page, f"help-{name}")


def test_the_guide_is_illustrated_from_real_pages_and_linked_from_every_page(live, page_at, shot):
    server, make = live
    order, batch, period = _world(make)
    counter = page_at("tablet")
    sign_in_staff(counter, server.url, "zhan", "correct-horse")
    assert counter.locator("a.help-link").get_attribute("href") == "/help#supervisor"
    counter.goto(f"{server.url}/orders/{order.id}/issue")
    _picture(counter, shot, "issue")
    counter.goto(f"{server.url}/batches/{batch.id}/return")
    _picture(counter, shot, "return")
    office = page_at("tablet")
    sign_in_staff(office, server.url, "boss", "correct-horse")
    office.goto(f"{server.url}/pay-periods/{period.id}/close")
    _picture(office, shot, "close-period")
    phone = page_at("phone")
    sign_in_worker(phone, server.url, "13900000001", "258036")
    _picture(phone, shot, "worker-home")
    assert phone.locator("a.help-link").get_attribute("href") == "/help#worker"

    for page, size in ((office, "tablet"), (phone, "phone")):
        page.goto(f"{server.url}/help")
        assert "发料" in page.locator("#supervisor").inner_text() and "Wi-Fi" in page.content()
        for img in page.locator(".help-section img").all():
            img.scroll_into_view_if_needed()
            assert img.evaluate("i => i.complete && i.naturalWidth > 0")
        shot(page, f"help-{size}")
    office.goto(f"{server.url}/help?lang=en")
    assert "When the Wi-Fi is down" in office.content()
    anonymous = page_at("phone")
    anonymous.goto(f"{server.url}/w/login")
    assert anonymous.locator("a.help-link").count() == 1
