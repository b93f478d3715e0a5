"""The accident-insurance register: who is active without cover in a month, and the one-step cover."""
from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.dates import month_bounds
from app.extensions import db
from app.models import PolicyCoverage, local_today
from app.services import insurance
from app.services.errors import ConflictError, ValidationError

pytestmark = pytest.mark.calendar  # runs again on the hard days (scripts/test.sh)


def _policy(number, start, end):
    policy = insurance.create_policy(insurer="中国人保", policy_number=number, start=start, end=end,
                                     premium_per_person_month=Decimal("6.50"))
    db.session.commit()
    return policy


@pytest.fixture
def month():
    today = local_today()
    return month_bounds(today)


def test_only_active_workers_without_a_policy_in_force_are_listed(make, month):
    first, last = month
    station = make.station()
    order = make.order(station=station)
    active, covered_elsewhen, idle = (make.worker(station=station) for _ in range(3))
    for w in (active, covered_elsewhen):
        make.return_(batch=make.batch(order=order, worker=w, quantity=10), accepted=2)
    expired = _policy("OLD-1", first - timedelta(days=400), first - timedelta(days=1))
    insurance_ids = {w.id for w in insurance.uninsured_active_workers(first, last)}
    assert insurance_ids == {active.id, covered_elsewhen.id}
    db.session.add(PolicyCoverage(policy_id=expired.id, worker_id=covered_elsewhen.id))
    db.session.commit()
    # cover that ended before the month does not count
    assert {w.id for w in insurance.uninsured_active_workers(first, last)} == {active.id, covered_elsewhen.id}
    assert idle.id not in insurance_ids


def test_cover_uninsured_adds_each_once_and_refuses_a_policy_out_of_force(make, month):
    first, last = month
    station, other = make.station(), make.station()
    for st in (station, other):
        w = make.worker(station=st)
        make.return_(batch=make.batch(order=make.order(station=st), worker=w, quantity=10), accepted=1)
    current = _policy("NOW-1", first, last + timedelta(days=300))
    assert insurance.cover_uninsured(current.id, first, last, station_id=station.id) == 1
    assert [w.station_id for w in insurance.uninsured_active_workers(first, last)] == [other.id]
    assert insurance.cover_uninsured(current.id, first, last) == 1
    assert insurance.cover_uninsured(current.id, first, last) == 0
    old = _policy("OLD-2", date(2000, 1, 1), date(2000, 12, 31))
    with pytest.raises(ConflictError):
        insurance.cover_uninsured(old.id, first, last)


def test_policy_numbers_are_unique_and_dates_run_forward(app):
    _policy("P-1", date(2026, 1, 1), date(2026, 12, 31))
    with pytest.raises(ConflictError):
        _policy("P-1", date(2026, 1, 1), date(2026, 12, 31))
    db.session.rollback()
    with pytest.raises(ValidationError) as err:
        _policy("P-2", date(2026, 12, 1), date(2026, 1, 1))
    assert "end" in err.value.fields
