"""Which station a report may cover for the signed-in user (rule 7)."""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from app.models import Station
from app.permissions import get_visible_or_404


def report_station_id(raw, user=None) -> int | None:
    """The station a report covers: a supervisor's own (another station answers 404); for an
    admin the one asked for (404 if absent) or None for the whole district."""
    user = user if user is not None else current_user
    raw = (raw or "").strip() if isinstance(raw, str) else raw
    if raw in (None, ""):
        return user.station_id if user.role == "supervisor" else None
    if user.role not in ("admin", "supervisor"):
        abort(404)
    return get_visible_or_404(Station, raw, user).id
