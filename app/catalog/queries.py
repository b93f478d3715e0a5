"""Read-side queries for the catalogue pages."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Client


def client_choices() -> list[tuple[int, str]]:
    """Every client for a select box, by name, after a blank first choice."""
    clients = db.session.scalars(select(Client).order_by(Client.name)).all()
    return [(0, "—")] + [(c.id, c.name) for c in clients]


def steps_overview(product_id: int, today) -> dict:
    """A product's steps for its page: each with the rate in force today and the next dated
    one (if any), and whether steps may still be added (no order yet) or moved (no batch)."""
    from datetime import timedelta

    from app.models import Batch, Order, ProductStepRate, to_local, utc_start_of
    from app.services.catalog import rate_on, steps_of

    tomorrow = utc_start_of(today + timedelta(days=1))
    rows = []
    for step in steps_of(product_id):
        upcoming = db.session.scalars(select(ProductStepRate).where(
            ProductStepRate.step_id == step.id, ProductStepRate.effective_at >= tomorrow)
            .order_by(ProductStepRate.effective_at, ProductStepRate.id.desc()).limit(1)).first()
        rows.append({"step": step, "rate": rate_on(step, today),
                     "next": (upcoming.piece_rate, to_local(upcoming.effective_at).date()) if upcoming else None})
    has_orders = db.session.scalar(select(Order.id).where(Order.product_id == product_id).limit(1)) is not None
    has_batches = db.session.scalar(select(Batch.id).where(Batch.product_id == product_id).limit(1)) is not None
    return {"steps": rows, "can_add": not has_orders, "can_move": not has_batches and len(rows) > 1}


def step_rates(step, today) -> list[dict]:
    """A step's rate history, newest first, each with its first day and whether it is still
    to come."""
    from app.models import to_local

    return [{"rate": r.piece_rate, "since": to_local(r.effective_at).date(), "at": r.effective_at,
             "by": r.changed_by, "pending": to_local(r.effective_at).date() > today} for r in step.rates]
