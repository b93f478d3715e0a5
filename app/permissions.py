"""The one permission check (rule 7): who may see which rows.

A worker sees only their own records, a supervisor only their station's, an admin everything.
Another's record answers 404 as if it did not exist; a role that may not act at all gets 403.
"""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user
from sqlalchemy import false, select, true

from app.extensions import db
from app.models import (
    Adjustment,
    Batch,
    Client,
    Notice,
    Order,
    Payslip,
    Product,
    Return,
    Station,
    Worker,
)

# model → (station column, worker column); None where the model has no such link.
SCOPES = {
    Station: (Station.id, None),
    Worker: (Worker.station_id, Worker.id),
    Order: (Order.station_id, None),
    Batch: (Batch.station_id, Batch.worker_id),
    Return: (Return.station_id, Return.worker_id),
    Payslip: (Payslip.station_id, Payslip.worker_id),
    Notice: (Notice.station_id, None),
    Adjustment: (None, Adjustment.worker_id),
    # Catalogue rows are shared by every station's staff; workers don't browse them.
    Client: (None, None),
    Product: (None, None),
}


def visible(model, user=None):
    """A SQL condition limiting ``model`` to the rows ``user`` may see."""
    user = user if user is not None else current_user
    if not getattr(user, "is_authenticated", False):
        return false()
    if user.role == "admin":
        return true()
    station_col, worker_col = SCOPES.get(model, (None, None))
    if user.role == "supervisor":
        if model in (Client, Product):
            return true()
        return station_col == user.station_id if station_col is not None else false()
    if user.role == "worker":
        return worker_col == user.id if worker_col is not None else false()
    return false()


def get_visible_or_404(model, object_id, user=None, options=()):
    """The row if ``user`` may see it; otherwise 404, whether it exists or not."""
    try:
        object_id = int(object_id)
    except (TypeError, ValueError):
        abort(404)
    stmt = select(model).where(model.id == object_id, visible(model, user))
    for opt in options:
        stmt = stmt.options(opt)
    obj = db.session.scalar(stmt)
    if obj is None:
        abort(404)
    return obj


def require_roles(*roles):
    """Only these roles may use the view; others get 403, anonymous users the login page."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from app.extensions import login_manager

                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def station_choices_for(user=None):
    """Stations the user may act for."""
    user = user if user is not None else current_user
    return db.session.scalars(select(Station).where(visible(Station, user)).order_by(Station.id)).all()
