"""Language choice: Simplified Chinese by default, English on request, remembered in a cookie."""
from flask import current_app, has_request_context, request

LANG_COOKIE = "lang"


def select_locale() -> str:
    supported = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in supported:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def remember_language(response):
    chosen = request.args.get("lang")
    if chosen in current_app.config["LANGUAGES"]:
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response
