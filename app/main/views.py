"""Home pages per role, the health check, and the language switch."""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from app.extensions import db
from app.page_cache import render_cached

bp = Blueprint("main", __name__)

# Features register what each role's home shows: role → list of callables returning a
# (template, context) pair for a panel. Keeps this view thin while later issues fill it.
HOME_PANELS: dict[str, list] = {"admin": [], "supervisor": [], "worker": []}
# A role whose home may be served from the page cache registers the function giving the
# page's key: everything the page is rendered from (see app/page_cache.py).
HOME_PAGE_KEYS: dict[str, Callable[[], tuple]] = {}


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        return jsonify({"status": "unavailable"}), 503
    return jsonify({"status": "ok"})


@bp.get("/help")
def help_page():
    """The short guide for supervisors, admins and workers, in the reader's language; open to
    anyone (a worker who cannot sign in needs it most)."""
    return render_template("help/index.html")


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    return redirect(url_for("auth.login"))


@bp.get("/home")
@login_required
def home():
    role = current_user.role

    def render(**extra):
        panels = [panel() for panel in HOME_PANELS.get(role, [])]
        return render_template(f"main/home_{role}.html", panels=panels, **extra)

    key_of = HOME_PAGE_KEYS.get(role)
    # A page with a message to show once, or asked with arguments (?lang=), is rendered fresh.
    if key_of is None or request.args or session.get("_flashes"):
        return render()
    return render_cached("home", key_of(), render)
