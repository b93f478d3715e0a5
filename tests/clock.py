"""The suite's clock: every test runs at one chosen instant of the workshop's day.

``JIJIAN_TEST_TODAY=YYYY-MM-DD`` picks the workshop's date (default: the real one) and
``JIJIAN_TEST_TIME=HH:MM`` the time of day in the workshop's timezone (default: the real time
when neither is set, else 10:00). The instant is fixed once per test process, so every test
starts from the same "now"; time-machine then lets it tick, for the app, the test client and the
live server of the browser tests alike (same process, threads).

time-machine mocks Python's clocks only: SQL's ``now()``/``CURRENT_DATE`` and the PostgreSQL
server's clock are not moved, which is why the app passes every time from Python.
"""
from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine

WORKSHOP_TZ = ZoneInfo("Asia/Shanghai")  # the app's default TIMEZONE, which the tests keep
DEFAULT_TIME = time(10, 0)


def suite_start(environ=os.environ) -> datetime:
    """The instant every test starts at, aware, in the workshop's timezone."""
    raw_day = (environ.get("JIJIAN_TEST_TODAY") or "").strip()
    raw_time = (environ.get("JIJIAN_TEST_TIME") or "").strip()
    real = datetime.now(WORKSHOP_TZ)
    if not raw_day and not raw_time:
        return real.replace(microsecond=0)
    day = date.fromisoformat(raw_day) if raw_day else real.date()
    at = time.fromisoformat(raw_time) if raw_time else DEFAULT_TIME
    return datetime.combine(day, at, tzinfo=WORKSHOP_TZ)


def _instant(when) -> datetime:
    """A date (10:00 that day), a naive datetime (workshop time), an aware datetime, or an
    ISO string of either → an aware UTC datetime (UTC, so time-machine leaves TZ alone)."""
    if isinstance(when, str):
        when = datetime.fromisoformat(when) if ("T" in when or " " in when) else date.fromisoformat(when)
    if not isinstance(when, datetime):
        when = datetime.combine(when, DEFAULT_TIME)
    if when.tzinfo is None:
        when = when.replace(tzinfo=WORKSHOP_TZ)
    return when.astimezone(UTC)


class Clock:
    """What a test sees of time: ``clock.today`` (the workshop's date), ``clock.now`` (aware,
    workshop time), ``clock.days_ago(n)``, ``clock.move_to(...)`` and ``clock.shift(...)``."""

    def __init__(self, start: datetime):
        self.start = start
        self._traveller = time_machine.travel(_instant(start), tick=True)
        self._coordinates = None

    def __enter__(self):
        self._coordinates = self._traveller.start()
        return self

    def __exit__(self, *exc):
        self._traveller.stop()

    @property
    def now(self) -> datetime:
        return datetime.now(UTC).astimezone(WORKSHOP_TZ)

    @property
    def today(self) -> date:
        return self.now.date()

    def days_ago(self, n: int) -> date:
        return self.today - timedelta(days=n)

    def move_to(self, when, tick: bool = True) -> Clock:
        """Jump to ``when`` (see ``_instant``); ``tick=False`` stops the clock there."""
        self._traveller.stop()
        self._traveller = time_machine.travel(_instant(when), tick=tick)
        self._coordinates = self._traveller.start()
        return self

    def shift(self, delta: timedelta | float) -> Clock:
        self._coordinates.shift(delta)
        return self


def command_at(now: datetime, module: str, *args: str) -> list[str]:
    """The command that runs ``python -m module args`` in a child process whose clock starts
    at ``now`` and ticks on: a test's subprocess (a scheduler, gunicorn) sees the test's day."""
    import sys

    return [sys.executable, "-m", "tests.clock", _instant(now).isoformat(), module, *args]


if __name__ == "__main__":  # python -m tests.clock INSTANT MODULE ARGS...: see command_at
    import runpy
    import sys

    _instant_arg, _module = sys.argv[1], sys.argv[2]
    time_machine.travel(datetime.fromisoformat(_instant_arg), tick=True).start()
    sys.argv = [_module, *sys.argv[3:]]
    runpy.run_module(_module, run_name="__main__", alter_sys=True)
