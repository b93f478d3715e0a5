"""Accounts: sign-in (throttled: login_throttle.py), PINs, ending sessions and tokens, API tokens."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, select, update

from app.auth.passwords import dummy_hash, hash_secret, verify_secret
from app.db_tx import begin_write_phase, rowcount
from app.extensions import db
from app.models import ApiToken, EndedSession, Station, User, Worker, utcnow
from app.services import audit, login_throttle
from app.services.errors import ConflictError, DomainError, ValidationError

PHONE_RE = re.compile(r"^1\d{10}$")
PIN_RE = re.compile(r"^\d{6}$")


class LoginThrottled(DomainError):
    """Too many failed sign-ins from this address or overall: 429 with ``retry_after``."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, message=None, *, retry_after: int = 60, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after

    def default_message(self):
        return _l("Too many failed sign-ins: signing in is paused for a while.")


class AccountLocked(LoginThrottled):
    code = "account_locked"

    def default_message(self):
        return _l("Too many failed attempts. This account is locked for 15 minutes.")


class BadCredentials(DomainError):
    status = 401
    code = "bad_credentials"

    def default_message(self):
        return _l("The name or password is not right.")


def _refuse_if_throttled(budget_list) -> None:
    hit = login_throttle.locked(budget_list)
    if hit is not None:
        budget, seconds = hit
        if budget.kind == "account":
            raise AccountLocked(retry_after=seconds)
        raise LoginThrottled(retry_after=seconds)


def _authenticate(account_key: str, address: str | None, load, secret_of, given: str, bad_message=None):
    """The one sign-in path: refuse while a budget is locked; verify in a read transaction
    (SQLite's write lock is not held while Argon2 runs), an unknown or disabled account against
    a dummy hash so it takes as long; then write only the outcome.

    A failure is flushed, so the caller must commit even when this raises BadCredentials."""
    budget_list = login_throttle.budgets(account_key, address)
    _refuse_if_throttled(budget_list)
    account = load()
    stored = secret_of(account) if account is not None else None
    ok = verify_secret(stored or dummy_hash(), given or "") and stored is not None and account.active
    begin_write_phase()
    if not ok:
        login_throttle.record_failure(budget_list)
        db.session.flush()
        raise BadCredentials(bad_message)
    login_throttle.clear(account_key)
    return account


def authenticate_staff(username: str, password: str, address: str | None = None) -> User:
    """The active staff account with these credentials; counts failures per account, per
    client address and overall (app/services/login_throttle.py), refuses while throttled."""
    username = (username or "").strip()
    return _authenticate(f"staff:{username.lower()}", address,
                         lambda: db.session.scalar(select(User).where(User.username == username)),
                         lambda user: user.password_hash, password)


def authenticate_worker(phone: str, pin: str, address: str | None = None) -> Worker:
    """The active worker with this phone and PIN; same throttling as staff."""
    phone = (phone or "").strip()
    return _authenticate(f"worker:{phone}", address,
                         lambda: db.session.scalar(select(Worker).where(Worker.phone == phone)),
                         lambda worker: worker.pin_hash, pin, _l("The phone number or PIN is not right."))


def worker_is_locked_out(worker: Worker) -> bool:
    return login_throttle.is_locked(f"worker:{worker.phone}")


def unlock_worker(worker: Worker) -> bool:
    """Lift a worker's sign-in lock (their supervisor, after checking who is asking): the
    account's failures are forgotten. Address and overall budgets stay as they are."""
    lifted = login_throttle.clear(f"worker:{worker.phone}")
    db.session.flush()
    if lifted:
        audit.record("update", "worker", worker.id, after={"sign_in": "unlocked"})
    return lifted


# --- PINs


def _sequential(pin: str) -> bool:
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:], strict=False)}
    return steps in ({1}, {-1})


def pin_problem(pin: str, phone: str | None = None):
    """Why a new PIN is refused, or None: six digits, not guessable — no single repeated digit
    (000000), no run (123456, 987654), no repeated pair or triple (121212, 123123), not the
    phone number's last six."""
    pin = pin or ""
    if not PIN_RE.fullmatch(pin):
        return _l("The PIN is 6 digits.")
    if (len(set(pin)) == 1 or _sequential(pin) or pin == pin[:2] * 3 or pin == pin[:3] * 2
            or (phone and pin == phone.strip()[-6:])):
        return _l("This PIN is too easy to guess. Choose six digits that are not a run, a repeat or the end of the phone number.")
    return None


def check_pin(pin: str, phone: str | None = None) -> None:
    problem = pin_problem(pin, phone)
    if problem is not None:
        raise ValidationError(fields={"pin": str(problem)})


def new_random_pin(phone: str | None = None) -> str:
    """A random PIN that passes ``check_pin``: for a supervisor's reset slip."""
    while True:
        pin = f"{secrets.randbelow(10**6):06d}"
        if pin_problem(pin, phone) is None:
            return pin


# --- ending sessions and tokens


def end_sessions(account) -> None:
    """End every session and API token of this account at once: its session version moves
    (checked on every load of a session or token) and its live tokens are revoked."""
    model = User if account.kind == "staff" else Worker
    db.session.execute(update(model).where(model.id == account.id)
                       .values(session_version=model.session_version + 1)
                       .execution_options(synchronize_session=False))
    owner = ApiToken.user_id if account.kind == "staff" else ApiToken.worker_id
    db.session.execute(update(ApiToken).where(owner == account.id, ApiToken.revoked_at.is_(None))
                       .values(revoked_at=utcnow()))
    db.session.flush()
    db.session.refresh(account, ["session_version"])


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


def _set_active(account: User | Worker, entity: str, active: bool) -> None:
    """Disable or re-enable an account (audited); disabling ends its sessions and tokens at once."""
    before = {"active": account.active}
    account.active = active
    db.session.flush()
    if not active:
        end_sessions(account)
    audit.record("update", entity, account.id, before=before, after={"active": active})


def set_staff_active(user: User, active: bool) -> None:
    """Disable or re-enable a staff account; disabling ends its sessions and tokens."""
    _set_active(user, "user", active)


def set_staff_password(user: User, password: str) -> None:
    """A new password (8 characters or more); every session and token of the account ends."""
    if len(password or "") < 8:
        raise ValidationError(fields={"password": str(_l("At least 8 characters."))})
    user.password_hash = hash_secret(password)
    db.session.flush()
    end_sessions(user)
    audit.record("update", "user", user.id, after={"password": "changed"})


def set_worker_active(worker: Worker, active: bool) -> None:
    """Disable or re-enable a worker; disabling ends their sessions and tokens at once."""
    _set_active(worker, "worker", active)


def disable_worker(worker: Worker) -> None:
    set_worker_active(worker, False)


def enable_worker(worker: Worker) -> None:
    set_worker_active(worker, True)


def change_worker_pin(worker: Worker, pin: str) -> None:
    """Set a new PIN (refused if trivial: ``check_pin``); every session and token ends and
    any sign-in lock is lifted."""
    check_pin(pin, worker.phone)
    worker.pin_hash = hash_secret(pin)
    db.session.flush()
    end_sessions(worker)
    login_throttle.clear(f"worker:{worker.phone}")
    audit.record("update", "worker", worker.id, after={"pin": "changed"})


def reset_worker_pin(worker: Worker) -> str:
    """A supervisor's reset: a new random PIN, returned once to be handed over on a slip."""
    pin = new_random_pin(worker.phone)
    change_worker_pin(worker, pin)
    return pin


WORKER_EDITABLE = ("name", "phone", "birth_year", "gender", "groups", "active", "pin")


def update_worker(worker: Worker, changes: dict) -> Worker:
    """Apply any of ``WORKER_EDITABLE`` (the API's PATCH; the edit page too). Every field is
    checked before anything changes (422 with all the field messages); ``active: false`` or a
    new PIN ends the worker's sessions and tokens at once. The phone stays unique (409)."""
    from app.models import KEY_GROUPS

    errors: dict[str, str] = {}
    clean: dict = {}
    unknown = set(changes) - set(WORKER_EDITABLE)
    for name in sorted(unknown):
        errors[name] = str(_l("This field cannot be changed."))
    if "name" in changes:
        value = changes["name"]
        if not isinstance(value, str) or not value.strip() or len(value.strip()) > 50:
            errors["name"] = str(_l("1 to 50 characters."))
        else:
            clean["name"] = value.strip()
    if "phone" in changes:
        value = changes["phone"]
        if not isinstance(value, str) or not PHONE_RE.fullmatch(value.strip()):
            errors["phone"] = str(_l("11 digits, starting with 1."))
        else:
            clean["phone"] = value.strip()
    if "birth_year" in changes:
        value = changes["birth_year"]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1930 <= value <= 2015):
            errors["birth_year"] = str(_l("A year between 1930 and 2015."))
        else:
            clean["birth_year"] = value
    if "gender" in changes:
        value = changes["gender"] or None
        if value not in (None, "F", "M"):
            errors["gender"] = str(_l("F or M."))
        else:
            clean["gender"] = value
    if "groups" in changes:
        value = changes["groups"] or []
        if not isinstance(value, list) or not set(value) <= set(KEY_GROUPS):
            errors["groups"] = str(_l("Unknown group."))
        else:
            clean["groups"] = value
    if "active" in changes:
        if not isinstance(changes["active"], bool):
            errors["active"] = str(_l("true or false."))
        else:
            clean["active"] = changes["active"]
    if "pin" in changes:
        problem = pin_problem(changes["pin"] if isinstance(changes["pin"], str) else "",
                              clean.get("phone", worker.phone))
        if problem is not None:
            errors["pin"] = str(problem)
    if errors:
        raise ValidationError(fields=errors)
    if "phone" in clean and clean["phone"] != worker.phone:
        if db.session.scalar(select(Worker.id).where(Worker.phone == clean["phone"], Worker.id != worker.id)) is not None:
            raise ConflictError(_l("This phone number is already registered."), code="phone_taken",
                                fields={"phone": str(_l("This phone number is already registered."))})
    fields = ("name", "phone", "birth_year", "gender", "groups", "active")
    before = audit.snapshot(worker, fields)
    for name in ("name", "phone", "birth_year", "gender", "groups"):
        if name in clean:
            setattr(worker, name, clean[name])
    db.session.flush()
    if before != audit.snapshot(worker, fields):
        audit.record("update", "worker", worker.id, before=before, after=audit.snapshot(worker, fields))
    if "pin" in changes:
        change_worker_pin(worker, changes["pin"])
    if "active" in clean and clean["active"] != worker.active:
        set_worker_active(worker, clean["active"])
    return worker


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(account) -> tuple[str, ApiToken]:
    """A new bearer token for a staff account or a worker; only its hash is stored. A worker's
    lives ``API_TOKEN_HOURS_WORKER`` (7 days), a staff account's ``API_TOKEN_HOURS`` (30 days);
    either ends earlier with ``revoke_token`` or ``end_sessions``."""
    token = secrets.token_urlsafe(32)
    hours = current_app.config["API_TOKEN_HOURS" if account.kind == "staff" else "API_TOKEN_HOURS_WORKER"]
    row = ApiToken(
        token_hash=_token_hash(token),
        user_id=account.id if account.kind == "staff" else None,
        worker_id=account.id if account.kind == "worker" else None,
        expires_at=utcnow() + timedelta(hours=hours),
        session_version=account.session_version or 0,
    )
    db.session.add(row)
    db.session.flush()
    return token, row


def _live_token_owner(model, owner_column):
    return (select(model).join(ApiToken, owner_column == model.id)
            .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None),
                   ApiToken.expires_at >= bindparam("now"), model.active,
                   ApiToken.session_version == model.session_version))


# Every API request asks this: the statements are built once.
_STAFF_FOR_TOKEN = _live_token_owner(User, ApiToken.user_id)
_WORKER_FOR_TOKEN = _live_token_owner(Worker, ApiToken.worker_id)


def account_for_token(token: str):
    """The active account behind a live token, or None: one query for staff tokens, a second
    only for a worker's."""
    params = {"token_hash": _token_hash(token), "now": utcnow()}
    return (db.session.scalar(_STAFF_FOR_TOKEN, params)
            or db.session.scalar(_WORKER_FOR_TOKEN, params))


def revoke_token(token: str) -> bool:
    """End one bearer token (``DELETE /auth/token``): it answers 401 from then on."""
    done = db.session.execute(update(ApiToken).where(ApiToken.token_hash == _token_hash(token),
                                                     ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow()))
    db.session.flush()
    return rowcount(done) > 0


def end_browser_session(sid: str | None) -> None:
    """Sign-out ends the session on the server: its id is refused from then on (the cookie
    alone would otherwise stay valid until it expired). Ids older than any session's absolute
    lifetime are forgotten at the same time."""
    if not sid:
        return
    now = utcnow()
    cfg = current_app.config
    oldest = now - timedelta(hours=max(cfg["SESSION_ABSOLUTE_HOURS"], cfg["SESSION_ABSOLUTE_HOURS_WORKER"]))
    db.session.execute(delete(EndedSession).where(EndedSession.ended_at < oldest))
    if db.session.get(EndedSession, sid) is None:
        db.session.add(EndedSession(sid=sid[:64], ended_at=now))
    db.session.flush()
