"""PINs are six digits and not guessable; sessions and tokens end (rule 15, API.md's
DELETE /auth/token and PATCH /workers/{id})."""
from __future__ import annotations

import time

import pytest

from app.auth.loader import session_keys
from app.extensions import db
from app.models import ApiToken, Worker, utcnow
from app.services import accounts
from app.services.errors import ValidationError
from tests.helpers import csrf_token


def _signed_in(app, account):
    client = app.test_client()
    with client.session_transaction() as sess:
        sess.update(session_keys(account))
    return client


def _worker_login(client, phone, pin):
    page = client.get("/w/login")
    return client.post("/w/login", data={"phone": phone, "pin": pin, "csrf_token": csrf_token(page.text)})


@pytest.mark.parametrize("pin", ["000000", "999999", "123456", "345678", "987654", "654321", "121212",
                                 "123123", "1357", "12345678", "12a456", "", "345600"])
def test_trivial_or_malformed_pins_are_refused_when_set(make, db, pin):
    station = make.station()
    from app.services import org

    with pytest.raises(ValidationError) as err:
        org.register_worker(name="王芳", phone="13912345600", station_id=station.id, pin=pin)
    assert "pin" in err.value.fields
    db.session.rollback()


def test_a_good_pin_is_taken_and_a_trivial_change_refused(make, db):
    worker = make.worker(phone="13912340000", pin="258036")
    with pytest.raises(ValidationError):
        accounts.change_worker_pin(worker, "340000")  # the phone's last six
    db.session.rollback()
    accounts.change_worker_pin(db.session.get(Worker, worker.id), "703916")
    db.session.commit()
    assert accounts.pin_problem(accounts.new_random_pin("13912340000"), "13912340000") is None


def test_the_register_page_and_the_api_refuse_a_trivial_pin(app, make, api):
    station = make.station()
    sup = api(role="supervisor", station=station)
    resp = sup.post("/workers", json={"name": "王芳", "phone": "13912345678", "station_id": station.id, "pin": "111111"})
    assert resp.status_code == 422 and "pin" in resp.json["error"]["fields"]
    resp = sup.post("/workers", json={"name": "王芳", "phone": "13912345678", "station_id": station.id, "pin": "1357"})
    assert resp.status_code == 422
    resp = sup.post("/workers", json={"name": "王芳", "phone": "13912345678", "station_id": station.id, "pin": "703916"})
    assert resp.status_code == 201


def test_delete_auth_token_ends_that_token_only(client, make):
    make.staff("admin", username="boss", password="correct-horse")
    tokens = [client.post("/api/v1/auth/token", json={"username": "boss", "password": "correct-horse"}).json["token"]
              for _ in range(2)]
    one, two = ({"Authorization": f"Bearer {t}"} for t in tokens)
    assert client.delete("/api/v1/auth/token", headers=one).status_code == 204
    assert client.get("/api/v1/stations", headers=one).status_code == 401
    assert client.delete("/api/v1/auth/token", headers=one).status_code == 401
    assert client.get("/api/v1/stations", headers=two).status_code == 200


def test_worker_tokens_live_seven_days_staff_thirty(client, make):
    make.worker(phone="13800003333")
    make.staff("admin", username="boss", password="correct-horse")
    worker = client.post("/api/v1/auth/token", json={"phone": "13800003333", "pin": "258036"}).json
    staff = client.post("/api/v1/auth/token", json={"username": "boss", "password": "correct-horse"}).json
    rows = {r.worker_id is not None: r for r in db.session.query(ApiToken)}
    assert abs((rows[True].expires_at - utcnow()).total_seconds() - 7 * 86400) < 120
    assert abs((rows[False].expires_at - utcnow()).total_seconds() - 30 * 86400) < 120
    assert worker["expires_at"] < staff["expires_at"]


def test_a_disabled_workers_token_and_session_stop_at_once(app, make, api):
    station = make.station()
    worker = make.worker(station=station, phone="13800004444")
    token = app.test_client().post("/api/v1/auth/token", json={"phone": worker.phone, "pin": "258036"}).json["token"]
    phone = app.test_client()
    assert _worker_login(phone, worker.phone, "258036").status_code == 302
    assert phone.get("/home").status_code == 200
    headers = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 200

    sup = api(role="supervisor", station=station)
    resp = sup.patch(f"/workers/{worker.id}", json={"active": False})
    assert resp.status_code == 200 and resp.json["active"] is False
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401
    assert phone.get("/home").status_code == 302  # back to sign-in


def test_a_new_pin_ends_every_session_and_token_and_the_new_pin_works(app, make, api):
    station = make.station()
    worker = make.worker(station=station, phone="13800005555")
    token = app.test_client().post("/api/v1/auth/token", json={"phone": worker.phone, "pin": "258036"}).json["token"]
    phone = _signed_in(app, worker)
    assert phone.get("/home").status_code == 200
    admin = api(role="admin")
    assert admin.patch(f"/workers/{worker.id}", json={"pin": "123456"}).status_code == 422
    assert admin.patch(f"/workers/{worker.id}", json={"pin": "703916", "name": "王秀兰"}).status_code == 200
    assert phone.get("/home").status_code == 302
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    fresh = app.test_client()
    assert _worker_login(fresh, worker.phone, "258036").status_code == 401
    assert _worker_login(fresh, worker.phone, "703916").status_code == 302


def test_patch_worker_checks_every_field_and_the_station(app, make, api):
    station, elsewhere = make.station(), make.station()
    worker = make.worker(station=station, phone="13800006666")
    make.worker(station=station, phone="13800006667")
    assert api(role="supervisor", station=elsewhere).patch(f"/workers/{worker.id}", json={"name": "x"}).status_code == 404
    sup = api(role="supervisor", station=station)
    resp = sup.patch(f"/workers/{worker.id}", json={"name": "", "phone": "123", "gender": "X", "birth_year": 1800,
                                                    "groups": ["nope"], "active": "no", "station_id": 9})
    assert resp.status_code == 422
    assert set(resp.json["error"]["fields"]) == {"name", "phone", "gender", "birth_year", "groups", "active", "station_id"}
    assert sup.patch(f"/workers/{worker.id}", json={"phone": "13800006667"}).status_code == 409
    resp = sup.patch(f"/workers/{worker.id}", json={"name": "李桂兰", "birth_year": 1975, "gender": "F",
                                                    "groups": ["relocated"]})
    assert resp.status_code == 200 and resp.json["name"] == "李桂兰" and resp.json["birth_year"] == 1975
    db.session.expire_all()
    assert db.session.get(Worker, worker.id).groups == ["relocated"]


def test_the_supervisor_disables_a_worker_from_the_page(app, make):
    station = make.station()
    worker = make.worker(station=station, phone="13800007777")
    phone = _signed_in(app, worker)
    sup = _signed_in(app, make.staff("supervisor", station=station))
    page = sup.get(f"/workers/{worker.id}")
    assert "停用并在所有设备上退出" in page.text
    assert sup.post(f"/workers/{worker.id}/disable", data={"csrf_token": csrf_token(page.text)}).status_code == 302
    assert phone.get("/home").status_code == 302
    assert _worker_login(app.test_client(), worker.phone, "258036").status_code == 401
    page = sup.get(f"/workers/{worker.id}")
    assert sup.post(f"/workers/{worker.id}/enable", data={"csrf_token": csrf_token(page.text)}).status_code == 302
    assert _worker_login(app.test_client(), worker.phone, "258036").status_code == 302


def test_sign_out_ends_the_session_on_the_server(app, client, make):
    make.staff("admin", username="boss", password="correct-horse")
    page = client.get("/login")
    client.post("/login", data={"username": "boss", "password": "correct-horse", "csrf_token": csrf_token(page.text)})
    home = client.get("/home")
    assert home.status_code == 200
    with client.session_transaction() as sess:
        stolen = dict(sess)  # a copy of the cookie, taken before sign-out
    client.post("/logout", data={"csrf_token": csrf_token(home.text)})
    replay = app.test_client()
    with replay.session_transaction() as sess:
        sess.update(stolen)
    assert replay.get("/home").status_code == 302


def test_a_password_change_ends_the_staff_accounts_sessions_and_tokens(app, make):
    user = make.staff("admin", username="boss", password="correct-horse")
    browser = _signed_in(app, user)
    token = app.test_client().post("/api/v1/auth/token", json={"username": "boss", "password": "correct-horse"}).json["token"]
    accounts.set_staff_password(user, "battery-staple")
    db.session.commit()
    assert browser.get("/home").status_code == 302
    assert app.test_client().get("/api/v1/stations", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_session_ends_after_its_absolute_lifetime_however_busy(app, make):
    worker = make.worker()
    client = _signed_in(app, worker)
    assert client.get("/home").status_code == 200
    with client.session_transaction() as sess:
        sess["_auth_at"] = int(time.time()) - 7 * 86400 - 60  # signed in more than 7 days ago
    assert client.get("/home").status_code == 302
    staff = _signed_in(app, make.staff("admin"))
    with staff.session_transaction() as sess:
        sess["_auth_at"] = int(time.time()) - 25 * 3600
    assert staff.get("/home").status_code == 302


def test_a_session_without_the_version_keys_is_refused(app, make):
    """A cookie minted before sessions carried a version (or forged without one) signs nobody in."""
    worker = make.worker()
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = worker.get_id()
    assert client.get("/home").status_code == 302
