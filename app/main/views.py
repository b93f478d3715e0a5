"""Home pages per role, the health check, and the language switch."""
from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from app.extensions import db

bp = Blueprint("main", __name__)

# Features register what each role's home shows: role → list of callables returning a
# (template, context) pair for a panel. Keeps this view thin while later issues fill it.
HOME_PANELS: dict[str, list] = {"admin": [], "supervisor": [], "worker": []}


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        return jsonify({"status": "unavailable"}), 503
    return jsonify({"status": "ok"})


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    return redirect(url_for("auth.login"))


@bp.get("/home")
@login_required
def home():
    panels = [panel() for panel in HOME_PANELS.get(current_user.role, [])]
    return render_template(f"main/home_{current_user.role}.html", panels=panels)
