"""A closed pay period's page reads its frozen statements from ``ix_payslips_period_list``
alone (SQLite's query plans): a page is its own entries in the page's order, not a sort of
the whole period's, and the totals and the reopen check never look a statement up in the
table. The district's period is some 2,000 statements; the page shows 50."""
from datetime import timedelta

import pytest

from app.services import wages
from tests.conftest import BACKEND
from tests.functional.test_worker_lists_plan import _plans_of
from tests.wages_fixtures import close, issue_on, period_for, previous_month, return_on

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's query plans")

INDEX = "USING COVERING INDEX ix_payslips_period_list "


@pytest.fixture
def closed(make):
    start, end = previous_month()
    station = make.station()
    order = make.order(station=station, product=make.product(piece_rate="0.1000"), quantity=5000)
    for i, name in enumerate(("赵丽", "钱芳", "孙敏")):
        worker = make.worker(station=station, name=name, phone=f"1390000{i:04d}")
        return_on(issue_on(make, order, worker, 100, start), start + timedelta(days=1), accepted=10 + i)
    period = period_for(start, end)
    close(period)
    return {"period": period, "station": station}


def payslip_steps(plans: list[list[str]]) -> list[str]:
    return [step for plan in plans for step in plan if " payslips " in f" {step} "]


@pytest.mark.parametrize("one_station", [False, True], ids=["district", "station"])
def test_a_page_and_the_totals_read_the_index_alone_in_the_pages_order(app, db, make, closed, one_station):
    viewer = make.staff("supervisor", station=closed["station"]) if one_station else make.staff("admin")
    station_id = closed["station"].id if one_station else None
    plans = _plans_of(app, db, viewer, "payslips",
                      lambda: wages.period_page(closed["period"], 2, 2, station_id=station_id))
    assert len(plans) == 2, plans  # the totals (their count is the page's) and the page
    steps = payslip_steps(plans)
    assert steps and all(INDEX in step for step in steps), plans
    assert not any("TEMP B-TREE" in step for plan in plans for step in plan), plans


def test_the_reopen_check_counts_printed_statements_from_the_index(app, db, make, closed):
    plans = _plans_of(app, db, make.staff("admin"), "payslips", lambda: wages.reopen_blockers(closed["period"]))
    of_period = [step for step in payslip_steps(plans) if "pay_period_id=?" in step]
    assert of_period and all(INDEX in step for step in of_period), plans
