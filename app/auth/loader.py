"""Flask-Login set-up: one session key for staff ("staff:ID") and workers ("worker:ID").

A session also carries the account's session version, a random session id and the time of
sign-in. Loading it checks all three in the one query it always made: the version moves when
the account is disabled or its password/PIN changes (every session ends), the id is refused
once signed out (``ended_sessions``), and the sign-in time bounds the session's absolute
lifetime (``SESSION_ABSOLUTE_HOURS``) however busy it is.
"""
import secrets
import time

from flask import Flask, current_app, redirect, request, session, url_for
from sqlalchemy import bindparam, exists, select

from app.extensions import db, login_manager
from app.models import EndedSession, User, Worker

# Every signed-in page asks one of these: built once, not per request.
_ACTIVE_BY_ID = {
    kind: select(model).where(
        model.id == bindparam("id"), model.active, model.session_version == bindparam("sv"),
        ~exists().where(EndedSession.sid == bindparam("sid")))
    for kind, model in (("staff", User), ("worker", Worker))
}


def session_keys(account) -> dict:
    """What a new session holds besides Flask-Login's ``_user_id`` (tests sign in with it too)."""
    return {"_user_id": account.get_id(), "_sv": int(account.session_version or 0),
            "_sid": secrets.token_urlsafe(24), "_auth_at": int(time.time())}


def absolute_lifetime_s(kind: str) -> int:
    hours = current_app.config["SESSION_ABSOLUTE_HOURS_WORKER" if kind == "worker" else "SESSION_ABSOLUTE_HOURS"]
    return int(hours) * 3600


def load_account(key: str):
    kind, _, raw_id = (key or "").partition(":")
    if not raw_id.isdigit() or kind not in _ACTIVE_BY_ID:
        return None
    sv, sid, auth_at = session.get("_sv"), session.get("_sid"), session.get("_auth_at")
    if not isinstance(sv, int) or not isinstance(sid, str) or not isinstance(auth_at, int):
        return None
    if time.time() - auth_at > absolute_lifetime_s(kind):
        return None
    return db.session.scalar(_ACTIVE_BY_ID[kind], {"id": int(raw_id), "sv": sv, "sid": sid})


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_account)

    @login_manager.unauthorized_handler
    def unauthorized():
        if request.path.startswith("/me") or request.path.startswith("/w/"):
            return redirect(url_for("auth.worker_login", next=request.full_path))
        return redirect(url_for("auth.login", next=request.full_path))
