"""The product on the hard days of the calendar (rule 12): the 1st of a month, 31 December →
1 January, 29 February; at 00:30 in Shanghai the UTC day (and on 1 January the UTC year) is
still the old one, and the workshop's day is the one that counts."""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from app.dates import month_bounds
from app.db_tx import writing
from app.extensions import db
from app.models import Client, NumberCounter, PayPeriod, Payslip, local_today
from app.services import invoicing, jobs_service, production, reports
from tests.clock import WORKSHOP_TZ
from tests.invoices_fixtures import accepted_pieces

# Not marked ``calendar``: each test moves the clock to the hard days it is about.


def _at(day: date, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=WORKSHOP_TZ)


def test_invoice_numbers_run_to_the_last_second_of_the_year_and_restart_at_one_on_the_workshops_new_year(app, make, clock):
    year = clock.today.year
    db.session.add(NumberCounter(series="invoice", year=year, last=122))
    client_ids = [accepted_pieces(make, orders=((100, "0.5000", 10),))[0].id for _ in range(3)]
    db.session.commit()
    clock.move_to(_at(date(year, 12, 31), 23, 59, 59), tick=False)  # two issuers in the year's last second
    barrier, numbers, errors = threading.Barrier(2), [], []

    def issuer(client_id):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                with writing():
                    numbers.append(invoicing.issue_invoice(db.session.get(Client, client_id)).number)
                    db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported in the test's thread
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issuer, args=(cid,)) for cid in client_ids[:2]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(numbers) == [f"{year}-000123", f"{year}-000124"]
    # 00:00:30 on 1 January in Shanghai is still 31 December in UTC: the number's year is the workshop's
    clock.move_to(_at(date(year + 1, 1, 1), 0, 0, 30), tick=False)
    first = invoicing.issue_invoice(db.session.get(Client, client_ids[2]))
    db.session.commit()
    assert first.number == f"{year + 1}-000001" and first.issue_date == date(year + 1, 1, 1)


def test_the_auto_close_on_the_1st_at_half_past_midnight_closes_the_workshops_last_month(app, make, clock):
    jobs_service.save_auto_close(True, 1)
    clock.move_to(_at(date(2028, 2, 29), 10, 0))
    batch = make.batch(quantity=20)
    make.return_(batch=batch, accepted=5)
    clock.move_to(_at(date(2028, 3, 1), 0, 30))  # UTC: 29 February, 16:30
    outcome = jobs_service.close_previous_pay_period()
    db.session.commit()
    assert "2028-02-01..2028-02-29" in outcome and "closed=1" in outcome
    period = db.session.scalar(select(PayPeriod).where(PayPeriod.start == date(2028, 2, 1)))
    assert period.status == "closed" and period.end == date(2028, 2, 29)
    slip = db.session.scalar(select(Payslip).where(Payslip.pay_period_id == period.id))
    assert slip.pieces == 5 and slip.gross == Decimal("1.75")


def test_the_auto_close_waits_for_its_day_and_never_closes_the_month_that_just_began(app, clock):
    jobs_service.save_auto_close(True, 5)
    clock.move_to(_at(date(2027, 1, 1), 0, 30))
    assert "waiting_until_day=5" in jobs_service.close_previous_pay_period()
    assert db.session.scalar(select(PayPeriod)) is None


def test_the_order_boards_pace_counts_the_last_14_days_across_a_month_boundary(app, make, clock):
    clock.move_to(_at(date(2027, 3, 3), 9, 0))
    order = make.order(quantity=1000, due_in_days=60)
    batch = make.batch(order=order, quantity=500, issued_on=date(2027, 2, 10))
    for day in (date(2027, 2, 17), date(2027, 2, 18), date(2027, 2, 28), date(2027, 3, 1), date(2027, 3, 3)):
        make.return_(batch=batch, accepted=10, work_date=day)  # 17 Feb is 14 days back: outside
    recent = production.recent_accepted_by_order([order.id])[order.id]
    assert recent == 40
    db.session.refresh(order)
    # 1000 - 50 left at 40 per 14 days: ceil(950 * 14 / 40) = 333 days
    assert production.forecast_completion(order) == date(2027, 3, 3) + timedelta(days=333)


def test_a_man_of_60_is_of_working_age_in_decembers_report_run_on_1_january_and_not_in_januarys(app, make, clock):
    clock.move_to(_at(date(2026, 12, 10), 10, 0))
    station = make.station()
    worker = make.worker(station=station, gender="M", birth_year=1966)
    batch = make.batch(order=make.order(station=station), worker=worker, quantity=50)
    make.return_(batch=batch, accepted=10, work_date=date(2026, 12, 10))
    clock.move_to(_at(date(2027, 1, 1), 0, 30))
    make.return_(batch=batch, accepted=10)  # today: 1 January
    december = reports.employment_report(date(2026, 12, 1), date(2026, 12, 31))
    assert december["workers_active"] == 1 and december["registered"] == 1
    assert december["active_not_counted_as_registered"]["outside_working_age"] == 0
    assert december["groups"]["age_50_60_men"] == 1
    january = reports.employment_report(*month_bounds(local_today()))
    assert january["from"] == date(2027, 1, 1)
    assert january["workers_active"] == 1 and january["registered"] == 0
    assert january["active_not_counted_as_registered"]["outside_working_age"] == 1
    assert january["groups"]["age_50_60_men"] == 0


def test_the_dashboard_on_the_1st_shows_last_month_by_name_until_the_new_month_earns(app, make, clock):
    clock.move_to(_at(date(2027, 2, 20), 10, 0))
    station = make.station()
    batch = make.batch(order=make.order(station=station, quantity=5000), quantity=4000)
    make.return_(batch=batch, accepted=3000, work_date=date(2027, 2, 20))  # ¥1,050 at 0.35
    clock.move_to(_at(date(2027, 3, 1), 0, 30))
    d = reports.station_dashboard(station.id)
    assert d["month_first"] == date(2027, 3, 1) and d["workers_active"] == 0
    assert d["bands_are_previous_month"] and d["bands_month"] == date(2027, 2, 1)
    assert [n for _low, _high, n in d["bands"]] == [0, 0, 1]
    assert d["wages_previous_month"] == Decimal("1050.00")
    assert len(d["pieces_by_day"]) == 30 and d["pieces_by_day"][-1][0] == date(2027, 3, 1)
    assert d["pieces_30_days"] == 3000  # the last 30 days reach back into February
    make.return_(batch=batch, accepted=10)
    d = reports.station_dashboard(station.id)
    assert not d["bands_are_previous_month"] and d["workers_active"] == 1


def test_the_dashboard_page_on_the_1st_names_last_month(client, login_as, make, clock):
    clock.move_to(_at(date(2027, 12, 15), 10, 0))
    station = make.station()
    batch = make.batch(order=make.order(station=station), quantity=100)
    make.return_(batch=batch, accepted=50)
    clock.move_to(_at(date(2028, 1, 1), 0, 30))
    login_as("supervisor", station=station)
    html = client.get("/home").text
    assert "上月（2027-12）工人收入分布" in html and "本月尚无收入" in html


def test_the_workers_phone_on_the_1st_says_what_last_month_came_to(client, login_as, make, clock):
    clock.move_to(_at(date(2028, 2, 29), 12, 0))
    station = make.station()
    worker = make.worker(station=station, pin="246810")
    batch = make.batch(order=make.order(station=station), worker=worker, quantity=100)
    make.return_(batch=batch, accepted=100)  # ¥35.00 at 0.35 on 29 February
    clock.move_to(_at(date(2028, 3, 1), 0, 30))
    login_as("worker", account=worker)
    html = client.get("/home").text
    assert 'data-testid="previous-month-amount"' in html and "¥35.00" in html
    clock.move_to(_at(date(2028, 3, 8), 9, 0))
    login_as("worker", account=worker)
    html = client.get("/home").text
    assert 'data-testid="today-amount"' in html and 'data-testid="previous-month-amount"' not in html
