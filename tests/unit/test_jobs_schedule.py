"""Schedules as configuration: crontab expressions, with an optional seconds field."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.jobs import JOBS, cron_fields, trigger_for

pytestmark = pytest.mark.calendar  # runs again on the hard days (scripts/test.sh)

TZ = ZoneInfo("Asia/Shanghai")


def test_five_fields_are_a_crontab_firing_on_the_minute():
    assert cron_fields("*/15 * * * *") == {"second": "0", "minute": "*/15", "hour": "*", "day": "*",
                                           "month": "*", "day_of_week": "*"}


def test_six_fields_put_the_seconds_first_so_a_schedule_can_tick_every_second():
    trigger = trigger_for("* * * * * *", "Asia/Shanghai")
    start = datetime(2026, 3, 1, 8, 0, 0, 500000, tzinfo=TZ)
    first = trigger.get_next_fire_time(None, start)
    second = trigger.get_next_fire_time(first, first.replace(microsecond=1))
    assert (first.second, second.second) == (1, 2)


@pytest.mark.parametrize("crontab, names", [("0", "sun"), ("7", "sun"), ("1-5", "mon-fri"), ("6,0", "sat,sun"),
                                            ("*/2", "*/2"), ("mon", "mon")])
def test_days_of_the_week_count_from_sunday_as_in_crontab(crontab, names):
    assert cron_fields(f"0 2 * * {crontab}")["day_of_week"] == names


def test_sunday_zero_fires_on_a_sunday():
    trigger = trigger_for("30 1 * * 0", "Asia/Shanghai")
    fire = trigger.get_next_fire_time(None, datetime(2026, 3, 2, tzinfo=TZ))  # a Monday
    assert fire.strftime("%a %H:%M") == "Sun 01:30"


@pytest.mark.parametrize("expr", ["off", "", "  ", "OFF", "none"])
def test_off_switches_a_schedule_off(expr):
    assert cron_fields(expr) is None and trigger_for(expr, "UTC") is None


@pytest.mark.parametrize("expr", ["* * *", "1 2 3 4 5 6 7", "61 * * * *"])
def test_a_malformed_schedule_is_refused(expr):
    with pytest.raises(ValueError):
        trigger_for(expr, "UTC")


def test_every_job_has_a_default_schedule():
    from config import Config

    assert set(Config.JOB_SCHEDULES) == set(JOBS)
    for expr in Config.JOB_SCHEDULES.values():
        assert trigger_for(expr, "Asia/Shanghai") is not None
