"""Sign-in throttling, counted in the database so it holds across processes and app servers.

Three budgets of failed sign-ins, each in a fixed window (``LOGIN_WINDOW_MINUTES``, 15):

- per account (``staff:NAME``, ``worker:PHONE``): ``LOGIN_MAX_FAILURES`` (5), then the account is
  locked ``LOGIN_LOCK_MINUTES`` (15), even for the right password, until it runs out or the
  worker's supervisor unlocks it;
- per client address (``addr:IP``, an IPv6 address by its /64): ``LOGIN_MAX_FAILURES_PER_ADDRESS``
  (20), then every sign-in from there waits ``LOGIN_ADDRESS_LOCK_MINUTES`` (15). One PIN tried
  across many phones from one place stops here; a workshop's tablets behind one router make
  fewer than 20 mistakes in a quarter of an hour;
- overall (``all``): ``LOGIN_MAX_FAILURES_OVERALL`` (300), then every sign-in waits
  ``LOGIN_OVERALL_LOCK_MINUTES`` (5): a guess spread over many addresses is bounded to about
  86,000 a day across the whole installation (a 6-digit PIN has a million), at the price of a
  five-minute pause for everyone while an attack that size goes on.

A refusal while locked is not counted (it proves nothing new). A success clears the account's
count only: an attacker's own good sign-ins never buy more guesses for the address.
"""
from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, delete, select, update

from app.db_tx import rowcount
from app.extensions import db
from app.models import LoginThrottle, utcnow

OVERALL_KEY = "all"


@dataclass(frozen=True)
class Budget:
    key: str
    kind: str  # "account", "address" or "overall": which message the refusal gives
    max_failures: int
    lock: timedelta


def address_key(address: str | None) -> str:
    """The client address as counted: IPv4 whole, IPv6 by its /64 (one household or phone)."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return "addr:unknown"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return f"addr:{ip.ipv4_mapped}"
        return f"addr:{ipaddress.ip_network(f'{ip}/64', strict=False).network_address}/64"
    return f"addr:{ip}"


def budgets(account_key: str, address: str | None) -> list[Budget]:
    cfg = current_app.config
    return [
        Budget(account_key, "account", cfg["LOGIN_MAX_FAILURES"], timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])),
        Budget(address_key(address), "address", cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"],
               timedelta(minutes=cfg["LOGIN_ADDRESS_LOCK_MINUTES"])),
        Budget(OVERALL_KEY, "overall", cfg["LOGIN_MAX_FAILURES_OVERALL"],
               timedelta(minutes=cfg["LOGIN_OVERALL_LOCK_MINUTES"])),
    ]


def locked(budget_list: list[Budget], now: datetime | None = None) -> tuple[Budget, int] | None:
    """The budget that refuses a sign-in now and the seconds until it would not, or None.
    One read, no lock taken."""
    now = now or utcnow()
    rows = db.session.execute(
        select(LoginThrottle.account, LoginThrottle.locked_until)
        .where(LoginThrottle.account.in_([b.key for b in budget_list]), LoginThrottle.locked_until > now)
    ).all()
    if not rows:
        return None
    by_key = {b.key: b for b in budget_list}
    key, until = max(rows, key=lambda r: r.locked_until)
    return by_key[key], max(1, math.ceil((until - now).total_seconds()))


def _upsert():
    from sqlalchemy.dialects import postgresql, sqlite

    return postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert


def record_failure(budget_list: list[Budget]) -> None:
    """Count one failure in every budget (atomic upserts: concurrent failures all count);
    a budget that reaches its limit locks."""
    now = utcnow()
    window_open = now - timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])
    insert = _upsert()
    locked_any = False
    for budget in budget_list:
        stale = LoginThrottle.window_start < window_open
        stmt = insert(LoginThrottle).values(account=budget.key, failures=1, window_start=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=[LoginThrottle.account],
            set_={"failures": case((stale, 1), else_=LoginThrottle.failures + 1),
                  "window_start": case((stale, now), else_=LoginThrottle.window_start)},
        ).returning(LoginThrottle.failures)
        failures = db.session.execute(stmt).scalar_one()
        if failures >= budget.max_failures:
            db.session.execute(
                update(LoginThrottle).where(LoginThrottle.account == budget.key)
                .values(locked_until=now + budget.lock, failures=0, window_start=now)
            )
            locked_any = True
    if locked_any:
        forget_old(now)  # rare (a lock), so rows of long-gone addresses never pile up


def clear(key: str) -> bool:
    """Forget the failures and any lock of one key (a success, or a supervisor's unlock)."""
    return rowcount(db.session.execute(delete(LoginThrottle).where(LoginThrottle.account == key))) > 0


def is_locked(key: str) -> bool:
    return db.session.scalar(
        select(LoginThrottle.account).where(LoginThrottle.account == key, LoginThrottle.locked_until > utcnow())
    ) is not None


def forget_old(now: datetime | None = None) -> int:
    """Rows whose window and lock are both over carry nothing: dropped whenever a budget locks."""
    now = now or utcnow()
    window_open = now - timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])
    return rowcount(db.session.execute(
        delete(LoginThrottle).where(LoginThrottle.window_start < window_open,
                                    (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < now))
    ))


__all__ = ["Budget", "address_key", "budgets", "clear", "forget_old", "is_locked", "locked", "record_failure"]
