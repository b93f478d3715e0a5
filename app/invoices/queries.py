"""Read-side queries of the invoice pages and the API alike."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.dates import parse_month
from app.models import Invoice
from app.permissions import is_record_id


def filtered_invoices(args):
    """Invoices filtered by ?client_id=, ?status=, ?month=YYYY-MM (shared with the list page)."""
    stmt = select(Invoice).options(selectinload(Invoice.lines), selectinload(Invoice.client)).order_by(Invoice.id.desc())
    if is_record_id(args.get("client_id")):
        stmt = stmt.where(Invoice.client_id == int(args["client_id"]))
    if args.get("status") in ("issued", "paid", "void"):
        stmt = stmt.where(Invoice.status == args["status"])
    month = parse_month(args.get("month"))
    if month:
        start, end = month
        stmt = stmt.where(Invoice.issue_date >= start, Invoice.issue_date <= end)
    return stmt
