"""Pages: the employment report (and its .xlsx / CSV), the monthly roster (.xlsx / PDF), the
insurance register, and the station dashboard on the supervisor's and the admin's home."""
from __future__ import annotations

import uuid
from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.dates import month_bounds, months_in, parse_month, parse_range, previous_month
from app.db_tx import writing
from app.extensions import db
from app.forms import form_view
from app.main.views import HOME_PANELS
from app.models import InsurancePolicy, Station, local_today
from app.pdf import pdf_response, render_pdf
from app.permissions import is_record_id, require_roles, sees_sensitive, station_choices_for, station_scope
from app.redirects import safe_path
from app.reports import exports
from app.reports.forms import CoverForm, PolicyForm
from app.services import audit, insurance
from app.services.errors import ValidationError
from app.services.reports import GROUP_KEYS, employment_report, monthly_roster, station_dashboard
from app.submission import flash_refusal, form_status, record_once
from app.templating import NAV_EXTRA

bp = Blueprint("reports", __name__, url_prefix="/reports")

NAV_EXTRA.append(("reports.employment", _l("Reports"), ("admin", "supervisor")))
NAV_EXTRA.append(("reports.insurance", _l("Insurance"), ("admin",)))


def definitions() -> list[str]:
    """How each figure is counted (printed under the table and in the spreadsheet)."""
    return [
        _("Registered: workers registered by the range's end who are of working age then."),
        _("Active workers: workers whose accepted pieces in the range, corrections included, are above zero."),
        _("Person-times: batches issued in the range; one person taking one batch home is one person-time."),
        _("Pieces: the active workers' accepted pieces. Wages: their earnings, one line per product and rate, "
          "rounded half-up to the fen once per line, summed."),
        _("Average monthly wage: wages ÷ active workers ÷ calendar months the range touches, rounded to the fen."),
        _("Key groups: among active workers of working age (16–60, women 16–55; age = the range end's year − "
          "year of birth; no year of birth counts as working age), how many carry each group. Women 40–55 and "
          "men 50–60 need gender and year of birth."),
        _("A worker counts at the station they are registered at; person-times at the station that issued the batch."),
    ]


def range_shortcuts(today: date) -> list[dict]:
    """The ranges asked for most: this and last month, this quarter, this year, last year.
    Early in a month (before the 10th) last month is the one marked as suggested: a month two
    days old says little."""
    this_first, this_last = month_bounds(today)
    last_first, last_last = previous_month(today)
    q_first_month = (today.month - 1) // 3 * 3 + 1
    q_first = date(today.year, q_first_month, 1)
    q_last = month_bounds(date(today.year, q_first_month + 2, 1))[1]
    return [
        {"label": _("This month"), "from": this_first, "to": this_last, "suggested": today.day >= 10},
        {"label": _("Last month"), "from": last_first, "to": last_last, "suggested": today.day < 10},
        {"label": _("This quarter"), "from": q_first, "to": q_last, "suggested": False},
        {"label": _("This year"), "from": date(today.year, 1, 1), "to": date(today.year, 12, 31), "suggested": False},
        {"label": _("Last year"), "from": date(today.year - 1, 1, 1), "to": date(today.year - 1, 12, 31),
         "suggested": False},
    ]


def default_range(today: date) -> tuple[date, date]:
    """The range the report opens on: the suggested shortcut's (last month before the 10th,
    this month from then on), so it never opens on a month a few days old."""
    suggested = next(r for r in range_shortcuts(today) if r["suggested"])
    return suggested["from"], suggested["to"]


def _range_and_station():
    try:
        start, end = parse_range(request.args.get("from"), request.args.get("to"), default=default_range(local_today()))
    except ValidationError as exc:
        return None, None, None, exc.fields
    return start, end, station_scope(request.args.get("station_id")), {}


# --- employment report


@bp.get("/employment")
@require_roles("admin", "supervisor")
def employment():
    start, end, station_id, errors = _range_and_station()
    if errors:
        return render_template("reports/employment.html", report=None, errors=errors, start=request.args.get("from"),
                               end=request.args.get("to"), station_id=request.args.get("station_id"),
                               stations=station_choices_for(), definitions=definitions()), 422
    report = employment_report(start, end, station_id=station_id)
    uninsured = [(first, last, insurance.uninsured_active_workers(first, last, station_id=station_id))
                 for first, last in months_in(start, end)][-12:]
    policies = {first: insurance.policies_in_force(first, last) for first, last, _w in uninsured}
    return render_template("reports/employment.html", report=report, errors={}, start=start.isoformat(),
                           end=end.isoformat(), station_id=station_id, stations=station_choices_for(),
                           shortcuts=range_shortcuts(local_today()),
                           rows=exports.report_rows(report), columns=exports.report_columns(),
                           definitions=definitions(), uninsured=uninsured, policies=policies,
                           group_keys=GROUP_KEYS, new_idem_key=lambda: uuid.uuid4().hex)


def _download_name(stem: str, start, end, ext: str) -> str:
    return f"{stem}-{start.isoformat()}-{end.isoformat()}.{ext}"


def _employment_download(fmt: str) -> Response:
    """The employment report of the asked range and station as a spreadsheet (xlsx or csv)."""
    start, end, station_id, errors = _range_and_station()
    if errors:
        raise ValidationError(fields=errors)
    report = employment_report(start, end, station_id=station_id)
    if fmt == "xlsx":
        data, mimetype = exports.report_xlsx(report, definitions()), exports.XLSX_TYPE
    else:
        data, mimetype = exports.report_csv(report), "text/csv; charset=utf-8"
    return _attachment(data, mimetype, _download_name("employment", start, end, fmt))


@bp.get("/employment.xlsx")
@require_roles("admin", "supervisor")
def employment_xlsx():
    return _employment_download("xlsx")


@bp.get("/employment.csv")
@require_roles("admin", "supervisor")
def employment_csv():
    return _employment_download("csv")


def _attachment(data: bytes, mimetype: str, filename: str) -> Response:
    resp = Response(data, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


# --- the monthly roster (花名册)


def _roster_request():
    """(first, last, station_id, full, show_groups, rows, title, where) for the roster; a full
    version only for those who see sensitive fields, each full download audited by
    ``_roster_name``."""
    first, last = parse_month(request.args.get("month"), default=month_bounds(local_today()))
    station_id = station_scope(request.args.get("station_id"))
    sensitive = sees_sensitive()
    full = request.args.get("full") == "1"
    if full and not sensitive:
        abort(403)
    rows = monthly_roster(first, last, station_id=station_id)
    title, where = _roster_title(first, station_id)
    return first, last, station_id, full, sensitive, rows, title, where


def _roster_name(first, station_id, full: bool, rows, fmt: str) -> str:
    """The download's file name; a full (unmasked) roster leaving the app is audited first."""
    if full:
        _audit_full(first, station_id, fmt, len(rows))
    return f"roster-{first.strftime('%Y-%m')}{'-full' if full else ''}.{fmt}"


def _roster_title(first, station_id) -> tuple[str, str]:
    station = db.session.get(Station, station_id) if station_id else None
    where = station.name if station else _("Whole district")
    return (_("Roster of home workers, %(year)s-%(month)02d", year=first.year, month=first.month),
            where)


def _audit_full(first, station_id, fmt: str, count: int) -> None:
    """A full (unmasked) roster left the app: who, when, which month (rule 9)."""
    db.session.rollback()  # end the read (nothing written): the audit row takes SQLite's write lock at BEGIN
    with writing():
        audit.record("download_full_roster", "roster", station_id,
                     after={"month": first.strftime("%Y-%m"), "format": fmt, "workers": count})
    db.session.commit()


@bp.get("/roster")
@require_roles("admin", "supervisor")
def roster():
    first, _last, station_id, _full, show_groups, rows, title, where = _roster_request()
    return render_template("reports/roster.html", rows=rows, first=first, title=title, where=where,
                           station_id=station_id, stations=station_choices_for(), show_groups=show_groups,
                           group_labels=exports.GROUP_LABELS, gender_labels=exports.GENDER_LABELS)


@bp.get("/roster.xlsx")
@require_roles("admin", "supervisor")
def roster_xlsx():
    first, _last, station_id, full, show_groups, rows, title, where = _roster_request()
    data = exports.roster_xlsx(title, where, rows, full, show_groups,
                               footer=[_("Prepared by:"), _("Checked by:"), _("Stamp of the operating unit:")])
    return _attachment(data, exports.XLSX_TYPE, _roster_name(first, station_id, full, rows, "xlsx"))


@bp.get("/roster.pdf")
@require_roles("admin", "supervisor")
def roster_pdf():
    first, _last, station_id, full, show_groups, rows, title, where = _roster_request()
    columns = exports.roster_columns(show_groups)
    body = [[str(v) for v in exports.roster_row_values(i, r, full, show_groups)[:-1]] + [f"{r.earnings:,.2f}"]
            for i, r in enumerate(rows, start=1)]
    data = render_pdf("pdf/roster.html", title=title, where=where, columns=columns, rows=body,
                      total_days=sum(r.days for r in rows), total_pieces=sum(r.pieces for r in rows),
                      total_earnings=f"{sum(r.earnings for r in rows):,.2f}", lead_cols=len(columns) - 3,
                      full=full)
    return pdf_response(data, _roster_name(first, station_id, full, rows, "pdf"))


# --- the insurance register (admins)


@bp.route("/insurance", methods=["GET", "POST"], endpoint="insurance")
@require_roles("admin")
@form_view
def insurance_register():
    form = PolicyForm()
    if form.validate_on_submit():
        def action():
            policy = insurance.create_policy(insurer=form.insurer.data, policy_number=form.policy_number.data,
                                             start=form.start.data, end=form.end.data,
                                             premium_per_person_month=form.premium_per_person_month.data)
            return url_for("reports.policy", policy_id=policy.id), \
                _("Policy %(number)s registered.", number=policy.policy_number)

        if done := record_once(form, action):
            return done
    return render_template("reports/insurance.html", form=form, policies=insurance.policies_with_counts()), \
        form_status(form)


@bp.get("/insurance/<int:policy_id>")
@require_roles("admin")
def policy(policy_id: int):
    row = db.session.get(InsurancePolicy, policy_id)
    if row is None:
        abort(404)
    return render_template("reports/policy.html", policy=row, workers=insurance.covered_workers(row.id))


@bp.post("/insurance/cover")
@require_roles("admin")
@form_view
def cover_uninsured():
    """One step: every worker active in the month without cover goes on the chosen policy."""
    form = CoverForm()
    first, last = parse_month(form.month.data, default=month_bounds(local_today()))
    back = safe_path(request.form.get("next"), url_for("reports.employment"))
    if not form.validate_on_submit():
        flash(_("Choose a policy in force in that month."), "error")
        return redirect(back)
    station_id = int(form.station_id.data) if is_record_id(form.station_id.data) else None

    def action():
        added = insurance.cover_uninsured(form.policy_id.data, first, last, station_id=station_id)
        return back, _("%(n)s workers added to the policy.", n=added)

    if done := record_once(form, action):
        return done
    flash_refusal(form)
    return redirect(back)


# --- the station dashboard on the home page


def _dashboard_panel():
    # The home page keeps a supervisor on their station whatever the query string says.
    asked = request.args.get("station_id") if current_user.role == "admin" else None
    station_id = station_scope(asked if (asked or "").isdigit() else None)
    data = station_dashboard(station_id=station_id)
    month_first, month_last = month_bounds(data["today"])
    return "reports/_dashboard.html", {
        "d": data, "station_id": station_id, "month": month_first.strftime("%Y-%m"),
        "day_labels": [day.strftime("%m-%d") for day, _n in data["pieces_by_day"]],
        "band_labels": [f"¥{low:,.0f}–{high:,.0f}" for low, high, _n in data["bands"]],
        "idem_key": uuid.uuid4().hex,
        "stations": station_choices_for() if current_user.role == "admin" else [],
        "policies": insurance.policies_in_force(month_first, month_last) if current_user.role == "admin" else [],
    }


HOME_PANELS["supervisor"].append(_dashboard_panel)
HOME_PANELS["admin"].append(_dashboard_panel)
