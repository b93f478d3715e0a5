"""Shared column helpers."""
from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import overload
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def utcnow() -> datetime:
    """Naive UTC: every timestamp column holds UTC without a zone."""
    return datetime.now(UTC).replace(tzinfo=None)


def local_tz() -> ZoneInfo:
    name = current_app.config.get("TIMEZONE", "Asia/Shanghai") if has_app_context() else "Asia/Shanghai"
    return ZoneInfo(name)


def local_today() -> date:
    """The workshop's calendar day (work dates, due dates)."""
    return datetime.now(local_tz()).date()


def utc_start_of(day: date) -> datetime:
    """The naive UTC instant at which the workshop's ``day`` begins: compare timestamp columns
    with it to select by the workshop's days (``start_of(a) <= at < start_of(b + 1 day)``)."""
    return datetime.combine(day, time.min, tzinfo=local_tz()).astimezone(UTC).replace(tzinfo=None)


@overload
def to_local(value: datetime) -> datetime: ...
@overload
def to_local(value: None) -> None: ...
def to_local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC).astimezone(local_tz())
