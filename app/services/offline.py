"""The counter tablet's offline outbox, server side (rule 13): what the tablet keeps to work
without the network, and the replay of what it recorded meanwhile.

A replayed return goes through ``production.record_return`` / ``record_correction`` like
every other path, so a tablet that was offline gets exactly the answers the page and the
API give (rule 10): an over-return, a closed batch or a closed period is refused and the
tablet keeps the record as "needs attention" until the supervisor edits or discards it.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Batch, Return, local_today, utcnow
from app.models.base import local_tz
from app.permissions import visible
from app.services import audit, production
from app.services.errors import ValidationError

SNAPSHOT_LIMIT = 2000  # open batches a tablet keeps; a station has a few hundred


def counter_snapshot(user) -> dict:
    """The open batches ``user`` may receive (their station's; an admin's every station's,
    soonest due first), with their workers and products, read in one transaction."""
    batches = db.session.scalars(
        select(Batch).where(visible(Batch, user), Batch.status == "open")
        .options(joinedload(Batch.worker), joinedload(Batch.product), joinedload(Batch.order))
        .order_by(Batch.due_date, Batch.id).limit(SNAPSHOT_LIMIT)).all()
    max_return_id = db.session.scalar(select(func.max(Return.id))) or 0
    workers = {b.worker_id: b.worker for b in batches}
    products = {b.product_id: b.product for b in batches}
    return {
        "generated_at": utcnow().replace(microsecond=0).isoformat() + "Z",
        "today": local_today().isoformat(),
        "max_return_id": max_return_id,
        "batches": [{
            "id": b.id, "code": b.code, "order_number": b.order.number, "worker_id": b.worker_id,
            "product_id": b.product_id, "quantity": b.quantity, "accepted": b.accepted, "rejected": b.rejected,
            "unused": b.unused, "outstanding": b.outstanding, "issued_on": b.issued_on.isoformat(),
            "due_date": b.due_date.isoformat(), "status": b.status,
        } for b in batches],
        "workers": [{"id": w.id, "name": w.name} for w in workers.values()],
        "products": [{"id": p.id, "name": p.name, "unit": p.unit, "has_picture": p.picture_id is not None}
                     for p in products.values()],
    }


def record_outbox_return(*, batch: Batch, form, body: dict, user) -> dict:
    """Record one outbox entry: a return, or a correction when ``corrects`` is set. A resend
    after a refusal (``resend_of``: the refused counts and the server's message) is audited
    with what the supervisor changed. Returns the answer the tablet keeps."""
    from app.api.production import return_json

    recorded_at = production.parse_recorded_at(body.get("recorded_at"))
    counts = {"accepted": form.accepted.data or 0, "rejected": form.rejected.data or 0,
              "unused": form.unused.data or 0}
    work_date = form.work_date.data
    if work_date is None and recorded_at is not None:
        work_date = recorded_at.astimezone(local_tz()).date()  # the workshop's day when it was counted
    if form.corrects.data is not None:
        original = db.session.scalar(select(Return).where(Return.id == form.corrects.data,
                                                          Return.batch_id == batch.id))
        if original is None:
            raise ValidationError(fields={"corrects": str(_l("No such return on this batch."))})
        row = production.record_correction(original=original, reason=form.reason.data, user=user,
                                           work_date=work_date, **counts)
    else:
        row = production.record_return(batch=batch, work_date=work_date, note=form.note.data, user=user,
                                       recorded_at=recorded_at, **counts)
    resend_of = body.get("resend_of")
    if isinstance(resend_of, dict):
        audit.record("offline_resend", "return", row.id, before=_plain(resend_of),
                     after={**counts, "key": body.get("key")}, user=user)
    answer = return_json(row)
    if recorded_at is not None:
        answer["tapped_at"] = recorded_at.isoformat()
    return answer


def record_discard(*, body: dict, user) -> None:
    """Keep in the audit trail a refused record the supervisor discarded on the tablet."""
    reason = str(body.get("reason") or "").strip()
    if not reason:
        raise ValidationError(fields={"reason": str(_l("Say why this record is discarded."))})
    if len(reason) > 200:
        raise ValidationError(fields={"reason": str(_l("At most 200 characters."))})
    batch_id = body.get("batch_id")
    batch = db.session.scalar(select(Batch.id).where(Batch.id == batch_id, visible(Batch, user))) \
        if isinstance(batch_id, int) else None
    if batch is None:
        raise ValidationError(fields={"batch_id": str(_l("This batch is not at your station."))})
    audit.record("offline_discard", "batch", batch, before=_plain(body.get("entry") or {}),
                 after={"reason": reason, "key": str(body.get("key") or "")[:100]}, user=user)


def _plain(value: dict) -> dict:
    """Only short scalar values from the tablet go into the audit record."""
    return {str(k)[:40]: (v if isinstance(v, (int, bool)) or v is None else str(v)[:300])
            for k, v in list(value.items())[:20]}



