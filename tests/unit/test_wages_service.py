"""Pay periods, adjustments, shortfalls, closing and the hash chain (rules 1, 4, 5, 9)."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from app.dates import month_bounds
from app.models import PayPeriod, Payslip, PayslipLine, local_today
from app.services import catalog, chain, periods, production, wages
from app.services.errors import ConflictError, ValidationError
from app.wages import documents
from tests.wages_fixtures import close, issue_on, period_for, previous_month, return_on

pytestmark = pytest.mark.calendar  # runs again on the hard days (scripts/test.sh)


@pytest.fixture
def last_month(make):
    start, end = previous_month()
    station = make.station(shortfall_policy="material_cost")
    product = make.product(piece_rate="0.0350", material_cost="0.1200")
    order = make.order(station=station, product=product, quantity=10_000)
    worker = make.worker(station=station, name="王秀英")
    batch = issue_on(make, order, worker, 200, start)
    returns = [return_on(batch, start + timedelta(days=i), accepted=1) for i in range(3)]
    return {"start": start, "end": end, "station": station, "product": product, "order": order,
            "worker": worker, "batch": batch, "returns": returns}


def _frozen(db):
    slips = db.session.execute(text("SELECT * FROM payslips ORDER BY id")).all()
    lines = db.session.execute(text("SELECT * FROM payslip_lines ORDER BY id")).all()
    return [tuple(r) for r in slips], [tuple(r) for r in lines]


def test_three_returns_of_one_piece_round_once_per_line_on_the_statement(db, last_month):
    period = period_for(last_month["start"], last_month["end"])
    result = close(period)
    slip = db.session.scalar(select(Payslip))
    assert (result.payslips, slip.pieces, slip.gross, slip.net) == (1, 3, Decimal("0.11"), Decimal("0.11"))
    per_return = sum(Decimal("0.035").quantize(Decimal("0.01"), "ROUND_HALF_UP") for _ in range(3))
    assert per_return == Decimal("0.12") != slip.net


def test_periods_never_overlap_and_default_to_a_calendar_month(db, app):
    period = wages.create_pay_period(None, None)
    today = local_today()
    assert (period.start, period.end) == month_bounds(today)
    assert period.start.day == 1 and (period.end + timedelta(days=1)).day == 1
    with pytest.raises(ConflictError) as exc:
        wages.create_pay_period(period.end, period.end + timedelta(days=5))
    assert exc.value.code == "overlapping_period"
    with pytest.raises(ValidationError):
        wages.create_pay_period(today, today - timedelta(days=1))


def test_the_database_itself_refuses_overlapping_periods_on_postgresql(db, app):
    first = PayPeriod(start=local_today().replace(day=1), end=local_today().replace(day=1) + timedelta(days=20))
    db.session.add(first)
    db.session.commit()
    db.session.add(PayPeriod(start=first.start + timedelta(days=3), end=first.end + timedelta(days=30)))
    if db.engine.dialect.name == "postgresql":
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
    else:  # SQLite has no exclusion constraint: the service's check (and the write lock) guard it
        db.session.rollback()
        with pytest.raises(ConflictError):
            wages.create_pay_period(first.start + timedelta(days=3), first.end + timedelta(days=30))


def test_closing_freezes_lines_adjustments_and_shortfall_deductions(db, last_month):
    period = period_for(last_month["start"], last_month["end"])
    wages.add_adjustment(worker=last_month["worker"], period=period, amount=Decimal("50.00"), reason="全勤奖")
    wages.add_adjustment(worker=last_month["worker"], period=period, amount=Decimal("-3.50"), reason="返工")
    small = issue_on(None, last_month["order"], last_month["worker"], 10, last_month["start"])
    return_on(small, last_month["start"] + timedelta(days=1), accepted=4)
    production.close_batch(batch=small, reason="丢了 6 件材料")
    small.closed_on = last_month["end"]  # closed on the period's last day
    db.session.commit()
    close(period)
    slip = db.session.scalar(select(Payslip))
    kinds = [(line.kind, line.amount) for line in slip.lines]
    assert kinds == [("piece", Decimal("0.25")), ("adjustment", Decimal("50.00")), ("adjustment", Decimal("-3.50")),
                     ("shortfall", Decimal("-0.72"))]  # 7 × 0.035 = 0.245 → 0.25; 6 lost × 0.12
    assert (slip.gross, slip.adjustments, slip.deductions, slip.net) == (
        Decimal("0.25"), Decimal("46.50"), Decimal("0.72"), Decimal("46.03"))
    assert sum(line.amount for line in slip.lines) == slip.net
    with pytest.raises(ConflictError):
        wages.add_adjustment(worker=last_month["worker"], period=period, amount=Decimal("1.00"), reason="迟到")
    with pytest.raises(ConflictError):
        close(period)


def test_rate_change_after_issue_leaves_earlier_earnings_unchanged(db, last_month):
    catalog.update_product(last_month["product"], piece_rate=Decimal("0.5000"))
    db.session.commit()
    return_on(last_month["batch"], last_month["start"] + timedelta(days=5), accepted=97)
    later = issue_on(None, last_month["order"], last_month["worker"], 10, last_month["start"] + timedelta(days=6))
    return_on(later, last_month["start"] + timedelta(days=6), accepted=10)
    close(period_for(last_month["start"], last_month["end"]))
    lines = [(line.piece_rate, line.pieces, line.amount) for line in db.session.scalars(select(PayslipLine))]
    assert lines == [(Decimal("0.0350"), 100, Decimal("3.50")), (Decimal("0.5000"), 10, Decimal("5.00"))]


def test_closed_period_statements_and_pdf_stay_byte_identical_through_later_activity(db, app, last_month):
    period = period_for(last_month["start"], last_month["end"])
    current = wages.create_pay_period(*month_bounds(local_today()))
    db.session.commit()
    close(period)
    slip = db.session.scalar(select(Payslip))
    pdf = documents.payslip_pdf(slip)
    period_pdf = documents.period_pdf(period)
    before = _frozen(db)
    # later activity: a correction of a closed period's return, new work, a rate change
    correction = production.record_correction(original=last_month["returns"][0], accepted=-1, unused=1, reason="点错了")
    db.session.commit()
    assert correction.work_date == local_today()  # it went into the open period
    assert periods.period_covering(correction.work_date).id == current.id
    return_on(last_month["batch"], local_today(), accepted=20)
    catalog.update_product(last_month["product"], piece_rate=Decimal("0.9000"))
    db.session.commit()
    with pytest.raises(ConflictError):
        return_on(last_month["batch"], last_month["start"] + timedelta(days=1), accepted=1)
    db.session.rollback()
    wages.close_pay_period(current, early=True)  # the current month has not ended
    db.session.commit()
    after = _frozen(db)
    assert len(after[0]) == 2  # the current period's statement came after
    assert [r for r in after[0] if r[1] == period.id] == before[0]
    assert [r for r in after[1] if r[1] in {s[0] for s in before[0]}] == before[1]
    db.session.expire_all()
    assert documents.payslip_pdf(db.session.get(Payslip, slip.id)) == pdf
    assert documents.period_pdf(db.session.get(PayPeriod, period.id)) == period_pdf
    assert chain.verify_payslips() == []


def test_chain_links_payslips_across_periods_with_increasing_seq(db, last_month):
    earlier_start = (last_month["start"] - timedelta(days=1)).replace(day=1)
    first = period_for(earlier_start, last_month["start"] - timedelta(days=1))
    other = issue_on(None, last_month["order"], last_month["worker"], 5, earlier_start)
    return_on(other, earlier_start, accepted=5)
    close(first)
    close(period_for(last_month["start"], last_month["end"]))
    slips = db.session.scalars(select(Payslip).order_by(Payslip.seq)).all()
    assert [s.seq for s in slips] == [1, 2]
    assert slips[0].prev_hash == chain.GENESIS and slips[1].prev_hash == slips[0].hash
    assert chain.verify_payslips() == []


def test_verify_names_a_payslip_changed_behind_the_apps_back(db, app, last_month):
    close(period_for(last_month["start"], last_month["end"]))
    slip = db.session.scalar(select(Payslip))
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["verify"])
    assert ok.exit_code == 0 and "chain intact" in ok.output
    db.session.execute(text("UPDATE payslips SET net = net + 10000 WHERE id = :id"), {"id": slip.id})
    db.session.commit()
    problems = chain.verify_payslips()
    assert {p.entity_id for p in problems} == {slip.id}
    bad = runner.invoke(args=["verify"])
    assert bad.exit_code == 1
    assert f"payslip {slip.id}" in bad.output


def test_verify_notices_a_tampered_line(db, app, last_month):
    close(period_for(last_month["start"], last_month["end"]))
    db.session.execute(text("UPDATE payslip_lines SET pieces = 300"))
    db.session.commit()
    assert len(chain.verify_payslips()) == 1


def test_closing_a_month_writes_statements_in_a_fixed_number_of_queries(db, app, make, last_month, count_queries):

    for _ in range(6):
        worker = make.worker(station=last_month["station"])
        return_on(issue_on(None, last_month["order"], worker, 10, last_month["start"]), last_month["start"], accepted=3)
    period = period_for(last_month["start"], last_month["end"])
    with count_queries() as queries:
        close(period)
    assert db.session.query(Payslip).count() == 7
    assert len(queries) < 25, queries.statements


def test_phone_summary_agrees_with_the_earnings_service_and_rounds_per_line(db, make):
    from app.services.earnings import worker_earnings

    today = local_today()
    product = make.product(piece_rate="0.0350")
    worker = make.worker()
    order = make.order(station=worker.station, product=product)
    batch = issue_on(None, order, worker, 100, today - timedelta(days=12))
    for days_ago in (12, 5, 0, 0, 0):
        return_on(batch, today - timedelta(days=days_ago), accepted=1)
    summary = wages.worker_phone_summary(worker.id, today)
    month = worker_earnings(worker.id, today.replace(day=1), today)
    assert (summary["month_amount"], summary["month_pieces"]) == (month["amount"], month["pieces"])
    assert (summary["today_amount"], summary["today_pieces"]) == (Decimal("0.11"), 3)  # not 3 × 0.04
    assert len(summary["days"]) == 30 and summary["days"][-1] == (today, Decimal("0.11"))
    assert summary["days"][-6][1] == Decimal("0.04")


def test_verify_checks_the_invoices_too(app, db, make):
    from app.services import invoicing
    from tests.invoices_fixtures import accepted_pieces

    client, _ = accepted_pieces(make)
    invoice = invoicing.issue_invoice(client)
    db.session.execute(text("UPDATE invoices SET total = 1 WHERE id = :id"), {"id": invoice.id})
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["verify"])
    assert result.exit_code == 1
    assert f"invoice {invoice.id} (number {invoice.number})" in result.output
    assert "payslips: chain intact" in result.output and "invoices: FAILED" in result.output


def test_demo_closes_last_month_with_adjustments_and_leaves_this_month_open(db, make, last_month):
    import random

    from app.commands.demo import _seed_wages

    workers = [last_month["worker"]] + [make.worker(station=last_month["station"]) for _ in range(4)]
    _seed_wages(random.Random(1), workers, local_today())
    db.session.commit()
    statuses = [p.status for p in db.session.scalars(select(PayPeriod).order_by(PayPeriod.start))]
    assert statuses == ["closed", "open"]
    assert db.session.scalar(select(Payslip).where(Payslip.worker_id == last_month["worker"].id)) is not None
    assert chain.verify_payslips() == []


def test_two_admins_closing_the_same_period_at_once_write_one_set_of_statements(app, db, api, last_month):
    import threading

    from flask.testing import FlaskClient

    period = period_for(last_month["start"], last_month["end"])
    token = api(role="admin").token
    url = f"/api/v1/pay-periods/{period.id}/close"
    db.session.commit()  # no snapshot of ours outlives the requests (SQLite)
    statuses = []
    barrier = threading.Barrier(2)

    def close_it():
        client = FlaskClient(app, app.response_class)
        barrier.wait()
        resp = client.post(url, headers={"Authorization": f"Bearer {token}"})
        statuses.append(resp.status_code)

    threads = [threading.Thread(target=close_it) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 409]
    db.session.commit()
    assert db.session.scalar(select(func.count(Payslip.id))) == 1
    assert chain.verify_payslips() == []


def test_statement_pdf_reads_back_in_chinese_with_masked_id_and_net_in_capitals(db, make, last_month, tmp_path):
    import subprocess

    last_month["worker"].id_number = "640102198001011234"
    db.session.commit()
    period = period_for(last_month["start"], last_month["end"])
    wages.add_adjustment(worker=last_month["worker"], period=period, amount=Decimal("50.00"), reason="全勤奖")
    db.session.commit()
    close(period)
    path = tmp_path / "slip.pdf"
    path.write_bytes(documents.payslip_pdf(db.session.scalar(select(Payslip))))
    text_ = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "结算单" in text_ and last_month["station"].name in text_ and "王秀英" in text_
    assert "6401**********1234" in text_ and "640102198001011234" not in text_
    assert "¥50.11" in text_ and "伍拾元壹角壹分" in text_ and "全勤奖" in text_
    assert "承揽人签字" in text_
