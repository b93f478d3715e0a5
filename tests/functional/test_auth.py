import subprocess
import sys
from pathlib import Path

from app.models import LoginThrottle, User
from app.services import accounts
from tests.helpers import csrf_token


def _csrf(html: str) -> str:
    return csrf_token(html)


def _login(client, username, password):
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password, "csrf_token": _csrf(page.text)})


def test_staff_signs_in_with_password_and_lands_on_home(client, make):
    make.staff("admin", username="boss", password="correct-horse")
    resp = _login(client, "boss", "correct-horse")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/home")
    home = client.get("/home")
    assert home.status_code == 200 and "boss" in home.text


def test_session_cookie_is_httponly_and_lax(client, make):
    make.staff("admin", username="boss", password="correct-horse")
    resp = _login(client, "boss", "correct-horse")
    cookie = [h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session=")][0]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_wrong_password_is_refused_in_chinese(client, make):
    make.staff("admin", username="boss", password="correct-horse")
    resp = _login(client, "boss", "wrong-horse")
    assert resp.status_code == 401
    assert "用户名或密码不正确" in resp.text


def test_five_failures_lock_the_account_for_fifteen_minutes_even_with_the_right_password(client, make, db):
    make.staff("admin", username="boss", password="correct-horse")
    for _ in range(5):
        assert _login(client, "boss", "nope-nope").status_code == 401
    locked = _login(client, "boss", "correct-horse")
    assert locked.status_code == 429
    assert "锁定" in locked.text
    row = db.session.get(LoginThrottle, "staff:boss")
    assert row.locked_until is not None


def test_lock_is_shared_across_processes_through_the_database(app, client, make, db):
    make.staff("admin", username="boss", password="correct-horse")
    for _ in range(5):
        _login(client, "boss", "nope-nope")
    other_process = app.test_client()  # the lock lives in the database, not in memory
    assert _login(other_process, "boss", "correct-horse").status_code == 429


def test_worker_signs_in_with_phone_and_pin(client, make):
    worker = make.worker(phone="13800001111", pin="135790")
    page = client.get("/w/login")
    assert 'inputmode="numeric"' in page.text
    resp = client.post("/w/login", data={"phone": "13800001111", "pin": "135790", "csrf_token": _csrf(page.text)})
    assert resp.status_code == 302
    assert worker.name in client.get("/home").text


def test_logout_clears_the_session(client, make):
    make.staff("admin", username="boss", password="correct-horse")
    _login(client, "boss", "correct-horse")
    page = client.get("/home")
    client.post("/logout", data={"csrf_token": _csrf(page.text)})
    assert client.get("/home").status_code == 302


def test_expired_csrf_token_reshows_the_form_with_what_was_typed(client, make):
    make.staff("admin", username="boss", password="correct-horse")
    client.get("/login")
    resp = client.post("/login", data={"username": "boss", "password": "x", "csrf_token": "expired-token"})
    assert resp.status_code == 200
    assert 'value="boss"' in resp.text
    assert "页面停留时间过长" in resp.text


def test_api_token_works_and_is_revoked_when_the_user_is_disabled(client, make, db):
    user = make.staff("admin", username="boss", password="correct-horse")
    resp = client.post("/api/v1/auth/token", json={"username": "boss", "password": "correct-horse"})
    assert resp.status_code == 200 and resp.json["role"] == "admin"
    headers = {"Authorization": f"Bearer {resp.json['token']}"}
    assert client.get("/api/v1/stations", headers=headers).status_code == 200
    accounts.set_staff_active(db.session.get(User, user.id), False)
    db.session.commit()
    assert client.get("/api/v1/stations", headers=headers).status_code == 401


def test_api_refuses_missing_or_bad_tokens_and_ignores_the_session_cookie(client, make):
    make.staff("admin", username="boss", password="correct-horse")
    _login(client, "boss", "correct-horse")
    resp = client.get("/api/v1/stations")
    assert resp.status_code == 401 and resp.json["error"]["code"] == "unauthorized"
    assert client.get("/api/v1/stations", headers={"Authorization": "Bearer nope"}).status_code == 401
    bad = client.post("/api/v1/auth/token", json={"username": "boss", "password": "bad"})
    assert bad.status_code == 401


def test_worker_token_from_phone_and_pin(client, make):
    make.worker(phone="13800002222", pin="135792")
    resp = client.post("/api/v1/auth/token", json={"phone": "13800002222", "pin": "135792"})
    assert resp.status_code == 200 and resp.json["role"] == "worker"


def test_create_user_command_reads_the_password_from_stdin(tmp_path):
    root = Path(__file__).resolve().parents[2]
    env = {"JIJIAN_INSTANCE": str(tmp_path), "PATH": "/usr/bin:/bin", "FLASK_APP": "wsgi"}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run(flask + ["db", "upgrade"], cwd=root, env=env, check=True, capture_output=True)
    done = subprocess.run(flask + ["create-user", "chief", "--role", "admin", "--password-stdin"],
                          cwd=root, env=env, input="long-enough-pw\n", capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "created admin chief" in done.stdout
    refused = subprocess.run(flask + ["create-user", "lead", "--role", "supervisor", "--password-stdin"],
                             cwd=root, env=env, input="long-enough-pw\n", capture_output=True, text=True)
    assert refused.returncode != 0
