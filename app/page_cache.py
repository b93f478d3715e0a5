"""Rendered pages kept in the process, keyed by everything they were rendered from.

A key must name every input of the page: the account, a number the database moves whenever
the account's data changes (``Worker.activity_seq``), the day, the language. Nothing is ever
invalidated by hand: a change makes a new key, and old keys fall out of the LRU order.

The form token of the sign-out button is per session and expires, so a page is stored with a
placeholder where the token goes, and each answer gets the session's own token.
"""
from __future__ import annotations

import secrets
import threading
from collections import OrderedDict

from flask import current_app
from flask_wtf.csrf import generate_csrf

# Rendered where the sign-out form's token goes; unguessable, so no user text can contain it.
CSRF_SLOT = f"csrf-slot-{secrets.token_hex(16)}"


class PageCache:
    def __init__(self, size: int):
        self.size = size
        self._pages: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key, page: str) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)


def page_cache(name: str) -> PageCache:
    """The app's cache called ``name`` (its size from config ``PAGE_CACHE_SIZE``)."""
    caches = current_app.extensions.setdefault("page_caches", {})
    if name not in caches:
        caches[name] = PageCache(current_app.config.get("PAGE_CACHE_SIZE", 4096))
    return caches[name]


def render_cached(cache_name: str, key, render) -> str:
    """The page for ``key``: from the cache, or ``render(csrf_token=...)`` once and kept.
    ``render`` gets the ``csrf_token`` to pass to the template (a placeholder filled per answer)."""
    cache = page_cache(cache_name)
    page = cache.get(key)
    if page is None:
        page = render(csrf_token=lambda: CSRF_SLOT)
        cache.put(key, page)
    return page.replace(CSRF_SLOT, generate_csrf()) if CSRF_SLOT in page else page
