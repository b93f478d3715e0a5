"""Enterprise admin: stations and staff accounts."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.admin.forms import StaffForm, StationForm, ToggleForm
from app.extensions import db
from app.forms import form_view
from app.models import Station, User
from app.permissions import require_roles
from app.services import accounts, org
from app.services.errors import DomainError
from app.templating import NAV_EXTRA

bp = Blueprint("admin", __name__, url_prefix="/admin")
NAV_EXTRA.append(("admin.staff", _l("Accounts"), ("admin",)))


def _apply_errors(form, exc: DomainError) -> None:
    for name, message in exc.fields.items():
        field = getattr(form, name, None)
        (field.errors if field is not None else form.form_errors).append(message)
    if not exc.fields:
        form.form_errors.append(str(exc.message))


@bp.route("/stations", methods=["GET", "POST"])
@require_roles("admin")
@form_view
def stations():
    form = StationForm()
    if form.validate_on_submit():
        try:
            station = org.create_station(form.name.data, form.address.data, form.shortfall_policy.data)
        except DomainError as exc:
            db.session.rollback()
            _apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Station %(name)s created.", name=station.name), "success")
            return redirect(url_for("admin.stations"))
    rows = db.session.scalars(select(Station).order_by(Station.id)).all()
    return render_template("admin/stations.html", form=form, stations=rows)


@bp.route("/staff", methods=["GET", "POST"])
@require_roles("admin")
@form_view
def staff():
    form = StaffForm()
    form.station_id.choices = [(0, "—")] + [(s.id, s.name) for s in db.session.scalars(select(Station).order_by(Station.id))]
    if form.validate_on_submit():
        try:
            user = accounts.create_staff(form.username.data, form.password.data, form.role.data,
                                         form.station_id.data or None, form.display_name.data or None)
        except DomainError as exc:
            db.session.rollback()
            _apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Account %(name)s created.", name=user.username), "success")
            return redirect(url_for("admin.staff"))
    users = db.session.scalars(select(User).options(db.joinedload(User.station)).order_by(User.role, User.username)).all()
    return render_template("admin/staff.html", form=form, users=users, toggle=ToggleForm())


@bp.post("/staff/<int:user_id>/active")
@require_roles("admin")
def toggle_staff(user_id):
    form = ToggleForm()
    user = db.session.get(User, user_id) or abort(404)
    if form.validate_on_submit():
        accounts.set_staff_active(user, not user.active)
        db.session.commit()
        flash(_("Account %(name)s is now %(state)s.", name=user.username,
                state=_("active") if user.active else _("disabled")), "success")
    return redirect(url_for("admin.staff"))
