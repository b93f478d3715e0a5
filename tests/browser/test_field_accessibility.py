"""The accessibility audit: axe-core (vendored by axe-playwright-python, for tests
only) on every page each role can open — the routes the access matrix says answer 200 — at
tablet and phone size, 0 violations of WCAG 2.1 A and AA; touch targets at least 44×44 px on
the counter and phone pages; every chart with its table; the counter's return form worked
with the keyboard alone.

One browser context per role visits all of that role's pages once, auditing each at tablet
size and again laid out at phone size (one load, one parse of axe, for both)."""
from __future__ import annotations

import time

import pytest
from axe_playwright_python.base import AXE_SCRIPT

from tests.access_matrix import PHONES, QUERIES, ROLE_SCOPES, build_world, routes, url_for_rule
from tests.access_matrix_table import EXPECTED
from tests.browser.conftest import PHONE, TABLET

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
        "resultTypes": ["violations"]}
# Not pages: downloads, pictures, files, the redirect at /.
NOT_PAGES = (".pdf", ".xlsx", ".csv", ".<fmt>", "/picture", "/photo", "/static/", "/healthz", "/sw.js", "/ticket/print",
             "/counter/session", "/counter/snapshot")
ROLE_COLUMN = {"worker": 1, "supervisor": 3, "admin": 5}
# Where people tap with a finger: the counter (supervisor) and the worker's phone.
TOUCH_PAGES = {"supervisor": ("/home", "/scan", "/batches/<batch_id>/return", "/orders/<order_id>/issue",
                              "/batches/<batch_id>/close"),
               "worker": ("/home", "/me/earnings", "/me/batches", "/me/payslips")}


# The pages the walkthrough changed: a screenshot of each at both sizes goes to test-output/screenshots/.
CHANGED = {"GET /home", "GET /me/returns", "GET /me/batches/<batch_id>", "GET /me/payslips/<payslip_id>",
           "GET /me/earnings", "GET /pay-periods/<period_id>", "GET /pay-periods/<period_id>/close",
           "GET /workers/<worker_id>", "GET /workers/<worker_id>/edit", "GET /batches/<batch_id>/close",
           "GET /batches/<batch_id>", "GET /orders/<order_id>/issue", "GET /admin/jobs", "GET /reports/employment",
           "GET /help"}


# Pages whose content appears only for a record named in the query: audited with it.
AUDIT_QUERIES = {"GET /invoices/new": "client_id={client_id}", "GET /orders/<order_id>/issue": "worker_id={worker_id}"}


def pages_for(app, role: str, ids: dict) -> list[tuple[str, str]]:
    """(route key, URL) of every HTML page ``role`` opens with a 200, its own records filled in."""
    out = []
    for key, method, rule in routes(app):
        if method != "GET" or rule.rule.startswith("/api/") or rule.rule == "/" or any(s in rule.rule for s in NOT_PAGES):
            continue
        answer = EXPECTED.get(key, ("",) * 6)[ROLE_COLUMN[role]].split("/")[0]
        if answer != "200":
            continue
        url = url_for_rule(rule, ids)
        query = QUERIES.get(key) or AUDIT_QUERIES.get(key)
        if query:
            url += "?" + query.format(**ids)
        out.append((key, url))
    return out


def axe_violations(page) -> list[str]:
    result = page.evaluate("options => axe.run(document, options)", WCAG)
    return [f"{v['id']} ({v['impact']}): {v['help']} — " + " | ".join(n["target"][0] if isinstance(n["target"][0], str)
                                                                      else str(n["target"]) for n in v["nodes"][:4])
            for v in result["violations"]]


SMALL_TARGETS = """() => {
  const small = [];
  for (const el of document.querySelectorAll('main a.btn, main button, main input:not([type=hidden]), main select, main summary, header a, header button, header summary, .counter a, main .slip-row, main .held-item a')) {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!r.width || !r.height || style.visibility === 'hidden') continue;
    if (el.closest('p, li.definitions, td.empty') && el.tagName === 'A' && !el.classList.contains('btn')) continue;  // inline text links
    const box = el.type === 'checkbox' || el.type === 'radio' ? el.closest('label') || el : el;
    const b = box.getBoundingClientRect();
    if (b.width < 44 || b.height < 44) small.push(`${el.tagName.toLowerCase()}${el.className ? '.' + el.className.split(' ').join('.') : ''} "${(el.innerText || el.value || el.name || '').trim().slice(0, 20)}" ${Math.round(b.width)}×${Math.round(b.height)}`);
  }
  return small;
}"""

CHARTS_WITHOUT_TABLES = """() => [...document.querySelectorAll('canvas, .css-bars')].filter(c => {
  const holder = c.closest('section, .card, figure') || document.body;
  return !holder.querySelector('table');
}).map(c => c.id || c.className)"""


def _sign_in(page, base, role, accounts):
    if role == "worker":
        page.goto(f"{base}/w/login")
        page.fill("input[name=phone]", PHONES["A1"])
        page.fill("input[name=pin]", "258036")
    else:
        page.goto(f"{base}/login")
        page.fill("input[name=username]", accounts[role].username)
        page.fill("input[name=password]", "correct-horse")
    page.click("button[type=submit]")
    page.wait_for_url("**/home")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One app, database and world for the whole audit (built once per test process)."""
    from app import create_app
    from app.extensions import db
    from tests.browser.conftest import LiveServer
    from tests.makers import Makers

    path = tmp_path_factory.mktemp("audit") / "audit.sqlite3"
    app = create_app({"TESTING": True, "SECRET_KEY": "audit", "FAST_PASSWORD_HASH": True,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        db.create_all()
        scopes, accounts = build_world(Makers(), db)
        with LiveServer(app) as server:
            yield server, scopes, accounts
            db.session.remove()


def _audit(page, label: str) -> list[str]:
    return [f"{label}: {v}" for v in axe_violations(page)]


SETTLED = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


def _both_sizes(page, label: str, path: str, role: str, changed: str | None, shot) -> list[str]:
    """Audit the page loaded at tablet size, then the same document laid out again at phone
    size: the app's layout is width media queries only (and the one layout script, app.js's
    scroll boxes, follows resize), so this is what a phone shows, for one load and one parse
    of axe instead of two. Back to tablet size for the next page."""
    problems = _audit(page, f"{label} tablet")
    problems += [f"{label} tablet: chart without a table: {c}" for c in page.evaluate(CHARTS_WITHOUT_TABLES)]
    if changed:
        shot(page, f"field-{role}-tablet-{changed}")
    page.set_viewport_size(PHONE)
    page.evaluate(SETTLED)
    problems += _audit(page, f"{label} phone")
    if path in TOUCH_PAGES.get(role, ()):
        problems += [f"{label} phone: touch target {t}" for t in page.evaluate(SMALL_TARGETS)]
    problems += [f"{label} phone: chart without a table: {c}" for c in page.evaluate(CHARTS_WITHOUT_TABLES)]
    if changed:
        shot(page, f"field-{role}-phone-{changed}")
    page.set_viewport_size(TABLET)
    return problems


@pytest.mark.parametrize("role", ["admin", "supervisor", "worker"])
def test_every_page_of_the_role_passes_axe_with_big_targets_and_tables_for_charts(world, browser, role, shot):
    """One browser context per role walks all of the role's pages once; each page is audited
    at tablet and at phone size (``_both_sizes``)."""
    server, scopes, accounts = world
    ctx = browser.new_context(viewport=TABLET, locale="zh-CN")
    ctx.add_init_script(AXE_SCRIPT)  # outside the page's CSP, like a browser extension
    page = ctx.new_page()
    problems = []
    if role == "worker":  # the sign-in pages
        for url in ("/login", "/w/login"):
            page.goto(server.url + url)
            problems += _both_sizes(page, f"anonymous {url}", url, "anonymous", None, shot)
    _sign_in(page, server.url, role, accounts)
    visited = pages_for(server.app, role, scopes[ROLE_SCOPES[role][0]].ids)
    assert len(visited) >= {"admin": 30, "supervisor": 15, "worker": 4}[role]
    for key, url in visited:
        answer = page.goto(server.url + url, wait_until="domcontentloaded")
        if "text/html" not in (answer.headers.get("content-type") or ""):
            continue  # JSON for the counter's outbox, not a page
        path = key.split(" ", 1)[1]
        slug = path.strip("/").replace("/", "-").replace("<", "").replace(">", "") or "root"
        problems += _both_sizes(page, f"{role} {key}", path, role, slug if key in CHANGED else None, shot)
    ctx.close()
    assert not problems, "\n".join(problems)


def test_a_return_is_recorded_with_the_keyboard_alone(world, browser):
    server, scopes, accounts = world
    ctx = browser.new_context(viewport=TABLET, locale="zh-CN")
    page = ctx.new_page()
    page.goto(f"{server.url}/login")
    page.keyboard.press("Tab")
    for _ in range(10):  # tab to the user name, whatever comes before it
        if page.evaluate("document.activeElement.name") == "username":
            break
        page.keyboard.press("Tab")
    page.keyboard.type(accounts["supervisor"].username)
    page.keyboard.press("Tab")
    page.keyboard.type("correct-horse")
    page.keyboard.press("Enter")
    page.wait_for_url("**/home")
    batch_id = scopes["A1"].ids["batch_id"]
    page.goto(f"{server.url}/batches/{batch_id}/return")
    for _ in range(40):
        if page.evaluate("document.activeElement.name") == "accepted":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "accepted"
    focus_visible = page.evaluate("getComputedStyle(document.activeElement).outlineStyle !== 'none' || "
                                  "getComputedStyle(document.activeElement).boxShadow !== 'none'")
    assert focus_visible
    page.keyboard.press("Control+A")
    page.keyboard.type("3")
    before = _returns_of(batch_id)
    page.keyboard.press("Enter")  # the form submits from the keyboard (through the outbox, online)
    deadline = time.monotonic() + 15
    while _returns_of(batch_id) == before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _returns_of(batch_id) == before + 1
    ctx.close()


def _returns_of(batch_id: int) -> int:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Return

    db.session.rollback()
    return db.session.scalar(select(func.count(Return.id)).where(Return.batch_id == batch_id))
