"""Two app servers on one PostgreSQL (the city deployment): two real gunicorn instances on
loopback ports, the same database and secret, and a client sending its requests to each in
turn. Only the database is shared, so everything that must hold across servers lives there."""
from __future__ import annotations

import re
import subprocess
import sys
import uuid
from datetime import datetime

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import IdempotencyKey, JobRun, Return
from bench.servers import ROOT, RoundRobin, servers
from tests.conftest import BACKEND
from tests.helpers import assert_ledger_holds

pytestmark = pytest.mark.skipif(BACKEND != "postgresql", reason="two app servers share a PostgreSQL")


@pytest.fixture(scope="module")
def servers_once(database_url, tmp_path_factory):
    if BACKEND != "postgresql":
        pytest.skip("two app servers share a PostgreSQL")
    instance = tmp_path_factory.mktemp("two-servers")
    with servers(database_url, "two-servers-" + uuid.uuid4().hex, instance) as started:
        yield started


@pytest.fixture
def pair(app, servers_once):
    """Both servers, over the test's database (its tables emptied after each test)."""
    return servers_once


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_a_session_started_on_one_server_works_on_the_other(pair, make):
    supervisor = make.staff("supervisor", password="correct-horse")
    a, b = (s.url for s in pair)
    client = RoundRobin([a, b])
    page = client.get("/login", base=a)
    signed = client.post("/login", base=a, data={"csrf_token": _csrf(page.text), "username": supervisor.username,
                                                 "password": "correct-horse"})
    assert signed.status_code == 302, signed.text[:500]
    on_b = client.get("/orders", base=b)
    assert on_b.status_code == 200  # not a redirect to the sign-in page
    form = client.get("/orders/new", base=b)  # a CSRF token minted on B is good on A
    posted = client.post("/orders/new", base=a, data={"csrf_token": _csrf(form.text)})
    assert posted.status_code in (200, 422), posted.status_code  # validation, not a CSRF refusal (400)
    client.post("/logout", base=b, data={"csrf_token": _csrf(client.get("/orders", base=b).text)})
    assert client.get("/orders", base=a).status_code == 302  # signed out on both


def test_an_idempotent_retry_sent_to_the_other_server_records_once(pair, make):
    supervisor = make.staff("supervisor", password="correct-horse")
    order = make.order(station=supervisor.station)
    batch = make.batch(order=order, quantity=40)
    a, b = (s.url for s in pair)
    client = RoundRobin([a, b])
    token = client.post("/api/v1/auth/token", base=a,
                        json={"username": supervisor.username, "password": "correct-horse"}).json()["token"]
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "tablet-7-tap-1"}
    first = client.post(f"/api/v1/batches/{batch.id}/returns", base=a, json={"accepted": 6}, headers=headers)
    again = client.post(f"/api/v1/batches/{batch.id}/returns", base=b, json={"accepted": 6}, headers=headers)
    assert first.status_code == 201, first.text
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    db.session.commit()
    assert db.session.scalar(select(func.count(Return.id)).where(Return.batch_id == batch.id)) == 1
    assert db.session.scalar(select(func.count(IdempotencyKey.id))) == 1
    assert_ledger_holds()


def test_failed_sign_ins_count_across_both_servers(pair, app, make):
    supervisor = make.staff("supervisor", password="correct-horse")
    client = RoundRobin([s.url for s in pair])
    limit = app.config["LOGIN_MAX_FAILURES"]
    codes = [client.post("/api/v1/auth/token", json={"username": supervisor.username, "password": "wrong"}).status_code
             for _ in range(limit + 1)]
    # Alternating servers, the attempt after the limit is refused as throttled, not merely wrong.
    assert codes[:limit] == [401] * limit and codes[limit] == 429, codes


_CLAIM = """
import sys
from datetime import datetime
from wsgi import app
from app import jobs
with app.app_context():
    outcome = jobs.run_claimed("mark_overdue", datetime.fromisoformat(sys.argv[1]))
    print("claimed" if outcome.claimed else "skipped")
"""


def test_a_scheduled_tick_is_claimed_by_one_server_only(pair, database_url, tmp_path):
    tick = datetime(2026, 3, 1, 2, 15).isoformat()  # any tick: the claim is per (job, tick)
    env = dict(pair[0].env)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    procs = [subprocess.Popen([sys.executable, "-c", _CLAIM, tick], cwd=ROOT, env={**env, **extra},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for extra in ({"JIJIAN_INSTANCE": str(tmp_path / "a")}, {"JIJIAN_INSTANCE": str(tmp_path / "b")})]
    outcomes = sorted(p.communicate(timeout=120)[0].strip().splitlines()[-1] for p in procs)
    assert outcomes == ["claimed", "skipped"]
    db.session.commit()
    assert db.session.scalar(select(func.count(JobRun.id)).where(JobRun.job == "mark_overdue")) == 1
