"""Documents: pay statements two to a sheet for the batch print; the roster's grand total once,
after the last row, kept with the signatures (finding 8)."""
import subprocess

import pytest
from sqlalchemy import select, update

from app import files
from app.extensions import db
from app.models import Payslip, StatementsPdf, StoredFile
from app.services import wages
from app.services.errors import StoredPdfChanged
from app.wages import documents
from tests.wages_fixtures import close, issue_on, period_for, previous_month, return_on


def _pages(pdf: bytes, tmp_path) -> int:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))


def test_statements_print_two_to_a_sheet_and_the_print_blocks_reopening(client, login_as, make, tmp_path):
    start, end = previous_month()
    station = make.station()
    order = make.order(station=station, product=make.product(piece_rate="0.3500"), quantity=5000)
    for i in range(4):
        return_on(issue_on(make, order, make.worker(station=station), 50, start), start, accepted=10 + i)
    period = period_for(start, end)
    close(period)
    login_as("admin")
    one = client.get(f"/pay-periods/{period.id}/statements.pdf").data
    two = client.get(f"/pay-periods/{period.id}/statements.pdf?per_sheet=2").data
    assert _pages(one, tmp_path) == 4 and _pages(two, tmp_path) == 2
    assert db.session.execute(select(StatementsPdf.station_id, StatementsPdf.per_sheet)
                              .where(StatementsPdf.pay_period_id == period.id).order_by(StatementsPdf.id)).all() == [
        (None, 1), (None, 2)]
    assert "printed" in " ".join(wages.reopen_blockers(period)) or wages.reopen_blockers(period)
    assert db.session.scalar(select(Payslip.id)) is not None


def test_a_printed_statement_is_read_back_by_its_id_and_hash_and_refused_once_changed(app, make):
    start, end = previous_month()
    station = make.station()
    order = make.order(station=station, quantity=500)
    return_on(issue_on(make, order, make.worker(station=station), 50, start), start, accepted=10)
    period = period_for(start, end)
    close(period)
    first = documents.period_pdf(period, station_id=station.id)
    db.session.commit()
    row = db.session.scalars(select(StatementsPdf)).one()
    assert (row.station_id, row.per_sheet, row.sha256) == (station.id, 1, files.digest(first))
    db.session.execute(update(StoredFile).where(StoredFile.id == row.file_id).values(filename="renamed.pdf"))
    db.session.commit()
    assert documents.period_pdf(period, station_id=station.id) == first  # the name plays no part
    db.session.execute(update(StoredFile).where(StoredFile.id == row.file_id).values(data=b"%PDF-forged"))
    db.session.commit()
    db.session.expire_all()
    with pytest.raises(StoredPdfChanged):
        documents.period_pdf(period, station_id=station.id)


def test_roster_total_is_printed_once_after_the_rows_with_the_signatures(app):
    from flask import render_template

    with app.test_request_context("/"):
        html = render_template("pdf/roster.html", title="花名册", where="站", full=False, columns=["序号", "姓名", "天", "件", "元"],
                               lead_cols=2, rows=[[1, "王", 3, 30, "¥1.00"]], total_days=3, total_pieces=30,
                               total_earnings="¥1.00")
    assert "<tfoot>" not in html
    closing = html[html.index('class="closing"'):]
    assert "总计（1 人）" in closing and "制表人" in closing
