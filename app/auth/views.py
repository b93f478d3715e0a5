"""Sign-in pages: staff with username and password, workers with phone and PIN."""
from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.auth.forms import LogoutForm, StaffLoginForm, WorkerLoginForm
from app.auth.loader import session_keys
from app.db_tx import read_first
from app.extensions import db
from app.forms import form_view
from app.models import Worker
from app.permissions import get_visible_or_404, require_roles
from app.redirects import safe_path
from app.services import accounts
from app.services.accounts import BadCredentials, LoginThrottled

bp = Blueprint("auth", __name__)


def _safe_next(default: str) -> str:
    return safe_path(request.args.get("next"), default)


def _start_session(account) -> None:
    # A fresh session at login: nothing from before sign-in carries over.
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    login_user(account)
    session.update(session_keys(account))
    session.permanent = True


def _throttled_page(exc: LoginThrottled):
    """429: a plain page in the user's language, with Retry-After."""
    db.session.rollback()
    minutes = max(1, -(-exc.retry_after // 60))
    message = _("%(message)s Try again in %(n)s minutes.", message=exc.message, n=minutes)
    response = make_response(render_template("errors/error.html", code=429, message=message), 429)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _sign_in_page(form, who: str, secret: str, authenticate, template: str):
    """A sign-in page: the account ``authenticate`` answers for the form's ``who`` and
    ``secret`` fields starts a session; a wrong secret is counted (committed) and marked on
    its field (401); a throttled account or address gets the throttle page (429)."""
    read_first()  # the secret is verified before anything is written (no write lock held)
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    status = 200
    if form.validate_on_submit():
        try:
            account = authenticate(form[who].data, form[secret].data, request.remote_addr)
        except BadCredentials as exc:
            db.session.commit()
            form[secret].errors.append(str(exc.message))
            status = 401
        except LoginThrottled as exc:
            return _throttled_page(exc)
        else:
            db.session.commit()
            _start_session(account)
            return redirect(_safe_next(url_for("main.home")))
    return render_template(template, form=form), status


@bp.route("/login", methods=["GET", "POST"])
@form_view
def login():
    return _sign_in_page(StaffLoginForm(), "username", "password", accounts.authenticate_staff, "auth/login.html")


@bp.route("/w/login", methods=["GET", "POST"])
@form_view
def worker_login():
    return _sign_in_page(WorkerLoginForm(), "phone", "pin", accounts.authenticate_worker, "auth/worker_login.html")


@bp.post("/logout")
def logout():
    form = LogoutForm()
    was_worker = getattr(current_user, "role", None) == "worker"
    if form.validate_on_submit():
        accounts.end_browser_session(session.get("_sid"))
        db.session.commit()
        logout_user()
        session.clear()
        flash(_("You have signed out."), "info")
    return redirect(url_for("auth.worker_login" if was_worker else "auth.login"))


# --- a worker's account, for their supervisor or an admin (the worker page's buttons)


@bp.app_template_global()
def worker_locked_out(worker) -> bool:
    return accounts.worker_is_locked_out(worker)


def _worker_action(worker_id: int, action, done_message: str):
    form = LogoutForm()  # CSRF only
    worker = get_visible_or_404(Worker, worker_id)
    if form.validate_on_submit():
        action(worker)
        db.session.commit()
        flash(done_message % {"name": worker.name}, "success")
    return redirect(url_for("workers.worker_detail", worker_id=worker.id))


@bp.post("/workers/<int:worker_id>/disable")
@require_roles("admin", "supervisor")
def worker_disable(worker_id: int):
    """Disable a worker: their sessions and tokens end at once."""
    return _worker_action(worker_id, accounts.disable_worker, _("%(name)s is disabled and signed out everywhere."))


@bp.post("/workers/<int:worker_id>/enable")
@require_roles("admin", "supervisor")
def worker_enable(worker_id: int):
    return _worker_action(worker_id, accounts.enable_worker, _("%(name)s can sign in again."))


@bp.post("/workers/<int:worker_id>/unlock")
@require_roles("admin", "supervisor")
def worker_unlock(worker_id: int):
    """Lift a locked-out worker's sign-in lock (their own supervisor: other stations' 404)."""
    return _worker_action(worker_id, accounts.unlock_worker, _("%(name)s can try to sign in again."))
