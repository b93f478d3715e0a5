"""The counter tablet's offline side (rule 13).

The outbox (app/static/js/outbox.js) keeps every return tapped on the tablet in IndexedDB
with the idempotency key made at the tap, and replays it here. It posts JSON under the
supervisor's own session, not to /api/v1 with a bearer token: the tablet then holds no
long-lived secret in IndexedDB, signing out or disabling the account stops the replay at
once, and the CSRF token (``X-CSRFToken``, fetched fresh from ``/counter/session`` before
each replay run, since the one in a page kept open offline for hours may have expired)
keeps other sites from posting through the cookie. The work is the API's own: the same
form, the same service call, the same ``Idempotency-Key`` rule (a repeat answers as the
first did), so a replay records exactly once.
"""
from __future__ import annotations

import hashlib
import json
from functools import wraps
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import idempotency
from app.api.core import MalformedJSON, dumps, parse_json_body, validate_form
from app.batches.forms import ReturnForm
from app.errors import api_error
from app.extensions import db
from app.models import Batch, local_today, utcnow
from app.permissions import require_roles, visible
from app.services import offline
from app.services.errors import DomainError, ValidationError

bp = Blueprint("counter", __name__)

STAFF = ("admin", "supervisor")
# The return form's fields a replay may send; anything else in the body (recorded_at, the
# refusal a resend answers) is read by the service.
OUTBOX_FIELDS = ("accepted", "rejected", "unused", "work_date", "note", "corrects", "reason")
STATIC = Path(__file__).resolve().parents[1] / "static"
# What the service worker keeps for the counter pages to load with no network.
PRECACHE_STATIC = ("css/app.css", "css/production.css", "css/wages.css", "css/invoices.css", "css/reports.css",
                   "css/jobs.css", "css/counter.css", "img/icon.svg", "js/production.js", "js/outbox.js",
                   "js/counter.js", "js/scanner.js", "js/dashboard.js", "vendor/jsqr/jsQR.js")


def json_staff(view):
    """A JSON endpoint for signed-in staff: 401/403 as JSON, never the login page's redirect
    (the outbox keeps its records and asks the supervisor to sign in again)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return api_error(401, "unauthorized", _("Sign in again to send the records waiting on this tablet."))
        if current_user.role not in STAFF:
            return api_error(403, "forbidden", _("You may not do this."))
        try:
            return view(*args, **kwargs)
        except MalformedJSON:
            return api_error(400, "malformed_json", _("The request body is not valid JSON."))
        except DomainError as exc:
            db.session.rollback()
            return api_error(exc.status, exc.code, exc.message, exc.fields)

    return wrapped


def _asset_version() -> str:
    """Changes whenever a precached file does, so the browser installs the new worker."""
    digest = hashlib.sha256()
    for name in PRECACHE_STATIC:
        path = STATIC / name
        if path.exists():
            digest.update(name.encode())
            digest.update(str(path.stat().st_mtime_ns).encode())
    return digest.hexdigest()[:12]


@bp.get("/sw.js")
def service_worker():
    """The service worker (app/static/js/sw.js), served from the root so its scope is the
    whole app, with the list of files to keep and a version that changes with them."""
    import json

    settings = {"VERSION": _asset_version(), "PRECACHE": [url_for("static", filename=n) for n in PRECACHE_STATIC],
                "SHELL": url_for("counter.return_shell"), "OUTBOX": url_for("counter.outbox_page")}
    head = "".join(f"var {name} = {json.dumps(value)};\n" for name, value in settings.items())
    resp = Response(head + (STATIC / "js" / "sw.js").read_text(encoding="utf-8"), mimetype="text/javascript")
    resp.headers["Service-Worker-Allowed"] = "/"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/counter/session")
@json_staff
def session_state():
    """Who is signed in and a fresh CSRF token for the replay that follows."""
    from flask_wtf.csrf import generate_csrf

    return {"actor": current_user.actor_key, "name": current_user.name, "csrf_token": generate_csrf(),
            "today": local_today().isoformat()}


@bp.get("/counter/snapshot")
@json_staff
def snapshot():
    """What the tablet keeps for working offline: the open batches it may receive, with what
    is still out, their workers and products (with picture addresses). ``max_return_id`` lets
    the tablet tell which of its sent records the figures already include."""
    data = offline.counter_snapshot(current_user)
    for product in data["products"]:
        if product.pop("has_picture"):
            product["picture"] = url_for("catalog.product_picture", product_id=product["id"])
    return Response(dumps(data), mimetype="application/json")


@bp.post("/counter/batches/<int:batch_id>/returns")
@json_staff
def replay_return(batch_id: int):
    """One return (or correction) from the outbox, recorded once per Idempotency-Key: the
    same key and body answer the stored answer, 201, and store nothing new."""
    body = parse_json_body()
    key = (request.headers.get("Idempotency-Key") or "").strip()[:100]
    if not key:
        raise ValidationError(fields={"idempotency_key": _("Required.")})
    status, text = _record_one(batch_id, key, body)
    return Response(text, status=status, mimetype="application/json")


REPLAY_CHUNK = 100  # entries a tablet may send in one request


@bp.post("/counter/returns")
@json_staff
def replay_returns():
    """Several outbox entries in one request, in the order tapped: ``{"entries": [{key,
    batch_id, body}]}``. Each is recorded (and committed) on its own exactly as by
    ``/counter/batches/<id>/returns`` with its key, and answered in ``results`` with the
    status and body that endpoint gives. An unexpected failure stops there: the rest answer
    503 ``not_tried`` and the tablet sends them again later, still in order."""
    body = parse_json_body()
    entries = body.get("entries")
    if not isinstance(entries, list) or not entries or len(entries) > REPLAY_CHUNK:
        raise ValidationError(fields={"entries": _("Between 1 and %(n)s records.", n=REPLAY_CHUNK)})
    results: list = []
    # Each entry commits on its own; the signed-in account need not be read again after
    # every commit (the batch is: populate_existing below).
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        _record_all(entries, results)
    finally:
        session.expire_on_commit = expire_on_commit
    return Response(dumps({"results": results}), mimetype="application/json")


def _record_all(entries: list, results: list) -> None:
    stopped = False
    for entry in entries:
        key = str(entry.get("key") or "")[:100] if isinstance(entry, dict) else ""
        if stopped:
            results.append({"key": key, "status": 503, "body": {"error": {"code": "not_tried", "message": ""}}})
            continue
        if not key or not isinstance(entry.get("batch_id"), int) or not isinstance(entry.get("body"), dict):
            results.append({"key": key, "status": 422, "body": {"error": {
                "code": "validation_error", "message": str(_("Please correct the marked fields.")),
                "fields": {"entries": _("Each record needs its key, batch and counts.")}}}})
            continue
        try:
            status, text = _record_one(entry["batch_id"], key, entry["body"])
        except Exception:  # noqa: BLE001 - the database gave up (locked, gone): keep the order
            db.session.rollback()
            current_app.logger.exception("outbox replay stopped")
            stopped = True
            results.append({"key": key, "status": 503, "body": {"error": {"code": "not_tried", "message": ""}}})
            continue
        results.append({"key": key, "status": status, "body": json.loads(text)})


def _record_one(batch_id: int, key: str, body: dict) -> tuple[int, str]:
    """Record one outbox entry and commit, or answer why not: (status, JSON text). The key
    and body are fingerprinted as a single POST to the batch's returns, so an entry sent
    alone and then again in a chunk (or the other way round) is still recorded once."""
    actor = current_user.actor_key
    fingerprint = idempotency.request_fingerprint("POST", f"/counter/batches/{batch_id}/returns", body)
    done = idempotency.replay(actor, key, fingerprint)
    if done is not None:
        return done.status_code, done.get_data(as_text=True)
    try:
        form = validate_form(ReturnForm, {k: v for k, v in body.items() if k in OUTBOX_FIELDS})
        batch = db.session.scalar(select(Batch).where(Batch.id == batch_id, visible(Batch))
                                  .execution_options(populate_existing=True))
        if batch is None:
            return _error(404, "not_found", _("This batch is not at your station."))
        payload = offline.record_outbox_return(batch=batch, form=form, body=body, user=current_user)
        payload["receipt_url"] = url_for("batches.return_receipt", return_id=payload["id"])
        text = dumps(payload)
        idempotency.store(actor, key, fingerprint, 201, text)
        db.session.commit()
        return 201, text
    except (DomainError, IntegrityError) as exc:
        # A twin with this key may have done the work first: answer as it did.
        db.session.rollback()
        done = idempotency.replay(actor, key, fingerprint)
        if done is not None:
            return done.status_code, done.get_data(as_text=True)
        if isinstance(exc, IntegrityError):
            return _error(409, "conflict", _("This conflicts with what is already recorded."))
        return _error(exc.status, exc.code, exc.message, exc.fields)


def _error(status: int, code: str, message, fields=None) -> tuple[int, str]:
    return status, dumps({"error": {"code": code, "message": str(message), "fields": fields or {}}})


@bp.post("/counter/discards")
@json_staff
def discard():
    """A refused record the supervisor discarded on the tablet, with a reason: kept in the
    audit trail (once per Idempotency-Key) so nothing leaves the tablet unrecorded."""
    body = parse_json_body()
    key = (request.headers.get("Idempotency-Key") or "").strip()[:100]
    if not key:
        raise ValidationError(fields={"idempotency_key": _("Required.")})
    fingerprint = idempotency.request_fingerprint("POST", request.path, body)
    done = idempotency.replay(current_user.actor_key, key, fingerprint)
    if done is not None:
        return done
    offline.record_discard(body=body, user=current_user)
    text = dumps({"discarded": body.get("key"), "at": utcnow().isoformat() + "Z"})
    idempotency.store(current_user.actor_key, key, fingerprint, 201, text)
    db.session.commit()
    return Response(text, status=201, mimetype="application/json")


@bp.get("/counter/outbox")
@require_roles(*STAFF)
def outbox_page():
    """The records waiting on this tablet (drawn from IndexedDB by outbox.js)."""
    return render_template("counter/outbox.html")


@bp.get("/counter/return")
@require_roles(*STAFF)
def return_shell():
    """The return page with no batch in it: the service worker answers with it for any
    return page the network cannot give, and counter.js fills it from IndexedDB."""
    form = ReturnForm(accepted=0, rejected=0, unused=0, meta={"csrf": False})
    return render_template("counter/return_shell.html", form=form, today=local_today())




@bp.app_template_global()
def counter_strings():
    from app.counter.strings import counter_strings as render

    return render()
