"""Browser tests: real headless Chromium (Debian's) driven by Playwright against the app
served by a live werkzeug server on a loopback port, with a SQLite database of its own."""
from __future__ import annotations

import shutil
import threading

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db as _db
from tests.makers import Makers

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage", "--disable-quic"]
TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()


@pytest.fixture
def live(tmp_path):
    """A running app with its own database; yields (server, makers) inside an app context."""
    app = create_app({"TESTING": True, "SECRET_KEY": "browser", "FAST_PASSWORD_HASH": True,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'live.sqlite3'}"})
    with app.app_context():
        _db.create_all()
        with LiveServer(app) as server:
            yield server, Makers()
            _db.session.remove()


@pytest.fixture
def page_at(browser, clock):
    """``page_at("tablet"|"phone")`` → a new page in a fresh browser context of that size, in the
    workshop's timezone, its clock (``Date``) starting at the test's "now" (tests/clock.py)."""
    contexts = []

    def _page(size="tablet", locale="zh-CN"):
        viewport = TABLET if size == "tablet" else PHONE
        ctx = browser.new_context(viewport=viewport, locale=locale, device_scale_factor=1, timezone_id=str(clock.now.tzinfo),
                                  is_mobile=size == "phone", has_touch=size == "phone")
        ctx.clock.set_system_time(clock.now)
        contexts.append(ctx)
        return ctx.new_page()

    yield _page
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def shot(output_dir):
    """Save a full-page screenshot under test-output/screenshots/."""
    folder = output_dir / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)

    def _shot(page, name):
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot


def sign_in_staff(page, base_url, username, password):
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/home")


def open_nav(page, label):
    """Follow a link of the main navigation as a person would: open its menu first when the
    link sits in a closed group (the admin's navigation is grouped)."""
    link = page.locator("nav.mainnav a", has_text=label).first
    if not link.is_visible():
        link.locator("xpath=ancestor::details[1]/summary").click()
    link.click()


def sign_in_worker(page, base_url, phone, pin):
    page.goto(f"{base_url}/w/login")
    page.fill("input[name=phone]", phone)
    page.fill("input[name=pin]", pin)
    page.click("button[type=submit]")
    page.wait_for_url("**/home")
