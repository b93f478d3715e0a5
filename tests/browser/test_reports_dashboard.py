"""The station dashboard's charts and the report pages render in real Chromium, at tablet and
phone size, with the charts' numbers also in tables; screenshots go to test-output/."""
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import local_today
from app.services import production
from tests.browser.conftest import sign_in_staff


def _busy_station(make):
    station = make.station(name="东城幸福就业车间")
    make.staff("supervisor", station=station, username="zhan", password="correct-horse")
    make.staff("admin", username="boss", password="correct-horse")
    order = make.order(station=station, quantity=100000)
    today = local_today()
    for i in range(12):
        worker = make.worker(station=station, name=f"工人{i:02d}", gender="F", birth_year=1975 + i)
        batch = production.issue_batch(order=order, worker=worker, quantity=8000,
                                       issued_on=today - timedelta(days=25), due_date=today - timedelta(days=1 + i % 2))
        db.session.commit()
        for day in range(0, 25, 3):
            # today's returns alone spread the workers over several earnings bands, so the
            # month holds them on its 1st day as on its 31st
            today_extra = 250 * i if day == 0 else 0
            production.record_return(batch=batch, accepted=40 + 35 * i + day + today_extra,
                                     work_date=today - timedelta(days=day))
            db.session.commit()
    return station


def _canvas_has_pixels(page, selector):
    return page.evaluate("""(sel) => {
        const c = document.querySelector(sel);
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let painted = 0;
        for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) painted++; }
        return painted;
    }""", selector)


@pytest.mark.parametrize("size", ["tablet", "phone"])
def test_dashboard_charts_render_and_fit_the_screen(live, page_at, shot, size):
    server, make = live
    _busy_station(make)
    page = page_at(size)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in_staff(page, server.url, "zhan", "correct-horse")
    page.wait_for_selector("#chart-pieces[data-rendered='1']")
    page.wait_for_selector("#chart-bands[data-rendered='1']")
    assert not errors
    for selector in ("#chart-pieces", "#chart-bands"):
        assert _canvas_has_pixels(page, selector) > 500, selector
        box = page.locator(selector).bounding_box()
        assert box["height"] >= 180 and box["width"] > 250
    # the charts' numbers are in tables for screen readers
    assert page.locator("#table-pieces tbody tr").count() == 30
    assert page.locator("#table-bands tbody tr").count() >= 2
    # nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert page.locator(".stat").count() == 6
    shot(page, f"reports-dashboard-supervisor-{size}")


def test_admin_sees_the_report_and_the_district_dashboard(live, page_at, shot):
    server, make = live
    _busy_station(make)
    page = page_at("tablet")
    sign_in_staff(page, server.url, "boss", "correct-horse")
    page.wait_for_selector("#chart-pieces[data-rendered='1']")
    assert "全区看板" in page.locator("#dashboard-title").inner_text()
    shot(page, "reports-dashboard-admin-tablet")
    page.goto(f"{server.url}/reports/employment")
    assert page.locator("#employment-table tbody tr").count() == 2
    assert "统计口径" in page.content()
    shot(page, "reports-employment-tablet")
    page.goto(f"{server.url}/reports/roster")
    assert page.locator("#roster-table tbody tr").count() == 12
    shot(page, "reports-roster-tablet")
    page = page_at("phone")
    sign_in_staff(page, server.url, "boss", "correct-horse")
    page.goto(f"{server.url}/reports/employment")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, "reports-employment-phone")


def test_admin_registers_a_policy_and_covers_the_uninsured_from_the_dashboard(live, page_at, shot):
    server, make = live
    _busy_station(make)
    today = local_today()
    page = page_at("tablet")
    sign_in_staff(page, server.url, "boss", "correct-horse")
    page.goto(f"{server.url}/reports/insurance")
    page.fill("input[name=insurer]", "中国人民财产保险")
    page.fill("input[name=policy_number]", "PICC-2026-0001")
    page.fill("input[name=start]", today.replace(day=1).isoformat())
    page.fill("input[name=end]", (today + timedelta(days=365)).isoformat())
    page.fill("input[name=premium_per_person_month]", "6.50")
    page.click("form:has(input[name=insurer]) button[type=submit]")
    page.wait_for_url("**/reports/insurance/*")
    shot(page, "reports-policy-tablet")
    page.goto(f"{server.url}/home")
    assert page.locator("#dash-uninsured .tag").count() == 12
    page.click("#dash-uninsured button[type=submit]")
    page.wait_for_url("**/home")
    assert "12" in page.locator(".flash").first.inner_text()
    assert page.locator("#dash-uninsured").count() == 0
    shot(page, "reports-dashboard-admin-covered-tablet")
