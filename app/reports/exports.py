"""The employment report and the roster as spreadsheets and CSV: the same figures as the pages."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.services.reports import GROUP_KEYS
from app.spreadsheet import as_text, text_row

GROUP_LABELS = {
    "disabled": _l("Persons with disabilities"),
    "relocated": _l("Resettled families"),
    "laid_off": _l("Laid off"),
    "flexible": _l("Flexibly employed"),
    "age_40_55_women": _l("Women 40–55"),
    "age_50_60_men": _l("Men 50–60"),
}
GENDER_LABELS = {"F": _l("Female"), "M": _l("Male")}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def report_columns():
    return [_("Station"), _("Registered (working age)"), _("Active workers"), _("Person-times"), _("Pieces"),
            _("Wages (CNY)"), _("Average monthly wage (CNY)"), *[str(GROUP_LABELS[g]) for g in GROUP_KEYS]]


def report_rows(report: dict) -> list[list]:
    """District first, then each station: [name, registered, …, groups…] with Decimal money."""
    def row(name, figures):
        return [name, figures["registered"], figures["workers_active"], figures["person_times"], figures["pieces"],
                figures["wages"], figures["avg_monthly_wage"], *[figures["groups"][g] for g in GROUP_KEYS]]

    rows = [row(_("Whole district") if report["station_id"] is None else report["by_station"][0]["station"], report)]
    if report["station_id"] is None:
        rows += [row(s["station"], s) for s in report["by_station"]]
    return rows


def _workbook(title: str, subtitle: str, header: list[str], rows: list[list], money_cols: set[int], footer=()):
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append(text_row([title]))
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(text_row([subtitle]))
    ws.append(text_row(header))
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for values in rows:
        ws.append(text_row(values))
        for index in money_cols:
            ws.cell(row=ws.max_row, column=index + 1).number_format = "#,##0.00"
    for line in footer:
        ws.append([])
        ws.append(text_row([line]))
    for index, _name in enumerate(header):
        letter = ws.cell(row=3, column=index + 1).column_letter
        ws.column_dimensions[letter].width = 22 if index == 0 else 14
    ws.freeze_panes = "B4"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def report_xlsx(report: dict, definitions: list[str]) -> bytes:
    title = _("Employment report")
    subtitle = _("%(start)s to %(end)s", start=report["from"].isoformat(), end=report["to"].isoformat())
    return _workbook(title, subtitle, report_columns(), report_rows(report), {5, 6}, footer=definitions)


def report_csv(report: dict) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(text_row([_("From"), report["from"].isoformat(), _("To"), report["to"].isoformat()]))
    writer.writerow(text_row(report_columns()))
    for row in report_rows(report):
        writer.writerow([f"{v:.2f}" if isinstance(v, Decimal) else as_text(v) for v in row])
    # UTF-8 with a byte-order mark so spreadsheet programs open the Chinese text correctly.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def roster_columns(show_groups: bool):
    cols = [_("No."), _("Station"), _("Name"), _("ID number"), _("Gender"), _("Age")]
    if show_groups:
        cols.append(_("Key groups"))
    return cols + [_("Days with accepted pieces"), _("Pieces"), _("Earnings (CNY)")]


def roster_row_values(index: int, row, full: bool, show_groups: bool) -> list:
    values = [index, row.station, row.name, (row.id_number or "") if full else row.masked_id_number,
              str(GENDER_LABELS.get(row.gender, "")), row.age if row.age is not None else ""]
    if show_groups:
        values.append("、".join(str(GROUP_LABELS[g]) for g in row.groups))
    return values + [row.days, row.pieces, row.earnings]


def roster_xlsx(title: str, subtitle: str, rows, full: bool, show_groups: bool, footer=()) -> bytes:
    values = [roster_row_values(i, r, full, show_groups) for i, r in enumerate(rows, start=1)]
    total_row = [_("Total"), "", "", "", "", ""] + ([""] if show_groups else []) + [
        sum(r.days for r in rows), sum(r.pieces for r in rows), sum((r.earnings for r in rows), Decimal("0.00"))]
    money_col = len(total_row) - 1
    return _workbook(title, subtitle, roster_columns(show_groups), [*values, total_row], {money_col}, footer=footer)
