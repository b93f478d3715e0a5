"""An admin defines a two-step wig on the product's page in real Chromium: adds the second
step with its rate, puts it first while nothing is handed out, renames it and gives it a
rate from next week. Tablet and phone screenshots in test-output/screenshots/."""
from datetime import timedelta

from app.extensions import db
from app.models import ProductStep
from tests.browser.conftest import open_nav, sign_in_staff


def test_an_admin_defines_and_edits_the_steps_of_a_wig(live, page_at, shot, clock):
    server, make = live
    make.staff("admin", username="boss", password="correct-horse")
    make.product(client=make.client(name="瑞发假发制品厂"), name="假发", unit="顶", piece_rate="38.0000",
                 unit_price="60.0000")
    page = page_at("tablet")
    sign_in_staff(page, server.url, "boss", "correct-horse")
    open_nav(page, "品种")
    page.locator("tr", has_text="假发").get_by_role("link", name="修改").click()
    page.fill("input[name=step-name]", "整理")
    page.fill("input[name=step-piece_rate]", "6.5")
    page.get_by_role("button", name="添加这道工序").click()
    page.wait_for_selector("text=已添加工序 整理")
    rows = page.locator(".steps-table tbody tr")
    assert rows.count() == 2 and "¥6.50" in rows.nth(1).inner_text()
    page.get_by_role("button", name="上移 整理").click()  # trimming first: nothing handed out yet
    page.wait_for_selector("text=已调整工序顺序")
    assert "整理" in page.locator(".steps-table tbody tr").first.inner_text()
    # and back: the notice of the first move is still on the page, so wait for the new page itself
    with page.expect_navigation():
        page.get_by_role("button", name="上移 假发").click()
    assert "假发" in page.locator(".steps-table tbody tr").first.inner_text()
    page.locator(".steps-table tbody tr").first.get_by_role("link", name="改名或调价").click()
    page.fill("input[name=rename-name]", "打结")
    page.get_by_role("button", name="保存名称").click()
    page.wait_for_selector("text=工序 打结 已保存")
    shot(page, "steps-product-tablet")
    page.locator(".steps-table tbody tr").first.get_by_role("link", name="改名或调价").click()
    next_week = (clock.today + timedelta(days=7)).isoformat()
    page.fill("input[name=rate-piece_rate]", "40")
    page.fill("input[name=rate-effective_on]", next_week)
    page.get_by_role("button", name="保存单价").click()
    page.wait_for_selector("text=打结 的新单价已保存")
    history = page.locator(".rate-history tbody tr")
    assert history.count() == 2 and "待生效" in history.first.inner_text() and next_week in history.first.inner_text()
    # A rate for a past day is refused on the page, in Chinese, and nothing is stored.
    page.fill("input[name=rate-piece_rate]", "41")
    page.fill("input[name=rate-effective_on]", (clock.today - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="保存单价").click()
    page.wait_for_selector("text=单价只能从今天或以后生效")
    shot(page, "steps-step-refused-tablet")
    db.session.expire_all()
    assert [(st.seq, st.name) for st in db.session.query(ProductStep).order_by(ProductStep.seq)] == [(1, "打结"), (2, "整理")]

    phone = page_at("phone")
    sign_in_staff(phone, server.url, "boss", "correct-horse")
    product_id = db.session.query(ProductStep).first().product_id
    phone.goto(f"{server.url}/products/{product_id}/edit")
    assert phone.locator(".steps-table").is_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width  # no sideways scroll of the page itself
    shot(phone, "steps-product-phone")
    phone.locator(".steps-table tbody tr").first.get_by_role("link", name="改名或调价").click()
    shot(phone, "steps-step-phone")
