"""Batches and what comes back: issuing a batch with its printed ticket, the batch lists,
recording returns by scan or code, corrections, and closing a batch."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.batches import queries
from app.batches.forms import BatchForm, CloseBatchPageForm, PlanIssueForm, ReturnForm
from app.batches.tickets import ticket_context
from app.extensions import db
from app.files import file_response, store_picture
from app.forms import form_view
from app.main.views import HOME_PANELS
from app.models import Batch, Order, Return, StoredFile, Worker, local_today
from app.money import line_amount
from app.paging import int_arg
from app.pdf import pdf_response, render_pdf, render_pdf_pages
from app.permissions import STAFF, get_visible_or_404, require_roles, station_scope, visible
from app.services import planning, production
from app.services.errors import ValidationError
from app.submission import form_status, record_once
from app.templating import NAV_EXTRA
from app.workers.queries import worker_rows

bp = Blueprint("batches", __name__)

# Loader options built once, at import: get_visible_or_404 keeps a statement for each tuple.
ISSUE_ORDER_LOADS = (joinedload(Order.product), joinedload(Order.client))
BATCH_PAGE_LOADS = (joinedload(Batch.worker), joinedload(Batch.product), joinedload(Batch.station),
                    joinedload(Batch.product_step), joinedload(Batch.order).joinedload(Order.client))
RECEIPT_LOADS = (joinedload(Return.recorded_by),)

NAV_EXTRA.append(("batches.batches", _l("Batches"), STAFF))


def supervisor_home_panel():
    station_id = current_user.station_id
    return "batches/_home_panel.html", {"overdue": queries.overdue_count(station_id), "station_id": station_id}


HOME_PANELS["supervisor"].append(supervisor_home_panel)


# --- issuing a batch


@bp.route("/orders/<int:order_id>/issue", methods=["GET", "POST"])
@require_roles(*STAFF)
@form_view
def issue_batch(order_id: int):
    order = get_visible_or_404(Order, order_id, options=ISSUE_ORDER_LOADS)
    form = BatchForm()
    steps = production.order_steps(order)
    asked = request.args.get("step_id", "")
    step = production.default_step(steps, form.step_id.data if request.method == "POST" else
                                   (int(asked) if asked.isdigit() else None))
    if request.method == "GET":
        form.order_id.data = order.id
        form.step_id.data = step["step_id"]
        form.due_date.data = production.default_due_date(order)
        if request.args.get("worker_id", "").isdigit():
            form.worker_id.data = int(request.args["worker_id"])
        if request.args.get("due_date"):
            try:
                form.due_date.data = date.fromisoformat(request.args["due_date"])
            except ValueError:
                pass
    if form.validate_on_submit():
        def action():
            worker = db.session.scalar(select(Worker).where(Worker.id == form.worker_id.data, visible(Worker)))
            if worker is None:
                raise ValidationError(fields={"worker_id": _("Choose a worker.")})
            batch = production.issue_batch(order=order, worker=worker, quantity=form.quantity.data,
                                           due_date=form.due_date.data, user=current_user, issued_on=form.issued_on.data,
                                           step_id=form.step_id.data)
            # "Issue and print": the ticket opens in the print dialog, then the batch's page.
            if request.form.get("print") == "1":
                location = url_for("batches.ticket_print", batch_id=batch.id)
            else:
                location = url_for("batches.batch_detail", batch_id=batch.id, issued=1)
            return location, \
                _("Batch %(code)s handed to %(name)s.", code=batch.code, name=worker.name)

        if done := record_once(form, action):
            return done
        db.session.refresh(order)
    search = (request.args.get("q") or "").strip()
    pickers = worker_rows(order.station_id, search=search, page=int_arg("page"), per_page=12, recent_first=True)
    paces, plan, plan_form = _plan_for(order, step, steps)
    defaults = planning.batch_defaults(paces, plan, step["available"], form.due_date.data or local_today())
    typed = request.args.get("quantity", "")
    if request.method == "GET":
        # A search reloads the page: what was typed in the form comes back with it.
        form.quantity.data = int(typed) if typed.isdigit() and int(typed) > 0 else \
            _default_quantity(order, step, defaults, form.worker_id.data)
    status = form_status(form)
    return render_template("batches/issue.html", order=order, form=form, pickers=pickers, search=search,
                           today=local_today(), steps=steps, step=step, plan=plan, plan_form=plan_form,
                           defaults=defaults, typed=bool(typed.isdigit()),
                           plan_share100=int(planning.PLAN_SHARE * 100)), status


def _default_quantity(order: Order, step: dict, defaults: dict, worker_id: int | None) -> int | None:
    """The quantity box before anyone types: for the chosen worker, what she can finish by the
    due date at her pace within her share of the suggested split (planning.batch_defaults;
    empty when what she holds already fills the days); with no worker chosen yet, what the
    middle worker of the station could (the page's script switches to the worker's own as she
    is tapped). Never more than a usual batch or what is left; with no paces, a usual batch."""
    usual = max(min(order.product.batch_size, step["available"]), 1)
    chosen = defaults.get(worker_id) if worker_id else None
    if chosen is not None and chosen.quantity is not None:
        return chosen.quantity or None
    known = sorted(d.quantity for d in defaults.values() if d.quantity)
    return min(usual, known[len(known) // 2]) if known else usual


def _plan_for(order: Order, step: dict, steps: list[dict]):
    """The workers' paces on ``step`` and the suggested split of what it can hand out now
    (None when the order is past due), or nothing when there is nothing to hand out."""
    if order.status != "open" or step["available"] <= 0:
        return {}, None, None
    paces = planning.worker_paces(order.station_id, order.product_id, step["step_id"])
    if order.due_date < local_today():
        return paces, None, None
    plan = planning.suggest_plan(order, step_id=step["step_id"], paces=paces, steps=steps)
    form = PlanIssueForm(formdata=None)
    form.step_id.data, form.due_date.data = plan.step_id, plan.due_date
    return paces, plan, form


@bp.post("/orders/<int:order_id>/plan/issue")
@require_roles(*STAFF)
@form_view
def issue_plan(order_id: int):
    """One tap: every line of the suggested split (as the supervisor changed it) is issued, or
    none; then the tickets print as one PDF."""
    from app.services import planning

    order = get_visible_or_404(Order, order_id)
    form = PlanIssueForm()
    if form.validate_on_submit():
        items = []
        for key, value in request.form.items():
            if key.startswith("qty_") and key[4:].isdigit():
                quantity = int(value) if value.strip().isdigit() else -1
                items.append({"worker_id": int(key[4:]), "quantity": quantity})

        def action():
            batches = planning.issue_plan(order, items, step_id=form.step_id.data, due_date=form.due_date.data,
                                          user=current_user)
            return url_for("batches.plan_tickets", order_id=order.id, ids=",".join(str(b.id) for b in batches)), \
                _("%(n)s batches handed out.", n=len(batches))

        if done := record_once(form, action):
            return done
    from app.submission import flash_refusal

    flash_refusal(form)
    return redirect(url_for("batches.issue_batch", order_id=order.id, step_id=form.step_id.data), 303)


@bp.get("/orders/<int:order_id>/tickets.pdf")
@require_roles(*STAFF)
def plan_tickets(order_id: int):
    """The tickets of several batches of one order as one PDF, a page each."""
    order = get_visible_or_404(Order, order_id)
    ids = [int(i) for i in (request.args.get("ids") or "").split(",") if i.isdigit()][:500]
    batches = db.session.scalars(select(Batch).where(Batch.id.in_(ids), Batch.order_id == order.id, visible(Batch))
                                 .options(joinedload(Batch.worker), joinedload(Batch.product), joinedload(Batch.station),
                                          joinedload(Batch.product_step), joinedload(Batch.order).joinedload(Order.client))
                                 .order_by(Batch.id)).all()
    if not batches:
        abort(404)
    data = render_pdf_pages("pdf/batch_ticket.html", [{"t": ticket_context(b)} for b in batches])
    return pdf_response(data, f"tickets-{order.number}.pdf", inline=True)


# --- batches


@bp.get("/batches")
@require_roles(*STAFF)
def batches():
    status = request.args.get("status", "open")
    if status not in ("open", "overdue", "closed", "all"):
        status = "open"
    page = queries.batches_page(None if status == "all" else status, int_arg("page"), station_id=station_scope())
    return render_template("batches/batches.html", page=page, status=status, today=local_today())


@bp.get("/batches/overdue")
@require_roles(*STAFF)
def overdue_batches():
    page = queries.batches_page("overdue", int_arg("page"), station_id=station_scope())
    return render_template("batches/batches.html", page=page, status="overdue", today=local_today())


def _batch(batch_id: int) -> Batch:
    return get_visible_or_404(Batch, batch_id, options=BATCH_PAGE_LOADS)


@bp.get("/batches/<int:batch_id>")
@require_roles(*STAFF)
def batch_detail(batch_id: int):
    batch = _batch(batch_id)
    returns = queries.returns_of_batch(batch)
    corrected: dict[int, list[Return]] = {}
    for r in returns:
        if r.corrects_id:
            corrected.setdefault(r.corrects_id, []).append(r)
    return render_template("batches/batch_detail.html", batch=batch, returns=returns, corrected=corrected,
                           pays=line_amount(batch.quantity, batch.piece_rate), today=local_today(),
                           just_issued=request.args.get("issued") == "1")


@bp.get("/batches/<int:batch_id>/ticket.pdf")
@require_roles(*STAFF)
def batch_ticket(batch_id: int):
    batch = _batch(batch_id)
    data = render_pdf("pdf/batch_ticket.html", t=ticket_context(batch))
    return pdf_response(data, f"ticket-{batch.code}.pdf", inline=True)


@bp.get("/batches/<int:batch_id>/ticket/print")
@require_roles(*STAFF)
def ticket_print(batch_id: int):
    """The ticket as a page that opens the print dialog at once (A6, as the PDF), then goes on
    to the batch's page: what "issue the batch and print the ticket" leads to."""
    batch = _batch(batch_id)
    return render_template("pdf/batch_ticket.html", t=ticket_context(batch),
                           print_page=url_for("batches.batch_detail", batch_id=batch.id, issued=1))


@bp.get("/scan")
@require_roles(*STAFF)
def scan():
    """The "scan / enter code" box: a batch code (or a scanned return-page URL) opens the
    batch's return page."""
    raw = (request.args.get("code") or "").strip()
    if not raw:
        return render_template("batches/scan.html", code="", error=None)
    batch = None
    if "/batches/" in raw:
        tail = raw.split("/batches/", 1)[1].split("/", 1)[0]
        if tail.isdigit():
            batch = db.session.scalar(select(Batch).where(Batch.id == int(tail), visible(Batch)))
    else:
        batch = queries.find_batch_by_code(raw)
    if batch is None:
        return render_template("batches/scan.html", code=raw,
                               error=_("No batch with the code %(code)s at your station. Check the code on the ticket.", code=raw)), 404
    return redirect(url_for("batches.record_return", batch_id=batch.id))


@bp.route("/batches/<int:batch_id>/return", methods=["GET", "POST"])
@require_roles(*STAFF)
@form_view
def record_return(batch_id: int):
    batch = _batch(batch_id)
    form = ReturnForm(accepted=batch.outstanding, rejected=0, unused=0, work_date=local_today())
    if form.validate_on_submit():
        def action():
            photo = store_picture(form.photo)
            row = production.record_return(batch=batch, accepted=form.accepted.data, rejected=form.rejected.data,
                                           unused=form.unused.data, work_date=form.work_date.data,
                                           note=form.note.data, user=current_user, photo=photo)
            return url_for("batches.return_receipt", return_id=row.id), _("Return recorded.")

        if done := record_once(form, action):
            return done
        db.session.refresh(batch)
    status = form_status(form)
    return render_template("batches/return_form.html", batch=batch, form=form, today=local_today()), status


@bp.get("/returns/<int:return_id>/receipt")
@require_roles(*STAFF)
def return_receipt(return_id: int):
    row = get_visible_or_404(Return, return_id, options=RECEIPT_LOADS)
    batch = _batch(row.batch_id)
    return render_template("batches/receipt.html", r=row, batch=batch,
                           pays=line_amount(row.accepted, row.piece_rate),
                           still_out=queries.outstanding_after(row, batch))


@bp.get("/returns/<int:return_id>/photo")
@login_required
def return_photo(return_id: int):
    row = get_visible_or_404(Return, return_id)
    if row.photo_id is None:
        abort(404)
    return file_response(db.session.get(StoredFile, row.photo_id))


@bp.route("/batches/<int:batch_id>/correct", methods=["GET", "POST"])
@require_roles(*STAFF)
@form_view
def correct_return(batch_id: int):
    batch = _batch(batch_id)
    original_id = request.values.get("return_id", type=int) or request.values.get("corrects", type=int)
    original = db.session.scalar(select(Return).where(
        Return.id == (original_id or 0), Return.batch_id == batch.id, Return.corrects_id.is_(None), visible(Return)))
    if original is None:
        abort(404)
    form = ReturnForm(corrects=original.id, accepted=0, rejected=0, unused=0)
    if form.validate_on_submit():
        def action():
            production.record_correction(original=original, accepted=form.accepted.data, rejected=form.rejected.data,
                                         unused=form.unused.data, reason=form.reason.data, user=current_user)
            return url_for("batches.batch_detail", batch_id=batch.id), _("Correction recorded.")

        if done := record_once(form, action):
            return done
    status = form_status(form)
    return render_template("batches/correct.html", batch=batch, original=original, form=form), status


@bp.route("/batches/<int:batch_id>/close", methods=["GET", "POST"])
@require_roles(*STAFF)
@form_view
def close_batch(batch_id: int):
    batch = _batch(batch_id)
    form = CloseBatchPageForm()
    missing = batch.outstanding > 0 and batch.status == "open"
    if form.validate_on_submit() and missing and (not form.confirm.data or not form.shortfall_reason()):
        if not form.shortfall_reason():
            form.reason_choice.errors = [_("Choose why pieces are missing, or say it below.")]
        if not form.confirm.data:
            form.confirm.errors = [_("Tick this to close the batch with pieces missing.")]
        form.refusal_status = 422
    elif form.is_submitted() and not form.errors:
        def action():
            reason = form.shortfall_reason() if missing else form.reason.data
            closed = production.close_batch(batch=batch, reason=reason, user=current_user)
            return url_for("batches.batch_detail", batch_id=batch.id), \
                _("Batch %(code)s closed. Shortfall: %(n)s.", code=closed.code, n=closed.shortfall)

        if done := record_once(form, action):
            return done
        db.session.refresh(batch)
    shortfall, deduction = production.shortfall_preview(batch)
    status = form_status(form)
    return render_template("batches/close.html", batch=batch, form=form, shortfall=shortfall,
                           deduction=deduction), status
