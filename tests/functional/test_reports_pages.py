"""The report pages, their downloads, the roster, the insurance register and the dashboard."""
import csv
import io
import re
import subprocess
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, InsurancePolicy, PolicyCoverage, Station, local_today
from tests.helpers import form_values
from tests.reports_fixtures import END, START, build_district, expected

pytestmark = pytest.mark.calendar  # runs again on the hard days (scripts/test.sh)

RANGE = f"from={START.isoformat()}&to={END.isoformat()}"
MONTH = f"{START.year}-01"


@pytest.fixture
def district(make):
    return build_district(make)


def _cell_number(text: str):
    text = re.sub(r"<[^>]+>", "", text).replace("¥", "").replace(",", "").strip()
    return Decimal(text) if "." in text else int(text)


def _page_rows(html: str, table_id: str) -> list[list]:
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S).group(0)
    body = re.search(r"<tbody>(.*?)</tbody>", table, re.S).group(1)
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)
        rows.append([re.sub(r"<[^>]+>", "", cells[0]).strip(), *[_cell_number(c) for c in cells[1:]]])
    return rows


def test_report_page_xlsx_and_csv_carry_the_same_numbers(client, login_as, district):
    login_as("admin")
    page = client.get(f"/reports/employment?{RANGE}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    rows = [a + b[1:] for a, b in zip(_page_rows(html, "employment-table"), _page_rows(html, "groups-table"), strict=True)]
    district_expected = expected(district.ledger, START, END)
    assert rows[0][1:7] == [district_expected[k] for k in ("registered", "workers_active", "person_times", "pieces",
                                                           "wages", "avg_monthly_wage")]
    assert rows[0][7:] == list(district_expected["groups"].values())
    assert len(rows) == 3  # district + two stations
    assert "How the figures are counted" in html or "统计口径" in html

    xlsx = client.get(f"/reports/employment.xlsx?{RANGE}")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(xlsx.data)).active
    sheet_rows = [[c.value for c in r] for r in ws.iter_rows(min_row=4, max_row=3 + len(rows))]
    assert [[r[0], *[Decimal(str(v)) if isinstance(v, float) else v for v in r[1:]]] for r in sheet_rows] == rows

    text = client.get(f"/reports/employment.csv?{RANGE}").data.decode("utf-8-sig")
    csv_rows = list(csv.reader(io.StringIO(text)))[2:]
    assert [[r[0], *[Decimal(v) if "." in v else int(v) for v in r[1:]]] for r in csv_rows] == rows


def test_report_page_refuses_bad_dates_with_a_message(client, login_as):
    login_as("admin")
    resp = client.get("/reports/employment?from=2026-02-31&to=2026-03-01")
    assert resp.status_code == 422
    assert "YYYY-MM-DD" in resp.get_data(as_text=True)
    assert client.get("/reports/employment.xlsx?from=2026-04-01&to=2026-03-01").status_code == 422


def test_supervisor_sees_only_their_station_and_404_for_another(client, login_as, district):
    login_as("supervisor", station=db.session.get(Station, district.east.id))
    html = client.get(f"/reports/employment?{RANGE}").get_data(as_text=True)
    rows = _page_rows(html, "employment-table")
    assert len(rows) == 1 and rows[0][0] == "东城车间"
    assert rows[0][2] == expected(district.ledger, START, END, district.east.id)["workers_active"]
    assert client.get(f"/reports/employment?{RANGE}&station_id={district.west.id}").status_code == 404
    assert client.get(f"/reports/roster.xlsx?month={MONTH}&station_id={district.west.id}").status_code == 404
    assert client.get(f"/reports/roster.pdf?month={MONTH}&full=1").status_code == 403
    assert client.get("/reports/insurance").status_code == 403


def test_roster_xlsx_has_one_row_per_active_worker_with_masked_ids(client, login_as, make, district):
    login_as("admin")
    resp = client.get(f"/reports/roster.xlsx?month={MONTH}")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.data)).active
    header = [c.value for c in ws[3]]
    body = [[c.value for c in r] for r in ws.iter_rows(min_row=4) if isinstance(r[0].value, int)]
    jan_end = date(START.year, 1, 31)
    assert len(body) == expected(district.ledger, START, jan_end)["workers_active"]
    pieces_col, money_col = len(header) - 2, len(header) - 1
    assert sum(r[pieces_col] for r in body) == expected(district.ledger, START, jan_end)["pieces"]
    total = sum(Decimal(str(r[money_col])) for r in body)
    assert total == expected(district.ledger, START, jan_end)["wages"]
    assert district.cancelled.name not in {r[2] for r in body}  # cancelled by a correction


def test_full_roster_is_for_admins_unmasked_and_audited(client, login_as, make):
    station = make.station()
    worker = make.worker(station=station, id_number="640102198001011244", gender="F", birth_year=1980)
    batch = make.batch(order=make.order(station=station), worker=worker, quantity=20)
    make.return_(batch=batch, accepted=5)
    month = local_today().strftime("%Y-%m")
    login_as("admin")
    masked = load_workbook(io.BytesIO(client.get(f"/reports/roster.xlsx?month={month}").data)).active
    values = [str(c.value) for row in masked.iter_rows() for c in row if c.value]
    assert "640102198001011244" not in values and "6401**********1244" in values
    before = db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "download_full_roster"))
    full = load_workbook(io.BytesIO(client.get(f"/reports/roster.xlsx?month={month}&full=1").data)).active
    assert "640102198001011244" in [str(c.value) for row in full.iter_rows() for c in row if c.value]
    pdf = client.get(f"/reports/roster.pdf?month={month}&full=1")
    assert pdf.status_code == 200
    after = db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "download_full_roster"))
    assert after == before + 2


def test_roster_pdf_reads_back_with_chinese_text_and_an_embedded_font(client, login_as, make, tmp_path):
    station = make.station(name="东城幸福就业车间")
    worker = make.worker(station=station, name="王秀英", id_number="640102197501015688", gender="F", birth_year=1975,
                         groups=["disabled"])
    batch = make.batch(order=make.order(station=station), worker=worker, quantity=200)
    make.return_(batch=batch, accepted=120)
    login_as("admin")
    resp = client.get(f"/reports/roster.pdf?month={local_today().strftime('%Y-%m')}&station_id={station.id}")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    path = tmp_path / "roster.pdf"
    path.write_bytes(resp.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for expected_text in ("王秀英", "东城幸福就业车间", "6401**********5688", "残疾人", "盖章", "制表人"):
        assert expected_text in text, expected_text
    assert "640102197501015688" not in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "CJK" in fonts and "yes" in fonts


def test_supervisor_roster_has_no_key_groups(client, login_as, make):
    station = make.station()
    worker = make.worker(station=station, groups=["disabled"], id_number="640102197501015688")
    make.return_(batch=make.batch(order=make.order(station=station), worker=worker, quantity=20), accepted=3)
    login_as("supervisor", station=station)
    html = client.get("/reports/roster").get_data(as_text=True)
    assert worker.name in html and "残疾人" not in html and "640102197501015688" not in html
    ws = load_workbook(io.BytesIO(client.get("/reports/roster.xlsx").data)).active
    assert "重点群体" not in [c.value for c in ws[3]]


def test_admin_registers_a_policy_and_covers_the_uninsured_in_one_step(client, login_as, make):
    station = make.station()
    workers = [make.worker(station=station) for _ in range(3)]
    order = make.order(station=station)
    for w in workers[:2]:
        make.return_(batch=make.batch(order=order, worker=w, quantity=10), accepted=2)
    today = local_today()
    login_as("admin")
    page = client.get("/reports/insurance")
    values = form_values(page.get_data(as_text=True))
    bad = client.post("/reports/insurance", data={**values, "insurer": "人保", "policy_number": "P-1",
                                                  "start": today.isoformat(), "end": (today - timedelta(days=1)).isoformat(),
                                                  "premium_per_person_month": "-1"})
    assert bad.status_code == 422 and db.session.scalar(select(func.count(InsurancePolicy.id))) == 0
    data = {**values, "insurer": "中国人保", "policy_number": "PICC-2026-001", "start": today.replace(day=1).isoformat(),
            "end": (today + timedelta(days=365)).isoformat(), "premium_per_person_month": "6.50"}
    assert client.post("/reports/insurance", data=data).status_code == 303
    assert client.post("/reports/insurance", data=data).status_code == 303  # re-sent: recorded once
    policy = db.session.scalar(select(InsurancePolicy))
    assert db.session.scalar(select(func.count(InsurancePolicy.id))) == 1
    assert policy.premium_per_person_month == Decimal("6.50")

    first, last = today.replace(day=1), (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    report = client.get(f"/reports/employment?station_id={station.id}&from={first}&to={last}").get_data(as_text=True)
    assert workers[0].name in report and workers[2].name not in report
    cover = form_values(re.search(r'<form method="post" action="/reports/insurance/cover".*?</form>', report, re.S).group(0))
    resp = client.post("/reports/insurance/cover", data={**cover, "policy_id": policy.id})
    assert resp.status_code == 303
    covered = set(db.session.scalars(select(PolicyCoverage.worker_id)))
    assert covered == {workers[0].id, workers[1].id}
    assert client.post("/reports/insurance/cover", data={**cover, "policy_id": policy.id}).status_code == 303
    assert db.session.scalar(select(func.count(PolicyCoverage.id))) == 2
    html = client.get(f"/reports/employment?station_id={station.id}").get_data(as_text=True)
    assert workers[0].name not in html.split('id="uninsured"')[1]
    assert client.get(f"/reports/insurance/{policy.id}").status_code == 200


def _grow(make, station, order, n):
    for _ in range(n):
        w = make.worker(station=station)
        make.return_(batch=make.batch(order=order, worker=w, quantity=10), accepted=3)


def test_dashboard_shows_the_station_in_a_fixed_number_of_queries(client, login_as, make, count_queries):
    station = make.station()
    order = make.order(station=station, quantity=10000)
    _grow(make, station, order, 2)
    make.batch(order=order, worker=make.worker(station=station), quantity=5, due_date=local_today())
    login_as("supervisor", station=station)
    with count_queries() as few:
        html = client.get("/home").get_data(as_text=True)
    assert 'id="chart-pieces"' in html and 'id="table-bands"' in html and "vendor/chartjs/chart.umd.js" in html
    _grow(make, station, order, 8)
    with count_queries() as many:
        html = client.get("/home").get_data(as_text=True)
    assert len(many) == len(few)
    sr_table = re.search(r'<table class="sr-only" id="table-pieces">.*?</table>', html, re.S).group(0)
    assert f"<th scope=\"row\">{local_today().isoformat()}</th><td>30</td>" in sr_table
    # Its statements are built once for a station, and asked again with new parameters.
    from app.services.reports import _dashboard_statements

    built = _dashboard_statements.cache_info()
    client.get("/home")
    assert _dashboard_statements.cache_info().hits == built.hits + 1
    assert _dashboard_statements.cache_info().misses == built.misses


def test_admin_home_shows_the_district_and_can_pick_a_station(client, login_as, make):
    a, b = make.station(), make.station()
    _grow(make, a, make.order(station=a), 2)
    _grow(make, b, make.order(station=b), 1)
    login_as("admin")
    html = client.get("/home").get_data(as_text=True)
    assert "District dashboard" in html or "全区看板" in html
    assert re.search(r'<div class="stat-value">3</div>', html)
    html = client.get(f"/home?station_id={b.id}").get_data(as_text=True)
    assert re.search(r'<div class="stat-value">1</div>', html)
