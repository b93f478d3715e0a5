"""Flask-Login set-up: one session key for staff ("staff:ID") and workers ("worker:ID")."""
from flask import Flask, redirect, request, url_for
from sqlalchemy import bindparam, select

from app.extensions import db, login_manager
from app.models import User, Worker

# Every signed-in page asks one of these: built once, not per request.
_ACTIVE_BY_ID = {kind: select(model).where(model.id == bindparam("id"), model.active)
                 for kind, model in (("staff", User), ("worker", Worker))}


def load_account(key: str):
    kind, _, raw_id = (key or "").partition(":")
    if not raw_id.isdigit() or kind not in _ACTIVE_BY_ID:
        return None
    return db.session.scalar(_ACTIVE_BY_ID[kind], {"id": int(raw_id)})


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_account)

    @login_manager.unauthorized_handler
    def unauthorized():
        if request.path.startswith("/me") or request.path.startswith("/w/"):
            return redirect(url_for("auth.worker_login", next=request.full_path))
        return redirect(url_for("auth.login", next=request.full_path))
