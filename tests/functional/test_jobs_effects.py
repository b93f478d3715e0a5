"""What each scheduled job does, that a second run changes nothing more, and the claim."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app import jobs
from app.dates import previous_month
from app.extensions import db
from app.models import AuditEvent, Order, PayPeriod, Payslip, local_today
from app.services import jobs_service, notices, production
from tests.jobs_fixtures import days_ago, open_notices, runs, set_batch_due, state_of_jobs

pytestmark = pytest.mark.calendar  # runs again on the hard days (scripts/test.sh)


@pytest.fixture
def station_with_batches(make):
    station = make.station()
    order = make.order(station=station, quantity=1000, due_in_days=30)
    late = make.batch(order=order, quantity=50, issued_on=days_ago(10), due_date=days_ago(2))
    due_today = make.batch(order=order, quantity=50, issued_on=days_ago(5), due_date=local_today())
    return station, order, late, due_today


def test_mark_overdue_marks_open_batches_past_due_and_opens_one_notice_each(app, station_with_batches):
    station, _order, late, due_today = station_with_batches
    result = jobs_service.mark_overdue()
    db.session.commit()
    assert "overdue=1" in result and "marked=1" in result and "notices_opened=1" in result
    db.session.expire_all()
    assert late.overdue is True and due_today.overdue is False
    [notice] = open_notices(notices.OVERDUE_BATCH)
    assert (notice.station_id, notice.entity, notice.entity_id) == (station.id, "batch", late.id)


def test_mark_overdue_twice_changes_nothing_more(app, station_with_batches):
    jobs_service.mark_overdue()
    db.session.commit()
    before = state_of_jobs()
    result = jobs_service.mark_overdue()
    db.session.commit()
    assert state_of_jobs() == before
    assert "marked=0" in result and "cleared=0" in result and "notices_opened=0" in result


def test_overdue_clears_and_its_notice_resolves_when_the_batch_comes_back(app, make, station_with_batches):
    _station, _order, late, _due_today = station_with_batches
    jobs_service.mark_overdue()
    db.session.commit()
    make.return_(batch=late, accepted=50)
    production.close_batch(batch=late)
    db.session.commit()
    result = jobs_service.mark_overdue()
    db.session.commit()
    assert "overdue=0" in result and "notices_resolved=1" in result
    assert open_notices(notices.OVERDUE_BATCH) == []


def test_moving_the_due_date_clears_overdue_and_resolves_the_notice(app, station_with_batches):
    _station, _order, late, _due_today = station_with_batches
    jobs_service.mark_overdue()
    db.session.commit()
    set_batch_due(late.id, local_today() + timedelta(days=3))
    result = jobs_service.mark_overdue()
    db.session.commit()
    db.session.expire_all()
    assert late.overdue is False and "cleared=1" in result
    assert open_notices(notices.OVERDUE_BATCH) == []


def test_a_dismissed_notice_is_not_reopened_while_the_batch_stays_overdue(app, station_with_batches):
    jobs_service.mark_overdue()
    db.session.commit()
    [notice] = open_notices(notices.OVERDUE_BATCH)
    notices.dismiss(notice)
    db.session.commit()
    jobs_service.mark_overdue()
    db.session.commit()
    [still] = open_notices(notices.OVERDUE_BATCH)
    assert still.id == notice.id and still.dismissed_at is not None


@pytest.fixture
def three_orders(make):
    station = make.station()
    due_soon_no_pace = make.order(station=station, quantity=500, due_in_days=2)
    slow = make.order(station=station, quantity=1000, due_in_days=30)
    make.return_(batch=make.batch(order=slow, quantity=20, issued_on=days_ago(5)), accepted=10, work_date=days_ago(1))
    on_pace = make.order(station=station, quantity=100, due_in_days=30)
    make.return_(batch=make.batch(order=on_pace, quantity=80, issued_on=days_ago(5)), accepted=60, work_date=days_ago(1))
    return station, due_soon_no_pace, slow, on_pace


def test_orders_whose_forecast_falls_after_the_due_date_are_flagged_with_notices(app, three_orders):
    station, due_soon, slow, on_pace = three_orders
    versions = {o.id: o.version for o in (due_soon, slow, on_pace)}
    result = jobs_service.flag_orders_at_risk()
    db.session.commit()
    db.session.expire_all()
    assert (due_soon.at_risk, slow.at_risk, on_pace.at_risk) == (True, True, False)
    assert due_soon.forecast_date is None
    assert slow.forecast_date == production.forecast_completion(slow) and slow.forecast_date > slow.due_date
    assert on_pace.forecast_date == production.forecast_completion(on_pace) <= on_pace.due_date
    assert "at_risk=2" in result and "notices_opened=2" in result
    assert {n.entity_id for n in open_notices(notices.ORDER_AT_RISK)} == {due_soon.id, slow.id}
    assert {n.station_id for n in open_notices(notices.ORDER_AT_RISK)} == {station.id}
    # Derived fields only: a supervisor editing the order meanwhile is not refused as stale.
    assert {o.id: o.version for o in (due_soon, slow, on_pace)} == versions


def test_flag_orders_at_risk_twice_changes_nothing_more(app, three_orders):
    jobs_service.flag_orders_at_risk()
    db.session.commit()
    before = state_of_jobs()
    result = jobs_service.flag_orders_at_risk()
    db.session.commit()
    assert state_of_jobs() == before
    assert "changed=0" in result and "notices_opened=0" in result and "notices_resolved=0" in result


def test_an_order_back_on_pace_or_cancelled_loses_its_flag_and_notice(app, make, three_orders):
    _station, due_soon, slow, _on_pace = three_orders
    jobs_service.flag_orders_at_risk()
    db.session.commit()
    production.update_order(db.session.get(Order, due_soon.id), status="cancelled")
    make.return_(batch=make.batch(order=slow, quantity=900), accepted=900)
    db.session.commit()
    result = jobs_service.flag_orders_at_risk()
    db.session.commit()
    db.session.expire_all()
    assert (due_soon.at_risk, slow.at_risk) == (False, False)
    assert "notices_resolved=2" in result and open_notices(notices.ORDER_AT_RISK) == []


def test_at_risk_job_reads_in_a_fixed_number_of_queries(app, make, count_queries):

    station = make.station()
    for _ in range(3):
        make.order(station=station, quantity=100, due_in_days=1)

    def count_statements(n_more):
        for _ in range(n_more):
            make.order(station=station, quantity=100, due_in_days=1)
        with count_queries() as queries:
            jobs_service.flag_orders_at_risk()
            db.session.rollback()
        return len(queries)

    assert count_statements(0) == count_statements(6)


# --- closing last month's pay period


def _switch_on(day=1):
    jobs_service.save_auto_close(True, day)
    db.session.commit()


def _last_month_work(make):
    """A worker with accepted pieces in last month, so closing writes one statement."""
    start, _end = previous_month(local_today())
    batch = make.batch(quantity=50, issued_on=start, due_date=start + timedelta(days=5))
    make.return_(batch=batch, accepted=40, work_date=start + timedelta(days=2))
    return batch


def test_auto_close_is_off_by_default_and_does_nothing(app, make):
    _last_month_work(make)
    assert jobs_service.close_previous_pay_period() == "switched off"
    assert db.session.scalar(select(PayPeriod)) is None


def test_auto_close_creates_and_closes_last_months_period_once_through_the_wages_service(app, make):
    batch = _last_month_work(make)
    _switch_on(day=1)
    outcome = jobs.run_claimed("close_pay_period")
    assert outcome.run.error is None and "closed=1" in outcome.run.result and "payslips=1" in outcome.run.result
    start, end = previous_month(local_today())
    period = db.session.scalar(select(PayPeriod))
    assert (period.start, period.end, period.status) == (start, end, "closed")
    slip = db.session.scalar(select(Payslip))
    assert slip.worker_id == batch.worker_id and slip.pieces == 40
    again = jobs_service.close_previous_pay_period()
    assert "already_closed=1" in again
    assert db.session.scalar(select(func.count()).select_from(Payslip)) == 1


def test_auto_close_leaves_a_period_that_is_not_a_calendar_month_to_the_admin(app, make):
    """The job creates last month's period through wages.create_pay_period: an admin's period
    overlapping it is refused there, and the job says so and changes nothing."""
    from app.services import wages

    _last_month_work(make)
    _switch_on(day=1)
    start, end = previous_month(local_today())
    own = wages.create_pay_period(start + timedelta(days=3), end + timedelta(days=3))
    db.session.commit()
    outcome = jobs_service.close_previous_pay_period()
    assert outcome.endswith(f"skipped=overlaps_{own.start.isoformat()}..{own.end.isoformat()}")
    db.session.rollback()
    assert db.session.scalars(select(PayPeriod)).all() == [own] and own.status == "open"
    created = db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "pay_period")).all()
    assert [e.action for e in created] == ["create"]


def test_auto_close_waits_for_its_day_of_the_month(app, make):
    _last_month_work(make)
    _switch_on(day=20)
    day_10 = local_today().replace(day=10)
    assert jobs_service.close_previous_pay_period(today=day_10) == "waiting_until_day=20"
    assert db.session.scalar(select(PayPeriod)) is None
    assert "closed=1" in jobs_service.close_previous_pay_period(today=day_10.replace(day=21))


def test_switch_is_stored_in_settings_and_audited(app):
    _switch_on(day=7)
    assert jobs_service.auto_close_settings() == jobs_service.AutoClose(enabled=True, day=7)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.entity == "setting")) is not None


# --- the claim


def test_a_tick_is_claimed_once(app):
    tick = datetime(2026, 3, 1, 2, 0, 0, 250000, tzinfo=UTC)
    first = jobs_service.claim_run("mark_overdue", tick)
    second = jobs_service.claim_run("mark_overdue", tick.replace(microsecond=900000))
    other_job = jobs_service.claim_run("backup", tick)
    assert first is not None and second is None and other_job is not None
    assert first.scheduled_for == datetime(2026, 3, 1, 2, 0, 0)


def test_running_a_claimed_tick_again_is_skipped_and_records_nothing_more(app, station_with_batches, clock):
    tick = clock.now.astimezone(UTC).replace(microsecond=0)
    first = jobs.run_claimed("mark_overdue", tick)
    second = jobs.run_claimed("mark_overdue", tick)
    assert first.claimed and not second.claimed
    [run] = runs("mark_overdue")
    assert run.finished_at is not None and run.duration_ms >= 0 and "marked=1" in run.result and run.error is None


def test_a_failing_job_is_recorded_with_its_error_and_its_work_rolled_back(app, monkeypatch, station_with_batches):
    def broken():
        jobs_service.mark_overdue()
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(jobs.JOBS, "mark_overdue", jobs.JobSpec("mark_overdue", "x", broken))
    outcome = jobs.run_claimed("mark_overdue")
    assert outcome.run.error == "RuntimeError: disk on fire" and outcome.run.result is None
    assert outcome.run.finished_at is not None
    assert open_notices() == []  # the job's own writes were rolled back


def test_scheduled_time_in_any_zone_keys_the_same_tick(app):
    from zoneinfo import ZoneInfo

    shanghai = datetime(2026, 3, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert jobs_service.tick_key(shanghai) == datetime(2026, 3, 1, 2, 0)


# --- by hand


def test_run_job_lists_the_jobs_and_runs_one_through_the_claim(app, station_with_batches):
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["run-job", "--list"])
    assert listed.exit_code == 0
    assert [line.split("\t")[0] for line in listed.output.splitlines()] == list(jobs.JOBS)
    done = runner.invoke(args=["run-job", "mark_overdue"])
    assert done.exit_code == 0 and "marked=1" in done.output
    [run] = runs("mark_overdue")
    assert run.result.startswith("overdue=1") and run.host.endswith(f":{__import__('os').getpid()}")


def test_run_job_refuses_an_unknown_job(app):
    result = app.test_cli_runner().invoke(args=["run-job", "no_such_job"])
    assert result.exit_code == 2 and runs() == []


def test_run_job_reports_a_failure_with_a_nonzero_exit(app, monkeypatch):
    def broken():
        raise RuntimeError("no disk")

    monkeypatch.setitem(jobs.JOBS, "backup", jobs.JobSpec("backup", "x", broken))
    result = app.test_cli_runner().invoke(args=["run-job", "backup"])
    assert result.exit_code == 1 and "no disk" in result.output
    assert runs("backup")[0].error == "RuntimeError: no disk"


def test_runs_of_two_ticks_at_once_open_each_notice_once(app, make):
    """Runs of one job never interleave (SQLite's write lock; PostgreSQL's advisory lock):
    two ticks' runs that both find overdue batches without notices open them once."""
    import threading

    from app.models import Batch, Notice

    station = make.station()
    order = make.order(station=station, quantity=2000)
    for _ in range(8):
        make.batch(order=order, quantity=10, issued_on=days_ago(6), due_date=days_ago(1))
    base = jobs_service.now_tick()
    for round_ in range(4):
        # Overdue already flagged but nobody told yet: no row for the runs to lock on.
        db.session.execute(Batch.__table__.update().values(overdue=True))
        db.session.execute(Notice.__table__.update().values(resolved_at=base))
        db.session.commit()
        barrier = threading.Barrier(2)
        errors = []

        def run(offset, round_=round_, barrier=barrier, errors=errors):
            with app.app_context():
                try:
                    barrier.wait()
                    jobs.run_claimed("mark_overdue", base + timedelta(seconds=10 * round_ + offset))
                except Exception as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=run, args=(n,)) for n in (1, 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(open_notices(notices.OVERDUE_BATCH)) == 8, f"round {round_}"
    assert len(runs("mark_overdue")) == 8 and all(r.error is None for r in runs("mark_overdue"))
