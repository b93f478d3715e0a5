"""The counter with the Wi-Fi pulled (rule 13), in real Chromium: returns tapped offline wait
on the tablet through reloads and sign-outs and reach the server exactly once; what the
server refuses comes back as "needs attention" and is fixed by a person, never dropped.

The network is cut twice over: ``context.set_offline`` for the page and the Wifi relay
(tests/browser/wifi.py) for everything, the service worker's own fetches included."""
from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Batch, Return
from app.services.ledger import check_ledger
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, TABLET, sign_in_staff
from tests.browser.wifi import PASSWORD, Wifi, cut, ready_for_offline, restore, wait_badge


@pytest.fixture
def wifi(live):
    server, _make = live
    relay = Wifi(server.server.server_port)
    yield relay
    relay.close()


def set_up(make, batches=10, quantity=100, supervisors=("zhan",)):
    station = make.station(name="东城幸福就业车间")
    for name in supervisors:
        make.staff("supervisor", station=station, username=name, password=PASSWORD)
    order = make.order(station=station, product=make.product(name="黑枸杞礼盒折叠"), quantity=batches * quantity + 100)
    return [make.batch(order=order, worker=make.worker(station=station, name=f"工人{i + 1}"), quantity=quantity)
            for i in range(batches)]


def tap_on_page(page, base, batch, accepted, rejected=0, by_code=False):
    """Open the batch's return page as the supervisor would (the ticket's QR address, or the
    typed code) and save; answers at once with the tablet's own receipt."""
    page.goto(f"{base}/scan?code={batch.code.lower()}" if by_code else f"{base}/batches/{batch.id}/return")
    page.wait_for_selector("#return-form:not([hidden])")
    page.fill("input[name=rejected]", str(rejected))
    page.fill("input[name=accepted]", str(accepted))
    page.click("#save-return")
    page.wait_for_selector("#local-receipt:not([hidden])")
    assert page.locator(".local-receipt-state").get_attribute("data-state") == "pending"
    return int(page.locator("#local-receipt").get_attribute("data-tap-ms"))


def server_returns():
    db.session.rollback()  # see what the server committed
    return db.session.scalars(select(Return).order_by(Return.id)).all()


def assert_ledger(batches):
    """Every batch's counters equal the sum of its returns and never exceed what was issued."""
    db.session.rollback()
    for b in batches:
        row = db.session.get(Batch, b.id)
        db.session.refresh(row)
        sums = db.session.execute(select(func.coalesce(func.sum(Return.accepted), 0), func.coalesce(func.sum(Return.rejected), 0),
                                         func.coalesce(func.sum(Return.unused), 0)).where(Return.batch_id == b.id)).one()
        assert (row.accepted, row.rejected, row.unused) == tuple(sums)
        assert row.accepted + row.rejected + row.unused <= row.quantity
    assert check_ledger() == []


def test_fifty_returns_offline_survive_two_reloads_and_reach_the_server_exactly_once(live, wifi, browser, shot):
    server, make = live
    batches = set_up(make)
    context = browser.new_context(viewport=TABLET, locale="zh-CN", device_scale_factor=1)
    page = context.new_page()
    ready_for_offline(page, wifi.url)
    cut(context, wifi)
    slowest = 0
    for i in range(50):
        batch = batches[i % 10]
        slowest = max(slowest, tap_on_page(page, wifi.url, batch, accepted=3, rejected=1, by_code=i % 5 == 0))
        if i == 4:
            shot(page, "counter-local-receipt-offline-tablet")
    wait_badge(page, 50)
    assert slowest < 500  # the tablet's answer to a tap (the bench holds it under 100 ms)
    shot(page, "counter-badge-50-waiting-tablet")
    for _ in range(2):
        page.reload()
        wait_badge(page, 50)
    page.goto(f"{wifi.url}/counter/outbox")
    assert page.locator("#outbox-pending-list .outbox-entry").count() == 50
    shot(page, "counter-outbox-list-offline-tablet")
    assert server_returns() == []

    restore(context, wifi)
    wait_badge(page, 0, timeout=60)
    rows = server_returns()
    assert len(rows) == 50
    assert sum(r.accepted for r in rows) == 150 and sum(r.rejected for r in rows) == 50
    assert {r.batch_id for r in rows} == {b.id for b in batches}
    assert_ledger(batches)
    context.close()


def test_a_queued_over_return_comes_back_as_needs_attention_and_is_resent_after_editing(live, wifi, browser, shot):
    server, make = live
    batch, spare = set_up(make, batches=2, quantity=20)
    context = browser.new_context(viewport=TABLET, locale="zh-CN", device_scale_factor=1)
    page = context.new_page()
    ready_for_offline(page, wifi.url)
    cut(context, wifi)
    tap_on_page(page, wifi.url, batch, accepted=15)
    tap_on_page(page, wifi.url, spare, accepted=20)
    # The tablet refuses what it can already tell is too much.
    page.goto(f"{wifi.url}/batches/{batch.id}/return")
    page.wait_for_selector("#return-form:not([hidden])")
    assert page.locator("#outstanding").inner_text() == "5"
    # Meanwhile 10 of the first batch were recorded elsewhere (the office PC), 20 of the spare.
    make.return_(batch=db.session.get(Batch, batch.id), accepted=10)
    make.return_(batch=db.session.get(Batch, spare.id), accepted=1)
    restore(context, wifi)
    page.goto(f"{wifi.url}/counter/outbox")
    wait_badge(page, 0, attention=2)
    cards = page.locator("#outbox-attention-list .outbox-entry")
    assert cards.count() == 2
    assert "最多" in cards.first.locator(".outbox-message").inner_text()
    shot(page, "counter-needs-attention-tablet")

    # The first: fewer accepted, sent again. The second: discarded with a reason.
    first = cards.nth(0)
    first.locator("input[name=accepted]").fill("10")
    first.locator(".outbox-resend").click()
    wait_badge(page, 0, attention=1)
    second = page.locator("#outbox-attention-list .outbox-entry").first
    second.locator("input[name=reason]").fill("重复录入")
    second.locator(".outbox-discard-button").click()
    wait_badge(page, 0, attention=0)

    rows = server_returns()
    assert [(r.batch_id, r.accepted) for r in rows] == [(batch.id, 10), (spare.id, 1), (batch.id, 10)]
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("offline_%"))).all()
    assert sorted(actions) == ["offline_discard", "offline_resend"]
    assert_ledger([batch, spare])
    context.close()


def test_two_tablets_offline_on_one_batch_the_second_ones_excess_needs_attention(live, wifi, browser):
    server, make = live
    (batch,) = set_up(make, batches=1, quantity=100, supervisors=("zhan", "lisi"))
    tablets = []
    for user in ("zhan", "lisi"):
        context = browser.new_context(viewport=TABLET, locale="zh-CN", device_scale_factor=1)
        page = context.new_page()
        ready_for_offline(page, wifi.url, user)
        tablets.append((context, page))
    cut(tablets[0][0], wifi)
    tablets[1][0].set_offline(True)
    for _context, page in tablets:
        tap_on_page(page, wifi.url, batch, accepted=60)
    restore(tablets[0][0], wifi)
    wait_badge(tablets[0][1], 0)
    tablets[1][0].set_offline(False)
    page = tablets[1][1]
    wait_badge(page, 0, attention=1)
    rows = server_returns()
    assert [r.accepted for r in rows] == [60]
    assert_ledger([batch])
    page.goto(f"{wifi.url}/counter/outbox")
    card = page.locator("#outbox-attention-list .outbox-entry").first
    assert "40" in card.locator(".outbox-message").inner_text()
    for context, _page in tablets:
        context.close()


def test_records_survive_a_server_error_sign_out_and_a_closed_browser(live, wifi, browser, tmp_path):
    """A 5xx keeps the record (back-off); signing out warns and keeps it; the browser closed
    and opened again still has it, and it is sent once the supervisor signs in again."""
    server, make = live
    (batch,) = set_up(make, batches=1)
    profile = tmp_path / "tablet-profile"
    chromium = browser.browser_type
    if True:
        context = chromium.launch_persistent_context(str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                                        headless=True, viewport=TABLET, locale="zh-CN")
        page = context.new_page()
        ready_for_offline(page, wifi.url)
        context.route("**/counter/returns", lambda route: route.fulfill(status=503, body="busy"))
        page.goto(f"{wifi.url}/batches/{batch.id}/return")
        page.fill("input[name=accepted]", "7")
        page.click("#save-return")
        page.wait_for_selector("#local-receipt:not([hidden])")
        page.wait_for_timeout(1500)
        wait_badge(page, 1)
        assert server_returns() == []
        page.click(".topbar-end button[type=submit]")
        warning = page.locator("#signout-warning")
        warning.wait_for()
        assert "1" in warning.inner_text()
        page.click("#signout-anyway")
        page.wait_for_url("**/login**")
        context.close()

        context = chromium.launch_persistent_context(str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                                        headless=True, viewport=TABLET, locale="zh-CN")
        page = context.new_page()
        sign_in_staff(page, wifi.url, "zhan", PASSWORD)
        wait_badge(page, 0, timeout=40)
        context.close()
    rows = server_returns()
    assert [r.accepted for r in rows] == [7]


def test_chaos_flipping_the_network_while_tapping_loses_and_doubles_nothing(live, wifi, browser):
    """The suite's short variant (60 taps, ≥ 30 flips); `python -m bench.offline` runs 500
    taps with ≥ 200 flips."""
    server, make = live
    batches = set_up(make, batches=10, quantity=200)
    context = browser.new_context(viewport=TABLET, locale="zh-CN", device_scale_factor=1)
    page = context.new_page()
    ready_for_offline(page, wifi.url)
    page.goto(f"{wifi.url}/counter/outbox")
    rng = random.Random(16)
    taps = 60
    flips_before = wifi.flips
    for i in range(taps):
        b = batches[i % 10]
        page.evaluate("([id, code]) => JijianOutbox.tap({batch_id: id, batch_code: code, accepted: 1})", [b.id, b.code])
        if rng.random() < 0.6:
            if wifi.is_up:
                cut(context, wifi)
            else:
                restore(context, wifi)
        page.wait_for_timeout(rng.randint(0, 25))
    assert wifi.flips - flips_before >= 30
    restore(context, wifi)
    wait_badge(page, 0, timeout=90)
    rows = server_returns()
    assert len(rows) == taps
    assert sum(r.accepted for r in rows) == taps
    assert_ledger(batches)
    context.close()


def test_the_counter_offline_at_phone_size(live, wifi, browser, shot):
    server, make = live
    (batch,) = set_up(make, batches=1)
    context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=1, is_mobile=True, has_touch=True)
    page = context.new_page()
    ready_for_offline(page, wifi.url)
    cut(context, wifi)
    page.goto(f"{wifi.url}/batches/{batch.id}/return")
    page.wait_for_selector("#return-form:not([hidden])")
    assert page.locator("#outstanding").inner_text() == "100"
    shot(page, "counter-return-offline-phone")
    tap_on_page(page, wifi.url, batch, accepted=40, rejected=2)
    wait_badge(page, 1)
    shot(page, "counter-local-receipt-offline-phone")
    page.goto(f"{wifi.url}/board")
    page.goto(f"{wifi.url}/counter/outbox")
    assert page.locator("#outbox-pending-list .outbox-entry").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 391
    shot(page, "counter-outbox-offline-phone")
    context.close()


def qr_video(path, text: str) -> None:
    """A Y4M clip of the ticket's QR code for Chromium's fake camera."""
    import io

    import segno
    from PIL import Image

    buf = io.BytesIO()
    segno.make(text, error="m").save(buf, kind="png", scale=8, border=4)
    code = Image.open(buf).convert("RGB")
    frame = Image.new("RGB", (640, 480), "white")
    frame.paste(code, ((640 - code.width) // 2, (480 - code.height) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    planes = y.tobytes() + cb.resize((320, 240)).tobytes() + cr.resize((320, 240)).tobytes()
    with open(path, "wb") as fh:
        fh.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(3):
            fh.write(b"FRAME\n" + planes)


def test_the_tickets_qr_code_scans_with_the_camera_offline(live, wifi, browser, tmp_path, shot):
    server, make = live
    batch, other = set_up(make, batches=2)
    video = tmp_path / "ticket.y4m"
    qr_video(video, f"{wifi.url}/batches/{batch.id}/return")
    camera = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True,
        args=CHROMIUM_ARGS + ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                              f"--use-file-for-fake-video-capture={video}"])
    try:
        context = camera.new_context(viewport=TABLET, locale="zh-CN", device_scale_factor=1)
        context.grant_permissions(["camera"], origin=wifi.url)
        page = context.new_page()
        ready_for_offline(page, wifi.url)
        cut(context, wifi)
        page.goto(f"{wifi.url}/scan")
        page.click("[data-scan-camera]")
        page.wait_for_url(f"**/batches/{batch.id}/return", timeout=20000)
        page.wait_for_selector("#return-form:not([hidden])")
        assert batch.code in page.locator("#shell-head").inner_text()
        shot(page, "counter-scanned-offline-tablet")
        context.close()
    finally:
        camera.close()


def test_a_correction_tapped_offline_is_kept_and_sent_like_a_return(live, wifi, browser):
    server, make = live
    (batch,) = set_up(make, batches=1)
    original = make.return_(batch=db.session.get(Batch, batch.id), accepted=50, rejected=1)
    context = browser.new_context(viewport=TABLET, locale="zh-CN", device_scale_factor=1)
    page = context.new_page()
    ready_for_offline(page, wifi.url)
    page.goto(f"{wifi.url}/batches/{batch.id}/correct?return_id={original.id}")
    cut(context, wifi)
    page.reload()  # the page as kept by the service worker
    page.fill("input[name=accepted]", "-2")
    page.fill("input[name=rejected]", "2")
    page.fill("input[name=reason]", "复检发现 2 个开胶")
    page.click("#correct-form button[type=submit]")
    page.wait_for_selector("#local-receipt:not([hidden])")
    wait_badge(page, 1)
    assert [r.corrects_id for r in server_returns()] == [None]
    restore(context, wifi)
    page.wait_for_url(f"**/batches/{batch.id}", timeout=30000)
    rows = server_returns()
    assert [(r.corrects_id, r.accepted, r.rejected, r.reason) for r in rows][1] == (original.id, -2, 2, "复检发现 2 个开胶")
    assert rows[1].work_date == original.work_date
    assert_ledger([batch])
    context.close()
