"""GET /api/v1/reports/employment: the contract, roles and scoping."""
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import Station
from tests.reports_fixtures import END, START, build_district, expected

pytestmark = pytest.mark.calendar  # runs again on the hard days (scripts/test.sh)

RANGE = f"from={START.isoformat()}&to={END.isoformat()}"


@pytest.fixture
def district(make):
    return build_district(make)


def _as_api(figures):
    return {**figures, "wages": f"{figures['wages']:.2f}", "avg_monthly_wage": f"{figures['avg_monthly_wage']:.2f}"}


def _figures(body):
    return {k: body[k] for k in ("registered", "workers_active", "person_times", "pieces", "wages",
                                 "avg_monthly_wage", "groups")}


def test_admin_gets_the_district_and_every_station_with_money_as_strings(api, district):
    resp = api(role="admin").get(f"/reports/employment?{RANGE}")
    assert resp.status_code == 200
    body = resp.get_json()
    assert _figures(body) == _as_api(expected(district.ledger, START, END))
    assert isinstance(body["wages"], str) and Decimal(body["wages"]) > 0
    stations = {s["station_id"]: s for s in body["by_station"]}
    assert set(stations) == {district.east.id, district.west.id}
    for station in (district.east, district.west):
        assert _figures(stations[station.id]) == _as_api(expected(district.ledger, START, END, station.id))


def test_supervisor_gets_their_own_station_and_404_for_another(api, district):
    supervisor_api = api(role="supervisor", station=db.session.get(Station, district.east.id))
    own = supervisor_api.get(f"/reports/employment?{RANGE}")
    assert own.status_code == 200
    body = own.get_json()
    assert [s["station_id"] for s in body["by_station"]] == [district.east.id]
    assert _figures(body) == _as_api(expected(district.ledger, START, END, district.east.id))
    assert supervisor_api.get(f"/reports/employment?{RANGE}&station_id={district.east.id}").status_code == 200
    other = supervisor_api.get(f"/reports/employment?{RANGE}&station_id={district.west.id}")
    assert other.status_code == 404
    assert other.get_json()["error"]["code"] == "not_found"


def test_admin_asking_for_a_missing_station_gets_404(api):
    assert api(role="admin").get(f"/reports/employment?{RANGE}&station_id=999999").status_code == 404


@pytest.mark.parametrize("query", ["from=2026-02-30&to=2026-03-01", "from=yesterday&to=2026-01-01",
                                   "from=2026-03-01&to=2026-02-01", "from=2026-01-01"])
def test_bad_dates_answer_422_with_field_errors(api, query):
    resp = api(role="admin").get(f"/reports/employment?{query}")
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert error["code"] == "validation_error" and set(error["fields"]) & {"from", "to"}


def test_workers_may_not_read_the_report_and_anonymous_callers_must_sign_in(api, client):
    assert api(role="worker").get(f"/reports/employment?{RANGE}").status_code == 403
    assert client.get(f"/api/v1/reports/employment?{RANGE}").status_code == 401


def test_the_report_is_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "get" in doc["paths"]["/api/v1/reports/employment"]
