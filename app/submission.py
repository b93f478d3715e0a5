"""The one way a page records something: once per idempotency key, a refusal shown on the
form, one commit at the end."""
from __future__ import annotations

import hashlib
import uuid

from flask import flash, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app import idempotency
from app.extensions import db
from app.services.catalog import StaleEdit
from app.services.errors import ConflictError, DomainError, ValidationError

ALREADY_SENT = _l("This form was already sent and recorded. Check the figures; send it again only to record another.")


def _fingerprint() -> str:
    body: dict[str, object] = {k: request.form.getlist(k) for k in sorted(request.form) if k != "csrf_token"}
    for name, storage in request.files.items():
        storage.seek(0)
        data = storage.read()
        storage.seek(0)
        body[f"file:{name}"] = hashlib.sha256(data).hexdigest()
    return idempotency.request_fingerprint("POST", request.path, body)


def attach_errors(form, exc: DomainError) -> None:
    """Show a domain refusal on the form: field messages under their fields, the rest on top."""
    form.refusal_status = exc.status
    unplaced: list[str] = []
    for name, message in (exc.fields or {}).items():
        target = form._fields.get(name)
        messages = message if isinstance(message, list) else [message]
        if target is not None and target.type not in ("HiddenField", "CSRFTokenField"):
            target.errors = list(target.errors or []) + [str(m) for m in messages]
        else:
            unplaced.extend(str(m) for m in messages)
    if not isinstance(exc, ValidationError) or not exc.fields:
        form.form_errors.append(str(exc.message))
    for message in unplaced:
        if message not in form.form_errors:
            form.form_errors.append(message)


def record_once(form, action):
    """Run ``action`` once per the form's idempotency key and commit; answer with a redirect.

    ``action`` records through the services and returns the URL to show next, or
    ``(url, flash_message)``. A re-sent form (double tap, browser retry) finds the stored
    answer and redirects where the first did, recording nothing. A refusal rolls everything
    back, is attached to the form, and None is returned so the view shows the form again.
    """
    key = (getattr(form, "idem_key", None) and form.idem_key.data or "").strip()
    claim = None
    try:
        if key:
            claim = idempotency.replay_or_claim(current_user.actor_key, key, _fingerprint())
            if claim.status_code is not None:
                db.session.rollback()
                return redirect(claim.location or url_for("main.home"), 303)
        result = action()
        location, message = result if isinstance(result, tuple) else (result, None)
        if claim is not None:
            idempotency.complete(claim, 303, location=location)
        db.session.commit()
    except idempotency.KeyReused:
        # The same form, sent again with other values after it was recorded (a page kept open
        # in the browser): say so plainly and give the form a fresh key for a deliberate resend.
        db.session.rollback()
        form.refusal_status = 409
        form.form_errors.append(str(ALREADY_SENT))
        form.idem_key.data = uuid.uuid4().hex
        return None
    except DomainError as exc:
        db.session.rollback()
        attach_errors(form, exc)
        return None
    except StaleDataError:
        db.session.rollback()
        attach_errors(form, StaleEdit())
        return None
    except IntegrityError:
        # A database constraint caught what a concurrent request made impossible.
        db.session.rollback()
        attach_errors(form, ConflictError())
        return None
    if message:
        flash(message, "success")
    return redirect(location, 303)


def form_status(form) -> int:
    """The status of a page showing ``form``: the refusal's (409 conflict, 422 invalid), 422
    when the form itself did not validate, else 200."""
    if getattr(form, "refusal_status", None):
        return form.refusal_status
    return 422 if form.errors else 200


def expected_version(form) -> int | None:
    value = (form.version.data or "").strip() if isinstance(form.version.data, str) else form.version.data
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return -1  # a tampered version never matches: the save is refused as stale


def flash_refusal(form) -> None:
    """For a form posted from a page it does not re-render (a button on a detail page, which
    redirects back): the refusal attached by ``record_once`` as flashed messages instead."""
    messages = list(form.form_errors)
    for field in form:
        messages.extend(str(m) for m in field.errors or [] if str(m) not in messages)
    for message in messages:
        flash(message, "error")
