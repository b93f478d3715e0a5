"""The outbox's server side (rule 13): a replay under the supervisor's session records once
per key made on the tablet, a refusal stores nothing and says why, a resend and a discard are
audited, and the tablet's snapshot holds only what its supervisor may see."""
from datetime import timedelta

from sqlalchemy import func, select

from app.models import AuditEvent, IdempotencyKey, Return, local_today


def count(db, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def setup(make, login_as, quantity=100):
    station = make.station()
    user = login_as("supervisor", station=station)
    order = make.order(station=station, quantity=1000)
    batch = make.batch(order=order, worker=make.worker(station=station, name="王秀英"), quantity=quantity)
    return station, user, batch


def token(client) -> str:
    resp = client.get("/counter/session")
    assert resp.status_code == 200
    return resp.get_json()["csrf_token"]


def post(client, batch_id, key, body, csrf):
    return client.post(f"/counter/batches/{batch_id}/returns", json=body,
                       headers={"Idempotency-Key": key, "X-CSRFToken": csrf})


def test_a_replayed_return_records_once_per_key_and_answers_as_the_first_did(client, login_as, make, db):
    _station, _user, batch = setup(make, login_as)
    csrf = token(client)
    body = {"accepted": 40, "rejected": 2, "unused": 0, "work_date": local_today().isoformat(),
            "recorded_at": f"{local_today().isoformat()}T09:30:00+08:00"}
    first = post(client, batch.id, "tap-1", body, csrf)
    assert first.status_code == 201, first.text
    again = post(client, batch.id, "tap-1", body, csrf)
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert count(db, Return, Return.batch_id == batch.id) == 1
    answer = first.get_json()
    assert answer["accepted"] == 40 and answer["receipt_url"] == f"/returns/{answer['id']}/receipt"
    assert answer["work_date"] == local_today().isoformat()
    assert answer["recorded_at"] == f"{local_today().isoformat()}T01:30:00Z"  # when the tablet counted it


def test_the_work_date_is_the_workshop_day_of_the_tap_when_none_is_sent(client, login_as, make, db):
    _station, _user, batch = setup(make, login_as)
    today = local_today()
    batch.issued_on = today - timedelta(days=3)
    db.session.commit()
    day_before = today - timedelta(days=1)
    # 23:30 in Shanghai the day before is 15:30 UTC that day: the workshop's day is kept.
    body = {"accepted": 5, "recorded_at": f"{day_before.isoformat()}T15:30:00+00:00"}
    resp = post(client, batch.id, "late-night", body, token(client))
    assert resp.status_code == 201, resp.text
    assert resp.get_json()["work_date"] == day_before.isoformat()


def test_an_over_return_is_refused_with_the_reason_and_stores_nothing(client, login_as, make, db):
    _station, _user, batch = setup(make, login_as, quantity=50)
    csrf = token(client)
    resp = post(client, batch.id, "too-many", {"accepted": 60}, csrf)
    assert resp.status_code == 409
    assert resp.get_json()["error"]["code"] == "over_return"
    assert count(db, Return) == 0 and count(db, IdempotencyKey) == 0
    # Changed on the tablet and sent again with a new key: recorded, the refusal audited with it.
    resend = {"accepted": 50, "key": "too-many-2",
              "resend_of": {"key": "too-many", "accepted": 60, "rejected": 0, "unused": 0,
                            "message": resp.get_json()["error"]["message"], "status": 409}}
    ok = post(client, batch.id, "too-many-2", resend, csrf)
    assert ok.status_code == 201, ok.text
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "offline_resend"))
    assert event.before["key"] == "too-many" and event.before["accepted"] == 60
    assert event.after["accepted"] == 50 and event.entity_id == ok.get_json()["id"]


def test_invalid_counts_answer_422_with_the_field(client, login_as, make, db):
    _station, _user, batch = setup(make, login_as)
    resp = post(client, batch.id, "neg", {"accepted": -1}, token(client))
    assert resp.status_code == 422 and "accepted" in resp.get_json()["error"]["fields"]
    resp = post(client, batch.id, "bad-time", {"accepted": 1, "recorded_at": "yesterday"}, token(client))
    assert resp.status_code == 422 and "recorded_at" in resp.get_json()["error"]["fields"]
    assert count(db, Return) == 0


def test_without_the_csrf_token_or_a_session_nothing_is_recorded(client, login_as, make, db, app):
    _station, _user, batch = setup(make, login_as)
    app.config["WTF_CSRF_ENABLED"] = True
    resp = client.post(f"/counter/batches/{batch.id}/returns", json={"accepted": 1}, headers={"Idempotency-Key": "k"})
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "csrf_failed"
    with client.session_transaction() as sess:
        sess.clear()
    resp = client.get("/counter/session")
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "unauthorized"
    assert count(db, Return) == 0


def test_another_stations_batch_answers_404(client, login_as, make, db):
    setup(make, login_as)
    other = make.station(name="别的站")
    foreign = make.batch(order=make.order(station=other), worker=make.worker(station=other))
    resp = post(client, foreign.id, "x", {"accepted": 1}, token(client))
    assert resp.status_code == 404
    assert count(db, Return) == 0


def test_a_discard_is_audited_once_and_needs_a_reason(client, login_as, make, db):
    _station, _user, batch = setup(make, login_as)
    csrf = token(client)
    headers = {"Idempotency-Key": "discard-1", "X-CSRFToken": csrf}
    body = {"key": "tap-9", "batch_id": batch.id, "reason": "",
            "entry": {"accepted": 300, "batch_code": batch.code, "message": "超出"}}
    assert client.post("/counter/discards", json=body, headers=headers).status_code == 422
    body["reason"] = "点错了，重复录入"
    for _ in range(2):
        assert client.post("/counter/discards", json=body, headers=headers).status_code == 201
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "offline_discard")).all()
    assert len(events) == 1
    assert events[0].after["reason"] == "点错了，重复录入" and events[0].before["accepted"] == 300


def test_the_snapshot_holds_the_stations_open_batches_only(client, login_as, make, db):
    station, _user, batch = setup(make, login_as)
    make.return_(batch=batch, accepted=30)
    other = make.station(name="别的站")
    make.batch(order=make.order(station=other), worker=make.worker(station=other))
    data = client.get("/counter/snapshot").get_json()
    assert [b["id"] for b in data["batches"]] == [batch.id]
    assert data["batches"][0]["outstanding"] == 70 and data["batches"][0]["code"] == batch.code
    assert data["workers"] == [{"id": batch.worker_id, "name": "王秀英"}]
    assert data["max_return_id"] == db.session.scalar(select(func.max(Return.id)))


def test_the_service_worker_is_served_for_the_whole_app(client, login_as, make):
    resp = client.get("/sw.js")
    assert resp.status_code == 200 and resp.mimetype == "text/javascript"
    assert resp.headers["Service-Worker-Allowed"] == "/"
    assert "var VERSION = " in resp.text and "/static/vendor/jsqr/jsQR.js" in resp.text


def test_counter_pages_carry_the_badge_and_the_strings_in_the_users_language(client, login_as, make):
    _station, _user, batch = setup(make, login_as)
    page = client.get(f"/batches/{batch.id}/return").text
    assert 'data-outbox-pending=""' in page and 'data-outbox-attention=""' in page
    assert 'id="counter-strings"' in page and "待发送" in page
    assert f'data-batch-id="{batch.id}"' in page
    english = client.get("/counter/return?lang=en").text
    assert "waiting to be sent" in english and "<script>" not in english


def test_a_chunk_records_each_entry_once_in_order_and_answers_each(client, login_as, make, db):
    _station, _user, batch = setup(make, login_as, quantity=50)
    csrf = token(client)
    entries = [{"key": "a", "batch_id": batch.id, "body": {"accepted": 30}},
               {"key": "b", "batch_id": batch.id, "body": {"accepted": 30}},  # only 20 left
               {"key": "a", "batch_id": batch.id, "body": {"accepted": 30}},  # a repeat of the first
               {"key": "c", "batch_id": batch.id, "body": {"accepted": 20}}]
    resp = client.post("/counter/returns", json={"entries": entries}, headers={"X-CSRFToken": csrf})
    assert resp.status_code == 200, resp.text
    results = resp.get_json()["results"]
    assert [r["status"] for r in results] == [201, 409, 201, 201]
    assert results[0]["body"] == results[2]["body"]
    assert results[1]["body"]["error"]["code"] == "over_return"
    assert count(db, Return) == 2
    # The same entry sent alone afterwards is the stored answer, not a new record.
    again = post(client, batch.id, "c", {"accepted": 20}, csrf)
    assert again.status_code == 201 and again.get_json() == results[3]["body"]
    assert count(db, Return) == 2
