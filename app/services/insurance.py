"""The accident-insurance register: policies, the workers each covers, and the workers active
in a month whom no policy in force that month covers.

A policy covers a worker in a month when the worker is on the policy and the policy's
[start, end] overlaps the month.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import InsurancePolicy, PolicyCoverage, Return, Station, Worker
from app.services import audit
from app.services.errors import ConflictError, NotFound, ValidationError

POLICY_FIELDS = ("insurer", "policy_number", "start", "end", "premium_per_person_month")


def create_policy(*, insurer: str, policy_number: str, start: date, end: date,
                  premium_per_person_month: Decimal | None, user=None) -> InsurancePolicy:
    """Register a policy; the number is unique and the dates run forward."""
    errors = {}
    insurer, policy_number = (insurer or "").strip(), (policy_number or "").strip()
    if not insurer:
        errors["insurer"] = str(_l("Required."))
    if not policy_number:
        errors["policy_number"] = str(_l("Required."))
    if start and end and end < start:
        errors["end"] = str(_l("The end must not be before the start."))
    if premium_per_person_month is None or premium_per_person_month < 0:
        errors["premium_per_person_month"] = str(_l("Must not be negative."))
    if errors:
        raise ValidationError(fields=errors)
    if db.session.scalar(select(InsurancePolicy.id).where(InsurancePolicy.policy_number == policy_number)):
        raise ConflictError(_l("A policy with this number is already registered."), code="policy_number_taken",
                            fields={"policy_number": str(_l("Already registered."))})
    policy = InsurancePolicy(insurer=insurer, policy_number=policy_number, start=start, end=end,
                             premium_per_person_month=premium_per_person_month)
    db.session.add(policy)
    db.session.flush()
    audit.record("create", "insurance_policy", policy.id, after=audit.snapshot(policy, POLICY_FIELDS), user=user)
    return policy


def policies_with_counts():
    """Every policy with the number of workers it covers, newest first (one query)."""
    covered = (select(PolicyCoverage.policy_id, func.count(PolicyCoverage.id).label("n"))
               .group_by(PolicyCoverage.policy_id).subquery())
    return db.session.execute(
        select(InsurancePolicy, func.coalesce(covered.c.n, 0))
        .outerjoin(covered, covered.c.policy_id == InsurancePolicy.id)
        .order_by(InsurancePolicy.start.desc(), InsurancePolicy.id.desc())
    ).all()


def policies_in_force(first: date, last: date) -> list[InsurancePolicy]:
    """Policies whose term overlaps [first, last]."""
    return list(db.session.scalars(
        select(InsurancePolicy).where(InsurancePolicy.start <= last, InsurancePolicy.end >= first)
        .order_by(InsurancePolicy.end.desc(), InsurancePolicy.id)
    ).all())


def covered_condition(first: date, last: date):
    """SQL: the worker is on a policy in force some time in [first, last]."""
    return exists(
        select(PolicyCoverage.id).join(InsurancePolicy, InsurancePolicy.id == PolicyCoverage.policy_id)
        .where(PolicyCoverage.worker_id == Worker.id, InsurancePolicy.start <= last, InsurancePolicy.end >= first)
    )


def active_worker_ids(first: date, last: date, station_id: int | None = None):
    """SQL: workers whose accepted pieces in [first, last], corrections included, are above zero."""
    stmt = (select(Return.worker_id).where(Return.work_date >= first, Return.work_date <= last)
            .group_by(Return.worker_id).having(func.sum(Return.accepted) > 0))
    if station_id is not None:
        stmt = stmt.where(Return.worker_id.in_(select(Worker.id).where(Worker.station_id == station_id)))
    return stmt


def uninsured_active_workers(first: date, last: date, station_id: int | None = None, active_ids=None) -> list[Row]:
    """Workers active in [first, last] (of one station, or all) whom no policy in force then
    covers, as rows of what the pages show of them: ``id``, ``station_id``, ``name`` and
    ``station_name`` (a station's dashboard lists about 400: plain rows, not Worker objects).
    ``active_ids`` may pass the active workers already known; one query either way."""
    stmt = (select(Worker.id, Worker.station_id, Worker.name, Station.name.label("station_name"))
            .join(Station, Station.id == Worker.station_id).where(~covered_condition(first, last))
            .order_by(Worker.station_id, Worker.name, Worker.id))
    if station_id is not None:
        stmt = stmt.where(Worker.station_id == station_id)
    if active_ids is None:
        return list(db.session.execute(stmt.where(Worker.id.in_(active_worker_ids(first, last, station_id)))).all())
    # Known: the uncovered workers are kept in Python, not sent back as an IN list of hundreds.
    active = set(active_ids)
    return [row for row in db.session.execute(stmt).all() if row.id in active] if active else []


def cover_uninsured(policy_id: int, first: date, last: date, station_id: int | None = None, user=None) -> int:
    """One step: put every worker active in [first, last] without cover on the policy.

    The policy must be in force in that time. Returns how many workers were added; running it
    twice adds nobody the second time.
    """
    policy = db.session.get(InsurancePolicy, policy_id)
    if policy is None:
        raise NotFound()
    if policy.start > last or policy.end < first:
        raise ConflictError(_l("This policy is not in force in that month."), code="policy_not_in_force",
                            fields={"policy_id": str(_l("Choose a policy in force in that month."))})
    workers = uninsured_active_workers(first, last, station_id=station_id)
    for worker in workers:
        db.session.add(PolicyCoverage(policy_id=policy.id, worker_id=worker.id))
    db.session.flush()
    if workers:
        audit.record("cover_workers", "insurance_policy", policy.id,
                     after={"worker_ids": [w.id for w in workers], "from": first, "to": last}, user=user)
    return len(workers)


def covered_workers(policy_id: int) -> list[Worker]:
    """The workers a policy covers, by station and name (one query)."""
    return list(db.session.scalars(
        select(Worker).options(joinedload(Worker.station))
        .join(PolicyCoverage, PolicyCoverage.worker_id == Worker.id)
        .where(PolicyCoverage.policy_id == policy_id).order_by(Worker.station_id, Worker.name, Worker.id)
    ).all())
