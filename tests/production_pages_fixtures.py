"""Helpers for the production page tests: post a page's form the way a browser does."""
from __future__ import annotations

from sqlalchemy import event

from app.extensions import db
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
    resp = client.post(url, data=body, content_type="multipart/form-data" if files else None)
    return resp, posted


class QueryCounter:
    """Counts SQL statements the app sends while the block runs (every thread)."""

    def __init__(self):
        self.count = 0

    def _on(self, *args, **kwargs):
        self.count += 1

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._on)
