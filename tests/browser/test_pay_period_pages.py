"""The admin's pay period page in real Chromium at tablet (1024×768) and phone (390×844) size:
the statements a page at a time, the pager and the search for one worker's statement, nothing
wider than the screen but the table itself (it scrolls in its own box)."""
import re
from datetime import timedelta

import pytest

from tests.browser.conftest import sign_in_staff
from tests.wages_fixtures import close, issue_on, period_for, previous_month, return_on

NAMES = ("赵丽", "钱芳", "孙敏", "李娜", "周静", "吴燕", "郑桂兰")


@pytest.fixture
def closed_period(live, monkeypatch):
    server, make = live
    monkeypatch.setattr("app.wages.views.PERIOD_PER_PAGE", 3)  # seven statements: three pages
    start, end = previous_month()
    station = make.station(name="东城幸福就业车间")
    order = make.order(station=station, product=make.product(name="黑枸杞礼盒折叠", piece_rate="0.3500"),
                       quantity=20_000)
    for i, name in enumerate(NAMES):
        worker = make.worker(station=station, name=name, phone=f"1390000{i:04d}")
        return_on(issue_on(make, order, worker, 2000, start), start + timedelta(days=2), accepted=1200 + 37 * i)
    period = period_for(start, end)
    close(period)
    make.staff("admin", username="boss", password="correct-horse")
    return server, period


@pytest.mark.parametrize("size", ["tablet", "phone"])
def test_admin_pages_through_the_statements_and_finds_one(closed_period, page_at, shot, size):
    server, period = closed_period
    page = page_at(size)
    sign_in_staff(page, server.url, "boss", "correct-horse")
    page.goto(f"{server.url}/pay-periods/{period.id}")
    rows = page.locator("table.payroll tbody tr")
    assert rows.count() == 3 and "第 1 页，共 3 页" in page.locator("nav.pager").inner_text()
    assert page.locator(".stat-value").first.inner_text() == "7"  # the whole period's workers
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, f"wages-period-page1-{size}")
    first_page = rows.all_inner_texts()
    page.click("nav.pager >> text=下一页")
    page.wait_for_url(re.compile(r"[?&]page=2$"))
    assert rows.count() == 3 and rows.all_inner_texts() != first_page
    assert page.locator("a", has_text="打印全部结算单").is_visible()  # the period's actions on every page
    page.fill("input[name=q]", "孙")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url(re.compile(r"[?&]q="))
    assert rows.count() == 1 and "孙敏" in rows.first.inner_text()
    assert "7 份结算单中有 1 份" in page.locator("main").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, f"wages-period-search-{size}")
    page.fill("input[name=q]", "x" * 60)
    page.click("form[role=search] button[type=submit]")
    assert "最多 50 个字" in page.locator("#q-error").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, f"wages-period-bad-search-{size}")
