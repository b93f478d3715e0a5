"""Clients and products (the catalogue): admin pages, and a product's picture for whoever
may see it."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.catalog.forms import ClientForm, ProductForm
from app.catalog.queries import client_choices
from app.extensions import db
from app.files import file_response, store_picture
from app.forms import form_view
from app.models import Batch, Client, Product, StoredFile
from app.paging import int_arg, paged
from app.permissions import is_record_id, require_roles
from app.services import catalog
from app.submission import expected_version, form_status, record_once
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
    form = ClientForm()
    if form.validate_on_submit():
        def action():
            client = catalog.create_client(**_client_fields(form))
            return url_for("catalog.clients"), _("Client %(name)s saved.", name=client.name)

        done = record_once(form, action)
        if done:
            return done
    return render_template("catalog/client_form.html", form=form, client=None), form_status(form)


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
            return url_for("catalog.clients"), _("Client %(name)s saved.", name=client.name)

        done = record_once(form, action)
        if done:
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

        done = record_once(form, action)
        if done:
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

        done = record_once(form, action)
        if done:
            return done
        db.session.refresh(product)
    rates = product.rates
    status = form_status(form)
    return render_template("catalog/product_form.html", form=form, product=product, rates=rates), status


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
    return file_response(db.session.get(StoredFile, product.picture_id))
