"""Orders and the order board: taking an order, changing it, and each station's board of
open orders with their forecast."""
from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.batches.queries import batches_page, overdue_count
from app.catalog.queries import client_choices
from app.extensions import db
from app.forms import form_view
from app.models import Order, Product, Station, local_today
from app.orders import queries
from app.orders.forms import OrderEditForm, OrderForm
from app.orders.progress import progress_bar
from app.paging import int_arg, paged
from app.permissions import STAFF, get_visible_or_404, require_roles, station_choices_for, station_scope
from app.services import production
from app.services.errors import ValidationError
from app.submission import expected_version, form_status, record_once
from app.templating import NAV_EXTRA, format_day, url_for_ids

bp = Blueprint("orders", __name__)
bp.add_app_template_global(progress_bar)  # the bar of _macros/production.html

# Loader options built once, at import: get_visible_or_404 keeps a statement for each tuple.
ORDER_PAGE_LOADS = (joinedload(Order.client), joinedload(Order.product), joinedload(Order.station))
WITH_PRODUCT = (joinedload(Order.product),)

NAV_EXTRA.extend([
    ("orders.board", _l("Orders board"), STAFF),
    ("orders.orders", _l("Orders"), STAFF),
])


def _order_form_choices(form) -> list[Product]:
    form.client_id.choices = client_choices()
    products = db.session.scalars(select(Product).where(Product.active.is_(True))
                                  .options(joinedload(Product.client)).order_by(Product.name)).unique().all()
    form.product_id.choices = [(0, "—")] + [(p.id, f"{p.name} · {p.client.name}") for p in products]
    stations = station_choices_for()
    form.station_id.choices = [(s.id, s.name) for s in stations]
    if len(stations) > 1:
        form.station_id.choices.insert(0, (0, "—"))
    return list(products)


@bp.get("/orders")
@require_roles(*STAFF)
def orders():
    status = request.args.get("status", "open")
    stmt = queries.order_stmt()
    if status in ("open", "done", "cancelled"):
        stmt = stmt.where(Order.status == status)
    stmt = stmt.order_by(Order.due_date, Order.id) if status == "open" else stmt.order_by(Order.id.desc())
    page = paged(stmt, int_arg("page"))
    rows = queries.with_forecasts(page.items)
    return render_template("orders/orders.html", page=page, rows=rows, status=status)


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
            order = production.create_order(client_id=form.client_id.data, product_id=form.product_id.data,
                                            station_id=form.station_id.data, quantity=form.quantity.data,
                                            due_date=form.due_date.data, note=form.note.data, user=current_user,
                                            taken_on=form.taken_on.data)
            return url_for("orders.order_detail", order_id=order.id), _("Order %(number)s taken.", number=order.number)

        if done := record_once(form, action):
            return done
    product_clients = {p.id: p.client_id for p in products}
    return render_template("orders/order_form.html", form=form, product_clients=product_clients, today=local_today()), \
        form_status(form)


@bp.get("/orders/<int:order_id>")
@require_roles(*STAFF)
def order_detail(order_id: int):
    order = get_visible_or_404(Order, order_id, options=ORDER_PAGE_LOADS)
    row = queries.with_forecasts([order])[0]
    page = batches_page(None, int_arg("page"), order_id=order.id)
    return render_template("orders/order_detail.html", row=row, order=order, page=page, today=local_today())


@bp.route("/orders/<int:order_id>/edit", methods=["GET", "POST"])
@require_roles(*STAFF)
@form_view
def order_edit(order_id: int):
    order = get_visible_or_404(Order, order_id, options=WITH_PRODUCT)
    form = OrderEditForm(obj=order)
    if request.method == "GET":
        form.version.data = order.version
    if form.validate_on_submit():
        def action():
            production.update_order(order, expected_version=expected_version(form), user=current_user,
                                    quantity=form.quantity.data, due_date=form.due_date.data, note=form.note.data)
            return url_for("orders.order_detail", order_id=order.id), _("Order %(number)s saved.", number=order.number)

        if done := record_once(form, action):
            return done
        order = get_visible_or_404(Order, order_id, options=WITH_PRODUCT)
    status = form_status(form)
    return render_template("orders/order_edit.html", form=form, order=order), status


# --- the order board


@bp.get("/board")
@require_roles(*STAFF)
def board():
    station_id = station_scope()
    if station_id is None:
        first = db.session.scalar(select(Station.id).order_by(Station.id).limit(1))
        if first is None:
            flash(_("Add a station first."), "warning")
            return redirect(url_for("main.home"))
        station_id = first
    return redirect(url_for("orders.station_board", station_id=station_id))


@bp.get("/stations/<int:station_id>/board")
@require_roles(*STAFF)
def station_board(station_id: int):
    station = get_visible_or_404(Station, station_id)
    cards = _board_cards(queries.board_rows(station.id))
    stations = station_choices_for() if current_user.role == "admin" else [station]
    return render_template("orders/board.html", station=station, cards=cards, stations=stations,
                           overdue=overdue_count(station.id), today=local_today())


class BoardCard(NamedTuple):
    """An open order's card on the board, its cells written as the card shows them."""
    row: queries.BoardRow  # the order (its progress bar), risk, forecast and steps
    id: int
    href: str
    product: Product | queries.BoardProduct  # for its picture and name
    client: str
    number: str
    due: str
    forecast: str | None  # None: no pace yet
    counts: str  # accepted / quantity unit
    issue_href: str | None  # None: nothing to hand out now


def _board_cards(rows: list[queries.BoardRow]) -> list[BoardCard]:
    """The board's rows as their cards: written here once rather than through a dozen template
    expressions, links and filters a card (fifteen cards a station)."""
    order_url = url_for_ids("orders.order_detail", "order_id")
    issue_url = url_for_ids("batches.issue_batch", "order_id")
    cards = []
    for row in rows:
        o = row.order
        cards.append(BoardCard(row, o.id, order_url(o.id), o.product, o.client.name, o.number, format_day(o.due_date),
                               format_day(row.forecast) or None, f"{o.accepted} / {o.quantity} {o.product.unit}",
                               issue_url(o.id) if row.can_issue else None))
    return cards
