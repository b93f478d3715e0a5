"""HTML → PDF through WeasyPrint, with a CJK font and a URL fetcher that refuses everything
but the app's own static files and data: URIs (no file:, no remote hosts, no metadata IPs).

Build the context as a plain dict of already-formatted strings; templates are autoescaped.
"""
from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template

STATIC_PREFIX = "jijian-static:/"


class FetchRefused(ValueError):
    pass


def safe_url_fetcher(url: str, timeout: int = 10, ssl_context=None):
    """Serve data: URIs and the app's static files; refuse anything else."""
    from weasyprint.urls import default_url_fetcher

    if url.startswith("data:"):
        return default_url_fetcher(url)
    if url.startswith(STATIC_PREFIX):
        static_root = Path(current_app.static_folder).resolve()
        target = (static_root / unquote(urlsplit(url).path).lstrip("/")).resolve()
        if static_root not in target.parents or not target.is_file():
            raise FetchRefused(url)
        return {"string": target.read_bytes(), "mime_type": mimetypes.guess_type(target.name)[0] or "application/octet-stream"}
    raise FetchRefused(url)


def static_url(filename: str) -> str:
    """A URL for a static file that only the PDF fetcher understands."""
    return STATIC_PREFIX + filename


def render_pdf_html(html: str) -> bytes:
    from weasyprint import HTML

    document = HTML(string=html, base_url=STATIC_PREFIX, url_fetcher=safe_url_fetcher)
    return document.write_pdf(pdf_identifier=b"jijian", uncompressed_pdf=False)


def render_pdf(template: str, **context) -> bytes:
    """Render a template under templates/pdf/ to PDF bytes."""
    html = render_template(template, static_url=static_url, **context)
    return render_pdf_html(html)


def pdf_response(data: bytes, filename: str, inline: bool = False):
    """A PDF as a download with a file name the server built (never user input verbatim)."""
    from flask import Response

    safe = "".join(ch for ch in filename if ch.isalnum() or ch in "-_.") or "document.pdf"
    disposition = "inline" if inline else "attachment"
    resp = Response(data, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'{disposition}; filename="{safe}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp
