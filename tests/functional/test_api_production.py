"""Issue 3 over /api/v1: clients, products, orders, batches, returns — status codes and error
bodies as API.md says, money as strings never floats, rate snapshots, stale saves,
idempotency, audit, and lists in a fixed number of queries."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import (
    AuditEvent,
    Batch,
    IdempotencyKey,
    Order,
    PayPeriod,
    Product,
    ProductRate,
    Return,
    local_today,
)


def _error(resp, status, code):
    assert resp.status_code == status, resp.text
    body = resp.get_json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body["error"]


@pytest.fixture
def setup(make, api):
    """Two stations, each with a supervisor, a worker and an order; and an admin."""
    here, there = make.station(), make.station()
    product = make.product(piece_rate="0.3500", unit_price="0.6000")
    order = make.order(station=here, product=product, quantity=200)
    other_order = make.order(station=there, product=product, quantity=200)
    worker = make.worker(station=here)
    other_worker = make.worker(station=there)
    supervisor = make.staff("supervisor", station=here)
    return {
        "here": here, "there": there, "product": product, "order": order, "other_order": other_order,
        "worker": worker, "other_worker": other_worker,
        "admin": api(role="admin"), "sup": api(supervisor), "other_sup": api(make.staff("supervisor", station=there)),
    }


def _issue(api_client, order, worker, quantity=50, **extra):
    return api_client.post("/batches", json={"order_id": order.id, "worker_id": worker.id, "quantity": quantity, **extra})


# --- conventions: 400, 401, 403, 404, 422


def test_malformed_json_answers_400_with_the_error_body(setup):
    resp = setup["admin"].post("/clients", data="{not json", content_type="application/json")
    _error(resp, 400, "malformed_json")
    resp = setup["admin"].post("/clients", data="[1, 2]", content_type="application/json")
    _error(resp, 400, "malformed_json")


def test_no_token_or_a_bad_token_answers_401(client, setup):
    _error(client.get("/api/v1/orders"), 401, "unauthorized")
    _error(client.get("/api/v1/orders", headers={"Authorization": "Bearer nonsense"}), 401, "unauthorized")


def test_supervisor_may_not_manage_clients_or_products_and_workers_may_not_use_production(setup, api, make):
    _error(setup["sup"].post("/clients", json={"name": "X"}), 403, "forbidden")
    _error(setup["sup"].get("/products"), 403, "forbidden")
    _error(setup["sup"].patch(f"/products/{setup['product'].id}", json={"name": "X"}), 403, "forbidden")
    worker_api = api(setup["worker"])
    _error(worker_api.get("/batches"), 403, "forbidden")
    _error(worker_api.post(f"/batches/{1}/returns", json={"accepted": 1}), 403, "forbidden")


def test_supervisor_gets_404_for_another_stations_order_and_batch_and_stores_nothing(setup, make):
    theirs = make.batch(order=setup["other_order"], worker=setup["other_worker"], quantity=20)
    sup = setup["sup"]
    _error(sup.get(f"/orders/{setup['other_order'].id}"), 404, "not_found")
    _error(sup.get(f"/batches/{theirs.id}"), 404, "not_found")
    _error(sup.post(f"/batches/{theirs.id}/returns", json={"accepted": 5}), 404, "not_found")
    _error(sup.post(f"/batches/{theirs.id}/close", json={}), 404, "not_found")
    assert db.session.scalar(select(func.count(Return.id))) == 0
    assert db.session.get(Batch, theirs.id).status == "open"
    # ...and lists show only their own station.
    orders = sup.get("/orders").get_json()
    assert [o["id"] for o in orders["items"]] == [setup["order"].id] and orders["total"] == 1
    assert sup.get("/batches").get_json()["total"] == 0


def test_supervisor_cannot_take_an_order_or_issue_a_batch_for_another_station(setup):
    product = setup["product"]
    resp = setup["sup"].post("/orders", json={"client_id": product.client_id, "product_id": product.id,
                                              "station_id": setup["there"].id, "quantity": 10,
                                              "due_date": str(local_today() + timedelta(days=5))})
    assert _error(resp, 422, "validation_error")["fields"].keys() == {"station_id"}
    err = _error(_issue(setup["sup"], setup["other_order"], setup["worker"]), 422, "validation_error")
    assert "order_id" in err["fields"]
    err = _error(_issue(setup["sup"], setup["order"], setup["other_worker"]), 422, "validation_error")
    assert "worker_id" in err["fields"]
    assert db.session.scalar(select(func.count(Order.id))) == 2
    assert db.session.scalar(select(func.count(Batch.id))) == 0


def test_invalid_fields_answer_422_naming_each_field(setup):
    product = setup["product"]
    resp = setup["admin"].post("/orders", json={"client_id": product.client_id, "product_id": product.id,
                                                "station_id": setup["here"].id, "quantity": -3,
                                                "due_date": "2026-02-30"})
    fields = _error(resp, 422, "validation_error")["fields"]
    assert {"quantity", "due_date"} <= set(fields)
    fields = _error(setup["admin"].post("/orders", json={}), 422, "validation_error")["fields"]
    assert {"client_id", "product_id", "station_id", "quantity", "due_date"} <= set(fields)
    fields = _error(setup["admin"].post("/clients", json={"name": "x" * 101}), 422, "validation_error")["fields"]
    assert "name" in fields
    fields = _error(_issue(setup["sup"], setup["order"], setup["worker"], quantity="many"), 422, "validation_error")["fields"]
    assert "quantity" in fields
    fields = _error(setup["sup"].get("/batches?status=lost"), 422, "validation_error")["fields"]
    assert "status" in fields
    assert db.session.scalar(select(func.count(Order.id))) == 2


def test_error_messages_are_chinese_by_default_and_english_on_request(setup):
    resp = setup["admin"].post("/orders", json={})
    assert resp.get_json()["error"]["fields"]["quantity"] == "必填。"
    resp = setup["sup"].post("/orders?lang=en", json={"client_id": 1, "product_id": 1, "station_id": setup["there"].id,
                                                      "quantity": 1, "due_date": "2030-01-01"})
    assert resp.get_json()["error"]["fields"]["station_id"] == "You can only take orders for your own station."


def test_api_answers_set_no_session_cookie(setup):
    resp = setup["sup"].post(f"/batches/{setup['order'].id}/returns", json={"accepted": 1})
    assert resp.status_code == 404 and "Set-Cookie" not in resp.headers
    resp = _issue(setup["sup"], setup["order"], setup["worker"], quantity=5)
    assert resp.status_code == 201 and "Set-Cookie" not in resp.headers


# --- clients and products, money


def test_money_arrives_as_a_json_number_or_a_string_and_is_stored_exactly(setup):
    admin = setup["admin"]
    resp = admin.post("/clients", json={"name": "宁夏红枸杞", "contact": "马经理"})
    assert resp.status_code == 201, resp.text
    client_id = resp.get_json()["id"]
    # 0.035 as a JSON number would be 0.034999999999999996 through a float.
    resp = admin.post("/products", data=f'{{"client_id": {client_id}, "name": "礼盒", "piece_rate": 0.035, '
                                        f'"unit_price": "0.0350"}}', content_type="application/json")
    assert resp.status_code == 201, resp.text
    body = resp.get_json()
    assert body["piece_rate"] == "0.0350" and body["unit_price"] == "0.0350" and body["unit"] == "件"
    raw = db.session.execute(text("SELECT piece_rate, unit_price FROM products WHERE id = :id"), {"id": body["id"]}).one()
    assert tuple(raw) == (350, 350)
    listed = {c["id"]: c for c in admin.get("/clients?per_page=200").get_json()["items"]}
    assert listed[client_id]["contact"] == "马经理"


def test_a_rate_with_more_than_four_decimals_or_negative_is_refused(setup):
    client_id = setup["product"].client_id
    resp = setup["admin"].post("/products", data=f'{{"client_id": {client_id}, "name": "x", "piece_rate": 0.03501, '
                                                 '"unit_price": "1"}', content_type="application/json")
    assert "piece_rate" in _error(resp, 422, "validation_error")["fields"]
    resp = setup["admin"].post("/products", json={"client_id": client_id, "name": "x", "piece_rate": "-1", "unit_price": "1"})
    assert "piece_rate" in _error(resp, 422, "validation_error")["fields"]
    assert db.session.scalar(select(func.count(Product.id))) == 1


def test_duplicate_client_name_is_a_conflict(setup):
    assert setup["admin"].post("/clients", json={"name": "同名"}).status_code == 201
    _error(setup["admin"].post("/clients", json={"name": "同名"}), 409, "client_exists")


def test_rate_change_after_issue_applies_to_later_batches_only_and_is_dated(setup):
    admin, sup, product = setup["admin"], setup["sup"], setup["product"]
    first = _issue(sup, setup["order"], setup["worker"], quantity=10).get_json()
    assert first["piece_rate"] == "0.3500"
    resp = admin.patch(f"/products/{product.id}", json={"piece_rate": "0.4", "unit_price": 0.75})
    assert resp.status_code == 200, resp.text
    body = resp.get_json()
    assert body["piece_rate"] == "0.4000" and body["unit_price"] == "0.7500"
    assert [r["piece_rate"] for r in body["rates"]] == ["0.4000", "0.3500"]
    assert all(r["effective_at"] for r in body["rates"])
    assert sup.get(f"/batches/{first['id']}").get_json()["piece_rate"] == "0.3500"
    assert sup.get(f"/orders/{setup['order'].id}").get_json()["unit_price"] == "0.6000"
    second = _issue(sup, setup["order"], setup["worker"], quantity=10).get_json()
    assert second["piece_rate"] == "0.4000"
    ret = sup.post(f"/batches/{first['id']}/returns", json={"accepted": 10}).get_json()
    assert ret["piece_rate"] == "0.3500"


def test_saving_the_same_rate_written_differently_adds_no_history(setup):
    product = setup["product"]
    resp = setup["admin"].patch(f"/products/{product.id}", json={"piece_rate": 0.35, "name": "新名字"})
    assert resp.status_code == 200 and resp.get_json()["name"] == "新名字"
    assert db.session.scalar(select(func.count(ProductRate.id)).where(ProductRate.product_id == product.id)) == 1


def test_a_stale_version_is_refused_with_409_and_changes_nothing(setup):
    admin, product = setup["admin"], setup["product"]
    version = admin.get(f"/products/{product.id}").get_json()["version"]
    ok = admin.patch(f"/products/{product.id}", json={"name": "第一次", "version": version})
    assert ok.status_code == 200 and ok.get_json()["version"] == version + 1
    stale = admin.patch(f"/products/{product.id}", json={"piece_rate": "9", "version": version})
    _error(stale, 409, "stale_edit")
    db.session.expire_all()
    assert db.session.get(Product, product.id).piece_rate == Decimal("0.3500")
    _error(admin.patch("/products/999999", json={"name": "x"}), 404, "not_found")
    assert "name" in _error(admin.patch(f"/products/{product.id}", json={"name": ""}), 422, "validation_error")["fields"]


# --- orders


def test_order_answers_its_progress_forecast_and_risk(setup, make):
    sup, order = setup["sup"], setup["order"]
    body = sup.get(f"/orders/{order.id}").get_json()
    assert body["issued"] == 0 and body["unissued"] == 200 and body["forecast_date"] is None and body["at_risk"] is False
    batch = _issue(sup, order, setup["worker"], quantity=100).get_json()
    sup.post(f"/batches/{batch['id']}/returns", json={"accepted": 28, "rejected": 2, "unused": 10})
    body = sup.get(f"/orders/{order.id}").get_json()
    assert {k: body[k] for k in ("issued", "accepted", "rejected", "out", "unissued", "status")} == {
        "issued": 90, "accepted": 28, "rejected": 2, "out": 60, "unissued": 110, "status": "open"}
    # 28 accepted in 14 days = 2 a day; 172 left → 86 days, after the due date in 30.
    assert body["forecast_date"] == str(local_today() + timedelta(days=86))
    assert body["at_risk"] is True
    board = sup.get("/orders?status=open").get_json()["items"][0]
    assert board["forecast_date"] == body["forecast_date"] and board["at_risk"] is True


def test_the_boards_daily_tallies_equal_the_returns_through_back_dated_returns_and_corrections(setup, make):
    """The board's pace reads per-day tallies kept beside the returns: after returns on
    several dates, a refused one and a correction, each (order, day) tally is the returns' sum."""
    sup, order = setup["sup"], setup["order"]
    today = local_today()
    batch = make.batch(order=order, worker=setup["worker"], quantity=100, issued_on=today - timedelta(days=5))
    path = f"/batches/{batch.id}/returns"
    first = sup.post(path, json={"accepted": 12, "rejected": 1}).get_json()
    assert sup.post(path, json={"accepted": 5, "work_date": str(today - timedelta(days=3))}).status_code == 201
    assert sup.post(path, json={"accepted": 500}).status_code == 409  # refused: moves nothing
    assert sup.post(path, json={"accepted": -4, "corrects": first["id"], "reason": "数错"}).status_code == 201
    tallies = dict(((row.order_id, row.work_date), row.accepted) for row in db.session.execute(
        text("SELECT order_id, work_date, accepted FROM order_day_tallies")))
    sums = dict(((row.order_id, row.work_date), row.accepted) for row in db.session.execute(
        select(Return.order_id, Return.work_date, func.sum(Return.accepted).label("accepted"))
        .group_by(Return.order_id, Return.work_date)))
    normalise = {(o, str(d)): n for (o, d), n in tallies.items()}
    assert normalise == {(o, str(d)): n for (o, d), n in sums.items()}
    assert normalise == {(order.id, str(today)): 8, (order.id, str(today - timedelta(days=3))): 5}
    # 13 accepted in the last 14 days: the board and the order agree on the pace.
    board = sup.get("/orders?status=open").get_json()["items"][0]
    assert board["forecast_date"] == str(today + timedelta(days=-(-(200 - 13) * 14 // 13)))


def test_admin_takes_an_order_that_keeps_the_unit_price_of_now(setup):
    product = setup["product"]
    resp = setup["admin"].post("/orders", json={"client_id": product.client_id, "product_id": product.id,
                                                "station_id": setup["there"].id, "quantity": 500,
                                                "due_date": str(local_today() + timedelta(days=9)), "note": "加急"})
    assert resp.status_code == 201, resp.text
    body = resp.get_json()
    assert body["number"].startswith("D") and body["unit_price"] == "0.6000"
    assert body["quantity"] == 500 and body["status"] == "open" and body["unissued"] == 500


# --- batches and returns


def test_issue_over_the_unissued_quantity_is_409_and_stores_nothing(setup):
    sup, order = setup["sup"], setup["order"]
    assert _issue(sup, order, setup["worker"], quantity=150).status_code == 201
    err = _error(_issue(sup, order, setup["worker"], quantity=51), 409, "over_issue")
    assert "quantity" in err["fields"]
    assert db.session.scalar(select(func.count(Batch.id))) == 1
    db.session.expire_all()
    assert db.session.get(Order, order.id).committed == 150


def test_return_and_its_errors(setup, make):
    sup = setup["sup"]
    batch = _issue(sup, setup["order"], setup["worker"], quantity=20).get_json()
    path = f"/batches/{batch['id']}/returns"
    resp = sup.post(path, json={"accepted": 12, "rejected": 3, "note": "边角开胶"})
    assert resp.status_code == 201, resp.text
    body = resp.get_json()
    assert {k: body[k] for k in ("batch_id", "accepted", "rejected", "unused", "work_date")} == {
        "batch_id": batch["id"], "accepted": 12, "rejected": 3, "unused": 0, "work_date": str(local_today())}
    assert "accepted" in _error(sup.post(path, json={"accepted": 6}), 409, "over_return")["fields"]
    assert "rejected" in _error(sup.post(path, json={"accepted": 1, "rejected": -1}), 422, "validation_error")["fields"]
    assert "accepted" in _error(sup.post(path, json={"accepted": 0}), 422, "validation_error")["fields"]
    assert "accepted" in _error(sup.post(path, json={"accepted": 1.5}), 422, "validation_error")["fields"]
    assert "work_date" in _error(sup.post(path, json={"accepted": 1, "work_date": str(local_today() + timedelta(days=1))}),
                                 422, "validation_error")["fields"]
    assert db.session.scalar(select(func.count(Return.id))) == 1
    got = sup.get(f"/batches/{batch['id']}").get_json()
    assert (got["accepted"], got["rejected"], got["outstanding"]) == (12, 3, 5)
    assert [r["id"] for r in got["returns"]] == [body["id"]]


def test_return_in_a_closed_pay_period_is_409(setup, make):
    today = local_today()
    batch = make.batch(order=setup["order"], worker=setup["worker"], quantity=20, issued_on=today - timedelta(days=60),
                       due_date=today - timedelta(days=50))
    original = make.return_(batch=batch, accepted=5, work_date=today - timedelta(days=45))
    db.session.add(PayPeriod(start=today - timedelta(days=60), end=today - timedelta(days=31), status="closed"))
    db.session.commit()
    path = f"/batches/{batch.id}/returns"
    assert "work_date" in _error(setup["sup"].post(path, json={"accepted": 1, "work_date": str(today - timedelta(days=40))}),
                                 409, "period_closed")["fields"]
    dated_inside = {"accepted": -1, "unused": 1, "corrects": original.id, "reason": "数错",
                    "work_date": str(today - timedelta(days=45))}
    _error(setup["sup"].post(path, json=dated_inside), 409, "period_closed")
    assert db.session.scalar(select(func.count(Return.id))) == 1
    # A late correction without a date goes into today's open period; the closed one is untouched.
    late = setup["sup"].post(path, json={"accepted": -1, "unused": 1, "corrects": original.id, "reason": "数错"})
    assert late.status_code == 201 and late.json["work_date"] == str(today)
    assert setup["sup"].post(path, json={"accepted": 1}).status_code == 201  # today is open


def test_correction_points_at_the_original_may_be_negative_and_needs_a_reason(setup, make):
    sup = setup["sup"]
    batch = make.batch(order=setup["order"], worker=setup["worker"], quantity=30)
    original = make.return_(batch=batch, accepted=20)
    other = make.return_(batch=make.batch(order=setup["order"], worker=setup["worker"], quantity=5), accepted=1)
    path = f"/batches/{batch.id}/returns"
    assert "reason" in _error(sup.post(path, json={"accepted": -2, "corrects": original.id}), 422, "validation_error")["fields"]
    assert "corrects" in _error(sup.post(path, json={"accepted": -1, "corrects": other.id, "reason": "x"}),
                                422, "validation_error")["fields"]
    _error(sup.post(path, json={"accepted": -21, "corrects": original.id, "reason": "数错"}), 409, "over_correction")
    resp = sup.post(path, json={"accepted": -2, "rejected": 2, "corrects": original.id, "reason": "两件有污渍"})
    assert resp.status_code == 201, resp.text
    body = resp.get_json()
    assert body["corrects"] == original.id and body["accepted"] == -2 and body["reason"] == "两件有污渍"
    got = sup.get(f"/batches/{batch.id}").get_json()
    assert (got["accepted"], got["rejected"]) == (18, 2)
    event_ = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "correct"))
    assert event_.before["accepted"] == 20 and event_.after["accepted"] == -2 and event_.after["corrects_id"] == original.id


def test_close_records_the_shortfall_and_a_second_close_or_return_is_409(setup, make):
    sup = setup["sup"]
    batch = make.batch(order=setup["order"], worker=setup["worker"], quantity=30)
    make.return_(batch=batch, accepted=20, rejected=2, unused=3)
    resp = sup.post(f"/batches/{batch.id}/close", json={"reason": "工人搬家"})
    assert resp.status_code == 200, resp.text
    body = resp.get_json()
    assert body["status"] == "closed" and body["shortfall"] == 5 and body["close_reason"] == "工人搬家"
    _error(sup.post(f"/batches/{batch.id}/close", json={}), 409, "batch_closed")
    _error(sup.post(f"/batches/{batch.id}/returns", json={"accepted": 1}), 409, "batch_closed")
    assert db.session.scalar(select(func.count(Return.id))) == 1


def test_batch_list_filters_by_status_worker_and_order(setup, make):
    sup, order, worker = setup["sup"], setup["order"], setup["worker"]
    today = local_today()
    second_worker = make.worker(station=setup["here"])
    overdue = make.batch(order=order, worker=worker, quantity=10, issued_on=today - timedelta(days=10),
                         due_date=today - timedelta(days=1))
    due_today = make.batch(order=order, worker=second_worker, quantity=10, due_date=today)
    closed = make.batch(order=order, worker=worker, quantity=10)
    sup.post(f"/batches/{closed.id}/close", json={})

    def ids(query):
        resp = sup.get("/batches" + query)
        assert resp.status_code == 200, resp.text
        return {b["id"] for b in resp.get_json()["items"]}

    assert ids("?status=overdue") == {overdue.id}
    assert ids("?status=open") == {overdue.id, due_today.id}
    assert ids("?status=closed") == {closed.id}
    assert ids(f"?worker_id={second_worker.id}") == {due_today.id}
    assert ids(f"?order_id={order.id}&status=open&worker_id={worker.id}") == {overdue.id}
    assert ids(f"?order_id={setup['other_order'].id}") == set()
    listed = sup.get("/batches?status=overdue").get_json()["items"][0]
    assert listed["overdue"] is True and listed["piece_rate"] == "0.3500" and listed["worker"] == worker.name


def test_list_pages_are_bounded(setup, make):
    for _ in range(3):
        make.batch(order=setup["order"], worker=setup["worker"], quantity=1)
    page = setup["sup"].get("/batches?per_page=2&page=2").get_json()
    assert page["total"] == 3 and len(page["items"]) == 1
    for _ in range(2):
        make.order(station=setup["here"], product=setup["product"], quantity=10)
    first = setup["sup"].get("/orders?status=open&per_page=2").get_json()
    second = setup["sup"].get("/orders?status=open&per_page=2&page=2").get_json()
    assert first["total"] == second["total"] == 3 and len(first["items"]) == 2 and len(second["items"]) == 1
    assert {o["id"] for o in first["items"]}.isdisjoint(o["id"] for o in second["items"])
    assert {o["station_id"] for o in first["items"] + second["items"]} == {setup["here"].id}
    assert "page" in _error(setup["sup"].get("/batches?page=x"), 422, "validation_error")["fields"]


# --- idempotency and audit


def test_same_idempotency_key_and_body_records_once_and_answers_the_same(setup, make):
    sup = setup["sup"]
    batch = make.batch(order=setup["order"], worker=setup["worker"], quantity=30)
    path = f"/batches/{batch.id}/returns"
    first = sup.post(path, json={"accepted": 7}, headers={"Idempotency-Key": "tap-1"})
    again = sup.post(path, json={"accepted": 7}, headers={"Idempotency-Key": "tap-1"})
    assert first.status_code == again.status_code == 201
    assert first.get_data() == again.get_data()
    assert db.session.scalar(select(func.count(Return.id))) == 1
    other = sup.post(path, json={"accepted": 8}, headers={"Idempotency-Key": "tap-1"})
    _error(other, 409, "idempotency_key_reused")
    assert db.session.scalar(select(func.count(Return.id))) == 1
    db.session.expire_all()
    assert db.session.get(Batch, batch.id).accepted == 7


def test_idempotent_issue_and_order_create(setup):
    sup, product = setup["sup"], setup["product"]
    order_body = {"client_id": product.client_id, "product_id": product.id, "station_id": setup["here"].id,
                  "quantity": 10, "due_date": str(local_today() + timedelta(days=3))}
    a = sup.post("/orders", json=order_body, headers={"Idempotency-Key": "o-1"})
    b = sup.post("/orders", json=order_body, headers={"Idempotency-Key": "o-1"})
    assert a.status_code == 201 and a.get_data() == b.get_data()
    body = {"order_id": setup["order"].id, "worker_id": setup["worker"].id, "quantity": 5}
    a = sup.post("/batches", json=body, headers={"Idempotency-Key": "b-1"})
    b = sup.post("/batches", json=body, headers={"Idempotency-Key": "b-1"})
    assert a.get_data() == b.get_data()
    assert db.session.scalar(select(func.count(Order.id))) == 3
    assert db.session.scalar(select(func.count(Batch.id))) == 1
    assert db.session.scalar(select(func.count(IdempotencyKey.id))) == 2


def test_every_create_return_correction_and_close_writes_an_audit_event(setup):
    sup, admin, product = setup["sup"], setup["admin"], setup["product"]
    start = db.session.scalar(select(func.max(AuditEvent.id))) or 0
    client_id = admin.post("/clients", json={"name": "审计客户"}).get_json()["id"]
    product_id = admin.post("/products", json={"client_id": client_id, "name": "审计品", "piece_rate": "0.1",
                                               "unit_price": "0.2"}).get_json()["id"]
    admin.patch(f"/products/{product_id}", json={"piece_rate": "0.2"})
    order_id = sup.post("/orders", json={"client_id": product.client_id, "product_id": product.id,
                                         "station_id": setup["here"].id, "quantity": 10,
                                         "due_date": str(local_today() + timedelta(days=3))}).get_json()["id"]
    batch_id = sup.post("/batches", json={"order_id": order_id, "worker_id": setup["worker"].id, "quantity": 10}).get_json()["id"]
    return_id = sup.post(f"/batches/{batch_id}/returns", json={"accepted": 6}).get_json()["id"]
    sup.post(f"/batches/{batch_id}/returns", json={"accepted": -1, "corrects": return_id, "reason": "多记一件"})
    sup.post(f"/batches/{batch_id}/close", json={"reason": "结束"})
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.id > start).order_by(AuditEvent.id)).all()
    seen = [(e.entity, e.action) for e in events]
    assert seen == [("client", "create"), ("product", "create"), ("product", "update"), ("order", "create"),
                    ("batch", "issue"), ("return", "return"), ("return", "correct"), ("batch", "close")]
    by_key = {(e.entity, e.action): e for e in events}
    assert by_key[("product", "update")].before["piece_rate"] == "0.1000"
    assert by_key[("product", "update")].after["piece_rate"] == "0.2000"
    close = by_key[("batch", "close")]
    assert close.before["status"] == "open" and close.after["status"] == "closed" and close.after["shortfall"] == 5
    assert by_key[("return", "return")].after["accepted"] == 6
    assert all(e.actor.startswith("staff:") for e in events)


# --- lists load in a fixed number of queries


def _queries(api_client, path, count_queries):
    with count_queries() as queries:
        resp = api_client.get(path)
    assert resp.status_code == 200, resp.text
    return len(queries.work)


@pytest.mark.parametrize("path", ["/orders?status=open", "/batches", "/batches?status=overdue", "/clients", "/products"])
def test_lists_load_in_a_fixed_number_of_queries(setup, make, path, count_queries):
    admin = setup["admin"]
    today = local_today()

    def add_rows():
        client = make.client()
        product = make.product(client=client)
        station = make.station()
        order = make.order(station=station, product=product, quantity=100)
        worker = make.worker(station=station)
        batch = make.batch(order=order, worker=worker, quantity=10, issued_on=today - timedelta(days=5),
                           due_date=today - timedelta(days=1))
        make.return_(batch=batch, accepted=3)

    add_rows()
    few = _queries(admin, path, count_queries)
    for _ in range(5):
        add_rows()
    assert admin.get(path).get_json()["total"] >= 6
    assert _queries(admin, path, count_queries) == few
