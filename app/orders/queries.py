"""Read-side queries for the order pages and the board: each list loads in a fixed number of
queries whatever the number of rows."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Order, local_today
from app.permissions import scope_params, visible, visible_to_role
from app.services.production import forecast_from_pace, is_at_risk, order_steps_many, recent_accepted_by_order


@dataclass
class BoardRow:
    order: Order
    forecast: date | None
    at_risk: bool
    recent: int
    # Each step's progress, for an order of a product made in several steps (else None).
    steps: list[dict] | None = None

    @property
    def can_issue(self) -> bool:
        """Some step of the order has pieces to hand out now."""
        if self.steps is None:
            return self.order.unissued > 0
        return any(st["available"] > 0 for st in self.steps)

    def share(self, count: int) -> float:
        """Width of a progress-bar segment, in percent of the order quantity."""
        return round(100 * max(count, 0) / self.order.quantity, 2) if self.order.quantity else 0


def order_stmt():
    return (select(Order).where(visible(Order))
            .options(joinedload(Order.client), joinedload(Order.product), joinedload(Order.station)))


@lru_cache(maxsize=8)
def _board_stmt(role: str):
    # Every board view asks this: built once per role (building it cost more than running it).
    # The board names its one station once: the orders' station is not loaded with them.
    return (select(Order).where(visible_to_role(Order, role), Order.station_id == bindparam("station_id"),
                                Order.status == "open")
            .options(joinedload(Order.client), joinedload(Order.product))
            .order_by(Order.due_date, Order.id))


def board_rows(station_id: int, today: date | None = None) -> list[BoardRow]:
    """Open orders of a station with their forecast and risk: two queries for any number."""
    today = today or local_today()
    orders = list(db.session.scalars(_board_stmt(current_user.role),
                                     {"station_id": station_id, **scope_params()}).unique())
    return with_forecasts(orders, today)


def with_forecasts(orders: list[Order], today: date | None = None) -> list[BoardRow]:
    today = today or local_today()
    recent = recent_accepted_by_order([o.id for o in orders], today)
    steps = order_steps_many(orders, several_only=True)
    rows = []
    for order in orders:
        pace = recent.get(order.id, 0)
        forecast = forecast_from_pace(order, pace, today)
        rows.append(BoardRow(order, forecast, is_at_risk(order, forecast, today), pace, steps.get(order.id)))
    return rows
