"""The batch ticket: what it prints, already formatted, and the QR code that opens the
batch's return page."""
from __future__ import annotations

from flask import url_for

from app.extensions import db
from app.files import data_uri
from app.models import StoredFile, to_local
from app.money import format_money, format_rate, line_amount


def return_url(batch) -> str:
    """The absolute URL the ticket's QR code opens: this batch's return page."""
    return url_for("batches.record_return", batch_id=batch.id, _external=True)


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
        "step": batch.step_label,
        "unit": product.unit,
        "quantity": batch.quantity,
        "piece_rate": format_rate(batch.piece_rate),
        "pays_if_all_accepted": format_money(line_amount(batch.quantity, batch.piece_rate)),
        "issued_on": batch.issued_on.isoformat(),
        # a back-dated batch's ticket says when it was entered too (rule 12)
        "entered_on": _entered_on(batch),
        "due_date": batch.due_date.isoformat(),
        "order_number": batch.order.number,
        "client": batch.order.client.name,
        "picture": data_uri(db.session.get(StoredFile, product.picture_id)) if product.picture_id else None,
        "qr": segno.make(url, error="m").svg_data_uri(scale=4, border=2),
        "url": url,
    }


def _entered_on(batch) -> str | None:
    """The workshop's day a back-dated batch was entered, or None when entered on its day."""
    entered = to_local(batch.issued_at).date() if batch.issued_at else batch.issued_on
    return entered.isoformat() if entered != batch.issued_on else None
