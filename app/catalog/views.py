"""Clients and products (the catalogue): admin pages, and a product's picture for whoever
may see it."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.catalog.forms import ClientForm, ProductForm, StepMoveForm, StepNewForm, StepRateForm, StepRenameForm
from app.catalog.queries import client_choices, step_rates, steps_overview
from app.extensions import db
from app.files import file_response, store_picture
from app.forms import form_view
from app.models import Client, Product, ProductStep, StoredFile, local_today
from app.paging import int_arg, paged
from app.permissions import is_record_id, product_picture_or_404, require_roles
from app.services import catalog
from app.submission import expected_version, flash_refusal, form_status, record_once
from app.templating import NAV_EXTRA

bp = Blueprint("catalog", __name__)

NAV_EXTRA.extend([
    ("catalog.clients", _l("Clients"), ("admin",)),
    ("catalog.products", _l("Products"), ("admin",)),
])


# --- clients (admin)


@bp.get("/clients")
@require_roles("admin")
def clients():
    page = paged(select(Client).order_by(Client.name), int_arg("page"))
    return render_template("catalog/clients.html", page=page)


@bp.route("/clients/new", methods=["GET", "POST"])
@require_roles("admin")
@form_view
def client_new():
    return _client_form(None)


@bp.route("/clients/<int:client_id>/edit", methods=["GET", "POST"])
@require_roles("admin")
@form_view
def client_edit(client_id: int):
    return _client_form(db.session.get(Client, client_id) or abort(404))


def _client_form(client: Client | None):
    """A new client's form, or an existing one's (its version guards against a later save)."""
    form = ClientForm(obj=client)
    if request.method == "GET" and client is not None:
        form.version.data = client.version
    if form.validate_on_submit():
        def action():
            if client is None:
                saved = catalog.create_client(**_client_fields(form))
            else:
                saved = catalog.update_client(client, expected_version=expected_version(form), **_client_fields(form))
            return url_for("catalog.clients"), _("Client %(name)s saved.", name=saved.name)

        if done := record_once(form, action):
            return done
    return render_template("catalog/client_form.html", form=form, client=client), form_status(form)


def _client_fields(form) -> dict:
    return {"name": form.name.data.strip(), "contact": form.contact.data or None, "phone": form.phone.data or None,
            "address": form.address.data or None, "tax_id": form.tax_id.data or None,
            "payment_terms_days": form.payment_terms_days.data if form.payment_terms_days.data is not None else 30}


# --- products (admin)


@bp.get("/products")
@require_roles("admin")
def products():
    stmt = select(Product).options(joinedload(Product.client)).order_by(Product.active.desc(), Product.name, Product.id)
    page = paged(stmt, int_arg("page"))
    return render_template("catalog/products.html", page=page)


def _product_fields(form) -> dict:
    return {"client_id": form.client_id.data, "name": form.name.data.strip(), "unit": (form.unit.data or "").strip() or "件",
            "piece_rate": form.piece_rate.data, "unit_price": form.unit_price.data,
            "material_cost": form.material_cost.data, "batch_size": form.batch_size.data}


@bp.route("/products/new", methods=["GET", "POST"])
@require_roles("admin")
@form_view
def product_new():
    form = ProductForm()
    form.client_id.choices = client_choices()
    if request.method == "GET" and is_record_id(request.args.get("client_id")):
        form.client_id.data = int(request.args["client_id"])
    if form.validate_on_submit():
        def action():
            picture = store_picture(form.picture)
            product = catalog.create_product(picture=picture, **_product_fields(form))
            return url_for("catalog.product_edit", product_id=product.id), _("Product %(name)s saved.", name=product.name)

        if done := record_once(form, action):
            return done
    return render_template("catalog/product_form.html", form=form, product=None, rates=[]), form_status(form)


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@require_roles("admin")
@form_view
def product_edit(product_id: int):
    product = db.session.get(Product, product_id) or abort(404)
    form = ProductForm(obj=product)
    form.client_id.choices = client_choices()
    if request.method == "GET":
        form.version.data = product.version
    if form.validate_on_submit():
        def action():
            picture = store_picture(form.picture)
            catalog.update_product(product, expected_version=expected_version(form), picture=picture,
                                   **_product_fields(form))
            return url_for("catalog.product_edit", product_id=product.id), _("Product %(name)s saved.", name=product.name)

        if done := record_once(form, action):
            return done
        db.session.refresh(product)
    return _product_page(product, form)


def _product_page(product: Product, form: ProductForm | None = None, step_form: StepNewForm | None = None):
    """The product's page: its own form, its steps (with the form adding one) and its rates;
    the status is that of the form that was sent (422/409 on a refusal)."""
    if form is None:
        form = ProductForm(obj=product, formdata=None)
        form.client_id.choices = client_choices()
        form.version.data = product.version
    today = local_today()
    step_form = step_form or StepNewForm(prefix="step", formdata=None)
    if step_form.effective_on.data is None:
        step_form.effective_on.data = today
    status = max(form_status(form), form_status(step_form))
    overview = steps_overview(product.id, today)
    # One form a step: each move carries a key of its own.
    move_forms = {row["step"].id: StepMoveForm(prefix="move", formdata=None) for row in overview["steps"]}
    return render_template("catalog/product_form.html", form=form, product=product, rates=product.rates,
                           overview=overview, step_form=step_form, move_forms=move_forms), status


# --- a product's steps (admin): add, rename, give a dated rate, reorder while unused


def _step_of(product: Product, step_id: int) -> ProductStep:
    step = db.session.get(ProductStep, step_id)
    if step is None or step.product_id != product.id:
        abort(404)
    return step


@bp.post("/products/<int:product_id>/steps")
@require_roles("admin")
@form_view
def step_new(product_id: int):
    product = db.session.get(Product, product_id) or abort(404)
    form = StepNewForm(prefix="step")
    if form.validate_on_submit():
        def action():
            step = catalog.add_step(product, name=form.name.data, piece_rate=form.piece_rate.data,
                                    effective_on=form.effective_on.data)
            return url_for("catalog.product_edit", product_id=product.id), _("Step %(name)s added.", name=step.name)

        if done := record_once(form, action):
            return done
        db.session.refresh(product)
    return _product_page(product, step_form=form)


def _step_form(product_id: int, step_id: int, form, slot: str, act, prefill=None):
    """A form of a step's page: ``act(product, step)`` records it once and answers (url,
    message); otherwise the page again, with the form (``slot``) and its status."""
    product = db.session.get(Product, product_id) or abort(404)
    step = _step_of(product, step_id)
    if request.method == "GET":
        form.version.data = product.version  # the product's as the page shows it (rule 9)
        if prefill is not None:
            prefill(step)
    if form.validate_on_submit():
        if done := record_once(form, lambda: act(product, step)):
            return done
    return _step_page(product, step, **{slot: form})


@bp.route("/products/<int:product_id>/steps/<int:step_id>", methods=["GET", "POST"])
@require_roles("admin")
@form_view
def step_edit(product_id: int, step_id: int):
    """A step's page: its name (renamed here) and its rate history (a new dated rate below)."""
    form = StepRenameForm(prefix="rename")

    def act(product, step):
        catalog.update_step(step, name=form.name.data, expected_version=expected_version(form))
        return url_for("catalog.product_edit", product_id=product.id), _("Step %(name)s saved.", name=step.name)

    return _step_form(product_id, step_id, form, "rename_form", act,
                      prefill=lambda step: setattr(form.name, "data", step.name))


@bp.post("/products/<int:product_id>/steps/<int:step_id>/rates")
@require_roles("admin")
@form_view
def step_rate(product_id: int, step_id: int):
    form = StepRateForm(prefix="rate")

    def act(product, step):
        catalog.update_step(step, piece_rate=form.piece_rate.data, effective_on=form.effective_on.data,
                            expected_version=expected_version(form))
        return (url_for("catalog.step_edit", product_id=product.id, step_id=step.id),
                _("New rate for %(name)s saved.", name=step.name))

    return _step_form(product_id, step_id, form, "rate_form", act)


def _step_page(product: Product, step: ProductStep, rename_form: StepRenameForm | None = None,
               rate_form: StepRateForm | None = None):
    today = local_today()
    db.session.refresh(product)
    if rename_form is None:
        rename_form = StepRenameForm(prefix="rename", formdata=None)
        rename_form.name.data = step.name
        rename_form.version.data = product.version
    if rate_form is None:
        rate_form = StepRateForm(prefix="rate", formdata=None)
        rate_form.effective_on.data = today
        rate_form.version.data = product.version
    db.session.refresh(step)
    status = max(form_status(rename_form), form_status(rate_form))
    return render_template("catalog/step_form.html", product=product, step=step, rename_form=rename_form,
                           rate_form=rate_form, rate_now=catalog.rate_on(step, today),
                           rates=step_rates(step, today)), status


@bp.post("/products/<int:product_id>/steps/<int:step_id>/move")
@require_roles("admin")
def step_move(product_id: int, step_id: int):
    """One place up or down, then back to the product's page (a refusal is flashed there)."""
    product = db.session.get(Product, product_id) or abort(404)
    step = _step_of(product, step_id)
    form = StepMoveForm(prefix="move")
    back = url_for("catalog.product_edit", product_id=product.id)
    if form.validate_on_submit():
        offset = {"up": -1, "down": 1}.get(form.direction.data or "", 0)

        def action():
            catalog.move_step(step, offset)
            return back, _("Steps reordered.")

        if done := record_once(form, action):
            return done
    flash_refusal(form)
    return redirect(back, 303)


@bp.get("/products/<int:product_id>/picture")
@login_required
def product_picture(product_id: int):
    """A product's picture for pages (staff, and workers seeing what they make)."""
    return file_response(db.session.get(StoredFile, product_picture_or_404(product_id)))
