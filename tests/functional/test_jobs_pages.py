"""Notices on the supervisor's home, the admin's job history and switch, GET /jobs/runs."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import jobs
from app.extensions import db
from app.models import JobRun, Notice, Setting, Station
from app.services import jobs_service
from tests.helpers import csrf_token
from tests.jobs_fixtures import days_ago, open_notices


@pytest.fixture
def overdue_at(make):
    """An overdue batch and an order at risk at a station, after both jobs ran."""

    def _make(station):
        order = make.order(station=station, quantity=300, due_in_days=2)
        batch = make.batch(order=order, quantity=40, issued_on=days_ago(8), due_date=days_ago(1))
        jobs.run_claimed("mark_overdue")
        jobs.run_claimed("flag_orders_at_risk", jobs_service.now_tick() + timedelta(days=1500))
        return order, batch

    return _make


def _badge(html: str) -> int:
    # The notices panel's own badge (other panels on the home page have badges too).
    panel = html[html.index('id="notices-title"'):]
    return int(re.search(r'<span class="badge[^"]*"[^>]*>(\d+)</span>', panel).group(1))


def test_supervisor_home_lists_overdue_batches_and_orders_at_risk_with_a_count(client, login_as, make, overdue_at):
    station = make.station()
    order, batch = overdue_at(station)
    login_as("supervisor", station=station)
    html = client.get("/home").text
    assert _badge(html) == 2
    assert batch.code in html and order.number in html
    assert "逾期" in html and "延期风险" in html


def test_supervisor_sees_only_their_own_stations_notices(client, login_as, make, overdue_at):
    mine, theirs = make.station(), make.station()
    overdue_at(theirs)
    login_as("supervisor", station=mine)
    html = client.get("/home").text
    assert _badge(html) == 0
    assert db.session.scalar(select(Notice).where(Notice.station_id == theirs.id)) is not None


def test_a_dismissed_notice_leaves_the_home_page(client, login_as, make, overdue_at):
    station = make.station()
    _order, batch = overdue_at(station)
    login_as("supervisor", station=station)
    html = client.get("/home").text
    notice = db.session.scalar(select(Notice).where(Notice.kind == "overdue_batch"))
    resp = client.post(f"/notices/{notice.id}/dismiss", data={"csrf_token": csrf_token(html)})
    assert resp.status_code == 302
    html = client.get("/home").text
    assert _badge(html) == 1 and batch.code not in html


def test_dismissing_without_the_csrf_token_changes_nothing(client, login_as, make, overdue_at):
    station = make.station()
    overdue_at(station)
    login_as("supervisor", station=station)
    notice = db.session.scalar(select(Notice).where(Notice.kind == "overdue_batch"))
    client.post(f"/notices/{notice.id}/dismiss", data={})
    db.session.expire_all()
    assert notice.dismissed_at is None


def test_another_stations_notice_answers_404(client, login_as, make, overdue_at):
    mine, theirs = make.station(), make.station()
    overdue_at(theirs)
    login_as("supervisor", station=mine)
    html = client.get("/home").text
    notice = db.session.scalar(select(Notice))
    resp = client.post(f"/notices/{notice.id}/dismiss", data={"csrf_token": csrf_token(html)})
    assert resp.status_code == 404
    db.session.expire_all()
    assert notice.dismissed_at is None


def test_a_resolved_notice_clears_itself_from_the_home_page(client, login_as, make, overdue_at):
    from app.services import production

    station = make.station()
    _order, batch = overdue_at(station)
    make.return_(batch=batch, accepted=40)
    production.close_batch(batch=batch)
    db.session.commit()
    jobs.run_claimed("mark_overdue", jobs_service.now_tick() + timedelta(days=1900))
    login_as("supervisor", station=station)
    html = client.get("/home").text
    assert batch.code not in html and _badge(html) == 1
    assert [n.kind for n in open_notices()] == ["order_at_risk"]


# --- admin pages


def test_admin_sees_each_run_with_its_result_in_their_language(client, login_as, make, overdue_at):
    overdue_at(make.station())
    login_as("admin")
    html = client.get("/admin/jobs").text
    assert "标记逾期发料单" in html and "新增逾期: 1" in html
    en = client.get("/admin/jobs?lang=en&job=mark_overdue").text
    assert "newly overdue: 1" in en and "orders checked" not in en


def test_run_now_runs_the_job_through_the_claim(client, login_as, make):
    login_as("admin")
    html = client.get("/admin/jobs").text
    resp = client.post("/admin/jobs/run", data={"csrf_token": csrf_token(html), "job": "mark_overdue"})
    assert resp.status_code == 302
    [run] = db.session.scalars(select(JobRun)).all()
    assert run.job == "mark_overdue" and run.result.startswith("overdue=0")


@pytest.mark.parametrize("role", ["supervisor", "worker"])
def test_job_pages_are_for_admins_only(client, login_as, role):
    login_as(role)
    assert client.get("/admin/jobs").status_code in (403, 302)
    assert client.get("/admin/jobs/auto-close").status_code in (403, 302)


def test_admin_switches_auto_close_on_for_a_day(client, login_as):
    login_as("admin")
    html = client.get("/admin/jobs/auto-close").text
    resp = client.post("/admin/jobs/auto-close", data={"csrf_token": csrf_token(html), "enabled": "y", "day": "6"})
    assert resp.status_code == 303
    assert jobs_service.auto_close_settings() == jobs_service.AutoClose(enabled=True, day=6)


@pytest.mark.parametrize("day", ["0", "29", "x", ""])
def test_a_bad_closing_day_is_refused_with_a_message_and_nothing_stored(client, login_as, day):
    login_as("admin")
    html = client.get("/admin/jobs/auto-close").text
    resp = client.post("/admin/jobs/auto-close", data={"csrf_token": csrf_token(html), "enabled": "y", "day": day})
    assert resp.status_code == 422 and 'class="error"' in resp.text
    assert db.session.scalar(select(Setting)) is None


# --- API


def test_api_lists_runs_newest_first_and_filters_by_job(api, make, overdue_at):
    overdue_at(make.station())
    admin = api(role="admin")
    body = admin.get("/jobs/runs").json
    assert body["total"] == 2
    item = body["items"][0]
    assert set(item) >= {"job", "scheduled_for", "started_at", "duration_ms", "result", "error"}
    assert item["scheduled_for"].endswith("Z") and isinstance(item["duration_ms"], int)
    only = admin.get("/jobs/runs?job=mark_overdue").json
    assert only["total"] == 1 and only["items"][0]["job"] == "mark_overdue"


def test_api_job_runs_answer_codes(app, api, client, make):
    assert client.get("/api/v1/jobs/runs").status_code == 401
    assert api(role="supervisor", station=make.station()).get("/jobs/runs").status_code == 403
    assert api(role="worker").get("/jobs/runs").status_code == 403
    bad = api(role="admin").get("/jobs/runs?job=nonsense")
    assert bad.status_code == 422 and "job" in bad.json["error"]["fields"]
    assert "get" in client.get("/api/v1/openapi.json").json["paths"]["/api/v1/jobs/runs"]


def test_supervisor_home_notices_load_in_a_fixed_number_of_queries(app, client, login_as, make, count_queries):

    from app.services import notices

    station = make.station()
    supervisor = login_as("supervisor", station=station)

    def queries_with(n):
        for _ in range(n):
            order = make.order(station=station, quantity=100, due_in_days=1)
            make.batch(order=order, quantity=10, issued_on=days_ago(4), due_date=days_ago(1))
        jobs_service.mark_overdue()
        jobs_service.flag_orders_at_risk()
        db.session.commit()
        with count_queries() as queries:
            shown = notices.open_notices_for(supervisor)
        return len(shown), len(queries)

    one = queries_with(1)
    five = queries_with(4)
    assert (one[0], five[0]) == (2, 10)
    assert one[1] == five[1]
    assert db.session.get(Station, station.id) is not None
