"""Earnings, pay periods, adjustments, payslips and the worker's own records (API.md)."""
from __future__ import annotations

from datetime import date

from flask import Response, abort, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api.core import api_endpoint, paginate
from app.dates import month_bounds, parse_range
from app.extensions import db
from app.models import Adjustment, Batch, PayPeriod, Payslip, Worker, local_today
from app.money import api_amount, api_rate
from app.permissions import get_visible_or_404, visible
from app.services import wages
from app.services.earnings import worker_earnings
from app.services.errors import ValidationError
from app.wages import documents
from app.wages.forms import AdjustmentForm, PayPeriodForm


def _no_store(resp):
    resp.headers["Cache-Control"] = "no-store"
    return resp


def date_range_args() -> tuple[date, date]:
    """``?from=&to=`` as dates (422 on a bad or missing one); neither: the current calendar month."""
    return parse_range(request.args.get("from"), request.args.get("to"), default=month_bounds(local_today()))


def earnings_json(result: dict) -> dict:
    return {"worker_id": result["worker_id"], "from": result["from"].isoformat(), "to": result["to"].isoformat(),
            "pieces": result["pieces"], "amount": api_amount(result["amount"]),
            "lines": [{"product_id": line["product_id"], "product": line["product"],
                       "step_id": line.get("step_id"), "step": line.get("step"),
                       "piece_rate": api_rate(line["piece_rate"]), "pieces": line["pieces"],
                       "amount": api_amount(line["amount"])} for line in result["lines"]]}


def period_json(p: PayPeriod) -> dict:
    return {"id": p.id, "start": p.start.isoformat(), "end": p.end.isoformat(), "status": p.status,
            "closed_at": p.closed_at.replace(microsecond=0).isoformat() + "Z" if p.closed_at else None}


def payslip_json(s: Payslip) -> dict:
    return {"id": s.id, "pay_period_id": s.pay_period_id, "worker_id": s.worker_id, "worker_name": s.worker_name,
            "station_id": s.station_id, "pieces": s.pieces, "gross": api_amount(s.gross),
            "adjustments": api_amount(s.adjustments), "deductions": api_amount(s.deductions),
            "net": api_amount(s.net), "seq": s.seq, "hash": s.hash,
            "lines": [{"kind": ln.kind, "product_id": ln.product_id, "description": ln.description,
                       "piece_rate": api_rate(ln.piece_rate), "pieces": ln.pieces, "amount": api_amount(ln.amount)}
                      for ln in s.lines]}


def batch_json(b: Batch) -> dict:
    return {"id": b.id, "code": b.code, "order_id": b.order_id, "worker_id": b.worker_id,
            "product_id": b.product_id, "product": b.product.name, "quantity": b.quantity,
            "piece_rate": api_rate(b.piece_rate), "accepted": b.accepted, "rejected": b.rejected, "unused": b.unused,
            "outstanding": b.outstanding, "issued_on": b.issued_on.isoformat(), "due_date": b.due_date.isoformat(),
            "overdue": b.is_overdue(local_today()), "status": b.status}


def adjustment_json(a: Adjustment) -> dict:
    return {"id": a.id, "worker_id": a.worker_id, "pay_period_id": a.pay_period_id, "amount": api_amount(a.amount),
            "reason": a.reason, "created_by": a.created_by}


# --- earnings


@api_endpoint("/workers/<int:worker_id>/earnings", "GET", roles=("admin", "supervisor"),
              summary="A worker's earnings for a date range (rule 1)", query={"from": "date", "to": "date"})
def wages_worker_earnings(worker_id):
    worker = get_visible_or_404(Worker, worker_id)
    start, end = date_range_args()
    return _no_store(Response(_dumps(earnings_json(worker_earnings(worker.id, start, end))), mimetype="application/json"))


def _dumps(payload) -> str:
    from app.api.core import dumps

    return dumps(payload)


@api_endpoint("/me/earnings", "GET", roles=("worker",), summary="The signed-in worker's earnings",
              query={"from": "date", "to": "date"})
def wages_my_earnings():
    start, end = date_range_args()
    return _no_store(Response(_dumps(earnings_json(worker_earnings(current_user.id, start, end))),
                              mimetype="application/json"))


@api_endpoint("/me/batches", "GET", roles=("worker",), summary="The batches the signed-in worker holds or held",
              query={"status": "open|overdue|closed"})
def wages_my_batches():
    stmt = (select(Batch).where(visible(Batch), Batch.worker_id == current_user.id)
            .options(selectinload(Batch.product)).order_by(Batch.status.desc(), Batch.due_date, Batch.id))
    status = request.args.get("status")
    if status in ("open", "closed"):
        stmt = stmt.where(Batch.status == status)
    elif status == "overdue":
        stmt = stmt.where(Batch.overdue_clause(local_today()))
    return paginate(stmt, batch_json)


def my_return_json(row) -> dict:
    ret, product, _code = row
    step = getattr(ret, "step", None)
    return {"id": ret.id, "batch_id": ret.batch_id, "product": product,
            "step": getattr(step, "name", None) if step is not None else None,
            "work_date": ret.work_date.isoformat(), "accepted": ret.accepted, "rejected": ret.rejected,
            "unused": ret.unused, "reason": ret.reason, "note": ret.note, "corrects": ret.corrects_id,
            "has_photo": ret.photo_id is not None}


@api_endpoint("/me/returns", "GET", roles=("worker",),
              summary="The signed-in worker's returns, newest first: accepted, rejected and why")
def wages_my_returns():
    return paginate(wages.worker_returns_query(current_user.id), my_return_json, scalars=False)


@api_endpoint("/me/payslips", "GET", roles=("worker",), summary="The signed-in worker's pay statements")
def wages_my_payslips():
    stmt = (select(Payslip).where(visible(Payslip), Payslip.worker_id == current_user.id)
            .options(selectinload(Payslip.lines)).order_by(Payslip.seq.desc()))
    return paginate(stmt, payslip_json)


# --- pay periods


@api_endpoint("/pay-periods", "POST", roles=("admin",), form=PayPeriodForm, status=201,
              summary="Open a pay period (calendar month by default); 409 when it overlaps another")
def wages_create_period(form):
    return period_json(wages.create_pay_period(form.start.data, form.end.data)), 201


@api_endpoint("/pay-periods", "GET", roles=("admin",), summary="Pay periods, latest first")
def wages_list_periods():
    return paginate(select(PayPeriod).order_by(PayPeriod.start.desc()), period_json)


@api_endpoint("/adjustments", "POST", roles=("admin",), form=AdjustmentForm, status=201,
              summary="A bonus or deduction on one worker's statement; 409 when the period is closed")
def wages_create_adjustment(form):
    worker = db.session.scalar(select(Worker).where(Worker.id == form.worker_id.data, visible(Worker)))
    period = db.session.get(PayPeriod, form.pay_period_id.data)
    errors = {}
    if worker is None:
        errors["worker_id"] = _("No such worker.")
    if period is None:
        errors["pay_period_id"] = _("No such pay period.")
    if errors:
        raise ValidationError(fields=errors)
    assert worker is not None and period is not None  # else the field errors above
    adjustment = wages.add_adjustment(worker=worker, period=period, amount=form.amount.data, reason=form.reason.data)
    return adjustment_json(adjustment), 201


@api_endpoint("/pay-periods/<int:period_id>/close", "POST", roles=("admin",),
              summary="Close a pay period: freeze and chain every worker's statement; "
                      "one not ended yet only with {early: true} (409 period_not_ended)")
def wages_close_period(body, period_id):
    period = db.session.get(PayPeriod, period_id) or abort(404)
    early = isinstance(body, dict) and body.get("early") is True
    result = wages.close_pay_period(period, early=early)
    return {"id": period.id, "status": result.period.status, "payslips": result.payslips,
            "total": api_amount(result.total)}


@api_endpoint("/pay-periods/<int:period_id>/reopen", "POST", roles=("admin",),
              summary="Reopen a period closed too soon ({reason}); 409 once a statement was printed or exported")
def wages_reopen_period(body, period_id):
    period = db.session.get(PayPeriod, period_id) or abort(404)
    reason = body.get("reason") if isinstance(body.get("reason"), str) else ""
    record = wages.reopen_pay_period(period, reason)
    return {"id": period.id, "status": "open", "payslips_withdrawn": record.payslips, "chain_hash": record.hash}


@api_endpoint("/pay-periods/<int:period_id>/payslips", "GET", roles=("admin",), summary="A closed period's pay statements")
def wages_period_payslips(period_id):
    db.session.get(PayPeriod, period_id) or abort(404)
    stmt = (select(Payslip).where(Payslip.pay_period_id == period_id).options(selectinload(Payslip.lines))
            .order_by(Payslip.seq))
    return paginate(stmt, payslip_json)


@api_endpoint("/payslips/<int:payslip_id>.pdf", "GET", roles=("admin", "worker"), summary="A pay statement as PDF")
def wages_payslip_pdf(payslip_id):
    response = documents.payslip_download(get_visible_or_404(Payslip, payslip_id))
    db.session.commit()  # a first download stored the file it answers
    return response


@api_endpoint("/pay-periods/<int:period_id>/export.xlsx", "GET", roles=("admin",),
              summary="Payroll export (.xlsx) of a closed period; audited (the period can no longer be reopened)")
def wages_export_xlsx(period_id):
    return _export(period_id, "xlsx")


@api_endpoint("/pay-periods/<int:period_id>/export.csv", "GET", roles=("admin",),
              summary="Payroll export (.csv) of a closed period; audited (the period can no longer be reopened)")
def wages_export_csv(period_id):
    return _export(period_id, "csv")


def _export(period_id: int, fmt: str):
    response = documents.payroll_export(db.session.get(PayPeriod, period_id), fmt, user=current_user)
    db.session.commit()
    return response


