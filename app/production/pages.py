"""Page machinery shared by the production views: record a form once per idempotency key,
turn domain errors into form errors, read uploaded pictures, build the batch ticket."""
from __future__ import annotations

import base64
import hashlib
import uuid

from flask import flash, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.utils import secure_filename

from app import idempotency
from app.extensions import db
from app.models import StoredFile
from app.money import format_money, format_rate, line_amount
from app.services import catalog
from app.services.catalog import StaleEdit
from app.services.errors import ConflictError, DomainError, ValidationError

# Magic numbers of the picture formats we accept; the browser's content type is not trusted.
PICTURE_SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))
NOT_A_PICTURE = _l("A JPEG, PNG or WebP picture.")
ALREADY_SENT = _l("This form was already sent and recorded. Check the figures; send it again only to record another.")


def sniff_picture(data: bytes) -> str | None:
    for signature, content_type in PICTURE_SIGNATURES:
        if data.startswith(signature):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def store_picture(field):
    """Store an uploaded picture in the database (flushed, not committed); None when no file.

    Raises ValidationError on the field when the bytes are not a JPEG, PNG or WebP picture."""
    storage = field.data
    if storage is None or not getattr(storage, "filename", ""):
        return None
    data = storage.read()
    content_type = sniff_picture(data)
    if not data or content_type is None:
        raise ValidationError(fields={field.name: str(NOT_A_PICTURE)})
    name = secure_filename(storage.filename) or "picture"
    return catalog.store_file(name, content_type, data)


def _fingerprint() -> str:
    body = {k: request.form.getlist(k) for k in sorted(request.form) if k != "csrf_token"}
    for name, storage in request.files.items():
        data = storage.read()
        storage.seek(0)
        body[f"file:{name}"] = hashlib.sha256(data).hexdigest()
    return idempotency.request_fingerprint("POST", request.path, body)


def attach_errors(form, exc: DomainError) -> None:
    """Show a domain refusal on the form: field messages under their fields, the rest on top."""
    form.refusal_status = exc.status
    unplaced = []
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


def int_arg(name: str, default: int = 1) -> int:
    try:
        return max(int(request.args.get(name, default)), 1)
    except (TypeError, ValueError):
        return default


def expected_version(form) -> int | None:
    value = (form.version.data or "").strip() if isinstance(form.version.data, str) else form.version.data
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return -1  # a tampered version never matches: the save is refused as stale


def data_uri(stored) -> str | None:
    if stored is None:
        return None
    return f"data:{stored.content_type};base64," + base64.b64encode(stored.data).decode("ascii")


def return_url(batch) -> str:
    """The absolute URL the ticket's QR code opens: this batch's return page."""
    return url_for("production.record_return", batch_id=batch.id, _external=True)


def ticket_context(batch) -> dict:
    """Everything the batch ticket shows, already formatted (the PDF template only prints)."""
    import segno

    url = return_url(batch)
    product = batch.product
    return {
        "code": batch.code,
        "station": batch.station.name,
        "worker": batch.worker.name,
        "worker_phone": batch.worker.masked_phone,
        "product": product.name,
        "unit": product.unit,
        "quantity": batch.quantity,
        "piece_rate": format_rate(batch.piece_rate),
        "pays_if_all_accepted": format_money(line_amount(batch.quantity, batch.piece_rate)),
        "issued_on": batch.issued_on.isoformat(),
        "due_date": batch.due_date.isoformat(),
        "order_number": batch.order.number,
        "client": batch.order.client.name,
        "picture": data_uri(db.session.get(StoredFile, product.picture_id)) if product.picture_id else None,
        "qr": segno.make(url, error="m").svg_data_uri(scale=4, border=2),
        "url": url,
    }
