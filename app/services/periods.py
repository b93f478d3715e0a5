"""Which pay period a date falls in, and whether it may still change (rule 5)."""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select

from app.extensions import db
from app.models import PayPeriod
from app.services.errors import ConflictError


class PeriodClosed(ConflictError):
    code = "period_closed"

    def default_message(self):
        return _l("The pay period for this date is closed; nothing dated in it can change.")


def period_covering(day: date, lock: bool = False) -> PayPeriod | None:
    """The period holding ``day``. With ``lock`` (PostgreSQL) the row is share-locked until
    the commit, so a concurrent close waits for this change, or this change sees the close."""
    stmt = select(PayPeriod).where(PayPeriod.start <= day, PayPeriod.end >= day)
    if lock:
        stmt = stmt.with_for_update(read=True).execution_options(populate_existing=True)
    return db.session.scalar(stmt)


# Asked on every return and correction: built once (a statement built per call costs more
# than the query itself). FOR SHARE on PostgreSQL: a concurrent close waits for this change.
_STATUS_ON = (select(PayPeriod.status)
              .where(PayPeriod.start <= bindparam("day"), PayPeriod.end >= bindparam("day")))
_STATUS_ON_LOCKED = _STATUS_ON.with_for_update(read=True)


def is_closed(day: date, lock: bool = False) -> bool:
    # On the session's connection: the ORM's execute path costs more than this query, and
    # the answer is a plain value (inside the write lock, on the hot path of every return).
    status = db.session.connection().scalar(_STATUS_ON_LOCKED if lock else _STATUS_ON, {"day": day})
    return status == "closed"


def closed_message(day: date) -> str:
    """The refusal for a change dated ``day`` in a closed period, saying who can help."""
    period = period_covering(day)
    if period is None or period.status != "closed":
        return str(PeriodClosed().message)
    return str(_l("The pay period %(start)s – %(end)s is closed (by %(who)s), so nothing dated in it can be "
                  "recorded. Ask the enterprise admin: while none of its statements has been printed or "
                  "exported, they can reopen it.", start=period.start.isoformat(), end=period.end.isoformat(),
                  who=period.closed_by or "—"))


def ensure_open(day: date, field: str = "work_date") -> None:
    """Refuse a change dated inside a closed pay period."""
    if is_closed(day, lock=True):
        message = closed_message(day)
        raise PeriodClosed(message, fields={field: message})
