"""Flask-Login set-up: one session key for staff ("staff:ID") and workers ("worker:ID")."""
from flask import Flask, redirect, request, url_for

from app.extensions import db, login_manager
from app.models import User, Worker


def load_account(key: str):
    kind, _, raw_id = (key or "").partition(":")
    if not raw_id.isdigit():
        return None
    model = {"staff": User, "worker": Worker}.get(kind)
    account = db.session.get(model, int(raw_id)) if model else None
    return account if account is not None and account.active else None


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_account)

    @login_manager.unauthorized_handler
    def unauthorized():
        if request.path.startswith("/me") or request.path.startswith("/w/"):
            return redirect(url_for("auth.worker_login", next=request.full_path))
        return redirect(url_for("auth.login", next=request.full_path))
