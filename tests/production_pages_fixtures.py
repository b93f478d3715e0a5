"""Helpers for the production page tests: post a page's form the way a browser does."""
from __future__ import annotations

from tests.helpers import form_values


def submit(client, url, data=None, files=None, get_url=None):
    """GET the form at ``get_url`` (or ``url``), then POST it with its hidden values plus ``data``.

    Returns (response, posted) so a test can send exactly the same form again."""
    page = client.get(get_url or url)
    assert page.status_code == 200, page.status_code
    posted = {**form_values(page.text), **(data or {})}
    body = dict(posted)
    if files:
        body.update(files)
    resp = client.post(url, data=body)
    return resp, posted


def follow(client, resp):
    """Follow redirects one by one (the threaded test client cannot follow them itself)."""
    while resp.status_code in (301, 302, 303):
        resp = client.get(resp.headers["Location"])
    return resp


# The smallest valid PNG (1×1): what a camera upload is, as far as the server can tell.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63f8cfc0f01f00050001ff89993d1d0000000049454e44ae426082"
)
