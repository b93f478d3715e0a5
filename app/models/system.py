"""Idempotency keys, the audit trail, scheduled-job runs, notices, settings, insurance."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import utcnow
from app.models.org import Worker
from app.money import Money


class IdempotencyKey(Model):
    """The first answer to a request carrying a key, replayed for repeats by the same user."""

    __tablename__ = "idempotency_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("actor", "key", name="uq_idempotency_actor_key"),)


class AuditEvent(Model):
    """Append-only: who changed what money-relevant data, when, before and after."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(40))
    actor_name: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[int | None]
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)


class JobRun(Model):
    """One claimed tick of a scheduled job: unique per job and scheduled time."""

    __tablename__ = "job_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(50))
    scheduled_for: Mapped[datetime]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None]
    result: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (UniqueConstraint("job", "scheduled_for", name="uq_job_runs_job_tick"),)


class Notice(Model):
    """Something a station's supervisors should see: an overdue batch, an order at risk."""

    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    kind: Mapped[str] = mapped_column(String(30))
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int]
    message: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dismissed_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_notices_station_open", "station_id", "resolved_at", "dismissed_at"),
        Index("ix_notices_entity", "kind", "entity", "entity_id"),
    )


class Setting(Model):
    """Enterprise details for documents and admin switches (key → text)."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)


class InsurancePolicy(Model):
    """Accident insurance covering home workers month by month."""

    __tablename__ = "insurance_policies"
    id: Mapped[int] = mapped_column(primary_key=True)
    insurer: Mapped[str] = mapped_column(String(100))
    policy_number: Mapped[str] = mapped_column(String(50), unique=True)
    start: Mapped[date]
    end: Mapped[date]
    premium_per_person_month: Mapped[Decimal] = mapped_column(Money())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    coverages: Mapped[list[PolicyCoverage]] = relationship(back_populates="policy")


class PolicyCoverage(Model):
    __tablename__ = "policy_coverages"
    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("insurance_policies.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    policy: Mapped[InsurancePolicy] = relationship(back_populates="coverages")
    worker: Mapped[Worker] = relationship()

    __table_args__ = (UniqueConstraint("policy_id", "worker_id", name="uq_policy_coverages_policy_worker"),)
