"""A supervisor sees what the jobs found on the home page and dismisses it; the admin reads
the job history — in real Chromium, at tablet and phone size."""
from datetime import timedelta

import pytest

from app import jobs
from app.services import jobs_service
from tests.browser.conftest import sign_in_staff
from tests.jobs_fixtures import days_ago


@pytest.mark.parametrize("size", ["tablet", "phone"])
def test_supervisor_dismisses_an_overdue_batch_notice(live, page_at, shot, size):
    server, make = live
    station = make.station(name="东城幸福就业车间")
    make.staff("supervisor", station=station, username="zhan", password="correct-horse")
    make.staff("admin", username="boss", password="correct-horse")
    order = make.order(station=station, quantity=500, due_in_days=2)
    worker = make.worker(station=station, name="王秀英")
    batch = make.batch(order=order, worker=worker, quantity=40, issued_on=days_ago(9), due_date=days_ago(2))
    jobs.run_claimed("mark_overdue")
    jobs.run_claimed("flag_orders_at_risk", jobs_service.now_tick() + timedelta(days=1500))

    page = page_at(size)
    sign_in_staff(page, server.url, "zhan", "correct-horse")
    panel = page.locator("section.notices")
    assert panel.locator(".badge").inner_text() == "2"
    assert batch.code in panel.inner_text() and "王秀英" in panel.inner_text()
    shot(page, f"jobs-notices-{size}")
    panel.locator("li.notice-overdue_batch li.notice button").click()
    page.wait_for_url("**/home")
    assert page.locator("section.notices .badge").inner_text() == "1"
    assert batch.code not in page.locator("section.notices").inner_text()

    admin = page_at(size)
    sign_in_staff(admin, server.url, "boss", "correct-horse")
    admin.goto(f"{server.url}/admin/jobs")
    assert "标记逾期发料单" in admin.locator("table").first.inner_text()
    assert admin.locator("table.job-runs tbody tr").count() == 2
    shot(admin, f"jobs-history-{size}")


def test_admin_switches_the_automatic_pay_period_close_on(live, page_at, shot):
    server, make = live
    make.staff("admin", username="boss", password="correct-horse")
    page = page_at("tablet")
    sign_in_staff(page, server.url, "boss", "correct-horse")
    page.goto(f"{server.url}/admin/jobs")
    page.click("text=自动关闭：未开启")
    page.check("input[name=enabled]")
    page.fill("input[name=day]", "6")
    shot(page, "jobs-auto-close-tablet")
    page.click("button[type=submit]:has-text('保存')")
    assert "已保存" in page.locator(".flashes").inner_text()
    page.goto(f"{server.url}/admin/jobs")
    assert "自动关闭：已开启，每月 6 日" in page.locator("table.jobs-table").inner_text()
