"""Stations, staff accounts, workers and what authenticates them."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import utcnow

KEY_GROUPS = ("disabled", "relocated", "laid_off", "flexible")
SHORTFALL_POLICIES = ("none", "material_cost")


class Station(Model):
    __tablename__ = "stations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    address: Mapped[str | None] = mapped_column(String(200))
    # What a batch's shortfall (materials never returned) costs the worker.
    shortfall_policy: Mapped[str] = mapped_column(String(20), default="none")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("shortfall_policy in ('none', 'material_cost')", name="shortfall_policy"),
    )


class User(UserMixin, Model):
    """A staff account: an enterprise admin or a station supervisor."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Moved when the account is disabled or its password changes: every session and token
    # minted under an older number stops at once (checked on every load).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    station: Mapped[Station | None] = relationship()

    __table_args__ = (
        CheckConstraint("role in ('admin', 'supervisor')", name="role"),
        CheckConstraint("role = 'admin' or station_id is not null", name="supervisor_station"),
    )

    kind = "staff"

    def get_id(self) -> str:
        return f"staff:{self.id}"

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @property
    def actor_key(self) -> str:
        return f"staff:{self.id}"


class Worker(UserMixin, Model):
    """A resident who takes batches home. Logs in with phone and PIN."""

    __tablename__ = "workers"
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    pin_hash: Mapped[str] = mapped_column(String(255))
    birth_year: Mapped[int | None]
    gender: Mapped[str | None] = mapped_column(String(1))
    is_disabled: Mapped[bool] = mapped_column(default=False)
    is_relocated: Mapped[bool] = mapped_column(default=False)
    is_laid_off: Mapped[bool] = mapped_column(default=False)
    is_flexible: Mapped[bool] = mapped_column(default=False)
    # Sensitive: shown to admins only, masked on printouts.
    id_number: Mapped[str | None] = mapped_column(String(18))
    bank_account: Mapped[str | None] = mapped_column(String(40))
    bank_name: Mapped[str | None] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(default=True)
    registered_on: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Moved by database triggers whenever something this worker's phone shows may have
    # changed (app/models/guards.py); the cached home page is keyed by it. Never set in Python.
    activity_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    # Moved when the worker is disabled or the PIN changes: every session and token ends.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    station: Mapped[Station] = relationship()

    __table_args__ = (
        CheckConstraint("gender is null or gender in ('F', 'M')", name="gender"),
        CheckConstraint("birth_year is null or (birth_year > 1900 and birth_year < 2100)", name="birth_year"),
    )

    kind = "worker"
    role = "worker"

    def get_id(self) -> str:
        return f"worker:{self.id}"

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def actor_key(self) -> str:
        return f"worker:{self.id}"

    @property
    def groups(self) -> list[str]:
        return [g for g in KEY_GROUPS if getattr(self, f"is_{g}")]

    @groups.setter
    def groups(self, values) -> None:
        values = set(values or ())
        for g in KEY_GROUPS:
            setattr(self, f"is_{g}", g in values)

    @property
    def masked_id_number(self) -> str:
        return mask_middle(self.id_number, 4, 4)

    @property
    def masked_bank_account(self) -> str:
        return mask_middle(self.bank_account, 4, 4)

    @property
    def masked_phone(self) -> str:
        return mask_middle(self.phone, 3, 4)


def mask_middle(value: str | None, keep_start: int, keep_end: int) -> str:
    if not value:
        return ""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


class LoginThrottle(Model):
    """Failed logins per key — an account (``staff:NAME``, ``worker:PHONE``), a client address
    (``addr:IP``) or everything (``all``) — in the database so a lock holds across processes
    and app servers."""

    __tablename__ = "login_throttles"
    account: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]


class ApiToken(Model):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # The owner's session_version when issued: a newer one on the account ends the token.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    __table_args__ = (
        CheckConstraint("(user_id is null) <> (worker_id is null)", name="one_owner"),
    )


class EndedSession(Model):
    """A signed-in browser session that was signed out: its cookie is refused from then on.
    Kept until the session's absolute lifetime is over (the cookie dies by itself after)."""

    __tablename__ = "ended_sessions"
    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    ended_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


Index("ix_workers_station_name", Worker.station_id, Worker.name)
