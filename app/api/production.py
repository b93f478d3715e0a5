"""Clients, products, orders, take-home batches and returns over /api/v1.

Every endpoint validates with the same form class as the tablet page and calls the same
service function; the ``api_endpoint`` wrapper checks the role, replays Idempotency-Key
repeats and commits once. Rows another station owns answer 404 (rule 7); a body that names
a row the caller may not see answers 422 on that field, exactly as if it did not exist.
"""
from __future__ import annotations

from functools import lru_cache

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import joinedload, selectinload

from app.api.core import api_endpoint, begin_write_phase, paginate, query_int
from app.batches.forms import BatchForm, CloseBatchForm, ReturnForm
from app.catalog.forms import ClientForm, ProductForm, ProductPatchForm, StepForm
from app.extensions import db
from app.models import Batch, Client, Order, Product, ProductStep, Return, Worker, local_today
from app.money import api_amount, api_rate, line_amount
from app.orders.forms import OrderForm
from app.paging import api_page
from app.permissions import get_visible_or_404, scope_params, visible, visible_to_role
from app.services import catalog, production
from app.services.errors import NotFound, ValidationError

STAFF = ("admin", "supervisor")
ORDER_STATUSES = ("open", "done", "cancelled")
BATCH_STATUSES = ("open", "overdue", "closed")


# --- serializers: money as strings, dates as YYYY-MM-DD


def client_json(c: Client) -> dict:
    return {"id": c.id, "name": c.name, "contact": c.contact, "phone": c.phone, "address": c.address,
            "tax_id": c.tax_id, "payment_terms_days": c.payment_terms_days, "version": c.version}


def step_json(st: ProductStep, with_rates: bool = False) -> dict:
    data = {"id": st.id, "seq": st.seq, "name": st.name, "piece_rate": api_rate(st.piece_rate)}
    if with_rates:
        data["rates"] = [{"piece_rate": api_rate(r.piece_rate),
                          "effective_at": r.effective_at.replace(microsecond=0).isoformat() + "Z",
                          "changed_by": r.changed_by} for r in st.rates]
    return data


def product_json(p: Product, with_rates: bool = False) -> dict:
    data = {"id": p.id, "client_id": p.client_id, "name": p.name, "unit": p.unit,
            "piece_rate": api_rate(p.piece_rate), "unit_price": api_rate(p.unit_price),
            "material_cost": api_rate(p.material_cost), "batch_size": p.batch_size,
            "picture_id": p.picture_id, "active": p.active, "version": p.version,
            "steps": [step_json(st, with_rates) for st in p.steps]}
    if with_rates:
        data["rates"] = [{"piece_rate": api_rate(r.piece_rate), "unit_price": api_rate(r.unit_price),
                          "material_cost": api_rate(r.material_cost),
                          "effective_at": r.effective_at.replace(microsecond=0).isoformat() + "Z",
                          "changed_by": r.changed_by} for r in p.rates]
    return data


def order_step_json(st: dict) -> dict:
    return {"step_id": st["step_id"], "seq": st["seq"], "name": st["name"],
            "piece_rate": api_rate(st["piece_rate"]) if st["piece_rate"] is not None else None,
            "issued": st["issued"], "accepted": st["accepted"], "rejected": st["rejected"], "out": st["out"],
            "available": st["available"]}


def order_json(o: Order, recent: int | None = None, today=None, names: tuple[str, str] | None = None,
               steps: list[dict] | None = None) -> dict:
    """An order with its progress: ``issued`` is what was handed out net of unused materials
    returned (out with workers + accepted + rejected), so ``issued + unissued == quantity``.
    ``names`` (client, product) spares loading both objects when the caller selected them."""
    today = today or local_today()
    client, product = names or (o.client.name, o.product.name)
    if recent is None:
        recent = production.recent_accepted_by_order([o.id], today).get(o.id, 0)
    forecast = production.forecast_from_pace(o, recent, today)
    if steps is None:
        steps = production.order_steps(o)
    return {
        "id": o.id, "number": o.number, "client_id": o.client_id, "product_id": o.product_id,
        "station_id": o.station_id, "client": client, "product": product,
        "quantity": o.quantity, "taken_on": o.taken_on.isoformat(), "due_date": o.due_date.isoformat(), "note": o.note,
        "unit_price": api_rate(o.unit_price), "status": o.status,
        "issued": o.committed, "accepted": o.accepted, "rejected": o.rejected, "out": o.out_with_workers,
        "unissued": o.unissued, "invoiced": o.invoiced,
        "forecast_date": forecast.isoformat() if forecast else None,
        "at_risk": production.is_at_risk(o, forecast, today), "version": o.version,
        "steps": [order_step_json(st) for st in steps],
    }


def return_json(r: Return | Row) -> dict:
    return {"id": r.id, "batch_id": r.batch_id, "worker_id": r.worker_id, "accepted": r.accepted,
            "rejected": r.rejected, "unused": r.unused, "work_date": r.work_date.isoformat(),
            "piece_rate": api_rate(r.piece_rate), "corrects": r.corrects_id, "reason": r.reason,
            "note": r.note, "photo_id": r.photo_id,
            "recorded_at": r.recorded_at.replace(microsecond=0).isoformat() + "Z"}


def batch_json(b: Batch, today=None) -> dict:
    today = today or local_today()
    return {
        "id": b.id, "code": b.code, "order_id": b.order_id, "order_number": b.order.number,
        "worker_id": b.worker_id, "worker": b.worker.name, "station_id": b.station_id,
        "product_id": b.product_id, "product": b.product.name, "unit": b.product.unit,
        "step_id": b.step_id, "step": b.step,
        "quantity": b.quantity, "piece_rate": api_rate(b.piece_rate),
        "pays_if_all_accepted": api_amount(line_amount(b.quantity, b.piece_rate)),
        "accepted": b.accepted, "rejected": b.rejected, "unused": b.unused, "outstanding": b.outstanding,
        "issued_on": b.issued_on.isoformat(), "due_date": b.due_date.isoformat(), "status": b.status,
        "overdue": b.is_overdue(today),
        "shortfall": b.shortfall, "shortfall_policy": b.shortfall_policy,
        "shortfall_deduction": api_amount(b.shortfall_deduction),
        "closed_on": b.closed_on.isoformat() if b.closed_on else None, "close_reason": b.close_reason,
    }


# Many-to-one, so joined into the row query itself: one query per page or per record.
BATCH_LOADS = (joinedload(Batch.order), joinedload(Batch.worker), joinedload(Batch.product),
               joinedload(Batch.product_step))
ORDER_LOADS = (joinedload(Order.client), joinedload(Order.product))
# Built once, at import, like those: get_visible_or_404 keeps a statement for each tuple.
PRODUCT_WITH_RATES = (selectinload(Product.rates), selectinload(Product.steps).selectinload(ProductStep.rates))


def _int_arg(name: str) -> int | None:
    return query_int(name)


def _choice_arg(name: str, choices) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in choices:
        raise ValidationError(fields={name: _("One of: %(choices)s.", choices=", ".join(choices))})
    return value


def _visible_or_field_error(model, object_id, field: str, message: str):
    """A row named in the body: one the caller may not see is reported like a missing one."""
    obj = db.session.scalar(select(model).where(model.id == object_id, visible(model)))
    if obj is None:
        raise ValidationError(fields={field: message})
    return obj


def _sent(form, body_keys) -> dict:
    """A PATCH's changes: the validated values of the fields the body actually sent."""
    return {name: form[name].data for name in body_keys if name in form._fields and name != "version"}


# --- clients and products (admin)


@api_endpoint("/clients", "POST", roles=("admin",), form=ClientForm, status=201, summary="Create a client")
def api_create_client(form):
    client = catalog.create_client(name=form.name.data, contact=form.contact.data, phone=form.phone.data,
                                   address=form.address.data, tax_id=form.tax_id.data,
                                   payment_terms_days=form.payment_terms_days.data)
    return client_json(client), 201


@api_endpoint("/clients", "GET", roles=("admin",), summary="List clients", query={"q": "string"})
def api_list_clients():
    stmt = select(Client).order_by(Client.name, Client.id)
    if request.args.get("q"):
        stmt = stmt.where(Client.name.like(f"%{request.args['q']}%"))
    return paginate(stmt, client_json)


@api_endpoint("/products", "POST", roles=("admin",), form=ProductForm, status=201, summary="Create a product")
def api_create_product(form):
    steps = form._api_body.get("steps")
    if steps is not None and (not isinstance(steps, list) or not all(isinstance(st, dict) for st in steps)):
        raise ValidationError(fields={"steps": _("A list of {name, piece_rate}.")})
    product = catalog.create_product(client_id=form.client_id.data, name=form.name.data,
                                     piece_rate=form.piece_rate.data, unit_price=form.unit_price.data,
                                     unit=form.unit.data, material_cost=form.material_cost.data,
                                     batch_size=form.batch_size.data, steps=steps or None)
    db.session.refresh(product, ["rates", "steps"])
    return product_json(product, with_rates=True), 201


@api_endpoint("/products", "GET", roles=("admin",), summary="List products",
              query={"client_id": "integer", "q": "string"})
def api_list_products():
    stmt = select(Product).order_by(Product.client_id, Product.name, Product.id)
    client_id = _int_arg("client_id")
    if client_id is not None:
        stmt = stmt.where(Product.client_id == client_id)
    if request.args.get("q"):
        stmt = stmt.where(Product.name.like(f"%{request.args['q']}%"))
    return paginate(stmt.options(selectinload(Product.steps)), product_json)


@api_endpoint("/products/<int:product_id>", "GET", roles=("admin",), summary="One product with its rate history")
def api_get_product(product_id):
    product = get_visible_or_404(Product, product_id, options=PRODUCT_WITH_RATES)
    return product_json(product, with_rates=True)


@api_endpoint("/products/<int:product_id>", "PATCH", roles=("admin",), form=ProductPatchForm,
              summary="Change a product; a new rate or price is dated in its history")
def api_update_product(form, product_id):
    product = get_visible_or_404(Product, product_id)
    changes = _sent(form, form._api_body.keys())
    if "name" in changes and not (changes["name"] or "").strip():
        raise ValidationError(fields={"name": _("Required.")})
    catalog.update_product(product, expected_version=form.version.data, **changes)
    db.session.refresh(product, ["rates", "steps"])
    return product_json(product, with_rates=True)


@api_endpoint("/products/<int:product_id>/steps/<int:step_id>", "PATCH", roles=("admin",), form=StepForm,
              summary="Rename or re-rate a step; later batches of that step take the new rate")
def api_update_step(form, product_id, step_id):
    product = get_visible_or_404(Product, product_id)
    step = db.session.get(ProductStep, step_id)
    if step is None or step.product_id != product.id:
        raise NotFound()
    changes = _sent(form, form._api_body.keys())
    if "name" in changes and not (changes["name"] or "").strip():
        raise ValidationError(fields={"name": _("Required.")})
    catalog.update_step(step, name=changes.get("name"), piece_rate=changes.get("piece_rate"),
                        effective_on=changes.get("effective_on"), expected_version=form.version.data)
    db.session.refresh(step, ["rates"])
    return step_json(step, with_rates=True)


# --- orders (admin, supervisor: own station)


@api_endpoint("/orders", "POST", roles=STAFF, form=OrderForm, status=201, summary="Take an order")
def api_create_order(form):
    if current_user.role == "supervisor" and form.station_id.data != current_user.station_id:
        raise ValidationError(fields={"station_id": _("You can only take orders for your own station.")})
    order = production.create_order(client_id=form.client_id.data, product_id=form.product_id.data,
                                    station_id=form.station_id.data, quantity=form.quantity.data,
                                    due_date=form.due_date.data, note=form.note.data, user=current_user,
                                    taken_on=form.taken_on.data)
    return order_json(order, recent=0), 201


@lru_cache(maxsize=64)
def _orders_stmt(role: str, filters: tuple):
    """The order list (the board asks it on every refresh) for a role and the filters given,
    built once: values, the user's scope, limit and offset are bound parameters. The client's
    and product's names come as columns of the same row, not as two more loaded objects."""
    stmt = (select(Order, Client.name, Product.name).join(Order.client).join(Order.product)
            .where(visible_to_role(Order, role)).order_by(Order.due_date, Order.id))
    for name in filters:
        stmt = stmt.where(getattr(Order, name) == bindparam(name))
    return stmt.limit(bindparam("limit")).offset(bindparam("offset"))


@api_endpoint("/orders", "GET", roles=STAFF, summary="List orders (the order board with status=open)",
              query={"status": "string", "station_id": "integer", "client_id": "integer"})
def api_list_orders():
    filters = {"status": _choice_arg("status", ORDER_STATUSES), "station_id": _int_arg("station_id"),
               "client_id": _int_arg("client_id")}
    given = tuple(name for name, value in filters.items() if value is not None)
    stmt = _orders_stmt(current_user.role, given)
    page = api_page(stmt, {**{name: filters[name] for name in given}, **scope_params()}, scalars=False)
    rows = page.items
    today = local_today()
    recent = production.recent_accepted_by_order([o.id for o, _client, _product in rows], today)
    steps = production.order_steps_many([o for o, _client, _product in rows])
    return {"items": [order_json(o, recent.get(o.id, 0), today, (client, product), steps[o.id])
                      for o, client, product in rows], **page.envelope()}


@api_endpoint("/orders/<int:order_id>", "GET", roles=STAFF, summary="One order with its progress and forecast")
def api_get_order(order_id):
    return order_json(get_visible_or_404(Order, order_id, options=ORDER_LOADS))


# --- batches and returns (supervisor, admin)


@api_endpoint("/batches", "POST", roles=STAFF, form=BatchForm, status=201, summary="Issue a take-home batch")
def api_issue_batch(form):
    order = _visible_or_field_error(Order, form.order_id.data, "order_id", _("No such order."))
    worker = _visible_or_field_error(Worker, form.worker_id.data, "worker_id", _("No such worker."))
    batch = production.issue_batch(order=order, worker=worker, quantity=form.quantity.data,
                                   due_date=form.due_date.data, user=current_user, issued_on=form.issued_on.data,
                                   step_id=form.step_id.data)
    return batch_json(batch), 201


@api_endpoint("/batches", "GET", roles=STAFF, summary="List batches",
              query={"status": "string", "worker_id": "integer", "order_id": "integer", "station_id": "integer"})
def api_list_batches():
    today = local_today()
    stmt = select(Batch).where(visible(Batch)).options(*BATCH_LOADS)
    status = _choice_arg("status", BATCH_STATUSES)
    if status == "overdue":
        stmt = stmt.where(Batch.overdue_clause(today)).order_by(Batch.due_date, Batch.id)
    else:
        if status:
            stmt = stmt.where(Batch.status == status)
        stmt = stmt.order_by(Batch.id.desc())
    for name, column in (("worker_id", Batch.worker_id), ("order_id", Batch.order_id), ("station_id", Batch.station_id)):
        value = _int_arg(name)
        if value is not None:
            stmt = stmt.where(column == value)
    return paginate(stmt, lambda b: batch_json(b, today))


@api_endpoint("/batches/<int:batch_id>", "GET", roles=STAFF, summary="One batch with its returns (the return page's data)")
def api_get_batch(batch_id):
    batch = get_visible_or_404(Batch, batch_id, options=BATCH_LOADS)
    returns = db.session.execute(_RETURNS_OF_BATCH, {"batch_id": batch.id}).all()
    return {**batch_json(batch), "returns": [return_json(r) for r in returns]}


# The return page's rows, asked on every visit: plain rows (the page only shows them), built once.
_RETURNS_OF_BATCH = select(*Return.__table__.c).where(Return.batch_id == bindparam("batch_id")).order_by(Return.id)


@api_endpoint("/batches/<int:batch_id>/returns", "POST", roles=STAFF, form=ReturnForm, status=201, reads_first=True,
              summary="Record what came back, or correct a recorded return")
def api_record_return(form, batch_id):
    batch = get_visible_or_404(Batch, batch_id)
    counts = {"accepted": form.accepted.data or 0, "rejected": form.rejected.data or 0, "unused": form.unused.data or 0}
    if form.corrects.data is not None:
        original = db.session.scalar(select(Return).where(Return.id == form.corrects.data, Return.batch_id == batch.id))
        if original is None:
            raise ValidationError(fields={"corrects": _("No such return on this batch.")})
        begin_write_phase()
        row = production.record_correction(original=original, reason=form.reason.data, user=current_user,
                                           work_date=form.work_date.data, **counts)
    else:
        begin_write_phase()
        row = production.record_return(batch=batch, work_date=form.work_date.data, note=form.note.data,
                                       user=current_user, recorded_at=form.recorded_at.data, **counts)
    return return_json(row), 201


@api_endpoint("/batches/<int:batch_id>/close", "POST", roles=STAFF, form=CloseBatchForm,
              summary="Close a batch; what never came back is its shortfall")
def api_close_batch(form, batch_id):
    batch = get_visible_or_404(Batch, batch_id, options=BATCH_LOADS)
    production.close_batch(batch=batch, reason=form.reason.data, user=current_user)
    return batch_json(batch)


# --- the plan: who gets the next batches of one step


def _date_arg(value, name: str):
    from datetime import date as _date

    if value in (None, ""):
        return None
    try:
        return _date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(fields={name: _("Enter a date as YYYY-MM-DD.")}) from None


def plan_json(plan) -> dict:
    return {"order_id": plan.order_id, "step_id": plan.step_id, "available": plan.available,
            "due_date": plan.due_date.isoformat(), "feasible": plan.feasible, "unplaced": plan.unplaced,
            "days_late": plan.days_late,
            "items": [{"worker_id": ln.worker_id, "name": ln.name, "quantity": ln.quantity,
                       "pace_per_day": str(ln.pace_per_day), "holding": ln.holding,
                       "expected_done": ln.expected_done.isoformat()} for ln in plan.items]}


@api_endpoint("/orders/<int:order_id>/plan", "GET", roles=STAFF, query={"step_id": "integer", "due_date": "string"},
              summary="A suggested split of what one step can hand out now, by each worker's pace")
def api_order_plan(order_id):
    from app.services import planning

    order = get_visible_or_404(Order, order_id)
    plan = planning.suggest_plan(order, step_id=_int_arg("step_id"),
                                 due_date=_date_arg(request.args.get("due_date"), "due_date"))
    return plan_json(plan)


@api_endpoint("/orders/<int:order_id>/plan/issue", "POST", roles=STAFF, status=201,
              summary="Issue a plan's batches: every one or none")
def api_issue_plan(body, order_id):
    from app.services import planning

    order = get_visible_or_404(Order, order_id)
    items = body.get("items")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ValidationError(fields={"items": _("A list of {worker_id, quantity}.")})
    step_id = body.get("step_id")
    if step_id is not None and (not isinstance(step_id, int) or isinstance(step_id, bool)):
        raise ValidationError(fields={"step_id": _("Must be a whole number.")})
    batches = planning.issue_plan(order, items, step_id=step_id, due_date=_date_arg(body.get("due_date"), "due_date"),
                                  user=current_user)
    for batch in batches:
        db.session.refresh(batch)
    return {"batches": [batch_json(b) for b in batches]}, 201
