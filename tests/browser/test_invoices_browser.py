"""An admin issues an invoice in real Chromium, opens it, prints it (print media), voids it."""
from app.services import invoicing
from tests.browser.conftest import open_nav, sign_in_staff
from tests.invoices_fixtures import accepted_pieces


def test_admin_issues_prints_and_voids_an_invoice_at_tablet_size(live, page_at, shot):
    server, make = live
    make.staff("admin", username="boss", password="correct-horse")
    invoicing.update_enterprise_settings(name="东城幸福就业车间运营有限公司", address="东城区幸福路 8 号",
                                         tax_id="91110101MA00000000", bank_name="中国银行东城支行",
                                         bank_account="6216000012345678")
    from app.extensions import db

    db.session.commit()
    customer = make.client(name="宁夏红枸杞礼盒有限公司", address="银川市兴庆区")
    accepted_pieces(make, client=customer, orders=((2000, "0.6000", 1234), (500, "1.2500", 100)))

    page = page_at("tablet")
    sign_in_staff(page, server.url, "boss", "correct-horse")
    open_nav(page, "结算单")
    page.click("text=开客户结算单")
    page.select_option("#pick_client", label="宁夏红枸杞礼盒有限公司")
    page.click("text=显示订单")
    page.click("text=改为截至今天")  # the pieces were accepted today, after the default (last month's end)
    assert page.locator("input.inv-check:checked").count() == 2
    assert page.inner_text("#inv-total") == "¥865.40"
    page.uncheck("input.inv-check >> nth=1")
    assert page.inner_text("#inv-total") == "¥740.40"  # the running total, in the page
    page.check("input.inv-check >> nth=1")
    page.click("#issue-form button.btn-primary")
    page.wait_for_url("**/invoices/*")
    assert "¥865.40" in page.inner_text(".invoice-doc")
    assert "捌佰陆拾伍元肆角整" in page.inner_text(".invoice-doc")
    shot(page, "invoice-detail-tablet")

    page.click(".actions >> text=打印")
    page.wait_for_url("**/print")
    page.emulate_media(media="print")
    assert not page.locator(".topbar").is_visible()  # the navigation does not print
    assert page.locator(".invoice-doc").is_visible()
    shot(page, "invoice-print-tablet")
    page.emulate_media(media="screen")
    page.click("text=返回")

    page.fill("input[name=reason]", "单价有误")
    page.click("text=作废并开具红字冲销单")
    page.wait_for_load_state()
    assert "CN-" in page.inner_text("main")
    assert "已作废" in page.inner_text("h1")

    open_nav(page, "对账单")
    page.select_option("#client_id", label="宁夏红枸杞礼盒有限公司")
    page.click("form.inv-filter button[type=submit]")
    assert "月度对账单" in page.inner_text("main")
    assert "¥865.40" in page.inner_text(".st-summary")  # invoiced, then credited
    shot(page, "invoice-statement-tablet")
