"""Pay statements as PDF (结算单) and the payroll export (.xlsx, .csv).

A statement PDF is rendered once, on its first download, and stored (app/files.py); every
later download is found by the file's id and hash, so it is byte-identical or refused. The PDF templates get a
plain dict of already-formatted strings; ID numbers are masked on every printout.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable

from flask import Response
from flask_babel import gettext as _
from sqlalchemy import select, text, update
from sqlalchemy.orm import selectinload

from app import files
from app.db_tx import writing
from app.extensions import db
from app.models import PayPeriod, Payslip, Setting, StatementsPdf, Station, StoredFile, Worker, to_local
from app.money import amount_in_words, format_money, format_rate
from app.pdf import pdf_response, render_pdf
from app.permissions import sees_sensitive
from app.services import audit
from app.services.errors import NotFound
from app.spreadsheet import as_text, text_row

STORE_LOCK_KEY = 4_410_002
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _setting(key: str) -> str:
    return db.session.scalar(select(Setting.value).where(Setting.key == key)) or ""


def statement_context(slip: Payslip, worker: Worker, station: Station, period: PayPeriod) -> dict:
    """One statement as formatted strings (the PDF template does no arithmetic)."""
    pieces, others = [], []
    for line in slip.lines:
        if line.kind == "piece":
            pieces.append({"product": line.description, "rate": format_rate(line.piece_rate),
                           "pieces": f"{line.pieces:,}", "amount": format_money(line.amount)})
        else:
            kind = _("Adjustment") if line.kind == "adjustment" else _("Lost materials")
            others.append({"kind": kind, "description": line.description, "amount": format_money(line.amount)})
    return {
        "number": f"{period.start:%Y%m}-{slip.seq:06d}",
        "station": station.name, "station_address": station.address or "",
        "period": f"{period.start:%Y-%m-%d} – {period.end:%Y-%m-%d}",
        "worker": slip.worker_name, "phone": worker.masked_phone, "id_number": worker.masked_id_number or "—",
        "pieces_lines": pieces, "other_lines": others,
        "pieces": f"{slip.pieces:,}", "gross": format_money(slip.gross), "adjustments": format_money(slip.adjustments),
        "deductions": format_money(-slip.deductions if slip.deductions else 0), "net": format_money(slip.net),
        "net_words": amount_in_words(slip.net),
        "closed_at": to_local(period.closed_at).strftime("%Y-%m-%d") if period.closed_at else "",
        "hash": slip.hash[:16],
    }


def _statements_pdf(slips: list[Payslip], period: PayPeriod, per_sheet: int = 1) -> bytes:
    workers = {w.id: w for w in db.session.scalars(select(Worker).where(Worker.id.in_({s.worker_id for s in slips})))}
    stations = {s.id: s for s in db.session.scalars(select(Station).where(Station.id.in_({s.station_id for s in slips})))}
    statements = [statement_context(s, workers[s.worker_id], stations[s.station_id], period) for s in slips]
    return render_pdf("pdf/pay_statements.html", statements=statements, enterprise=_setting("enterprise_name"),
                      period=f"{period.start:%Y-%m-%d} – {period.end:%Y-%m-%d}", per_sheet=per_sheet)


def _store_once(find: Callable[[], tuple[int, str] | None], render: Callable[[], bytes], filename: str,
                attach: Callable[[int, str], object]) -> bytes:
    """The stored bytes if any (found as a file id and hash: files.read_checked); otherwise
    render, store (flushed), ``attach`` the new file's id and hash to its owner, and return them.

    Rendering happens outside any write lock; the store re-checks under the lock, so two
    first downloads at once keep one file and answer the same bytes afterwards. The caller
    commits once, as after any write (a first download stores the file it answers).
    """
    found = find()
    if found is not None:
        return files.read_checked(*found)
    data = render()
    db.session.rollback()  # end the read (nothing written): the store below takes the write lock at BEGIN
    with writing():
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": STORE_LOCK_KEY})
        found = find()
        if found is not None:
            return files.read_checked(*found)
        stored = files.store_file(filename, "application/pdf", data)
        attach(stored.id, stored.sha256)
    return data


def payslip_pdf(slip: Payslip) -> bytes:
    """One worker's statement, stored on first render."""
    slip_id = slip.id

    def find():
        row = db.session.execute(select(StoredFile.id, StoredFile.sha256).join(Payslip, Payslip.pdf_id == StoredFile.id)
                                 .where(Payslip.id == slip_id)).first()
        return tuple(row) if row else None

    def render():
        loaded = db.session.scalars(select(Payslip).where(Payslip.id == slip_id).options(selectinload(Payslip.lines))).one()
        return _statements_pdf([loaded], loaded.pay_period)

    def attach(file_id: int, sha256: str) -> None:
        db.session.execute(update(Payslip).where(Payslip.id == slip_id, Payslip.pdf_id.is_(None))
                           .values(pdf_id=file_id).execution_options(synchronize_session=False))

    return _store_once(find, render, f"payslip-{slip_id}.pdf", attach)


def payslip_download(slip: Payslip):
    """A statement's PDF as a download, for the page and the API alike. A first download
    stores the file it answers, so the caller commits."""
    return pdf_response(payslip_pdf(slip), f"payslip-{slip.pay_period.start:%Y-%m}-{slip.id}.pdf")


def period_pdf(period: PayPeriod, station_id: int | None = None, per_sheet: int = 1) -> bytes:
    """All of a closed period's statements (of one station, or all) in one PDF for printing:
    one an A4 sheet, or two (``per_sheet=2``, each on half a sheet: 39 workers, 20 sheets).
    Stored on the first download (a ``StatementsPdf`` row) and read back by its id and hash."""
    per_sheet = 2 if per_sheet == 2 else 1
    period_id = period.id
    name = (f"pay-statements-{period.start:%Y-%m}" + (f"-station-{station_id}" if station_id else "")
            + ("-2up" if per_sheet == 2 else "") + ".pdf")
    station_is = StatementsPdf.station_id == station_id if station_id else StatementsPdf.station_id.is_(None)

    def find():
        row = db.session.execute(select(StatementsPdf.file_id, StatementsPdf.sha256).where(
            StatementsPdf.pay_period_id == period_id, station_is, StatementsPdf.per_sheet == per_sheet)
            .order_by(StatementsPdf.id).limit(1)).first()
        return tuple(row) if row else None

    def render():
        stmt = (select(Payslip).where(Payslip.pay_period_id == period_id).options(selectinload(Payslip.lines))
                .order_by(Payslip.station_id, Payslip.worker_name, Payslip.id))
        if station_id:
            stmt = stmt.where(Payslip.station_id == station_id)
        slips = list(db.session.scalars(stmt).all())
        return _statements_pdf(slips, db.session.get_one(PayPeriod, period_id), per_sheet)

    def attach(file_id: int, sha256: str) -> None:
        db.session.add(StatementsPdf(pay_period_id=period_id, station_id=station_id or None, per_sheet=per_sheet,
                                     file_id=file_id, sha256=sha256))
        db.session.flush()

    return _store_once(find, render, name, attach)


# --- payroll export


EXPORT_TYPES = {"xlsx": XLSX_TYPE, "csv": "text/csv; charset=utf-8"}


def payroll_export(period: PayPeriod | None, fmt: str, station_id: int | None = None, user=None) -> Response:
    """A closed period's payroll (of one station, or all) as a download, for the page and the
    API alike: the bank columns only for those who see sensitive fields (permissions);
    NotFound for an open period or another format. The export is audited, so the period can
    no longer be reopened (it may have gone to the bank); the caller commits."""
    if period is None or period.status != "closed" or fmt not in EXPORT_TYPES:
        raise NotFound()
    period_id, month = period.id, f"{period.start:%Y-%m}"
    include_bank = sees_sensitive(user)
    build = payroll_xlsx if fmt == "xlsx" else payroll_csv
    data = build(period, include_bank, station_id)
    db.session.rollback()  # end the read (nothing written): the audit row takes SQLite's write lock at BEGIN
    with writing():
        audit.record("export", "pay_period", period_id, after={"format": fmt, "station_id": station_id}, user=user)
    resp = Response(data, mimetype=EXPORT_TYPES[fmt])
    resp.headers["Content-Disposition"] = f'attachment; filename="payroll-{month}.{fmt}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


def payroll_rows(period: PayPeriod, include_bank: bool, station_id: int | None = None) -> tuple[list[str], list[list]]:
    """One row a worker: name, masked ID, (bank, account — admins only), pieces, net."""
    stmt = (select(Payslip, Worker, Station).join(Worker, Worker.id == Payslip.worker_id)
            .join(Station, Station.id == Payslip.station_id)
            .where(Payslip.pay_period_id == period.id).order_by(Payslip.station_id, Payslip.worker_name, Payslip.id))
    if station_id:
        stmt = stmt.where(Payslip.station_id == station_id)
    header = [_("Station"), _("Name"), _("ID number"), _("Phone")]
    if include_bank:
        header += [_("Bank"), _("Bank account")]
    header += [_("Pieces"), _("Gross"), _("Adjustments"), _("Lost-materials deductions"), _("Net pay")]
    rows = []
    for slip, worker, station in db.session.execute(stmt):
        row = [station.name, slip.worker_name, worker.masked_id_number, worker.phone]
        if include_bank:
            row += [worker.bank_name or "", worker.bank_account or ""]
        row += [slip.pieces, slip.gross, slip.adjustments, -slip.deductions, slip.net]
        rows.append(row)
    return header, rows


def payroll_xlsx(period: PayPeriod, include_bank: bool, station_id: int | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    header, rows = payroll_rows(period, include_bank, station_id)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=f"{period.start:%Y-%m}")
    bold = Font(bold=True)
    ws.append([_cell(ws, h, bold) for h in header])
    money_cols = range(len(header) - 4, len(header))
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            cell = WriteOnlyCell(ws, value=as_text(value))
            if i in money_cols:
                cell.number_format = "#,##0.00"
            elif isinstance(value, str):
                cell.number_format = "@"  # long account numbers stay text, not 6.2E+18
            cells.append(cell)
        ws.append(cells)
    total = sum((r[-1] for r in rows), 0)
    ws.append([_cell(ws, _("Total"), bold)] + [None] * (len(header) - 2) + [_cell(ws, total, bold, "#,##0.00")])
    # A second sheet: the statements' piece lines, one per product, step and rate (rule 1 per line).
    lines = wb.create_sheet(title=_("Piece lines"))
    lines.append([_cell(lines, h, bold) for h in (_("Station"), _("Name"), _("Product and step"), _("Piece rate"),
                                                  _("Pieces"), _("Amount"))])
    for station, name, description, rate, pieces, amount in payroll_piece_lines(period, station_id):
        lines.append([_cell(lines, station), _cell(lines, name), _cell(lines, description),
                      _cell(lines, rate, number_format="0.0000"), pieces, _cell(lines, amount, number_format="#,##0.00")])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def payroll_piece_lines(period: PayPeriod, station_id: int | None = None) -> list[tuple]:
    """Every piece line of the period's statements, in statement order: one per worker,
    product, step and rate, as frozen on the payslip."""
    from app.models import PayslipLine

    stmt = (select(Station.name, Payslip.worker_name, PayslipLine.description, PayslipLine.piece_rate,
                   PayslipLine.pieces, PayslipLine.amount)
            .join(Payslip, Payslip.id == PayslipLine.payslip_id).join(Station, Station.id == Payslip.station_id)
            .where(Payslip.pay_period_id == period.id, PayslipLine.kind == "piece")
            .order_by(Payslip.station_id, Payslip.worker_name, Payslip.id, PayslipLine.id))
    if station_id:
        stmt = stmt.where(Payslip.station_id == station_id)
    return [tuple(row) for row in db.session.execute(stmt)]


def _cell(ws, value, font=None, number_format=None):
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=as_text(value))
    if font is not None:
        cell.font = font
    if number_format:
        cell.number_format = number_format
    return cell


def payroll_csv(period: PayPeriod, include_bank: bool, station_id: int | None = None) -> bytes:
    header, rows = payroll_rows(period, include_bank, station_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(text_row(header))
    for row in rows:
        writer.writerow([f"{v:.2f}" if hasattr(v, "quantize") else as_text(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode()  # BOM: Excel opens UTF-8 Chinese correctly
