"""Every page carries the Content-Security-Policy (no inline script); HSTS over HTTPS only.
(tests/browser/test_csp.py opens every page in Chromium under it.)"""
from __future__ import annotations


def _directives(header: str) -> dict:
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part}


def test_pages_carry_a_policy_without_inline_script(client, login_as):
    for url in ("/login", "/w/login", "/nowhere"):
        policy = _directives(client.get(url).headers["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"]
        assert policy["frame-ancestors"] == ["'self'"] and policy["object-src"] == ["'none'"]
        assert policy["base-uri"] == ["'self'"] and policy["worker-src"] == ["'self'"]
    login_as("admin")
    assert "script-src 'self'" in client.get("/home").headers["Content-Security-Policy"]


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
