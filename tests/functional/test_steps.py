"""Steps (工序, rule 14): products made in ordered steps, each with its own rate and history;
a later step is handed out only from what the previous step accepted; only the last step's
accepted pieces are finished goods. On whichever backend TEST_DATABASE names."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.extensions import db
from app.models import Batch, Order, OrderStep, ProductStep, Return, local_today
from app.services import catalog, production
from app.services.earnings import worker_earnings
from tests.functional.test_production_concurrency import _assert_refusals, _concurrently, _post


def _wig(make, knot="38.0000", trim="6.0000", price="60.0000"):
    client = make.client()
    product = catalog.create_product(client_id=client.id, name="假发", unit="顶", piece_rate=None,
                                     unit_price=Decimal(price), material_cost=Decimal("2.0000"),
                                     steps=[{"name": "打结", "piece_rate": Decimal(knot)},
                                            {"name": "整理", "piece_rate": Decimal(trim)}])
    db.session.commit()
    return product


def _steps(product):
    return db.session.scalars(select(ProductStep).where(ProductStep.product_id == product.id)
                              .order_by(ProductStep.seq)).all()


def test_a_product_without_steps_has_one_step_at_its_rate_and_a_batch_takes_it(app, make):
    product = make.product(piece_rate="0.3500")
    (step,) = _steps(product)
    assert (step.seq, step.name, step.piece_rate) == (1, product.name, Decimal("0.3500"))
    batch = make.batch(order=make.order(product=product), quantity=10)
    assert batch.step_id == step.id and batch.step == product.name
    make.return_(batch=batch, accepted=10)
    ret = db.session.scalar(select(Return).where(Return.batch_id == batch.id))
    assert ret.step_id == step.id
    assert db.session.scalar(select(func.count()).select_from(OrderStep)) == 0  # no step rows for one step


def test_api_creates_a_product_with_steps_and_patches_a_step_rate_into_its_history(app, api, make):
    admin = api(role="admin")
    client = make.client()
    resp = admin.post("/products", json={"client_id": client.id, "name": "假发", "unit_price": "60.00",
                                         "steps": [{"name": "打结", "piece_rate": "38.00"},
                                                   {"name": "整理", "piece_rate": "6.50"}]})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert [(s["seq"], s["name"], s["piece_rate"]) for s in body["steps"]] == [(1, "打结", "38.0000"), (2, "整理", "6.5000")]
    assert body["piece_rate"] == "44.5000"  # the wages of one finished piece
    step2 = body["steps"][1]["id"]
    resp = admin.patch(f"/products/{body['id']}/steps/{step2}", json={"piece_rate": "7.0000"})
    assert resp.status_code == 200, resp.get_json()
    assert [r["piece_rate"] for r in resp.get_json()["rates"]] == ["7.0000", "6.5000"]
    got = admin.get(f"/products/{body['id']}").get_json()
    assert got["piece_rate"] == "45.0000" and got["steps"][1]["piece_rate"] == "7.0000"
    # The product's own rate cannot be set on a product with steps (use the step).
    resp = admin.patch(f"/products/{body['id']}", json={"piece_rate": "1.00"})
    assert resp.status_code == 422 and "piece_rate" in resp.get_json()["error"]["fields"]
    # A step of another product answers 404.
    other = make.product()
    assert admin.patch(f"/products/{other.id}/steps/{step2}", json={"name": "x"}).status_code == 404
    # Bad steps: field by field, nothing stored.
    before = db.session.scalar(select(func.count()).select_from(ProductStep))
    resp = admin.post("/products", json={"client_id": client.id, "name": "坏", "unit_price": "1",
                                         "steps": [{"name": "", "piece_rate": "-1"}]})
    assert resp.status_code == 422
    assert set(resp.get_json()["error"]["fields"]) == {"steps.0.name", "steps.0.piece_rate"}
    assert db.session.scalar(select(func.count()).select_from(ProductStep)) == before


def test_one_step_product_patch_of_piece_rate_rerates_its_step(app, make):
    product = make.product(piece_rate="0.3500")
    catalog.update_product(product, piece_rate=Decimal("0.4000"))
    db.session.commit()
    (step,) = _steps(product)
    assert step.piece_rate == Decimal("0.4000")
    assert [r.piece_rate for r in step.rates] == [Decimal("0.4000"), Decimal("0.3500")]
    assert len(product.rates) == 2


def test_step_two_is_capped_by_what_step_one_accepted_and_unused_goes_back_to_its_step(app, make):
    product = _wig(make)
    knot, trim = _steps(product)
    order = make.order(product=product, quantity=100)
    home, shop = make.worker(station=order.station), make.worker(station=order.station)
    b1 = make.batch(order=order, worker=home, quantity=60)
    assert b1.step_id == knot.id and b1.piece_rate == Decimal("38.0000")
    import pytest

    with pytest.raises(production.OverStep):
        production.issue_batch(order=order, worker=shop, quantity=1, step_id=trim.id)
    db.session.rollback()
    make.return_(batch=b1, accepted=30, rejected=2)
    # Step 2 starts on partial output of step 1, never more than accepted.
    with pytest.raises(production.OverStep):
        production.issue_batch(order=order, worker=shop, quantity=31, step_id=trim.id)
    db.session.rollback()
    b2 = make.batch(order=order, worker=shop, quantity=20, step_id=trim.id)
    assert b2.piece_rate == Decimal("6.0000") and b2.step == "整理"
    steps = {s["seq"]: s for s in production.order_steps(order)}
    assert (steps[1]["issued"], steps[1]["accepted"], steps[1]["rejected"], steps[1]["available"]) == (60, 30, 2, 40)
    assert (steps[2]["issued"], steps[2]["available"]) == (20, 10)
    # Unused materials of step 2 go back to step 2's available pieces.
    make.return_(batch=b2, accepted=15, unused=5)
    steps = {s["seq"]: s for s in production.order_steps(order)}
    assert (steps[2]["issued"], steps[2]["accepted"], steps[2]["available"]) == (15, 15, 15)
    db.session.refresh(order)
    # The order: issued and unissued are the first step's; accepted the last step's.
    assert (order.committed, order.unissued, order.accepted, order.rejected) == (60, 40, 15, 2)
    # Step 1's accepted pieces already taken by step 2 cannot be corrected away.
    original = db.session.scalar(select(Return).where(Return.batch_id == b1.id))
    with pytest.raises(production.ConflictError) as refused:
        production.record_correction(original=original, accepted=-20, unused=20, reason="counted wrong")
    assert refused.value.code == "taken_by_next_step"
    db.session.rollback()
    production.record_correction(original=original, accepted=-10, unused=10, reason="counted wrong")
    db.session.commit()
    steps = {s["seq"]: s for s in production.order_steps(order)}
    assert (steps[1]["accepted"], steps[1]["available"], steps[2]["available"]) == (20, 50, 5)


def test_each_worker_is_paid_their_steps_rate_one_line_per_product_step_and_rate(app, make):
    product = _wig(make)
    knot, trim = _steps(product)
    order = make.order(product=product, quantity=10)
    worker = make.worker(station=order.station)
    b1 = make.batch(order=order, worker=worker, quantity=10)
    make.return_(batch=b1, accepted=10)
    b2 = make.batch(order=order, worker=worker, quantity=4, step_id=trim.id)
    make.return_(batch=b2, accepted=4)
    today = local_today()
    result = worker_earnings(worker.id, today, today)
    assert [(ln["step"], ln["piece_rate"], ln["pieces"], ln["amount"]) for ln in result["lines"]] == [
        ("打结", Decimal("38.0000"), 10, Decimal("380.00")), ("整理", Decimal("6.0000"), 4, Decimal("24.00"))]
    assert result["amount"] == Decimal("404.00")


def test_order_api_shows_steps_and_batch_api_takes_a_step(app, api, make):
    product = _wig(make)
    knot, trim = _steps(product)
    station = make.station()
    admin = api(role="admin")
    order = make.order(station=station, product=product, quantity=50)
    worker = make.worker(station=station)
    resp = admin.post("/batches", json={"order_id": order.id, "worker_id": worker.id, "quantity": 5, "step_id": trim.id})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "over_step"
    resp = admin.post("/batches", json={"order_id": order.id, "worker_id": worker.id, "quantity": 5})
    assert resp.status_code == 201 and resp.get_json()["step_id"] == knot.id and resp.get_json()["step"] == "打结"
    resp = admin.post("/batches", json={"order_id": order.id, "worker_id": worker.id, "quantity": 5,
                                        "step_id": _steps(make.product())[0].id})
    assert resp.status_code == 422 and "step_id" in resp.get_json()["error"]["fields"]
    body = admin.get(f"/orders/{order.id}").get_json()
    assert [(s["seq"], s["name"], s["issued"], s["available"]) for s in body["steps"]] == [(1, "打结", 5, 45), (2, "整理", 0, 0)]
    listed = admin.get("/orders?status=open").get_json()["items"]
    assert [s["name"] for s in next(o for o in listed if o["id"] == order.id)["steps"]] == ["打结", "整理"]


def test_twenty_concurrent_issues_at_step_two_never_exceed_what_step_one_accepted(app, make, api):
    product = _wig(make)
    knot, trim = _steps(product)
    station = make.station()
    supervisor = make.staff("supervisor", station=station)
    token = api(supervisor).token
    order = make.order(station=station, product=product, quantity=100)
    home = make.worker(station=station)
    b1 = make.batch(order=order, worker=home, quantity=100)
    make.return_(batch=b1, accepted=50, rejected=3)
    shop = make.worker(station=station)
    # 20 issues of 3 against 50 accepted: exactly 16 fit, 4 are refused as over_step.
    results = _concurrently(app, [_post("/batches", {"order_id": order.id, "worker_id": shop.id, "quantity": 3,
                                                     "step_id": trim.id}, token) for _ in range(20)])
    _assert_refusals(results, "over_step")
    assert len([1 for status, _body in results if status == 201]) == 16
    issued = db.session.scalar(select(func.sum(Batch.quantity)).where(Batch.order_id == order.id, Batch.step_id == trim.id))
    assert issued == 48
    row = db.session.get(OrderStep, (order.id, knot.id))
    assert (row.accepted, row.taken_next) == (50, 48)
    assert db.session.get(OrderStep, (order.id, trim.id)).committed == 48


def test_invoices_bill_only_the_last_steps_accepted_pieces_once(app, make):
    from app.services import invoicing

    product = _wig(make)
    knot, trim = _steps(product)
    order = make.order(product=product, quantity=10)
    worker = make.worker(station=order.station)
    b1 = make.batch(order=order, worker=worker, quantity=10)
    make.return_(batch=b1, accepted=10)
    import pytest

    with pytest.raises(invoicing.NothingToInvoice):  # knotted but not finished: nothing to bill
        invoicing.issue_invoice(client=order.client, order_ids=[order.id])
    db.session.rollback()
    b2 = make.batch(order=order, worker=worker, quantity=6, step_id=trim.id)
    make.return_(batch=b2, accepted=6)
    invoice = invoicing.issue_invoice(client=order.client, order_ids=[order.id])
    db.session.commit()
    assert [(ln.quantity, ln.amount) for ln in invoice.lines] == [(6, Decimal("360.00"))]
    (margin,) = invoicing.order_margins(order_ids=[order.id])
    # Price of 6 finished wigs against the wages of both steps: 10 × 38 + 6 × 6.
    assert (margin["revenue"], margin["cost"], margin["margin"]) == (Decimal("360.00"), Decimal("416.00"), Decimal("-56.00"))


def test_an_order_keeps_the_steps_it_was_taken_with(app, make):
    product = make.product(piece_rate="1.0000")
    order = make.order(product=product, quantity=5)
    import pytest

    with pytest.raises(production.ConflictError):
        catalog.add_step(product, name="整理", piece_rate=Decimal("0.5"))
    db.session.rollback()
    fresh = make.product(piece_rate="1.0000")
    catalog.add_step(fresh, name="整理", piece_rate=Decimal("0.5"))
    db.session.commit()
    assert [s.seq for s in _steps(fresh)] == [1, 2] and fresh.piece_rate == Decimal("1.5000")
    assert len(production.order_steps(order)) == 1
    assert db.session.get(Order, order.id).unissued == 5
    assert production.order_steps(make.order(product=fresh))[1]["name"] == "整理"


def test_issue_page_offers_the_step_with_pieces_and_defaults_to_what_it_has(client, login_as, make, tmp_path):
    import subprocess

    from tests.production_pages_fixtures import submit

    product = _wig(make)
    knot, trim = _steps(product)
    station = make.station()
    login_as("supervisor", station=station)
    order = make.order(station=station, product=product, quantity=300)
    home, shop = make.worker(station=station, name="王秀英"), make.worker(station=station, name="李桂兰")
    b1 = make.batch(order=order, worker=home, quantity=5)
    make.return_(batch=b1, accepted=3, rejected=1)
    page = client.get(f"/orders/{order.id}/issue").text
    # The first step still has pieces: offered first, a usual batch of the product (5).
    assert f'name="step_id" value="{knot.id}"' in page and 'name="quantity"' in page
    page = client.get(f"/orders/{order.id}/issue?step_id={trim.id}").text
    # Trimming: what knotting accepted (3), not the order's 300 nor a usual batch of 5.
    assert f'name="step_id" value="{trim.id}"' in page and 'value="3"' in page and "整理" in page
    resp, _ = submit(client, f"/orders/{order.id}/issue", {"worker_id": str(shop.id), "quantity": "3"},
                     get_url=f"/orders/{order.id}/issue?step_id={trim.id}")
    assert resp.status_code == 303, resp.text
    batch = db.session.scalar(select(Batch).where(Batch.step_id == trim.id))
    assert batch.quantity == 3 and batch.piece_rate == Decimal("6.0000")
    resp, _ = submit(client, f"/orders/{order.id}/issue", {"worker_id": str(shop.id), "quantity": "1"},
                     get_url=f"/orders/{order.id}/issue?step_id={trim.id}")
    assert resp.status_code == 409 and "上一道工序合格的件数还不够" in resp.text
    # The order page and the board show each step's progress.
    detail = client.get(f"/orders/{order.id}").text
    assert "打结" in detail and "整理" in detail and "可发" in detail
    board = client.get(f"/stations/{station.id}/board").text
    assert "整理" in board and "可发" in board
    # The ticket and the receipt name the step.
    ticket = client.get(f"/batches/{batch.id}/ticket.pdf")
    path = tmp_path / "t.pdf"
    path.write_bytes(ticket.data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "工序" in text and "整理" in text
    resp, _ = submit(client, f"/batches/{batch.id}/return", {"accepted": "3", "rejected": "0", "unused": "0"})
    receipt = client.get(resp.headers["Location"]).text
    assert "整理" in receipt


def test_worker_phone_shows_the_step_and_its_pay_line(client, make, app):
    product = _wig(make)
    knot, trim = _steps(product)
    order = make.order(product=product, quantity=10)
    worker = make.worker(station=order.station, phone="13812340001", pin="258036")
    b1 = make.batch(order=order, worker=worker, quantity=4)
    make.return_(batch=b1, accepted=2)
    from tests.helpers import form_values

    page = client.get("/w/login")
    client.post("/w/login", data={**form_values(page.text), "phone": "13812340001", "pin": "258036"})
    home = client.get("/home").text
    import re
    assert "假发 · 打结" in home, re.findall(r"held-name.{0,200}", home)
    assert "38.0000" in home or "38.00" in home, re.findall(r"held-pay.{0,120}", home)


def test_employment_report_counts_finished_pieces_with_every_steps_pieces_beside_them(app, make, api):
    product = _wig(make)
    knot, trim = _steps(product)
    order = make.order(product=product, quantity=10)
    home, shop = make.worker(station=order.station), make.worker(station=order.station)
    b1 = make.batch(order=order, worker=home, quantity=10)
    make.return_(batch=b1, accepted=8)
    b2 = make.batch(order=order, worker=shop, quantity=5, step_id=trim.id)
    make.return_(batch=b2, accepted=5)
    today = local_today().isoformat()
    body = api(role="admin").get(f"/reports/employment?from={today}&to={today}").get_json()
    assert (body["pieces"], body["step_pieces"], body["workers_active"], body["person_times"]) == (5, 13, 2, 2)
    assert [(r["step"], r["pieces"]) for r in body["pieces_by_step"]] == [("打结", 8), ("整理", 5)]
    assert body["wages"] == "334.00"  # 8 × 38 + 5 × 6


def test_payslips_and_payroll_export_have_a_line_per_product_step_and_rate(app, make, api):
    import io

    from openpyxl import load_workbook

    from app.models import PayPeriod
    from app.services import wages

    product = _wig(make)
    knot, trim = _steps(product)
    order = make.order(product=product, quantity=10)
    worker = make.worker(station=order.station)
    b1 = make.batch(order=order, worker=worker, quantity=10)
    make.return_(batch=b1, accepted=10)
    b2 = make.batch(order=order, worker=worker, quantity=3, step_id=trim.id)
    make.return_(batch=b2, accepted=3)
    today = local_today()
    period = PayPeriod(start=today.replace(day=1), end=today, status="open")
    db.session.add(period)
    db.session.commit()
    wages.close_pay_period(period, early=True)
    db.session.commit()
    (slip,) = api(role="admin").get(f"/pay-periods/{period.id}/payslips").get_json()["items"]
    assert [(ln["description"], ln["piece_rate"], ln["pieces"], ln["amount"]) for ln in slip["lines"]] == [
        ("假发 · 打结", "38.0000", 10, "380.00"), ("假发 · 整理", "6.0000", 3, "18.00")]
    data = api(role="admin").get(f"/pay-periods/{period.id}/export.xlsx").data
    book = load_workbook(io.BytesIO(data))
    rows = list(book.worksheets[1].iter_rows(values_only=True))[1:]
    assert [(r[2], r[4], r[5]) for r in rows] == [("假发 · 打结", 10, 380), ("假发 · 整理", 3, 18)]


def test_plan_splits_what_a_step_can_hand_out_by_pace_and_issues_all_or_nothing(app, make, api):
    from app.services import planning

    station = make.station()
    product = make.product(piece_rate="1.0000")
    order = make.order(station=station, product=product, quantity=2000, due_in_days=9)
    fast, slow, idle = (make.worker(station=station, name=n) for n in ("快", "慢", "新"))
    today = local_today()
    warm = make.order(station=station, product=product, quantity=5000, due_in_days=30)
    for worker, per_day in ((fast, 30), (slow, 10)):
        batch = make.batch(order=warm, worker=worker, quantity=per_day * 10, issued_on=today - timedelta(days=12),
                           due_date=today)
        for d in range(10):
            make.return_(batch=batch, accepted=per_day, work_date=today - timedelta(days=11 - d))
        production.close_batch(batch=batch)
        db.session.commit()
    paces = planning.worker_paces(station.id, product.id, _steps(product)[0].id, today)
    assert paces[fast.id].pace_per_day > paces[slow.id].pace_per_day > 0
    assert paces[idle.id].pace_per_day > 0  # no history: the station's median
    admin = api(role="admin")
    body = admin.get(f"/orders/{order.id}/plan").get_json()
    assert body["available"] == 2000 and body["due_date"] == order.due_date.isoformat()
    assert sum(i["quantity"] for i in body["items"]) + body["unplaced"] == 2000
    assert body["feasible"] is (body["unplaced"] == 0)
    by_worker = {i["worker_id"]: i for i in body["items"]}
    assert by_worker[fast.id]["quantity"] > by_worker[slow.id]["quantity"]
    for item in body["items"]:  # nobody gets more than they can finish by the due date
        assert item["expected_done"] <= order.due_date.isoformat()
    # All or nothing: one line over the order refuses every line and stores nothing.
    before = db.session.scalar(select(func.count()).select_from(Batch))
    resp = admin.post(f"/orders/{order.id}/plan/issue",
                      json={"items": [{"worker_id": fast.id, "quantity": 1500}, {"worker_id": slow.id, "quantity": 600}]})
    assert resp.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(Batch)) == before
    items = [{"worker_id": i["worker_id"], "quantity": i["quantity"]} for i in body["items"]]
    items[0]["quantity"] -= 1  # the supervisor changes one line
    resp = admin.post(f"/orders/{order.id}/plan/issue", json={"items": items}, headers={"Idempotency-Key": "plan-1"})
    assert resp.status_code == 201, resp.get_json()
    again = admin.post(f"/orders/{order.id}/plan/issue", json={"items": items}, headers={"Idempotency-Key": "plan-1"})
    assert again.status_code == 201 and again.get_json() == resp.get_json()
    made = resp.get_json()["batches"]
    assert len(made) == len(items) and all(b["due_date"] == order.due_date.isoformat() for b in made)
    assert db.session.scalar(select(func.count()).select_from(Batch)) == before + len(items)


def test_issue_page_shows_the_split_and_one_tap_issues_it_and_prints_one_pdf(client, login_as, make, tmp_path):
    import re
    import subprocess

    from tests.helpers import form_values

    station = make.station()
    login_as("supervisor", station=station)
    product = make.product(piece_rate="1.0000", name="纸袋")
    order = make.order(station=station, product=product, quantity=40, due_in_days=5)
    workers = [make.worker(station=station, name=n) for n in ("王一", "李二")]
    today = local_today()
    warm = make.order(station=station, product=product, quantity=500, due_in_days=30)
    for worker in workers:  # a week of returns each: a pace on record
        batch = make.batch(order=warm, worker=worker, quantity=50, issued_on=today - timedelta(days=8), due_date=today)
        for d in range(7):
            make.return_(batch=batch, accepted=5, work_date=today - timedelta(days=7 - d))
        production.close_batch(batch=batch)
        db.session.commit()
    page = client.get(f"/orders/{order.id}/issue").text
    assert "建议分配" in page and "王一" in page
    quantities = dict(re.findall(r'name="(qty_\d+)" value="(\d+)"', page))
    assert sum(int(v) for v in quantities.values()) <= 40 and quantities
    plan_form = page[page.index('action="/orders/'):]
    posted = {**form_values(plan_form), **quantities}
    first = next(iter(quantities))
    posted[first] = str(max(int(posted[first]) - 1, 1))  # the supervisor changes one line
    resp = client.post(f"/orders/{order.id}/plan/issue", data=posted)
    assert resp.status_code == 303, resp.text
    again = client.post(f"/orders/{order.id}/plan/issue", data=posted)
    assert again.headers["Location"] == resp.headers["Location"]  # a double tap issues once
    made = db.session.scalars(select(Batch).where(Batch.order_id == order.id)).all()
    assert len(made) == len(quantities) and {b.worker_id for b in made} <= {w.id for w in workers}
    pdf = client.get(resp.headers["Location"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    path = tmp_path / "tickets.pdf"
    path.write_bytes(pdf.data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Pages:\s+(\d+)", info).group(1) == str(len(made)), info


def test_a_shortfall_is_deducted_per_step_and_the_line_names_the_step(app, make):
    """Lost materials of a knotting batch: one deduction line naming 假发 · 打结 at the
    product's material cost; the trimming batch closed in full adds none."""
    from app.dates import month_bounds
    from app.services import wages

    product = _wig(make)
    knot, trim = _steps(product)
    station = make.station(shortfall_policy="material_cost")
    order = make.order(station=station, product=product, quantity=10)
    worker = make.worker(station=station)
    b1 = make.batch(order=order, worker=worker, quantity=6)
    make.return_(batch=b1, accepted=4)
    production.close_batch(batch=b1, reason="丢了两顶")  # 2 lost
    b2 = make.batch(order=order, worker=worker, quantity=4, step_id=trim.id)
    make.return_(batch=b2, accepted=4)
    db.session.commit()
    period = wages.create_pay_period(*month_bounds(local_today()))
    db.session.commit()
    (statement,) = wages.compute_statements(period, worker_ids=[worker.id])
    lost = [ln for ln in statement.lines if ln.kind == "shortfall"]
    assert [(ln.description, ln.amount, ln.pieces) for ln in lost] == [
        (f"材料短缺：发料单 {b1.code}，假发 · 打结", Decimal("-4.00"), 2)]  # 2 × the material cost 2.00
