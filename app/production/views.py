"""Tablet pages for supervisors and admins: clients and products, orders and the order board,
issuing batches with their printed ticket, recording returns by scan or code, corrections,
closing batches, and the workers of a station. Views are thin: they call the services."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.admin.forms import WorkerForm
from app.extensions import db
from app.forms import form_view
from app.main.views import HOME_PANELS
from app.models import Batch, Client, Order, Product, Return, Station, StoredFile, Worker, local_today
from app.money import line_amount, round_money
from app.pdf import pdf_response, render_pdf
from app.permissions import get_visible_or_404, require_roles, station_choices_for, visible
from app.production import queries
from app.production.forms import (
    BatchForm,
    ClientForm,
    CloseBatchForm,
    OrderEditForm,
    OrderForm,
    ProductForm,
    ReturnForm,
)
from app.production.pages import (
    expected_version,
    form_status,
    int_arg,
    record_once,
    store_picture,
    ticket_context,
)
from app.services import catalog, org, production
from app.services.errors import ValidationError
from app.templating import NAV_EXTRA

bp = Blueprint("production", __name__)

STAFF = ("admin", "supervisor")

NAV_EXTRA.extend([
    ("production.board", _l("Orders board"), STAFF),
    ("production.orders", _l("Orders"), STAFF),
    ("production.batches", _l("Batches"), STAFF),
    ("production.workers", _l("Workers"), STAFF),
    ("production.clients", _l("Clients"), ("admin",)),
    ("production.products", _l("Products"), ("admin",)),
])


def supervisor_home_panel():
    station_id = current_user.station_id
    return "production/_home_panel.html", {"overdue": queries.overdue_count(station_id), "station_id": station_id}


HOME_PANELS["supervisor"].append(supervisor_home_panel)


def own_station_id() -> int | None:
    """The supervisor's station; None for an admin (who acts for every station)."""
    return current_user.station_id if current_user.role == "supervisor" else None


# --- clients (admin)


@bp.get("/clients")
@require_roles("admin")
def clients():
    page = queries.paged(select(Client).order_by(Client.name), int_arg("page"))
    return render_template("production/clients.html", page=page)


@bp.route("/clients/new", methods=["GET", "POST"])
@require_roles("admin")
@form_view
def client_new():
    form = ClientForm()
    if form.validate_on_submit():
        def action():
            client = catalog.create_client(**_client_fields(form))
            return url_for("production.clients"), _("Client %(name)s saved.", name=client.name)

        done = record_once(form, action)
        if done:
            return done
    return render_template("production/client_form.html", form=form, client=None), form_status(form)


@bp.route("/clients/<int:client_id>/edit", methods=["GET", "POST"])
@require_roles("admin")
@form_view
def client_edit(client_id: int):
    client = db.session.get(Client, client_id) or abort(404)
    form = ClientForm(obj=client)
    if request.method == "GET":
        form.version.data = client.version
    if form.validate_on_submit():
        def action():
            catalog.update_client(client, expected_version=expected_version(form), **_client_fields(form))
            return url_for("production.clients"), _("Client %(name)s saved.", name=client.name)

        done = record_once(form, action)
        if done:
            return done
    return render_template("production/client_form.html", form=form, client=client), form_status(form)


def _client_fields(form) -> dict:
    return {"name": form.name.data.strip(), "contact": form.contact.data or None, "phone": form.phone.data or None,
            "address": form.address.data or None, "tax_id": form.tax_id.data or None,
            "payment_terms_days": form.payment_terms_days.data if form.payment_terms_days.data is not None else 30}


# --- products (admin)


@bp.get("/products")
@require_roles("admin")
def products():
    stmt = select(Product).options(joinedload(Product.client)).order_by(Product.active.desc(), Product.name, Product.id)
    page = queries.paged(stmt, int_arg("page"))
    return render_template("production/products.html", page=page)


def _client_choices():
    clients = db.session.scalars(select(Client).order_by(Client.name)).all()
    return [(0, "—")] + [(c.id, c.name) for c in clients]


def _product_fields(form) -> dict:
    return {"client_id": form.client_id.data, "name": form.name.data.strip(), "unit": (form.unit.data or "").strip() or "件",
            "piece_rate": form.piece_rate.data, "unit_price": form.unit_price.data,
            "material_cost": form.material_cost.data, "batch_size": form.batch_size.data}


@bp.route("/products/new", methods=["GET", "POST"])
@require_roles("admin")
@form_view
def product_new():
    form = ProductForm()
    form.client_id.choices = _client_choices()
    if request.method == "GET" and request.args.get("client_id", "").isdigit():
        form.client_id.data = int(request.args["client_id"])
    if form.validate_on_submit():
        def action():
            picture = store_picture(form.picture)
            product = catalog.create_product(picture=picture, **_product_fields(form))
            return url_for("production.product_edit", product_id=product.id), _("Product %(name)s saved.", name=product.name)

        done = record_once(form, action)
        if done:
            return done
    return render_template("production/product_form.html", form=form, product=None, rates=[]), form_status(form)


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@require_roles("admin")
@form_view
def product_edit(product_id: int):
    product = db.session.get(Product, product_id) or abort(404)
    form = ProductForm(obj=product)
    form.client_id.choices = _client_choices()
    if request.method == "GET":
        form.version.data = product.version
    if form.validate_on_submit():
        def action():
            picture = store_picture(form.picture)
            catalog.update_product(product, expected_version=expected_version(form), picture=picture,
                                   **_product_fields(form))
            return url_for("production.product_edit", product_id=product.id), _("Product %(name)s saved.", name=product.name)

        done = record_once(form, action)
        if done:
            return done
        db.session.refresh(product)
    rates = product.rates
    status = form_status(form)
    return render_template("production/product_form.html", form=form, product=product, rates=rates), status


@bp.get("/products/<int:product_id>/picture")
@login_required
def product_picture(product_id: int):
    """A product's picture for pages (staff, and workers seeing what they make)."""
    product = db.session.get(Product, product_id)
    if product is None or product.picture_id is None:
        abort(404)
    if current_user.role == "worker":
        # A worker sees pictures of what they make, nothing of other workers' batches (rule 7).
        held = db.session.scalar(select(Batch.id).where(Batch.worker_id == current_user.id,
                                                        Batch.product_id == product.id).limit(1))
        if held is None:
            abort(404)
    return _file_response(db.session.get(StoredFile, product.picture_id))


def _file_response(stored: StoredFile | None):
    if stored is None:
        abort(404)
    if request.if_none_match and stored.sha256 in request.if_none_match:
        return Response(status=304)
    resp = Response(stored.data, mimetype=stored.content_type)
    resp.headers["Cache-Control"] = "private, max-age=3600"
    resp.set_etag(stored.sha256)
    return resp


# --- orders


def _order_form_choices(form) -> list[Product]:
    form.client_id.choices = _client_choices()
    products = db.session.scalars(select(Product).where(Product.active.is_(True))
                                  .options(joinedload(Product.client)).order_by(Product.name)).unique().all()
    form.product_id.choices = [(0, "—")] + [(p.id, f"{p.name} · {p.client.name}") for p in products]
    stations = station_choices_for()
    form.station_id.choices = [(s.id, s.name) for s in stations]
    if len(stations) > 1:
        form.station_id.choices.insert(0, (0, "—"))
    return products


@bp.get("/orders")
@require_roles(*STAFF)
def orders():
    status = request.args.get("status", "open")
    stmt = queries.order_stmt()
    if status in ("open", "done", "cancelled"):
        stmt = stmt.where(Order.status == status)
    stmt = stmt.order_by(Order.due_date, Order.id) if status == "open" else stmt.order_by(Order.id.desc())
    page = queries.paged(stmt, int_arg("page"))
    rows = queries.with_forecasts(page.items)
    return render_template("production/orders.html", page=page, rows=rows, status=status)


@bp.route("/orders/new", methods=["GET", "POST"])
@require_roles(*STAFF)
@form_view
def order_new():
    form = OrderForm()
    products = _order_form_choices(form)
    if request.method == "GET":
        form.due_date.data = local_today() + timedelta(days=14)
        if len(form.station_id.choices) == 1:
            form.station_id.data = form.station_id.choices[0][0]
    if form.validate_on_submit():
        def action():
            if form.station_id.data not in {s for s, _label in form.station_id.choices if s}:
                raise ValidationError(fields={"station_id": _("No such station.")})
            if form.due_date.data < local_today():
                raise ValidationError(fields={"due_date": _("The due date cannot be before today.")})
            order = production.create_order(client_id=form.client_id.data, product_id=form.product_id.data,
                                            station_id=form.station_id.data, quantity=form.quantity.data,
                                            due_date=form.due_date.data, note=form.note.data, user=current_user)
            return url_for("production.order_detail", order_id=order.id), _("Order %(number)s taken.", number=order.number)

        done = record_once(form, action)
        if done:
            return done
    product_clients = {p.id: p.client_id for p in products}
    return render_template("production/order_form.html", form=form, product_clients=product_clients), \
        form_status(form)


@bp.get("/orders/<int:order_id>")
@require_roles(*STAFF)
def order_detail(order_id: int):
    order = get_visible_or_404(Order, order_id, options=(joinedload(Order.client), joinedload(Order.product),
                                                         joinedload(Order.station)))
    row = queries.with_forecasts([order])[0]
    page = queries.batches_page(None, int_arg("page"), order_id=order.id)
    return render_template("production/order_detail.html", row=row, order=order, page=page, today=local_today())


@bp.route("/orders/<int:order_id>/edit", methods=["GET", "POST"])
@require_roles(*STAFF)
@form_view
def order_edit(order_id: int):
    order = get_visible_or_404(Order, order_id, options=(joinedload(Order.product),))
    form = OrderEditForm(obj=order)
    if request.method == "GET":
        form.version.data = order.version
    if form.validate_on_submit():
        def action():
            production.update_order(order, expected_version=expected_version(form), user=current_user,
                                    quantity=form.quantity.data, due_date=form.due_date.data, note=form.note.data)
            return url_for("production.order_detail", order_id=order.id), _("Order %(number)s saved.", number=order.number)

        done = record_once(form, action)
        if done:
            return done
        order = get_visible_or_404(Order, order_id, options=(joinedload(Order.product),))
    status = form_status(form)
    return render_template("production/order_edit.html", form=form, order=order), status


# --- the order board


@bp.get("/board")
@require_roles(*STAFF)
def board():
    station_id = own_station_id()
    if station_id is None:
        first = db.session.scalar(select(Station.id).order_by(Station.id).limit(1))
        if first is None:
            flash(_("Add a station first."), "warning")
            return redirect(url_for("main.home"))
        station_id = first
    return redirect(url_for("production.station_board", station_id=station_id))


@bp.get("/stations/<int:station_id>/board")
@require_roles(*STAFF)
def station_board(station_id: int):
    station = get_visible_or_404(Station, station_id)
    rows = queries.board_rows(station.id)
    stations = station_choices_for() if current_user.role == "admin" else [station]
    return render_template("production/board.html", station=station, rows=rows, stations=stations,
                           overdue=queries.overdue_count(station.id), today=local_today())


# --- issuing a batch


@bp.route("/orders/<int:order_id>/issue", methods=["GET", "POST"])
@require_roles(*STAFF)
@form_view
def issue_batch(order_id: int):
    order = get_visible_or_404(Order, order_id, options=(joinedload(Order.product), joinedload(Order.client)))
    form = BatchForm()
    if request.method == "GET":
        form.order_id.data = order.id
        form.quantity.data = max(min(order.product.batch_size, order.unissued), 1)
        # A week, or the order's due date if sooner — never a day already past (late orders).
        form.due_date.data = max(local_today(), min(order.due_date, local_today() + timedelta(days=7)))
        if request.args.get("worker_id", "").isdigit():
            form.worker_id.data = int(request.args["worker_id"])
    if form.validate_on_submit():
        def action():
            worker = db.session.scalar(select(Worker).where(Worker.id == form.worker_id.data, visible(Worker)))
            if worker is None:
                raise ValidationError(fields={"worker_id": _("Choose a worker.")})
            batch = production.issue_batch(order=order, worker=worker, quantity=form.quantity.data,
                                           due_date=form.due_date.data, user=current_user)
            return url_for("production.batch_detail", batch_id=batch.id, issued=1), \
                _("Batch %(code)s handed to %(name)s.", code=batch.code, name=worker.name)

        done = record_once(form, action)
        if done:
            return done
        db.session.refresh(order)
    search = (request.args.get("q") or "").strip()
    pickers = queries.worker_rows(order.station_id, search=search, page=int_arg("page"), per_page=12, recent_first=True)
    status = form_status(form)
    return render_template("production/issue.html", order=order, form=form, pickers=pickers, search=search), status


# --- batches


@bp.get("/batches")
@require_roles(*STAFF)
def batches():
    status = request.args.get("status", "open")
    if status not in ("open", "overdue", "closed", "all"):
        status = "open"
    page = queries.batches_page(None if status == "all" else status, int_arg("page"), station_id=own_station_id())
    return render_template("production/batches.html", page=page, status=status, today=local_today())


@bp.get("/batches/overdue")
@require_roles(*STAFF)
def overdue_batches():
    page = queries.batches_page("overdue", int_arg("page"), station_id=own_station_id())
    return render_template("production/batches.html", page=page, status="overdue", today=local_today())


def _batch(batch_id: int) -> Batch:
    return get_visible_or_404(Batch, batch_id, options=(
        joinedload(Batch.worker), joinedload(Batch.product), joinedload(Batch.station),
        joinedload(Batch.order).joinedload(Order.client)))


@bp.get("/batches/<int:batch_id>")
@require_roles(*STAFF)
def batch_detail(batch_id: int):
    batch = _batch(batch_id)
    returns = queries.returns_of_batch(batch)
    corrected = {}
    for r in returns:
        if r.corrects_id:
            corrected.setdefault(r.corrects_id, []).append(r)
    return render_template("production/batch_detail.html", batch=batch, returns=returns, corrected=corrected,
                           pays=line_amount(batch.quantity, batch.piece_rate), today=local_today(),
                           just_issued=request.args.get("issued") == "1")


@bp.get("/batches/<int:batch_id>/ticket.pdf")
@require_roles(*STAFF)
def batch_ticket(batch_id: int):
    batch = _batch(batch_id)
    data = render_pdf("pdf/batch_ticket.html", t=ticket_context(batch))
    return pdf_response(data, f"ticket-{batch.code}.pdf", inline=True)


@bp.get("/scan")
@require_roles(*STAFF)
def scan():
    """The "scan / enter code" box: a batch code (or a scanned return-page URL) opens the
    batch's return page."""
    raw = (request.args.get("code") or "").strip()
    if not raw:
        return render_template("production/scan.html", code="", error=None)
    batch = None
    if "/batches/" in raw:
        tail = raw.split("/batches/", 1)[1].split("/", 1)[0]
        if tail.isdigit():
            batch = db.session.scalar(select(Batch).where(Batch.id == int(tail), visible(Batch)))
    else:
        batch = queries.find_batch_by_code(raw)
    if batch is None:
        return render_template("production/scan.html", code=raw,
                               error=_("No batch with the code %(code)s at your station. Check the code on the ticket.", code=raw)), 404
    return redirect(url_for("production.record_return", batch_id=batch.id))


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
            return url_for("production.return_receipt", return_id=row.id), _("Return recorded.")

        done = record_once(form, action)
        if done:
            return done
        db.session.refresh(batch)
    status = form_status(form)
    return render_template("production/return_form.html", batch=batch, form=form, today=local_today()), status


@bp.get("/returns/<int:return_id>/receipt")
@require_roles(*STAFF)
def return_receipt(return_id: int):
    row = get_visible_or_404(Return, return_id, options=(joinedload(Return.recorded_by),))
    batch = _batch(row.batch_id)
    return render_template("production/receipt.html", r=row, batch=batch,
                           pays=line_amount(row.accepted, row.piece_rate),
                           still_out=queries.outstanding_after(row, batch))


@bp.get("/returns/<int:return_id>/photo")
@login_required
def return_photo(return_id: int):
    row = get_visible_or_404(Return, return_id)
    if row.photo_id is None:
        abort(404)
    return _file_response(db.session.get(StoredFile, row.photo_id))


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
            return url_for("production.batch_detail", batch_id=batch.id), _("Correction recorded.")

        done = record_once(form, action)
        if done:
            return done
    status = form_status(form)
    return render_template("production/correct.html", batch=batch, original=original, form=form), status


@bp.route("/batches/<int:batch_id>/close", methods=["GET", "POST"])
@require_roles(*STAFF)
@form_view
def close_batch(batch_id: int):
    batch = _batch(batch_id)
    form = CloseBatchForm()
    if form.validate_on_submit():
        def action():
            closed = production.close_batch(batch=batch, reason=form.reason.data, user=current_user)
            return url_for("production.batch_detail", batch_id=batch.id), \
                _("Batch %(code)s closed. Shortfall: %(n)s.", code=closed.code, n=closed.shortfall)

        done = record_once(form, action)
        if done:
            return done
        db.session.refresh(batch)
    shortfall = batch.outstanding
    deduction = round_money(shortfall * batch.material_cost) if batch.station.shortfall_policy == "material_cost" else None
    status = form_status(form)
    return render_template("production/close.html", batch=batch, form=form, shortfall=shortfall,
                           deduction=deduction), status


# --- workers


@bp.get("/workers")
@require_roles(*STAFF)
def workers():
    search = (request.args.get("q") or "").strip()
    page = queries.worker_rows(own_station_id(), search=search, page=int_arg("page"))
    return render_template("production/workers.html", page=page, search=search)


@bp.route("/workers/new", methods=["GET", "POST"])
@require_roles(*STAFF)
@form_view
def worker_new():
    form = WorkerForm()
    stations = station_choices_for()
    form.station_id.choices = [(s.id, s.name) for s in stations]
    if len(stations) > 1:
        form.station_id.choices.insert(0, (0, "—"))
    elif request.method == "GET" and stations:
        form.station_id.data = stations[0].id
    if form.validate_on_submit():
        def action():
            if form.station_id.data not in {s.id for s in stations}:
                raise ValidationError(fields={"station_id": _("No such station.")})
            admin = current_user.role == "admin"
            worker = org.register_worker(
                name=form.name.data, phone=form.phone.data.strip(), station_id=form.station_id.data, pin=form.pin.data,
                birth_year=form.birth_year.data, gender=form.gender.data or None, groups=form.groups.data or (),
                id_number=(form.id_number.data or None) if admin else None,
                bank_account=(form.bank_account.data or None) if admin else None,
                bank_name=(form.bank_name.data or None) if admin else None)
            return url_for("production.worker_detail", worker_id=worker.id), _("%(name)s registered.", name=worker.name)

        done = record_once(form, action)
        if done:
            return done
    status = form_status(form)
    return render_template("production/worker_form.html", form=form), status


@bp.get("/workers/<int:worker_id>")
@require_roles(*STAFF)
def worker_detail(worker_id: int):
    worker = get_visible_or_404(Worker, worker_id, options=(joinedload(Worker.station),))
    holding = queries.open_batches_of_worker(worker)
    history = queries.history_of_worker(worker, int_arg("page"))
    recent = queries.recent_accepted_of_worker(worker.id)
    return render_template("production/worker_detail.html", worker=worker, holding=holding, history=history,
                           recent=recent, today=local_today())
