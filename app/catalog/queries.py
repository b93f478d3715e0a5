"""Read-side queries for the catalogue pages."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Client


def client_choices() -> list[tuple[int, str]]:
    """Every client for a select box, by name, after a blank first choice."""
    clients = db.session.scalars(select(Client).order_by(Client.name)).all()
    return [(0, "—")] + [(c.id, c.name) for c in clients]
