"""Sign-in pages: staff with username and password, workers with phone and PIN."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.auth.forms import LogoutForm, StaffLoginForm, WorkerLoginForm
from app.extensions import db
from app.forms import form_view
from app.services import accounts
from app.services.accounts import AccountLocked, BadCredentials

bp = Blueprint("auth", __name__)


def _safe_next(default: str) -> str:
    target = request.args.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return default


def _start_session(account) -> None:
    # A fresh session at login: nothing from before sign-in carries over.
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    login_user(account)
    session.permanent = True


@bp.route("/login", methods=["GET", "POST"])
@form_view
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = StaffLoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.authenticate_staff(form.username.data, form.password.data)
        except BadCredentials as exc:
            db.session.commit()
            form.password.errors.append(str(exc.message))
            status = 401
        except AccountLocked as exc:
            form.username.errors.append(str(exc.message))
            status = 429
        else:
            db.session.commit()
            _start_session(user)
            return redirect(_safe_next(url_for("main.home")))
    return render_template("auth/login.html", form=form), status


@bp.route("/w/login", methods=["GET", "POST"])
@form_view
def worker_login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = WorkerLoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            worker = accounts.authenticate_worker(form.phone.data, form.pin.data)
        except BadCredentials as exc:
            db.session.commit()
            form.pin.errors.append(str(exc.message))
            status = 401
        except AccountLocked as exc:
            form.phone.errors.append(str(exc.message))
            status = 429
        else:
            db.session.commit()
            _start_session(worker)
            return redirect(_safe_next(url_for("main.home")))
    return render_template("auth/worker_login.html", form=form), status


@bp.post("/logout")
def logout():
    form = LogoutForm()
    was_worker = getattr(current_user, "role", None) == "worker"
    if form.validate_on_submit():
        logout_user()
        session.clear()
        flash(_("You have signed out."), "info")
    return redirect(url_for("auth.worker_login" if was_worker else "auth.login"))
