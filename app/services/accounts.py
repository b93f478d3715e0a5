"""Accounts: staff and worker authentication, login throttling, API tokens."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from app.auth.passwords import hash_secret, verify_secret
from app.extensions import db
from app.models import ApiToken, LoginThrottle, Station, User, Worker, utcnow
from app.services import audit
from app.services.errors import ConflictError, DomainError, ValidationError

PHONE_RE = re.compile(r"^1\d{10}$")
PIN_RE = re.compile(r"^\d{4,6}$")


class AccountLocked(DomainError):
    status = 429
    code = "account_locked"

    def default_message(self):
        return _l("Too many failed attempts. This account is locked for 15 minutes.")


class BadCredentials(DomainError):
    status = 401
    code = "bad_credentials"

    def default_message(self):
        return _l("The name or password is not right.")


def _throttle_row(account: str) -> LoginThrottle:
    row = db.session.get(LoginThrottle, account)
    if row is None:
        try:
            with db.session.begin_nested():
                row = LoginThrottle(account=account, failures=0, window_start=utcnow())
                db.session.add(row)
        except IntegrityError:  # another process inserted it first
            row = db.session.get(LoginThrottle, account)
    return row


def _check_not_locked(account: str) -> None:
    row = db.session.get(LoginThrottle, account)
    if row is not None and row.locked_until and row.locked_until > utcnow():
        raise AccountLocked()


def _record_failure(account: str) -> None:
    cfg = current_app.config
    now = utcnow()
    row = _throttle_row(account)
    window = timedelta(minutes=cfg["LOGIN_WINDOW_MINUTES"])
    if row.window_start < now - window:
        db.session.execute(
            update(LoginThrottle).where(LoginThrottle.account == account).values(failures=1, window_start=now)
        )
    else:
        db.session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.account == account)
            .values(failures=LoginThrottle.failures + 1)
        )
    db.session.refresh(row)
    if row.failures >= cfg["LOGIN_MAX_FAILURES"]:
        row.locked_until = now + timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])
        row.failures = 0
        row.window_start = now
    db.session.flush()


def _record_success(account: str) -> None:
    row = db.session.get(LoginThrottle, account)
    if row is not None:
        db.session.delete(row)
        db.session.flush()


def authenticate_staff(username: str, password: str) -> User:
    """The active staff account with these credentials; counts failures, refuses a locked account.

    A failure is flushed, so the caller must commit even when this raises BadCredentials.
    """
    account = f"staff:{(username or '').strip().lower()}"
    _check_not_locked(account)
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None or not user.active or not verify_secret(user.password_hash, password or ""):
        _record_failure(account)
        raise BadCredentials()
    _record_success(account)
    return user


def authenticate_worker(phone: str, pin: str) -> Worker:
    """The active worker with this phone and PIN; same throttling as staff."""
    phone = (phone or "").strip()
    account = f"worker:{phone}"
    _check_not_locked(account)
    worker = db.session.scalar(select(Worker).where(Worker.phone == phone))
    if worker is None or not worker.active or not verify_secret(worker.pin_hash, pin or ""):
        _record_failure(account)
        raise BadCredentials(_l("The phone number or PIN is not right."))
    _record_success(account)
    return worker


def create_staff(username: str, password: str, role: str, station_id: int | None = None,
                 display_name: str | None = None) -> User:
    """A new admin or supervisor; a supervisor belongs to an existing station."""
    username = (username or "").strip()
    errors = {}
    if not re.fullmatch(r"[A-Za-z0-9_.-]{3,64}", username):
        errors["username"] = str(_l("3–64 letters, digits, dot, dash or underscore."))
    if role not in ("admin", "supervisor"):
        errors["role"] = str(_l("Role must be admin or supervisor."))
    if len(password or "") < 8:
        errors["password"] = str(_l("At least 8 characters."))
    if role == "supervisor":
        if station_id is None or db.session.get(Station, station_id) is None:
            errors["station_id"] = str(_l("A supervisor needs an existing station."))
    if errors:
        raise ValidationError(fields=errors)
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ConflictError(_l("That username is taken."), code="username_taken", fields={"username": str(_l("That username is taken."))})
    user = User(username=username, password_hash=hash_secret(password), role=role,
                station_id=station_id if role == "supervisor" else None, display_name=display_name)
    db.session.add(user)
    db.session.flush()
    audit.record("create", "user", user.id, after={"username": username, "role": role, "station_id": station_id})
    return user


def set_staff_active(user: User, active: bool) -> None:
    """Disable or re-enable a staff account; disabling revokes its API tokens."""
    before = {"active": user.active}
    user.active = active
    if not active:
        db.session.execute(
            update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow())
        )
    db.session.flush()
    audit.record("update", "user", user.id, before=before, after={"active": active})


def set_worker_active(worker: Worker, active: bool) -> None:
    before = {"active": worker.active}
    worker.active = active
    if not active:
        db.session.execute(
            update(ApiToken).where(ApiToken.worker_id == worker.id, ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow())
        )
    db.session.flush()
    audit.record("update", "worker", worker.id, before=before, after={"active": active})


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(account) -> tuple[str, ApiToken]:
    """A new bearer token for a staff account or a worker; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    row = ApiToken(
        token_hash=_token_hash(token),
        user_id=account.id if account.kind == "staff" else None,
        worker_id=account.id if account.kind == "worker" else None,
        expires_at=utcnow() + timedelta(hours=current_app.config["API_TOKEN_HOURS"]),
    )
    db.session.add(row)
    db.session.flush()
    return token, row


def _live_token_owner(model, owner_column):
    return (select(model).join(ApiToken, owner_column == model.id)
            .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None),
                   ApiToken.expires_at >= bindparam("now"), model.active))


# Every API request asks this: the statements are built once.
_STAFF_FOR_TOKEN = _live_token_owner(User, ApiToken.user_id)
_WORKER_FOR_TOKEN = _live_token_owner(Worker, ApiToken.worker_id)


def account_for_token(token: str):
    """The active account behind a live token, or None: one query for staff tokens, a second
    only for a worker's."""
    params = {"token_hash": _token_hash(token), "now": utcnow()}
    return (db.session.scalar(_STAFF_FOR_TOKEN, params)
            or db.session.scalar(_WORKER_FOR_TOKEN, params))
