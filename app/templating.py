"""Template filters, globals and response headers shared by every page."""
from __future__ import annotations

from flask import Flask, request, url_for
from flask_babel import format_date, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.i18n import remember_language
from app.models.base import to_local
from app.money import amount_in_words, format_money, format_rate

# (endpoint, label, roles): the navigation each role sees. Features add theirs in NAV_EXTRA.
NAV = [
    ("main.home", _l("Home"), ("admin", "supervisor", "worker")),
]
NAV_EXTRA: list[tuple[str, object, tuple[str, ...]]] = []


def nav_items():
    if not current_user.is_authenticated:
        return []
    role = current_user.role
    items = []
    for endpoint, label, roles in NAV + NAV_EXTRA:
        if role in roles:
            items.append((url_for(endpoint), label, request.endpoint == endpoint))
    return items


def lang_url(lang: str) -> str:
    args = dict(request.args)
    args["lang"] = lang
    return url_for(request.endpoint or "main.home", **(request.view_args or {}), **args)


def init_templating(app: Flask) -> None:
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["rate"] = format_rate
    app.jinja_env.filters["in_words"] = amount_in_words
    app.jinja_env.filters["local_dt"] = lambda v: to_local(v).strftime("%Y-%m-%d %H:%M") if v else ""
    app.jinja_env.filters["day"] = lambda v: format_date(v, "yyyy-MM-dd") if v else ""
    app.jinja_env.globals.update(nav_items=nav_items, lang_url=lang_url, get_locale=get_locale)
    app.jinja_env.add_extension("jinja2.ext.do")

    @app.after_request
    def headers(response):
        response = remember_language(response)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # API answers are never cached; checking the path first also keeps this hook from
        # reloading the account the request's commit expired (a second write transaction).
        if request.path.startswith("/api/") or (
                current_user and getattr(current_user, "is_authenticated", False) and not request.path.startswith("/static/")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
