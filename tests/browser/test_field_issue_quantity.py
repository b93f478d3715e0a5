"""The issue form's quantity follows the worker tapped (her pace to the due date), follows the
due date, and never overwrites a quantity typed by hand — in real Chromium at phone size, where
every item of the navigation is in sight."""
from datetime import timedelta

from tests.browser.conftest import sign_in_staff
from tests.functional.test_field_issue import _paced_station

QTY = ".issue-form input[name=quantity]"  # the search form carries a hidden copy too
DUE = ".issue-form input[name=due_date]"


def test_the_quantity_follows_the_worker_tapped_and_the_due_date(live, page_at, shot, clock):
    server, make = live
    station, order, fast, new = _paced_station(make, clock)
    make.staff("supervisor", station=station, username="zhan", password="correct-horse")
    page = page_at("phone")
    sign_in_staff(page, server.url, "zhan", "correct-horse")
    page.goto(f"{server.url}/orders/{order.id}/issue")
    # Every item of the navigation is in sight on the phone (it wraps; no sideways strip hides any).
    edges = page.evaluate("[...document.querySelectorAll('nav.mainnav a')].map(a => a.getBoundingClientRect().right)")
    assert len(edges) >= 5 and max(edges) <= 390
    assert page.input_value(QTY) == "56"  # the station's middle worker, 8 days at 70 % of 10
    make.batch(order=order, worker=fast, quantity=50)  # she now holds 50: a reload shows it
    page.reload()
    page.click("label.worker-pick:has-text('王快')")
    assert page.input_value(QTY) == "6"
    assert "交货日期前能做完 6 件" in page.inner_text("#quantity-why")
    page.fill(DUE, (clock.today + timedelta(days=2)).isoformat())
    page.dispatch_event(DUE, "change")
    # Her 50 are due in a week (8 days, both counted): for a batch due in 3 days they compete
    # for 3/8 of them, 18.75, against 3 days at 70 % of 10 = 21: 2 (docs/pace.md).
    assert page.input_value(QTY) == "2"
    page.fill(DUE, clock.today.isoformat())
    page.dispatch_event(DUE, "change")
    assert page.input_value(QTY) == ""  # 1 day: 7 against 6.25 of hers is less than one piece
    assert "已够做到交货日期" in page.inner_text("#quantity-why")
    page.fill(DUE, (clock.today + timedelta(days=7)).isoformat())
    page.dispatch_event(DUE, "change")
    page.click("label.worker-pick:has-text('李新')")
    assert page.input_value(QTY) == "56"
    shot(page, "field-issue-quantity-phone")
    page.fill(QTY, "33")
    page.click("label.worker-pick:has-text('王快')")
    assert page.input_value(QTY) == "33"  # typed by hand: kept
