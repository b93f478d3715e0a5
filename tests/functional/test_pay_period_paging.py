"""The pay period's page lists its statements a page at a time: the next page goes on in the
same order, the totals above are always the whole period's, a worker's statement is found by
name or phone within the viewer's station, and a page that does not exist says so."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent
from app.money import format_money
from app.services import wages
from tests.wages_fixtures import close, issue_on, period_for, previous_month, return_on

pytestmark = pytest.mark.calendar  # runs again on the hard days (scripts/test.sh)

PER_PAGE = 2  # the page's size, small so that five workers make three pages


@pytest.fixture(autouse=True)
def small_pages(monkeypatch):
    monkeypatch.setattr("app.wages.views.PERIOD_PER_PAGE", PER_PAGE)


@pytest.fixture
def period(make):
    """Last month: five workers at one station with different output, one at another
    station, and the period still open."""
    start, end = previous_month()
    here, there = make.station(), make.station()
    workers = {}
    for station, names in ((here, ("赵丽", "钱芳", "孙敏", "李娜", "周静")), (there, ("吴燕",))):
        order = make.order(station=station, product=make.product(piece_rate="0.1000"), quantity=5000)
        for i, name in enumerate(names):
            worker = make.worker(station=station, name=name, phone=f"1390000{len(workers):04d}")
            return_on(issue_on(make, order, worker, 100, start), start + timedelta(days=1), accepted=10 + i)
            workers[name] = worker
    return {"period": period_for(start, end), "here": here, "there": there, "workers": workers}


def listed_names(html: str) -> list[str]:
    """The workers named in the statements table, in its order."""
    table = html.split('<table class="payroll">', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<td><a href="/wages/workers/\d+[^"]*">([^<]+)</a></td>', table)


def stat(html: str, label: str) -> str:
    return re.search(r'<div class="stat-value">([^<]*)</div><div class="stat-label">' + label, html).group(1)


@pytest.mark.parametrize("closed", [False, True], ids=["open", "closed"])
def test_page_two_shows_the_next_workers_in_the_same_order_and_the_whole_periods_totals(
        client, login_as, period, closed):
    if closed:
        close(period["period"])
    login_as("admin")
    url = f"/pay-periods/{period['period'].id}"
    everyone = wages.period_totals(period["period"])  # the whole period, in the page's order
    pages = [client.get(f"{url}?page={n}").get_data(as_text=True) for n in (1, 2, 3, 4)]
    assert [listed_names(html) for html in pages[:3]] == [
        [r["worker_name"] for r in everyone[i:i + PER_PAGE]] for i in (0, 2, 4)]
    assert len(everyone) == 6
    whole = wages.sum_rows(everyone)
    for n, html in enumerate(pages[:3], start=1):  # every page: the period's figures, not its rows'
        assert stat(html, "人数") == "6"
        assert stat(html, "件数") == f"{whole['pieces']:,}" == "70"
        assert format_money(whole["net"]) in html and "¥7.00" in html
        assert f"第 {n} 页，共 3 页" in html
    assert f'href="{url}?page=3"' in pages[1]  # the pager goes on
    assert "上一页" in pages[1] and "下一页" in pages[1] and "下一页" not in pages[2]
    # Every page keeps the period's actions.
    for html in pages[:3]:
        if closed:
            assert f"{url}/statements.pdf" in html and f"{url}/export.xlsx" in html and f"{url}/export.csv" in html
            assert len(re.findall(r'href="/payslips/\d+\.pdf"', html)) == len(listed_names(html))
        else:
            assert f"{url}/close" in html and f"{url}/adjustments" in html
    assert "没有第 4 页" in pages[3] and "最后一页是第 3 页" in pages[3] and f"{url}?page=3" in pages[3]


def test_supervisor_pages_and_totals_are_their_stations_only(client, login_as, period):
    close(period["period"])
    login_as("supervisor", station=period["there"])
    html = client.get(f"/pay-periods/{period['period'].id}").get_data(as_text=True)
    assert listed_names(html) == ["吴燕"]
    assert stat(html, "人数") == "1" and stat(html, "件数") == "10"
    assert "下一页" not in html  # one page: no pager


@pytest.mark.parametrize("closed", [False, True], ids=["open", "closed"])
def test_search_finds_a_workers_statement_by_name_or_phone_and_keeps_the_totals(client, login_as, period, closed):
    if closed:
        close(period["period"])
    login_as("admin")
    url = f"/pay-periods/{period['period'].id}"
    by_name = client.get(url, query_string={"q": "孙"}).get_data(as_text=True)
    assert listed_names(by_name) == ["孙敏"]
    assert "6 份结算单中有 1 份与“孙”相符" in by_name
    assert stat(by_name, "人数") == "6" and stat(by_name, "件数") == "70"  # still the period's
    phone = period["workers"]["周静"].phone
    assert listed_names(client.get(url, query_string={"q": phone[-4:]}).get_data(as_text=True)) == ["周静"]
    assert listed_names(client.get(url, query_string={"q": "sunmin"}).get_data(as_text=True)) == ["孙敏"]  # pinyin
    nobody = client.get(url, query_string={"q": "欧阳"}).get_data(as_text=True)
    assert listed_names(nobody) == [] and "本期没有与“欧阳”相符的结算单" in nobody
    # Matches are paged too, with the search kept in the links.
    many = client.get(url, query_string={"q": "1390000"}).get_data(as_text=True)
    assert listed_names(many) == [r["worker_name"] for r in wages.period_totals(period["period"])[:PER_PAGE]]
    assert "q=1390000" in many and "page=2" in many


def test_supervisor_search_never_finds_another_stations_worker(client, login_as, make, period):
    close(period["period"])
    login_as("supervisor", station=period["here"])
    url = f"/pay-periods/{period['period'].id}"
    theirs = period["workers"]["吴燕"]
    for typed in ("吴燕", theirs.phone, "wuyan"):
        html = client.get(url, query_string={"q": typed}).get_data(as_text=True)
        assert listed_names(html) == [] and f"/wages/workers/{theirs.id}" not in html
        assert stat(html, "人数") == "5"  # the station's own statements
    assert listed_names(client.get(url, query_string={"q": "赵丽"}).get_data(as_text=True)) == ["赵丽"]


@pytest.mark.parametrize("typed", ["x" * 51, "王\x00", "李\t娜"])
def test_bad_search_is_refused_with_a_message_and_stores_nothing(client, login_as, period, typed):
    close(period["period"])
    login_as("admin")
    events = db.session.scalar(select(func.count(AuditEvent.id)))
    resp = client.get(f"/pay-periods/{period['period'].id}", query_string={"q": typed})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "请输入姓名或手机号的一部分（最多 50 个字）" in html
    assert '<table class="payroll">' not in html and stat(html, "人数") == "6"
    assert db.session.scalar(select(func.count(AuditEvent.id))) == events


@pytest.mark.parametrize("page", ["abc", "0", "-1", "2.5"])
def test_a_bad_page_number_shows_the_first_page_and_says_so(client, login_as, period, page):
    login_as("admin")
    resp = client.get(f"/pay-periods/{period['period'].id}", query_string={"page": page})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert f"“{page}”不是页码，这是第一页" in html
    assert listed_names(html) == [r["worker_name"] for r in wages.period_totals(period["period"])[:PER_PAGE]]


def test_the_page_reads_in_english(client, login_as, period):
    close(period["period"])
    login_as("admin")
    url = f"/pay-periods/{period['period'].id}"
    html = client.get(url, query_string={"q": "孙", "lang": "en"}).get_data(as_text=True)
    assert "Find a worker's statement by name or phone" in html and "1 of 6 statements match “孙”." in html
    assert "There is no page 9: the last page is 3." in client.get(url, query_string={"page": 9}).get_data(as_text=True)


@pytest.mark.parametrize("closed", [False, True], ids=["open", "closed"])
def test_the_adjustments_listed_are_the_viewers_stations_newest_first(client, login_as, period, closed):
    from decimal import Decimal

    workers = period["workers"]
    for name, reason in (("赵丽", "全勤奖"), ("吴燕", "夜班补贴"), ("钱芳", "返工扣款")):
        wages.add_adjustment(worker=workers[name], period=period["period"], amount=Decimal("20.00"), reason=reason)
    db.session.commit()
    if closed:
        close(period["period"])
    url = f"/pay-periods/{period['period'].id}"

    def reasons(html: str) -> list[str]:  # the adjustments table's rows, in its order
        return re.findall(r"<td>(全勤奖|夜班补贴|返工扣款)</td>", html)

    login_as("admin")
    assert reasons(client.get(url).get_data(as_text=True)) == ["返工扣款", "夜班补贴", "全勤奖"]
    login_as("supervisor", station=period["here"])
    assert reasons(client.get(url).get_data(as_text=True)) == ["返工扣款", "全勤奖"]
    login_as("supervisor", station=period["there"])
    assert reasons(client.get(url).get_data(as_text=True)) == ["夜班补贴"]
