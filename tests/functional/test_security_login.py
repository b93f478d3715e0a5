"""Sign-in throttling (rule 15): per account, per client address and overall, in the database;
429 with Retry-After; a supervisor unlocks their own worker; no write lock while hashing."""
from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from app.extensions import db
from app.models import LoginThrottle
from tests.helpers import csrf_token

ROOT = Path(__file__).resolve().parents[2]
BACKEND = os.environ.get("TEST_DATABASE", "sqlite")


def _worker_login(client, phone, pin, address):
    page = client.get("/w/login", environ_base={"REMOTE_ADDR": address})
    return client.post("/w/login", data={"phone": phone, "pin": pin, "csrf_token": csrf_token(page.text)},
                       environ_base={"REMOTE_ADDR": address})


def test_one_wrong_pin_for_each_of_30_phones_from_one_address_ends_in_429_while_another_address_signs_in(app, client, make):
    station = make.station()
    workers = [make.worker(station=station, phone=f"1370000{i:04d}") for i in range(31)]
    statuses = [_worker_login(client, w.phone, "864209", "203.0.113.7").status_code for w in workers[:30]]
    assert statuses[:20] == [401] * 20  # LOGIN_MAX_FAILURES_PER_ADDRESS
    assert statuses[20:] == [429] * 10
    refused = _worker_login(client, workers[30].phone, "258036", "203.0.113.7")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "请" in refused.text and "分钟" in refused.text  # a plain page, in Chinese by default
    other = app.test_client()
    ok = _worker_login(other, workers[30].phone, "258036", "198.51.100.20")
    assert ok.status_code == 302 and workers[30].name in other.get("/home").text


def test_the_api_answers_429_with_retry_after_per_address(app, client, make):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    make.worker(phone="13811110000")
    env = {"REMOTE_ADDR": "2001:db8::1"}
    codes = [client.post("/api/v1/auth/token", json={"phone": f"1381111000{i}", "pin": "864209"},
                         environ_base=env).status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]
    # The same /64 is the same address; the right PIN waits too.
    resp = client.post("/api/v1/auth/token", json={"phone": "13811110000", "pin": "258036"},
                       environ_base={"REMOTE_ADDR": "2001:db8::99"})
    assert resp.status_code == 429 and resp.json["error"]["code"] == "too_many_attempts"
    assert 0 < int(resp.headers["Retry-After"]) <= 15 * 60


def test_the_overall_budget_stops_a_guess_spread_over_many_addresses(app, client, make):
    app.config["LOGIN_MAX_FAILURES_OVERALL"] = 6
    make.staff("admin", username="boss", password="correct-horse")
    codes = [client.post("/api/v1/auth/token", json={"username": f"nobody{i}", "password": "x" * 8},
                         environ_base={"REMOTE_ADDR": f"192.0.2.{i}"}).status_code for i in range(7)]
    assert codes == [401] * 6 + [429]
    resp = client.post("/api/v1/auth/token", json={"username": "boss", "password": "correct-horse"},
                       environ_base={"REMOTE_ADDR": "192.0.2.200"})
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) <= 5 * 60


def test_a_locked_out_worker_is_unlocked_by_their_own_supervisor_only(app, client, make):
    station, elsewhere = make.station(), make.station()
    worker = make.worker(station=station, phone="13822223333")
    bad = app.test_client()
    for i in range(5):
        assert _worker_login(bad, worker.phone, "864209", f"198.51.100.{i}").status_code == 401
    assert _worker_login(bad, worker.phone, "258036", "198.51.100.50").status_code == 429

    other_supervisor = app.test_client()
    from app.auth.loader import session_keys

    def signed_in(account):
        c = app.test_client()
        with c.session_transaction() as sess:
            sess.update(session_keys(account))
        return c

    stranger = signed_in(make.staff("supervisor", station=elsewhere))
    page = stranger.get("/workers")
    assert stranger.post(f"/workers/{worker.id}/unlock", data={"csrf_token": csrf_token(page.text)}).status_code == 404
    assert _worker_login(other_supervisor, worker.phone, "258036", "198.51.100.51").status_code == 429

    own = signed_in(make.staff("supervisor", station=station))
    page = own.get(f"/workers/{worker.id}")
    assert "解除锁定" in page.text  # the worker page offers the unlock while locked
    resp = own.post(f"/workers/{worker.id}/unlock", data={"csrf_token": csrf_token(page.text)})
    assert resp.status_code == 302
    assert db.session.get(LoginThrottle, f"worker:{worker.phone}") is None
    assert _worker_login(app.test_client(), worker.phone, "258036", "198.51.100.52").status_code == 302


def test_the_api_unlock_is_scoped_to_the_supervisors_station(app, client, make, api):
    station, elsewhere = make.station(), make.station()
    worker = make.worker(station=station, phone="13822224444")
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"phone": worker.phone, "pin": "864209"})
    stranger = api(role="supervisor", station=elsewhere)
    assert stranger.post(f"/workers/{worker.id}/unlock", json={}).status_code == 404
    own = api(role="supervisor", station=station)
    assert own.post(f"/workers/{worker.id}/unlock", json={}).status_code == 200
    assert client.post("/api/v1/auth/token", json={"phone": worker.phone, "pin": "258036"},
                       environ_base={"REMOTE_ADDR": "198.51.100.9"}).status_code == 200


def test_an_unknown_phone_is_verified_against_a_dummy_hash(app, client, make, monkeypatch):
    """As long to refuse as a wrong PIN: the hash runs either way."""
    from app.services import accounts

    calls = []
    real = accounts.verify_secret
    monkeypatch.setattr(accounts, "verify_secret", lambda stored, given: calls.append(stored) or real(stored, given))
    assert client.post("/api/v1/auth/token", json={"phone": "13899990000", "pin": "864209"}).status_code == 401
    assert client.post("/api/v1/auth/token", json={"username": "ghost", "password": "whatever1"}).status_code == 401
    worker = make.worker(phone="13899990001")
    worker.active = False
    db.session.commit()
    assert client.post("/api/v1/auth/token", json={"phone": worker.phone, "pin": "258036"}).status_code == 401
    assert len(calls) == 3 and all(c.startswith("$argon2id$") for c in calls)


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's database-wide write lock")
def test_sign_in_hashes_without_holding_sqlites_write_lock(app, client, make, monkeypatch):
    """While Argon2 runs, another connection can still write (it could not when the sign-in
    began IMMEDIATE); only the outcome is written afterwards."""
    from app.services import accounts

    worker = make.worker(phone="13855556666")
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    seen = []
    real = accounts.verify_secret

    def verify_while_probing(stored, given):
        probe = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            seen.append("free")
        except sqlite3.OperationalError:
            seen.append("locked")
        finally:
            probe.close()
        return real(stored, given)

    monkeypatch.setattr(accounts, "verify_secret", verify_while_probing)
    assert _worker_login(client, worker.phone, "864209", "198.51.100.1").status_code == 401
    assert _worker_login(client, worker.phone, "258036", "198.51.100.1").status_code == 302
    assert client.post("/api/v1/auth/token", json={"phone": worker.phone, "pin": "258036"}).status_code == 200
    assert seen == ["free", "free", "free"]
    assert db.session.get(LoginThrottle, f"worker:{worker.phone}") is None  # the success cleared it


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PID_APP = '''
import os
from wsgi import app as _app


def app(environ, start_response):
    def start(status, headers, exc_info=None):
        return start_response(status, headers + [("X-Served-By", str(os.getpid()))], exc_info)
    return _app(environ, start)
'''


def test_throttles_hold_across_two_gunicorn_workers(app, make, tmp_path):
    """A real gunicorn with two worker processes on a loopback port: failures sent to both,
    concurrently, add up in the database, and the budget refuses on either worker."""
    make.worker(phone="13866667777")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.remove()
    db.engine.dispose()
    (tmp_path / "pidwrap.py").write_text(PID_APP)
    env = {**os.environ, "DATABASE_URL": url, "JIJIAN_INSTANCE": str(tmp_path / "instance"),
           "SECRET_KEY": "test-secret", "JIJIAN_ENV": "development", "PYTHONPATH": f"{tmp_path}:{ROOT}",
           "LOGIN_MAX_FAILURES_PER_ADDRESS": "8", "LOGIN_MAX_FAILURES": "1000",
           "JOB_MARK_OVERDUE": "off", "JOB_FLAG_AT_RISK": "off", "JOB_CLOSE_PAY_PERIOD": "off", "JOB_BACKUP": "off"}
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                             "pidwrap:app"], cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.2)

        def wrong(i):
            r = requests.post(f"{base}/api/v1/auth/token", json={"phone": f"1386666{i:04d}", "pin": "864209"}, timeout=30)
            return r.status_code, r.headers.get("X-Served-By")

        with ThreadPoolExecutor(4) as pool:
            first = list(pool.map(wrong, range(8)))
        assert [code for code, _ in first] == [401] * 8
        assert len({pid for _, pid in first}) == 2, "both workers served failures"
        answers = [requests.post(f"{base}/api/v1/auth/token", json={"phone": "13866667777", "pin": "258036"},
                                 timeout=30) for _ in range(4)]
        assert {r.status_code for r in answers} == {429}
        assert len({r.headers["X-Served-By"] for r in answers}) >= 1
        assert all(int(r.headers["Retry-After"]) > 0 for r in answers)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_rows_of_long_gone_addresses_are_dropped_when_a_budget_locks(app, client, db):
    from datetime import timedelta

    from app.models import utcnow

    old = utcnow() - timedelta(hours=2)
    db.session.add(LoginThrottle(account="addr:192.0.2.99", failures=3, window_start=old))
    db.session.add(LoginThrottle(account="addr:192.0.2.98", failures=1, window_start=old, locked_until=utcnow() + timedelta(minutes=5)))
    db.session.commit()
    app.config["LOGIN_MAX_FAILURES"] = 2
    for _ in range(2):
        client.post("/api/v1/auth/token", json={"phone": "13800009999", "pin": "864209"})
    db.session.expire_all()
    assert db.session.get(LoginThrottle, "addr:192.0.2.99") is None  # window and lock long over
    assert db.session.get(LoginThrottle, "addr:192.0.2.98") is not None  # still locked
    assert db.session.get(LoginThrottle, "worker:13800009999").locked_until is not None
