"""Random "today"s over four years (leap day included), at any time of the workshop's day: the
month, pay-period and report boundaries the app computes agree with an independent count of
days (ordinals and calendar.monthrange), and the workshop's day is Shanghai's, never UTC's.
Not marked ``calendar``: these tests draw their own days, so the hard-day runs add nothing."""
from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta

import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import dates
from app.models import local_today, utc_start_of
from app.services import reports, wages
from tests.clock import WORKSHOP_TZ

DAYS = st.dates(min_value=date(2026, 1, 1), max_value=date(2029, 12, 31))
TIMES = st.times()
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _month_of(day: date) -> tuple[date, date]:
    """Independently: the first day is the day minus (day - 1) days; the last, by monthrange."""
    first = date.fromordinal(day.toordinal() - day.day + 1)
    return first, first.replace(day=calendar.monthrange(day.year, day.month)[1])


@SETTINGS
@given(day=DAYS)
def test_the_month_helpers_agree_with_an_independent_count(day):
    first, last = _month_of(day)
    assert dates.month_bounds(day) == (first, last)
    assert dates.month_bounds(first) == dates.month_bounds(last) == (first, last)
    # last month: the month holding the day before this month's first
    assert dates.previous_month(day) == _month_of(date.fromordinal(first.toordinal() - 1))
    assert dates.months_touched(first, last) == 1
    assert dates.parse_month(f"{day.year}-{day.month:02d}") == (first, last)
    assert (last - first).days + 1 == calendar.monthrange(day.year, day.month)[1]


@SETTINGS
@given(start=DAYS, length=st.integers(min_value=0, max_value=400))
def test_a_report_range_splits_into_whole_months_that_tile_it(start, length):
    end = start + timedelta(days=length)
    parts = dates.months_in(start, end)
    assert parts[0][0] == start and parts[-1][1] == end
    for (_a, b), (c, _d) in zip(parts, parts[1:], strict=False):
        assert c == b + timedelta(days=1) and c.day == 1
    assert sum((b - a).days + 1 for a, b in parts) == length + 1
    assert dates.months_touched(start, end) == len(parts) == (end.year - start.year) * 12 + end.month - start.month + 1


@SETTINGS
@given(day=DAYS, at=TIMES)
def test_the_workshops_day_is_shanghais_at_any_instant_and_its_start_is_eight_hours_before_in_utc(day, at):
    moment = datetime.combine(day, at, tzinfo=WORKSHOP_TZ)
    with time_machine.travel(moment.astimezone(UTC), tick=False):
        assert local_today() == day
        utc_now = datetime.now(UTC)
        # independent: Shanghai is UTC+8 all year (no daylight saving since 1991)
        assert (utc_now + timedelta(hours=8)).date() == day
    assert utc_start_of(day) == datetime.combine(day, time.min) - timedelta(hours=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=DAYS)
def test_the_dashboard_and_the_phone_hold_today_the_last_thirty_days_and_name_last_month(app, day):
    first, _last = _month_of(day)
    previous_first = _month_of(date.fromordinal(first.toordinal() - 1))[0]
    d = reports.station_dashboard(today=day)  # an empty district: the dates are what is checked
    assert [x for x, _n in d["pieces_by_day"]] == [date.fromordinal(day.toordinal() - 29 + i) for i in range(30)]
    assert d["month_first"] == first and d["previous_month_first"] == previous_first
    assert d["bands_month"] == previous_first and d["bands_are_previous_month"]  # nothing earned this month
    phone = wages.worker_phone_summary(0, day)
    assert [x for x, _amount in phone["days"]] == [x for x, _n in d["pieces_by_day"]]
    assert phone["previous_month"] == previous_first and phone["show_previous_month"] == (day.day <= 7)
