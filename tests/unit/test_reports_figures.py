"""The employment report against counts the test computes itself from what it recorded."""
from datetime import date
from decimal import Decimal

import pytest

from app.dates import months_touched, parse_range
from app.services.errors import ValidationError
from app.services.reports import earnings_bands, employment_report
from tests.reports_fixtures import END, START, Scenario, build_district, expected

FIELDS = ("registered", "workers_active", "person_times", "pieces", "wages", "avg_monthly_wage", "groups")


def _figures(report):
    return {k: report[k] for k in FIELDS}


@pytest.fixture
def district(make):
    return build_district(make)


def test_district_and_station_figures_match_an_independent_count(district):
    report = employment_report(START, END)
    assert _figures(report) == expected(district.ledger, START, END)
    by_station = {s["station_id"]: s for s in report["by_station"]}
    for station in (district.east, district.west):
        assert _figures(by_station[station.id]) == expected(district.ledger, START, END, station.id)
    # the scenario really exercises the rules
    assert report["workers_active"] == 11
    assert report["groups"]["age_40_55_women"] >= 2 and report["groups"]["age_50_60_men"] >= 2


def test_one_station_report_has_only_that_station(district):
    report = employment_report(START, END, station_id=district.west.id)
    assert [s["station_id"] for s in report["by_station"]] == [district.west.id]
    assert _figures(report) == expected(district.ledger, START, END, district.west.id)


def test_a_single_month_and_a_range_outside_the_work(district):
    jan = (START, date(START.year, 1, 31))
    assert _figures(employment_report(*jan)) == expected(district.ledger, *jan)
    later = (date(END.year, 5, 1), date(END.year, 5, 31))
    report = employment_report(*later)
    assert report["workers_active"] == 0 and report["wages"] == Decimal("0.00") and report["avg_monthly_wage"] == 0


def test_woman_turning_56_and_man_turning_61_leave_the_key_groups(make):
    s = Scenario(make)
    station = make.station()
    order = make.order(station=station, quantity=10000)
    y = END.year
    woman = s.worker(station, "F", y - 56, ["disabled", "relocated"])
    man = s.worker(station, "M", y - 61, ["laid_off", "flexible"])
    for w in (woman, man):
        s.ret(s.batch(order, w, 100, date(y, 1, 5)), 10, date(y, 1, 6))
    report = employment_report(START, END)
    assert report["workers_active"] == 2
    assert report["registered"] == 0
    assert report["groups"] == dict.fromkeys(report["groups"], 0)
    # a year earlier they were 55 and 60: counted
    earlier = employment_report(date(y - 1, 1, 1), date(y - 1, 12, 31))
    assert earlier["workers_active"] == 0  # no work then, so still no groups
    s.ret(s.batch(order, woman, 100, date(y - 1, 3, 1)), 5, date(y - 1, 3, 2))
    s.ret(s.batch(order, man, 100, date(y - 1, 3, 1)), 5, date(y - 1, 3, 2))
    earlier = employment_report(date(y - 1, 1, 1), date(y - 1, 12, 31))
    assert earlier["groups"] == {"disabled": 1, "relocated": 1, "laid_off": 1, "flexible": 1,
                                 "age_40_55_women": 1, "age_50_60_men": 1}


def test_two_batches_are_two_person_times_and_one_active_worker(make):
    s = Scenario(make)
    station = make.station()
    order = make.order(station=station, quantity=1000)
    w = s.worker(station, "F", END.year - 45)
    s.ret(s.batch(order, w, 10, date(END.year, 2, 1)), 4, date(END.year, 2, 2))
    s.ret(s.batch(order, w, 10, date(END.year, 2, 3)), 6, date(END.year, 2, 4))
    report = employment_report(START, END)
    assert (report["person_times"], report["workers_active"], report["pieces"]) == (2, 1, 10)


def test_correction_cancelling_the_only_pieces_removes_the_worker_from_active(make):
    s = Scenario(make)
    station = make.station()
    order = make.order(station=station, quantity=1000)
    w = s.worker(station, "F", END.year - 45, ["disabled"])
    r = s.ret(s.batch(order, w, 10, date(END.year, 2, 1)), 4, date(END.year, 2, 2))
    assert employment_report(START, END)["workers_active"] == 1
    s.correct(r, -4, unused=4)
    report = employment_report(START, END)
    assert (report["workers_active"], report["pieces"], report["wages"], report["person_times"]) == (0, 0, 0, 1)
    assert report["groups"]["disabled"] == 0


def test_wages_round_per_line_and_the_average_divides_by_months_touched(make):
    s = Scenario(make)
    station = make.station()
    product = make.product(piece_rate="0.0350")
    order = make.order(station=station, product=product, quantity=1000)
    w = s.worker(station)
    b = s.batch(order, w, 100, date(END.year, 1, 2))
    for day in (3, 4, 5):
        s.ret(b, 1, date(END.year, 1, day))  # 3 × 0.035 = 0.105 → 0.11 once, never 3 × 0.04
    report = employment_report(START, END)
    assert report["wages"] == Decimal("0.11")
    assert report["avg_monthly_wage"] == Decimal("0.04")  # 0.11 / 1 / 3 = 0.0366… → 0.04
    assert months_touched(date(2025, 12, 31), date(2026, 1, 1)) == 2


def test_registered_counts_only_workers_registered_by_the_end(district):
    report = employment_report(START, END, station_id=district.west.id)
    assert district.late.station_id == district.west.id
    # west: 55-year-old woman, 60-year-old man, 40-year-old woman, 16-year-old man; not the 15-year-old, not the late one
    assert report["registered"] == 4


def test_bad_ranges_are_refused_with_field_messages():
    for raw in (("2026-13-01", "2026-12-31"), ("x", "2026-01-01"), ("2026-02-01", "2026-01-01"), ("", "")):
        with pytest.raises(ValidationError) as err:
            parse_range(*raw)
        assert err.value.fields


def test_earnings_bands_cover_zero_to_the_highest_in_500_steps():
    bands = earnings_bands([Decimal("0.01"), Decimal("499.99"), Decimal("500.00"), Decimal("1720.00")])
    assert [(str(lo), str(hi), n) for lo, hi, n in bands] == [
        ("0", "500", 2), ("500", "1000", 1), ("1000", "1500", 0), ("1500", "2000", 1)]
    assert earnings_bands([]) == []



def test_report_earnings_equal_the_shared_earnings_lines_for_every_station_and_range(district, db):
    from sqlalchemy import select

    from app.models import Worker
    from app.services.earnings import earnings_lines, totals_by_worker
    from app.services.reports import earnings_totals

    ranges = [(START, END), (START, date(START.year, 1, 31)), (date(START.year, 2, 1), date(START.year, 2, 1))]
    for start, end in ranges:
        assert earnings_totals(start, end) == totals_by_worker(earnings_lines(start, end))
        for station in (district.east, district.west):
            ids = db.session.scalars(select(Worker.id).where(Worker.station_id == station.id)).all()
            assert earnings_totals(start, end, station.id) == totals_by_worker(earnings_lines(start, end, worker_ids=ids))
    assert earnings_totals(START, END)  # the scenario has earnings to compare


def test_report_earnings_on_sqlite_stream_from_the_worker_product_rate_index_without_a_sort(db):
    """Longer than a month: the (worker, product, rate) index in order, no sort. A month or
    less (the dashboard's): the date index over the range, its few returns sorted."""
    from sqlalchemy import text

    from app.services.reports import _LINES_SQLITE, _lines_index
    from tests.conftest import BACKEND

    if BACKEND != "sqlite":
        pytest.skip("SQLite's query plan")
    ranges = [(date(2026, 1, 1), date(2026, 12, 31), "ix_returns_worker_product_rate", False),
              (date(2026, 1, 1), date(2026, 2, 1), "ix_returns_worker_product_rate", False),
              (date(2026, 1, 1), date(2026, 1, 31), "ix_returns_date_worker", True),
              (date(2026, 2, 1), date(2026, 2, 1), "ix_returns_date_worker", True)]
    for start, end, index, sorted_ in ranges:
        for station in ("", "AND r.worker_id IN (SELECT id FROM workers WHERE station_id = :station)"):
            plan = " / ".join(row[3] for row in db.session.execute(
                text("EXPLAIN QUERY PLAN " + _LINES_SQLITE.format(index=_lines_index(start, end), station=station)),
                {"start": start.isoformat(), "end": end.isoformat(), "station": 1}))
            assert f"COVERING INDEX {index}" in plan
            assert ("TEMP B-TREE" in plan) is sorted_
