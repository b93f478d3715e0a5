"""Every page carries the Content-Security-Policy (no inline script) and Chromium, enforcing
it, reports no violation on any of them: each GET page of the URL map that a worker, a
supervisor or an admin may open (per tests/access_matrix_table.py), with the records of the
access matrix's world."""
from __future__ import annotations

import re

from playwright.sync_api import Error as PlaywrightError

from tests.access_matrix import QUERIES, ROLE_SCOPES, build_world, routes, url_for_rule
from tests.access_matrix_table import EXPECTED
from tests.browser.conftest import sign_in_staff, sign_in_worker

# Downloads, the service worker and the machine endpoints are no pages.
NOT_PAGES = re.compile(r"\.(pdf|xlsx|csv|js|json|png|svg)$|^/(static|api|healthz|sw\.js|offline)")
ROLE_COLUMN = {"worker": 1, "supervisor": 3, "admin": 5}

LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


def _pages_for(app, role):
    own = ROLE_SCOPES[role][0]
    for key, method, rule in routes(app):
        if method != "GET" or key not in EXPECTED:
            continue
        cell = EXPECTED[key][ROLE_COLUMN[role]].split("/")[0]
        if cell != "200":
            continue
        yield key, rule, own


def test_every_page_carries_the_policy_and_chromium_reports_no_violation(live, page_at):
    server, make = live
    from app.extensions import db

    world, accounts = build_world(make, db)
    app = server.app
    violations, checked = [], 0
    for role in ("worker", "supervisor", "admin"):
        page = page_at("tablet")
        page.add_init_script(LISTEN)
        console = []
        page.on("console", lambda msg, bucket=console: msg.type == "error" and "Content Security Policy" in msg.text
                and bucket.append(msg.text))
        if role == "worker":
            sign_in_worker(page, server.url, accounts[role].phone, "258036")
        else:
            sign_in_staff(page, server.url, accounts[role].username, "correct-horse")
        for key, rule, own in _pages_for(app, role):
            url = url_for_rule(rule, world[own].ids)
            if key in QUERIES:
                url += "?" + QUERIES[key].format(**world[own].ids)
            if NOT_PAGES.search(url):
                continue
            response = page.goto(server.url + url)
            assert response is not None and response.status == 200, (role, url, response and response.status)
            if not response.headers.get("content-type", "").startswith("text/html"):
                continue  # a photo or a product picture
            policy = response.headers.get("content-security-policy", "")
            assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
            assert "frame-ancestors 'self'" in policy and "object-src 'none'" in policy and "base-uri 'self'" in policy
            page.wait_for_load_state("load")
            try:
                found = page.evaluate("window.__csp")
            except PlaywrightError:
                # A page that goes on by itself (the ticket: print, then the batch's page). Its
                # violations, if any, are in the console listener's record; read the next page's.
                page.wait_for_load_state("load")
                found = page.evaluate("window.__csp")
            violations += [f"{role} {url}: {v}" for v in found]
            checked += 1
        violations += [f"{role} console: {t}" for t in console]
        if role == "admin":
            # The listener hears a violation when there is one: an inline script is refused.
            page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';
                                     document.body.appendChild(s); }""")
            page.wait_for_function("window.__csp.length > 0")
            assert page.evaluate("window.__ran") is None
        page.close()
    assert checked >= 40, checked
    assert violations == []
