"""Wages pages: pay periods for admins and supervisors, and the worker's own phone view."""
from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload, selectinload

from app.dates import month_bounds
from app.extensions import db
from app.main.views import HOME_PAGE_KEYS, HOME_PANELS
from app.models import Adjustment, Batch, PayPeriod, Payslip, Worker, local_today
from app.money import format_money
from app.paging import int_arg
from app.pdf import pdf_response
from app.permissions import (
    get_visible_or_404,
    require_roles,
    scope_params,
    station_scope,
    visible,
    visible_to_role,
)
from app.services import wages
from app.services.earnings import worker_earnings
from app.services.errors import ValidationError
from app.services.periods import period_covering
from app.submission import flash_refusal, form_status, record_once
from app.templating import NAV_EXTRA, url_for_ids
from app.wages import documents
from app.wages.forms import AdjustmentForm, ClosePeriodForm, PayPeriodForm, ReopenPeriodForm
from app.workers import queries as worker_queries

bp = Blueprint("wages", __name__)

# Loader options built once, at import: get_visible_or_404 keeps a statement for each tuple.
BATCH_WITH_PRODUCT = (joinedload(Batch.product),)
PAYSLIP_LOADS = (selectinload(Payslip.lines), joinedload(Payslip.pay_period))

NAV_EXTRA.append(("wages.periods", _l("Pay periods"), ("admin", "supervisor")))
NAV_EXTRA.append(("wages.me_earnings", _l("My earnings"), ("worker",)))
NAV_EXTRA.append(("wages.me_batches", _l("What I hold"), ("worker",)))
NAV_EXTRA.append(("wages.me_payslips", _l("My statements"), ("worker",)))

STAFF = ("admin", "supervisor")


def no_store(resp) -> Response:
    """Earnings are personal: never kept by a shared phone's or a proxy's cache."""
    from flask import make_response

    resp = make_response(resp)
    resp.headers["Cache-Control"] = "no-store"
    return resp


# --- pay periods (admin, supervisor)


@bp.get("/pay-periods")
@require_roles(*STAFF)
def periods():
    rows = db.session.scalars(select(PayPeriod).order_by(PayPeriod.start.desc())).all()
    totals_stmt = (select(Payslip.pay_period_id, func.count(Payslip.id), func.sum(Payslip.pieces), func.sum(Payslip.net))
                   .where(visible(Payslip)).group_by(Payslip.pay_period_id))
    totals = {pid: (n, int(p or 0), net) for pid, n, p, net in db.session.execute(totals_stmt)}
    form = PayPeriodForm() if current_user.role == "admin" else None
    if form is not None and not form.start.data:
        start, end = _next_period_bounds(rows)
        form.start.data, form.end.data = start, end
    return no_store(render_template("wages/periods.html", periods=rows, totals=totals, form=form))


def _next_period_bounds(existing) -> tuple[date, date]:
    """The calendar month after the latest period (or this month when there is none)."""
    if not existing:
        return month_bounds(local_today())
    return month_bounds(max(p.end for p in existing) + timedelta(days=1))


@bp.post("/pay-periods")
@require_roles("admin")
def create_period():
    form = PayPeriodForm()
    if form.validate_on_submit():
        def action():
            period = wages.create_pay_period(form.start.data, form.end.data, user=current_user)
            return url_for("wages.period", period_id=period.id), \
                _("Pay period %(start)s – %(end)s opened.", start=period.start, end=period.end)

        if done := record_once(form, action):
            return done
    rows = db.session.scalars(select(PayPeriod).order_by(PayPeriod.start.desc())).all()
    return render_template("wages/periods.html", periods=rows, totals={}, form=form), form_status(form)


# A page of the statements list: the district's period is some 2,000 workers; 50 rows is an
# office screen or two of the payroll table, and ~20 KB of HTML.
PERIOD_PER_PAGE = 50


@bp.get("/pay-periods/<int:period_id>")
@require_roles(*STAFF)
def period(period_id):
    period = db.session.get(PayPeriod, period_id) or abort(404)
    return _period_page(period)


def _period_page(period: PayPeriod, adjustment_form: AdjustmentForm | None = None):
    """The period's page: its totals, one page of its statements (``?page=``, ``?q=`` a worker
    by name or phone), the admin's actions. A refused search answers 422 with the reason."""
    scope = station_scope()
    try:
        search = worker_queries.search_text(request.args.get("q"))
        errors = {}
    except ValidationError as exc:
        search, errors = "", exc.fields
    matching = (select(Worker.id).where(visible(Worker), worker_queries.worker_search(scope, search))
                if search else None)
    page, total = wages.period_page(period, int_arg("page"), PERIOD_PER_PAGE, station_id=scope, worker_ids=matching)
    reopen_form = None
    reopen_blockers = []
    if current_user.role == "admin" and period.status == "open":
        adjustment_form = adjustment_form if adjustment_form is not None else _adjustment_form(period)
    elif current_user.role == "admin":
        reopen_blockers = wages.reopen_blockers(period)
        reopen_form = None if reopen_blockers else ReopenPeriodForm()
    html = render_template("wages/period.html", period=period, page=page, statements=_statement_rows(period, page.items),
                           total=total, search=search,
                           typed=request.args.get("q", ""), errors=errors, bad_page=_bad_page_number(),
                           adjustment_form=adjustment_form, adjustments=_adjustments(period),
                           reopen_form=reopen_form, reopen_blockers=reopen_blockers,
                           days_left=wages.days_left(period))
    return no_store(html), 422 if errors else 200


class StatementRow(NamedTuple):
    """A row of the period's statements table, its cells written as the page shows them."""
    worker_url: str
    worker_name: str
    pieces: str
    gross: str
    adjustments: str
    deductions: str  # negated: what the worker loses
    net: str
    pdf_url: str | None  # closed periods only


def _statement_rows(period: PayPeriod, rows) -> list[StatementRow]:
    """The page's statements (``wages.period_page``'s rows or dicts) as their cells: written
    here once rather than through seven template expressions and filters a row (50 a page)."""
    worker_url = url_for_ids("wages.worker_detail", "worker_id", period=period.id)
    pdf_url = url_for_ids("wages.payslip_pdf", "payslip_id")
    cells = []
    for row in rows:
        r = row if isinstance(row, dict) else row._mapping
        cells.append(StatementRow(worker_url(r["worker_id"]), r["worker_name"], f"{r['pieces']:,}",
                                  format_money(r["gross"]), format_money(r["adjustments"]),
                                  format_money(-r["deductions"]), format_money(r["net"]),
                                  pdf_url(r["payslip_id"]) if r["payslip_id"] else None))
    return cells


def _bad_page_number() -> bool:
    """``?page=`` given but no whole number of 1 or more (``int_arg`` shows the first page)."""
    raw = request.args.get("page")
    try:
        return raw is not None and int(raw) < 1
    except ValueError:
        return True


def _adjustment_form(period: PayPeriod, formdata=None) -> AdjustmentForm:
    form = AdjustmentForm(formdata=formdata) if formdata is not None else AdjustmentForm(pay_period_id=period.id)
    workers = db.session.execute(select(Worker.id, Worker.name, Worker.phone).where(visible(Worker), Worker.active)
                                 .order_by(Worker.station_id, Worker.name)).all()
    form.worker_id.choices = [(0, "—")] + [(w.id, f"{w.name} ({w.phone[-4:]})") for w in workers]
    return form


@lru_cache(maxsize=2)
def _adjustments_stmt(one_station: bool):
    # The period's page lists them on every visit: built once (building it cost more than
    # running it, 0.2 -> 0.06 ms on the bench data's period).
    stmt = (select(Adjustment).where(Adjustment.pay_period_id == bindparam("period_id"))
            .options(selectinload(Adjustment.worker)).order_by(Adjustment.id.desc()))
    if one_station:
        stmt = stmt.join(Worker, Worker.id == Adjustment.worker_id).where(Worker.station_id == bindparam("station_id"))
    return stmt


def _adjustments(period: PayPeriod):
    """The period's adjustments, newest first: a supervisor's of her own station's workers."""
    stmt = _adjustments_stmt(current_user.role == "supervisor")
    return db.session.scalars(stmt, {"period_id": period.id, "station_id": current_user.station_id}).all()


@bp.post("/pay-periods/<int:period_id>/adjustments")
@require_roles("admin")
def add_adjustment(period_id):
    period = db.session.get(PayPeriod, period_id) or abort(404)
    form = _adjustment_form(period, formdata=request.form)
    form.pay_period_id.data = period.id
    if form.validate_on_submit():
        def action():
            worker = db.session.scalar(select(Worker).where(Worker.id == form.worker_id.data, visible(Worker)))
            if worker is None:
                raise ValidationError(fields={"worker_id": _("Choose a worker.")})
            wages.add_adjustment(worker=worker, period=period, amount=form.amount.data, reason=form.reason.data,
                                 user=current_user)
            return url_for("wages.period", period_id=period.id), _("Adjustment recorded for %(name)s.", name=worker.name)

        if done := record_once(form, action):
            return done
    html, _status = _period_page(period, adjustment_form=form)
    return html, form_status(form)


@bp.route("/pay-periods/<int:period_id>/close", methods=["GET", "POST"])
@require_roles("admin")
def close_period(period_id):
    period = db.session.get(PayPeriod, period_id) or abort(404)
    form = ClosePeriodForm()
    if period.status == "closed":
        flash(_("This pay period is already closed."), "info")
        return redirect(url_for("wages.period", period_id=period.id), 303)
    if form.validate_on_submit():
        def action():
            try:
                result = wages.close_pay_period(period, user=current_user, early=form.early.data)
            except wages.PeriodNotEnded as exc:
                # Shown on the box that confirms an early close, with the form's usual 422.
                raise ValidationError(exc.message, fields={"early": str(exc.message)}) from None
            return url_for("wages.period", period_id=period.id), \
                _("Pay period closed: %(n)s statements, net total %(total)s.", n=result.payslips,
                  total=format_money(result.total))

        if done := record_once(form, action):
            return done
    rows = wages.period_totals(period)
    return no_store(render_template("wages/close.html", period=period, form=form, total=wages.sum_rows(rows),
                                    days_left=wages.days_left(period))), form_status(form)


@bp.post("/pay-periods/<int:period_id>/reopen")
@require_roles("admin")
def reopen_period(period_id):
    """Open a period closed too soon, while none of its statements has been relied on."""
    period = db.session.get(PayPeriod, period_id) or abort(404)
    form = ReopenPeriodForm()
    back = url_for("wages.period", period_id=period.id)
    if form.validate_on_submit():
        def action():
            wages.reopen_pay_period(period, form.reason.data, user=current_user)
            return back, _("Pay period reopened: its statements were withdrawn and returns dated in it can be recorded again.")  # noqa: E501

        if done := record_once(form, action):
            return done
        flash_refusal(form)
        return redirect(back, 303)
    flash(_("Say why the period is reopened."), "error")
    return redirect(back, 303)


@bp.get("/pay-periods/<int:period_id>/statements.pdf")
@require_roles(*STAFF)
def period_pdf(period_id):
    period = db.session.get(PayPeriod, period_id) or abort(404)
    if period.status != "closed":
        abort(404)
    data = documents.period_pdf(period, station_id=station_scope(),
                                per_sheet=2 if request.args.get("per_sheet") == "2" else 1)
    db.session.commit()  # a first download stored the file it answers
    return pdf_response(data, f"pay-statements-{period.start:%Y-%m}.pdf")


@bp.get("/pay-periods/<int:period_id>/export.<fmt>")
@require_roles(*STAFF)
def period_export(period_id, fmt):
    response = documents.payroll_export(db.session.get(PayPeriod, period_id), fmt, station_scope(), user=current_user)
    db.session.commit()
    return no_store(response)


@bp.get("/wages/workers/<int:worker_id>")
@require_roles(*STAFF)
def worker_detail(worker_id):
    """Drill-down: one worker's lines in a period (frozen if closed), and their statements."""
    worker = get_visible_or_404(Worker, worker_id)
    period = None
    if request.args.get("period", "").isdigit():
        period = db.session.get(PayPeriod, int(request.args["period"]))
    period = period or period_covering(local_today())
    payslip = None
    statement = None
    if period is not None and period.status == "closed":
        payslip = db.session.scalar(select(Payslip).where(Payslip.pay_period_id == period.id, Payslip.worker_id == worker.id)
                                    .options(selectinload(Payslip.lines)))
    elif period is not None:
        found = wages.compute_statements(period, worker_ids=[worker.id])
        statement = found[0] if found else None
    payslips = db.session.scalars(select(Payslip).where(Payslip.worker_id == worker.id, visible(Payslip))
                                  .options(selectinload(Payslip.pay_period)).order_by(Payslip.seq.desc())).all()
    return no_store(render_template("wages/worker.html", worker=worker, period=period, payslip=payslip,
                                    statement=statement, payslips=payslips))


@bp.get("/payslips/<int:payslip_id>.pdf")
@require_roles("admin", "supervisor", "worker")
def payslip_pdf(payslip_id):
    response = documents.payslip_download(get_visible_or_404(Payslip, payslip_id))
    db.session.commit()  # a first download stored the file it answers
    return response


# --- the worker's phone


def spoken_amount(value: Decimal) -> str:
    """12.35 → "12元3角5分": how the amount is read aloud in Chinese."""
    value = Decimal(value).quantize(Decimal("0.01"))
    yuan, cents = divmod(int(abs(value) * 100), 100)
    jiao, fen = divmod(cents, 10)
    text = f"{yuan}元"
    if jiao or fen:
        text += f"{jiao}角" if jiao else "零"
        text += f"{fen}分" if fen else ""
    return ("负" if value < 0 else "") + text


def spoken_digits(value: Decimal) -> str:
    """12.35 → "1 2 . 3 5": the figure one character at a time, for a phone whose only voice
    speaks another language (any voice says digits one by one understandably)."""
    return " ".join(f"{Decimal(value).quantize(Decimal('0.01'))}")


# The phone's home asks these on every visit: built once per role.
@lru_cache(maxsize=8)
def _held_batches_stmt(role: str):
    # What the worker holds: open batches with pieces still out (one all returned but not yet
    # closed by the supervisor is nothing to bring back).
    return (select(Batch).where(Batch.worker_id == bindparam("worker_id"), Batch.status == "open",
                                Batch.quantity > Batch.accepted + Batch.rejected + Batch.unused, visible_to_role(Batch, role))
            .options(joinedload(Batch.product), joinedload(Batch.product_step)).order_by(Batch.due_date, Batch.id))


@lru_cache(maxsize=8)
def _recent_payslips_stmt(role: str):
    return (select(Payslip).where(Payslip.worker_id == bindparam("worker_id"), visible_to_role(Payslip, role))
            .options(joinedload(Payslip.pay_period)).order_by(Payslip.seq.desc()).limit(3))


def held_batches(worker_id: int):
    return db.session.scalars(_held_batches_stmt(current_user.role), {"worker_id": worker_id, **scope_params()}).all()


def worker_home_panel():
    worker_id = current_user.id
    today = g.get("home_today") or local_today()  # the day the cached page is keyed by
    summary = wages.worker_phone_summary(worker_id, today)
    payslips = db.session.scalars(_recent_payslips_stmt(current_user.role), {"worker_id": worker_id, **scope_params()}).all()
    if str(get_locale()) == "zh":
        speech = f"今天挣了{spoken_amount(summary['today_amount'])}，这个月挣了{spoken_amount(summary['month_amount'])}。"
    else:
        speech = _("Today you earned %(today)s yuan; this month %(month)s yuan.",
                   today=f"{summary['today_amount']:.2f}", month=f"{summary['month_amount']:.2f}")
    digits = f"{spoken_digits(summary['today_amount'])} ... {spoken_digits(summary['month_amount'])}"
    recent = wages.worker_returns(worker_id, limit=3)  # activity_seq moves with each: the cache holds
    return "wages/_worker_home.html", {**summary, "batches": held_batches(worker_id), "payslips": payslips,
                                       "recent_returns": recent, **chart_of_days(summary["days"]),
                                       "speech": speech, "speech_digits": digits, "today_date": today}


HOME_PANELS["worker"].append(worker_home_panel)


def chart_of_days(days: list[tuple[date, Decimal]]) -> dict:
    """The 30-day chart's data for its script, and its bars for a phone without script (each
    day's height in percent of the best day, floored). Worked out here, not through Jinja's
    filters (map, list, max, round over 30 days): about 150 µs of the rendered page."""
    top = max(amount for _day, amount in days) or 1
    return {"chart": {"labels": [str(day) for day, _amount in days], "values": [str(amount) for _day, amount in days],
                      "currency": "¥"},
            "bars": [(day, amount, float(math.floor(amount / top * 100))) for day, amount in days]}


def worker_home_key() -> tuple:
    """Everything the worker's home is rendered from: the database moves ``activity_seq`` with
    every return, batch, statement and held product change; the day (today's figures,
    overdue marks), the language and the worker's name are the rest."""
    g.home_today = local_today()  # rendered with this very day, even across midnight
    return (current_user.id, current_user.activity_seq, current_user.name, g.home_today, str(get_locale()))


HOME_PAGE_KEYS["worker"] = worker_home_key


@bp.get("/me/earnings")
@require_roles("worker")
def me_earnings():
    today = local_today()
    month = today.replace(day=1)
    raw = request.args.get("month", "")
    if raw:
        try:
            month = date.fromisoformat(raw + "-01")
        except ValueError:
            month = today.replace(day=1)
    start, end = month_bounds(month)
    result = worker_earnings(current_user.id, start, min(end, today) if start <= today else end)
    prev_month = (start - timedelta(days=1)).replace(day=1)
    next_month = end + timedelta(days=1)
    preview = wages.open_statement_preview(current_user.id, today) if start <= today <= end else None
    return no_store(render_template("wages/me_earnings.html", result=result, start=start, end=end, preview=preview,
                                    prev_month=prev_month, next_month=next_month if next_month <= today else None))


@bp.get("/me/returns")
@require_roles("worker")
def me_returns():
    """Every return of hers, newest first: accepted, rejected and the supervisor's reason, the
    photo of the rejects, the date."""
    page = max(1, request.args.get("page", 1, type=int) or 1)
    rows = wages.worker_returns(current_user.id, limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE)
    return no_store(render_template("wages/me_returns.html", rows=rows[:PER_PAGE], page=page,
                                    more=len(rows) > PER_PAGE))


PER_PAGE = 30


@bp.get("/me/batches/<int:batch_id>")
@require_roles("worker")
def me_batch(batch_id):
    """One of her batches: what she took, what came back (and what was rejected, and why), what
    is still out — where her own ticket's QR code lands."""
    batch = get_visible_or_404(Batch, batch_id, options=BATCH_WITH_PRODUCT)
    rows = wages.worker_returns(current_user.id, batch_id=batch.id, limit=200)
    return no_store(render_template("wages/me_batch.html", batch=batch, rows=rows, today=local_today()))


@bp.before_app_request
def worker_scanning_her_ticket():
    """The ticket's QR code opens the counter's return page; a signed-in worker's phone goes
    to her own view of that batch instead (another's answers 404 there, as everywhere)."""
    if (request.method == "GET" and request.endpoint == "batches.record_return"
            and getattr(current_user, "is_authenticated", False) and current_user.role == "worker"):
        return redirect(url_for("wages.me_batch", batch_id=(request.view_args or {})["batch_id"]))
    return None


@bp.get("/me/payslips/<int:payslip_id>")
@require_roles("worker")
def me_payslip(payslip_id):
    """A pay statement on the phone: its lines, bonuses and deductions, net, whether it went
    for payment; the A4 PDF one tap further."""
    slip = get_visible_or_404(Payslip, payslip_id, options=PAYSLIP_LOADS)
    return no_store(render_template("wages/me_payslip.html", slip=slip, paid=wages.payroll_exported_on(slip.pay_period_id)))


@bp.get("/me/batches")
@require_roles("worker")
def me_batches():
    return no_store(render_template("wages/me_batches.html", batches=held_batches(current_user.id), today=local_today()))


@bp.get("/me/payslips")
@require_roles("worker")
def me_payslips():
    payslips = db.session.scalars(select(Payslip).where(Payslip.worker_id == current_user.id, visible(Payslip))
                                  .options(selectinload(Payslip.pay_period)).order_by(Payslip.seq.desc())).all()
    return no_store(render_template("wages/me_payslips.html", payslips=payslips))
