"""No query string may cause a 500: every GET route of the URL map, for a worker, a supervisor
and an admin with records of their own (the access matrix's world), with hostile query strings —
url_for's own keywords (``_method``, ``_external``…), the route's own arguments again
(``/orders/5?order_id=6``), junk, huge and repeated values. (Tests see the real exception:
a 500 would raise here.)"""
from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.access_matrix import QUERIES, ROLE_SCOPES, build_world, routes, url_for_rule

HOSTILE = [
    "_method=X&_external=1&_anchor=x&_scheme=javascript&lang=xx",
    ("page=abc&per_page=-5&from=2026-02-30&to=notadate&month=2026-13&year=abc&station_id=abc&worker_id=abc"
     "&order_id=abc&batch_id=x&product_id=x&client_id=x&status=bogus&q=%00%ff%27&full=yes&return_id=abc"
     "&step_id=abc&due_date=x&policy_id=abc&period_id=x&kind=../../etc&sort=;drop&fmt=exe&days=abc&tab=%3Cx%3E"),
    ("page=999999999999999999999&per_page=99999999999999999999&from=9999-12-31&to=0001-01-01&month=0000-00"
     "&station_id=99999999999999999999999&worker_id=-1&order_id=0&year=99999&days=-99999999"),
    "page=1&page=2&lang=en&lang=zh&%ff=%fe&a[]=1&next=//evil.com&=&&",
]


def _arg_repeats(rule) -> str:
    return "&".join(f"{quote(name)}=6" for name in sorted(rule.arguments))


@pytest.mark.parametrize("role", ["worker", "supervisor", "admin"])
def test_no_query_string_causes_a_500_on_any_get_route(app, make, db, role):
    from app import pdf as pdf_module
    from app.auth.loader import session_keys
    from app.services.accounts import issue_token

    world, accounts = build_world(make, db)
    client = app.test_client()
    with client.session_transaction() as sess:
        sess.update(session_keys(accounts[role]))
    token, _row = issue_token(accounts[role])
    db.session.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    own = ROLE_SCOPES[role][0]
    real_render = pdf_module.render_pdf_html
    pdf_module.render_pdf_html = lambda html: b"%PDF-stand-in\n"  # which answer, not its typesetting
    failures = []
    try:
        for key, method, rule in routes(app):
            if method != "GET" or rule.rule.startswith("/static"):
                continue
            url = url_for_rule(rule, world[own].ids)
            base_query = QUERIES.get(key, "").format(**world[own].ids)
            for hostile in [*HOSTILE, _arg_repeats(rule)]:
                query = "&".join(q for q in (base_query, hostile) if q)
                try:
                    resp = client.get(f"{url}?{query}", headers=bearer if url.startswith("/api/") else {})
                    code = resp.status_code
                    resp.close()
                except Exception as exc:  # noqa: BLE001 - what a server would answer 500 to
                    code = f"500 ({type(exc).__name__}: {exc})"
                if str(code).startswith("500"):
                    failures.append(f"{key} ?{query[:80]}: {code}")
    finally:
        pdf_module.render_pdf_html = real_render
    assert failures == [], "\n".join(failures)
