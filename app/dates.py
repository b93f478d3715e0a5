"""Calendar helpers shared by every feature: a month's first and last day, the months a range
touches, and the one parser of ``?from=&to=`` ranges and ``YYYY-MM`` months (422 on a bad one).

Pure functions of their arguments: none reads the clock, so callers pass today (``local_today()``).
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import overload

from flask_babel import lazy_gettext as _l

from app.services.errors import ValidationError

MAX_RANGE_MONTHS = 120  # a report or an earnings range covers at most ten years


def month_bounds(day: date) -> tuple[date, date]:
    """The calendar month holding ``day``: (first day, last day)."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def previous_month(today: date) -> tuple[date, date]:
    """The calendar month before the one holding ``today``."""
    return month_bounds(today.replace(day=1) - timedelta(days=1))


def months_touched(start: date, end: date) -> int:
    """Calendar months the range touches (1 for a range inside one month)."""
    return (end.year - start.year) * 12 + end.month - start.month + 1


def months_in(start: date, end: date) -> list[tuple[date, date]]:
    """(first, last) day of each calendar month the range touches, clipped to the range."""
    out, first = [], start.replace(day=1)
    while first <= end:
        month_first, month_last = month_bounds(first)
        out.append((max(month_first, start), min(month_last, end)))
        first = month_last + timedelta(days=1)
    return out


def parse_range(raw_from: str | None, raw_to: str | None,
                default: tuple[date, date] | None = None) -> tuple[date, date]:
    """(start, end) from ``YYYY-MM-DD`` strings; ``default`` when neither is given. Field errors
    (422) when a date is missing or bad, the end is before the start, or the range touches more
    than ten years of months."""
    if not (raw_from or "").strip() and not (raw_to or "").strip() and default is not None:
        return default
    errors, values = {}, {}
    for key, raw in (("from", raw_from), ("to", raw_to)):
        try:
            values[key] = date.fromisoformat((raw or "").strip())
        except ValueError:
            errors[key] = str(_l("Enter a date as YYYY-MM-DD."))
    if not errors and values["from"] > values["to"]:
        errors["to"] = str(_l("The end must not be before the start."))
    if not errors and months_touched(values["from"], values["to"]) > MAX_RANGE_MONTHS:
        errors["to"] = str(_l("At most ten years at a time."))
    if errors:
        raise ValidationError(fields=errors)
    return values["from"], values["to"]


@overload
def parse_month(raw: str | None, default: tuple[date, date]) -> tuple[date, date]: ...
@overload
def parse_month(raw: str | None, default: None = None) -> tuple[date, date] | None: ...
def parse_month(raw: str | None, default: tuple[date, date] | None = None) -> tuple[date, date] | None:
    """First and last day of a ``YYYY-MM`` month; ``default`` when none is given; 422 when malformed."""
    if not raw or not str(raw).strip():
        return default
    try:
        year, month = (int(part) for part in str(raw).strip().split("-"))
        return month_bounds(date(year, month, 1))
    except (ValueError, TypeError):
        raise ValidationError(fields={"month": str(_l("Enter a month as YYYY-MM."))}) from None
