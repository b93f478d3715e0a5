"""One safe-redirect helper: ``next=``, a form's ``next`` and the Referer only ever lead to a
path on this site (``/\\evil.com`` is read by browsers as ``//evil.com``)."""
from __future__ import annotations

import pytest

from app.redirects import safe_path
from tests.helpers import csrf_token

HOSTILE = ["//evil.com", "/\\evil.com", "/\\/evil.com", "\\\\evil.com", "https://evil.com/x", "http:/evil.com",
           "javascript:alert(1)", "/\t/evil.com", "/\n/evil.com", " //evil.com", "evil.com", "///evil.com"]


@pytest.mark.parametrize("target", HOSTILE)
def test_safe_path_refuses_every_way_to_name_another_host(target):
    assert safe_path(target, "/home") == "/home"


def test_safe_path_keeps_a_plain_path_with_its_query():
    assert safe_path("/orders/5?tab=batches", "/home") == "/orders/5?tab=batches"


@pytest.mark.parametrize("target", ["/\\evil.com", "//evil.com", "https://evil.com"])
def test_sign_in_never_redirects_off_site(client, make, target):
    make.staff("admin", username="boss", password="correct-horse")
    page = client.get("/login", query_string={"next": target})
    resp = client.post("/login", query_string={"next": target},
                       data={"username": "boss", "password": "correct-horse", "csrf_token": csrf_token(page.text)})
    assert resp.status_code == 302 and resp.headers["Location"] == "/home"


def test_the_csrf_handler_follows_only_a_same_site_referer(client, login_as):
    user = login_as("admin")
    url = f"/admin/staff/{user.id}/active"  # a plain POST without a CSRF token: back where it came from
    for referer in ("http://evil.com/phish", "//evil.com/x", "http://localhost.evil.com/x", "javascript:alert(1)"):
        resp = client.post(url, data={}, headers={"Referer": referer})
        assert resp.status_code == 302 and resp.headers["Location"] == "/", referer
    resp = client.post(url, data={}, headers={"Referer": "http://localhost/reports/employment?month=2026-11"})
    assert resp.headers["Location"] == "/reports/employment?month=2026-11"


def test_cover_uninsured_refuses_an_off_site_next(client, login_as, make):
    login_as("admin")
    page = client.get("/reports/employment")
    resp = client.post("/reports/insurance/cover", data={"csrf_token": csrf_token(page.text), "next": "/\\evil.com",
                                                  "month": "2026-11", "policy_id": "0", "idem_key": "k1"})
    assert resp.status_code in (302, 303)
    assert "evil.com" not in resp.headers["Location"] and resp.headers["Location"].startswith("/")
