"""Notices on the supervisor's home are grouped by kind, one line with a count each; a whole
kind is dismissed at once, only the station's own."""
import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import Notice
from app.services import jobs_service
from tests.helpers import csrf_token
from tests.jobs_fixtures import days_ago


def _overdue(make, station, n):
    for _ in range(n):
        order = make.order(station=station, quantity=100, due_in_days=30)
        make.batch(order=order, quantity=10, issued_on=days_ago(6), due_date=days_ago(1))


def test_many_overdue_batches_read_as_one_line_with_a_count_and_are_dismissed_at_once(client, login_as, make):
    station, other = make.station(), make.station()
    _overdue(make, station, 12)
    _overdue(make, other, 2)
    jobs_service.mark_overdue()
    db.session.commit()
    login_as("supervisor", station=station)
    html = client.get("/home").text
    panel = html[html.index('id="notices-title"'):]
    assert panel.count('class="notice-group ') == 1
    assert re.search(r"逾期发料单</span> <strong>12</strong>", panel)
    assert panel.count('<li class="notice">') == 5 and "还有 7 条" in panel
    assert "<details>" in panel  # closed: the page stays short
    resp = client.post("/notices/dismiss-kind/overdue_batch", data={"csrf_token": csrf_token(html)})
    assert resp.status_code == 302
    assert "已忽略 12 条提醒" in client.get("/home").text
    open_left = db.session.scalar(select(func.count(Notice.id)).where(Notice.dismissed_at.is_(None)))
    assert open_left == 2  # the other station's stay
    assert client.post("/notices/dismiss-kind/nonsense", data={"csrf_token": csrf_token(html)}).status_code == 404
