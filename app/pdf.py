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


def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class SafeURLFetcher(URLFetcher):
        """WeasyPrint's fetcher (70: a ``URLFetcher`` subclass) narrowed to data: URIs, through
        urllib's own data handler, and the app's static files, read here; anything else —
        file:, http(s):, ftp:, a path out of static/ — is refused before any handler runs.
        No redirect is ever followed."""

        def __init__(self):
            super().__init__(timeout=5, allowed_protocols=("data",), allow_redirects=False)

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if url.startswith(STATIC_PREFIX):
                static_root = Path(current_app.static_folder or "static").resolve()
                target = (static_root / unquote(urlsplit(url).path).lstrip("/")).resolve()
                if static_root not in target.parents or not target.is_file():
                    raise FetchRefused(url)
                mime = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, body=target.read_bytes(), headers={"Content-Type": mime})
            raise FetchRefused(url)

    return SafeURLFetcher


_SAFE_FETCHER = None


def safe_fetcher():
    """The fetcher every PDF is rendered with (one class, made when WeasyPrint is first imported)."""
    global _SAFE_FETCHER
    if _SAFE_FETCHER is None:
        _SAFE_FETCHER = _fetcher_class()
    return _SAFE_FETCHER()


def safe_url_fetcher(url: str):
    """Fetch one URL as a PDF would: a ``URLFetcherResponse`` (``.read()``), or FetchRefused."""
    return safe_fetcher().fetch(url)


def static_url(filename: str) -> str:
    """A URL for a static file that only the PDF fetcher understands."""
    return STATIC_PREFIX + filename


def render_pdf_html(html: str) -> bytes:
    from weasyprint import HTML

    document = HTML(string=html, base_url=STATIC_PREFIX, url_fetcher=safe_fetcher())
    return document.write_pdf(pdf_identifier=b"jijian", uncompressed_pdf=False)


def render_pdf_pages(template: str, contexts: list[dict]) -> bytes:
    """One PDF of ``template`` rendered once per context, page after page (a plan's tickets)."""
    from weasyprint import HTML

    documents = [HTML(string=render_template(template, static_url=static_url, **ctx), base_url=STATIC_PREFIX,
                      url_fetcher=safe_fetcher()).render() for ctx in contexts]
    pages = [page for doc in documents for page in doc.pages]
    return documents[0].copy(pages).write_pdf(pdf_identifier=b"jijian", uncompressed_pdf=False)


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
