"""The employment report for the city's employment information platform (API.md)."""
from __future__ import annotations

from flask import request

from app.api.core import api_endpoint
from app.dates import month_bounds, parse_range
from app.models import local_today
from app.money import api_amount
from app.permissions import station_scope
from app.services.reports import employment_report


def employment_json(figures: dict) -> dict:
    return {
        "registered": figures["registered"], "workers_active": figures["workers_active"],
        "person_times": figures["person_times"], "pieces": figures["pieces"],
        # Pieces are finished pieces (a product's last step); every step's accepted pieces beside them.
        "step_pieces": figures["step_pieces"],
        "wages": api_amount(figures["wages"]), "avg_monthly_wage": api_amount(figures["avg_monthly_wage"]),
        "groups": dict(figures["groups"]),
        # Why workers_active may exceed registered (an extra field: the contract's stay as they are).
        "active_not_counted_as_registered": dict(figures["active_not_counted_as_registered"]),
    }


@api_endpoint("/reports/employment", "GET", roles=("admin", "supervisor"), summary="Employment report",
              query={"from": "string", "to": "string", "station_id": "integer"})
def reports_employment():
    """Employment figures for a date range, for the district or one station, and per station."""
    start, end = parse_range(request.args.get("from"), request.args.get("to"), default=month_bounds(local_today()))
    station_id = station_scope(request.args.get("station_id"))
    report = employment_report(start, end, station_id=station_id)
    return {
        "from": start, "to": end, "station_id": station_id, **employment_json(report),
        "pieces_by_step": report["pieces_by_step"],
        "by_station": [{"station_id": s["station_id"], "station": s["station"], **employment_json(s)}
                       for s in report["by_station"]],
    }
