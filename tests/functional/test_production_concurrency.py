"""Conservation under real concurrency (rule 3) and idempotency under a burst of re-sends
(rule 8), on whichever backend TEST_DATABASE names (SQLite and PostgreSQL run the same tests).

Each request runs in its own thread with its own app context, session and database
connection, all released together by a barrier, against the real API stack (BEGIN IMMEDIATE
on SQLite, conditional UPDATEs on both). No request may fail with a 500 or "database is
locked"; every refusal is a 409 with the error body of API.md.
"""
from __future__ import annotations

import threading

from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.extensions import db
from app.models import Batch, IdempotencyKey, Order, Return


def _concurrently(app, calls):
    """Run each ``call(client)`` in its own thread, all starting at once; their responses
    (or the exception a thread raised) in order."""
    db.session.commit()  # the test's own session holds nothing while the requests run
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        client = FlaskClient(app, app.response_class, use_cookies=False)
        barrier.wait()
        try:
            resp = call(client)
            results[i] = (resp.status_code, resp.get_json())
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request hung"
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors  # "database is locked" would surface here (TESTING re-raises)
    db.session.expire_all()
    return results


def _post(path, body, token, key=None):
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key

    def call(client):
        return client.post("/api/v1" + path, json=body, headers=headers)

    return call


def _assert_refusals(results, code):
    for status, body in results:
        assert status in (200, 201, 409), (status, body)
        if status == 409:
            assert body["error"]["code"] == code and body["error"]["message"], body


def test_twenty_concurrent_returns_never_exceed_the_batch_and_store_what_was_accepted(app, make, api):
    station = make.station()
    supervisor = make.staff("supervisor", station=station)
    token = api(supervisor).token
    batch = make.batch(order=make.order(station=station, quantity=500), worker=make.worker(station=station), quantity=50)
    # 20 returns of 3 (one rejected) against 50 pieces: exactly 16 fit, 4 are refused.
    results = _concurrently(app, [_post(f"/batches/{batch.id}/returns", {"accepted": 2, "rejected": 1}, token)
                                  for _ in range(20)])
    _assert_refusals(results, "over_return")
    accepted = [body for status, body in results if status == 201]
    assert len(accepted) == 16
    stored = db.session.execute(
        select(func.count(Return.id), func.sum(Return.accepted), func.sum(Return.rejected)).where(Return.batch_id == batch.id)
    ).one()
    assert tuple(stored) == (16, sum(b["accepted"] for b in accepted), sum(b["rejected"] for b in accepted))
    row = db.session.get(Batch, batch.id)
    assert (row.accepted, row.rejected, row.unused) == (32, 16, 0)
    assert row.accepted + row.rejected + row.unused <= row.quantity
    order = db.session.get(Order, batch.order_id)
    assert (order.accepted, order.rejected, order.committed) == (32, 16, 50)


def test_twenty_concurrent_issues_never_exceed_the_order(app, make, api):
    station = make.station()
    token = api(make.staff("supervisor", station=station)).token
    order = make.order(station=station, quantity=100)
    workers = [make.worker(station=station) for _ in range(4)]
    # 20 batches of 7 against 100 pieces: 14 fit (98), 6 are refused.
    results = _concurrently(app, [
        _post("/batches", {"order_id": order.id, "worker_id": workers[i % 4].id, "quantity": 7}, token)
        for i in range(20)])
    _assert_refusals(results, "over_issue")
    issued = [body for status, body in results if status == 201]
    assert len(issued) == 14
    assert len({b["code"] for b in issued}) == 14
    row = db.session.get(Order, order.id)
    stored = db.session.scalar(select(func.sum(Batch.quantity)).where(Batch.order_id == order.id))
    assert row.committed == stored == sum(b["quantity"] for b in issued) == 98
    assert row.committed <= row.quantity


def test_ten_concurrent_resends_with_one_idempotency_key_store_one_return(app, make, api):
    station = make.station()
    token = api(make.staff("supervisor", station=station)).token
    batch = make.batch(order=make.order(station=station), worker=make.worker(station=station), quantity=100)
    results = _concurrently(app, [_post(f"/batches/{batch.id}/returns", {"accepted": 5}, token, key="tablet-42")
                                  for _ in range(10)])
    assert {status for status, _body in results} == {201}
    assert len({body["id"] for _status, body in results}) == 1
    assert db.session.scalar(select(func.count(Return.id)).where(Return.batch_id == batch.id)) == 1
    assert db.session.get(Batch, batch.id).accepted == 5
    assert db.session.scalar(select(func.count(IdempotencyKey.id))) == 1


def test_returns_racing_a_close_leave_the_batch_balanced(app, make, api):
    station = make.station(shortfall_policy="material_cost")
    token = api(make.staff("supervisor", station=station)).token
    batch = make.batch(order=make.order(station=station), worker=make.worker(station=station), quantity=40)
    calls = [_post(f"/batches/{batch.id}/returns", {"accepted": 3}, token) for _ in range(10)]
    calls.insert(5, _post(f"/batches/{batch.id}/close", {"reason": "到期"}, token))
    results = _concurrently(app, calls)
    close_status, close_body = results[5]
    assert close_status == 200, close_body
    returns = results[:5] + results[6:]
    _assert_refusals(returns, "batch_closed")
    accepted = sum(body["accepted"] for status, body in returns if status == 201)
    row = db.session.get(Batch, batch.id)
    stored = db.session.scalar(select(func.coalesce(func.sum(Return.accepted), 0)).where(Return.batch_id == batch.id))
    assert row.status == "closed" and row.accepted == stored == accepted
    # Nothing landed after the close: the shortfall is exactly what never came back.
    assert row.shortfall == close_body["shortfall"] == row.quantity - row.accepted
