"""The one check for where a redirect taken from the request may go: a path on this site.

``next=``, a form's ``next`` and the Referer are chosen by whoever sent the request. Browsers
read ``//evil.com``, ``/\\evil.com`` and ``/\\/evil.com`` (and the same with tabs or newlines
inside, which they strip) as another host, so only a plain path is kept; anything else gives
the default.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import request


def safe_path(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site (``/…``, never ``//…`` or ``/\\…``), else ``default``."""
    target = (target or "").strip()
    if not target or any(c in target for c in "\\\t\r\n\x00") or any(ord(c) < 32 for c in target):
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def safe_referrer(default: str = "/") -> str:
    """The page the request came from, if it is on this site (same host), as a path."""
    ref = request.referrer or ""
    parts = urlsplit(ref)
    if parts.scheme in ("http", "https") and parts.netloc == request.host:
        path = parts.path or "/"
        return safe_path(path + (f"?{parts.query}" if parts.query else ""), default)
    return default
