"""Template filters, globals and response headers shared by every page."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from flask import Flask, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import escape
from werkzeug.routing import BuildError

from app.i18n import install_template_gettext, remember_language
from app.models.base import local_tz, to_local
from app.money import amount_in_words, format_money, format_rate
from app.permissions import sees_sensitive

# (endpoint, label, roles): the navigation each role sees. Features add theirs in NAV_EXTRA.
NAV = [
    ("main.home", _l("Home"), ("admin", "supervisor", "worker")),
]
NAV_EXTRA: list[tuple[str, object, tuple[str, ...]]] = []

# A role with more items than fit on one row of a tablet sees them in groups (menus that open
# without script). Items are placed by their view's name, so a blueprint moving or renaming
# keeps its place; an item no group names stays on the top row.
NAV_FLAT_MAX = 8
NAV_GROUPS = [
    ("production", _l("Production"), ("board", "orders", "batches", "workers", "overdue_batches")),
    ("catalog", _l("Clients and products"), ("clients", "products")),
    ("money", _l("Pay and billing"), ("periods", "list_invoices", "statement")),
    ("reports", _l("Reports"), ("employment", "insurance")),
    ("settings", _l("Settings"), ("enterprise_settings", "staff", "stations", "history")),
]


@dataclass
class NavEntry:
    label: object
    href: str | None = None
    active: bool = False
    items: list = field(default_factory=list)  # a group's links (NavEntry each)


def nav_items() -> tuple[NavEntry, ...]:
    if not current_user.is_authenticated:
        return ()
    return _nav_for(current_user.role, request.endpoint, str(get_locale()), request.script_root)


@lru_cache(maxsize=512)
def _nav_for(role: str, current: str | None, locale: str, script_root: str) -> tuple[NavEntry, ...]:
    # The same for every request that asks it (links and labels are fixed at start-up), so
    # built once per process for each role, page, language and mount point: built per request,
    # seven url_for and seven lazy labels cost ~90 µs of every staff page. ``locale`` is the
    # request's, which the labels are translated into.
    links = []
    for endpoint, label, roles in NAV + NAV_EXTRA:
        if role in roles:
            links.append((endpoint, NavEntry(escape(str(label)), url_for(endpoint), current == endpoint)))
    if len(links) <= NAV_FLAT_MAX:
        return tuple(entry for _endpoint, entry in links)
    group_of = {view: key for key, _label, views in NAV_GROUPS for view in views}
    groups = {key: NavEntry(escape(str(label))) for key, label, _views in NAV_GROUPS}
    out: list[NavEntry] = []
    for endpoint, entry in links:
        key = group_of.get(endpoint.rsplit(".", 1)[-1])
        if key is None:
            out.append(entry)
            continue
        group = groups[key]
        if not group.items:
            out.append(group)
        group.items.append(entry)
        group.active = group.active or entry.active
    return tuple(out)


def fixed_url(endpoint: str, **values) -> str:
    """``url_for(endpoint, **values)`` for a link that is the same on every page (the
    stylesheets, scripts and links of ``base.html``), built once per process for each mount
    point: every signed-in page asked ~20 of them, ~6 µs each."""
    return _fixed_url(request.script_root, endpoint, tuple(sorted(values.items())))


@lru_cache(maxsize=256)
def _fixed_url(script_root: str, endpoint: str, values: tuple) -> str:
    return url_for(endpoint, **dict(values))


def lang_url(lang: str) -> str:
    """This page in another language: its query string kept, except what ``url_for`` would
    take as its own keyword (``_method``, ``_external``…) or as a route argument again
    (``/orders/5?order_id=6``), which would fail to build."""
    view_args = request.view_args or {}
    args = {k: v for k, v in request.args.items() if k and not k.startswith("_") and k not in view_args}
    args["lang"] = lang
    values: dict = {**view_args, **args}
    try:
        return url_for(request.endpoint or "main.home", **values)
    except (BuildError, ValueError):
        return url_for("main.home", lang=lang)


# An id no record has (ids stop at 2**31 - 1): it marks where each row's id goes in a link.
_ID_MARK = "9" * 12


def url_for_ids(endpoint: str, key: str, **values) -> Callable[[int], str]:
    """``url_for(endpoint, key=id, **values)`` as a function of the id, built once for a whole
    list: ``{% set detail = url_for_ids("orders.order_detail", "order_id") %}`` then
    ``detail(o.id)`` in the loop. A ``url_for`` in a template costs about 10 µs; the order board
    asked two a card, the pay period's page two a worker (4,000)."""
    values[key] = int(_ID_MARK)
    url = url_for(endpoint, **values)
    head, found, tail = url.partition(_ID_MARK)
    if not found or _ID_MARK in tail:
        raise ValueError(f"{endpoint}: the id is not in one place of {url}")
    return lambda record_id: f"{head}{int(record_id)}{tail}"


def format_day(value) -> str:
    """A day as the pages write it, 2026-12-01 in either language; a timestamp on the workshop's
    clock. What ``format_date(value, "yyyy-MM-dd")`` gave, without Babel's pattern machinery
    (about 20 µs a date, 30 dates on the order board)."""
    if not value:
        return ""
    if isinstance(value, datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(local_tz()).date()
    return value.isoformat()


# Scripts only from this site's files (no inline script or handler, no eval); styles may be
# inline (bar widths are style attributes); pictures may be data: (logos on printouts) or blob:
# (a photo previewed before upload). The service worker and the QR scanner's camera are
# same-origin; media blob: for the scanner's stream. No plugin, no <base>, framed by this site only.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "media-src 'self' blob: mediastream:",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'self'",
])


def add_missing_headers(headers, wanted: list[tuple[str, str]]) -> None:
    """``headers.setdefault(name, value)`` for each, in order: a header the view set stays.
    The names present are read once; werkzeug's ``setdefault`` scans the list twice a name,
    ~24 µs for the five every page gets, against ~4 µs this way."""
    present = {name.lower() for name in headers.keys()}
    for name, value in wanted:
        if name.lower() not in present:
            headers.add(name, value)


def init_templating(app: Flask) -> None:
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["rate"] = format_rate
    app.jinja_env.filters["in_words"] = amount_in_words
    app.jinja_env.filters["local_day"] = lambda v: to_local(v).date() if v else None
    app.jinja_env.filters["days_before"] = lambda day, n: day - timedelta(days=n)
    app.jinja_env.filters["local_dt"] = lambda v: to_local(v).strftime("%Y-%m-%d %H:%M") if v else ""
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.globals.update(nav_items=nav_items, fixed_url=fixed_url, lang_url=lang_url, get_locale=get_locale, url_for_ids=url_for_ids,
                                 sees_sensitive=sees_sensitive)
    app.jinja_env.add_extension("jinja2.ext.do")
    install_template_gettext(app)

    @app.after_request
    def headers(response):
        response = remember_language(response)
        wanted = [("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "SAMEORIGIN"),
                  ("Referrer-Policy", "same-origin")]
        if response.mimetype == "text/html":  # a PDF keeps the browser's own viewer
            wanted.append(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        if request.is_secure:
            wanted.append(("Strict-Transport-Security", "max-age=31536000"))
        # API answers are never cached; checking the path first also keeps this hook from
        # reloading the account the request's commit expired (a second write transaction).
        if request.path.startswith("/api/") or (
                current_user and getattr(current_user, "is_authenticated", False) and not request.path.startswith("/static/")):
            wanted.append(("Cache-Control", "no-store"))
        add_missing_headers(response.headers, wanted)
        return response
