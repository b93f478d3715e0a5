"""Each role signs in and lands on its home, at tablet and phone size, in real Chromium."""
import pytest

from tests.browser.conftest import sign_in_staff, sign_in_worker


@pytest.mark.parametrize("size", ["tablet", "phone"])
def test_each_role_signs_in_and_sees_its_home(live, page_at, shot, size):
    server, make = live
    station = make.station(name="东城幸福就业车间")
    make.staff("admin", username="boss", password="correct-horse")
    make.staff("supervisor", station=station, username="zhan", password="correct-horse")
    make.worker(station=station, name="王秀英", phone="13900000001", pin="258036")

    page = page_at(size)
    page.goto(f"{server.url}/login")
    assert page.locator("h1").inner_text() == "员工登录"
    shot(page, f"login-staff-{size}")
    sign_in_staff(page, server.url, "boss", "correct-horse")
    assert "企业总览" in page.locator("h1").inner_text()
    shot(page, f"home-admin-{size}")

    page = page_at(size)
    sign_in_staff(page, server.url, "zhan", "correct-horse")
    assert page.locator("h1").first.inner_text() == "东城幸福就业车间"
    shot(page, f"home-supervisor-{size}")

    page = page_at(size)
    page.goto(f"{server.url}/w/login")
    assert page.get_attribute("input[name=pin]", "inputmode") == "numeric"
    shot(page, f"login-worker-{size}")
    sign_in_worker(page, server.url, "13900000001", "258036")
    assert "王秀英" in page.locator("h1").first.inner_text()
    shot(page, f"home-worker-{size}")


def test_touch_targets_are_large_enough_on_a_phone(live, page_at):
    server, make = live
    page = page_at("phone")
    page.goto(f"{server.url}/w/login")
    for selector in ("input[name=phone]", "input[name=pin]", "button[type=submit]"):
        box = page.locator(selector).bounding_box()
        assert box["height"] >= 44, selector


def test_language_switch_shows_english(live, page_at):
    server, _make = live
    page = page_at("tablet")
    page.goto(f"{server.url}/login")
    page.click("text=English")
    assert page.locator("h1").inner_text() == "Staff sign-in"
