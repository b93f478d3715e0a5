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
from app.submission import form_status, record_once
from app.templating import NAV_EXTRA

bp = Blueprint("admin", __name__, url_prefix="/admin")
NAV_EXTRA.append(("admin.staff", _l("Accounts"), ("admin",)))


@bp.route("/stations", methods=["GET", "POST"])
@require_roles("admin")
@form_view
def stations():
    form = StationForm()
    if form.validate_on_submit():
        def action():
            station = org.create_station(form.name.data, form.address.data, form.shortfall_policy.data)
            return url_for("admin.stations"), _("Station %(name)s created.", name=station.name)

        if done := record_once(form, action):
            return done
    rows = db.session.scalars(select(Station).order_by(Station.id)).all()
    return render_template("admin/stations.html", form=form, stations=rows), form_status(form)


@bp.route("/staff", methods=["GET", "POST"])
@require_roles("admin")
@form_view
def staff():
    form = StaffForm()
    form.station_id.choices = [(0, "—")] + [(s.id, s.name) for s in db.session.scalars(select(Station).order_by(Station.id))]
    if form.validate_on_submit():
        def action():
            user = accounts.create_staff(form.username.data, form.password.data, form.role.data,
                                         form.station_id.data or None, form.display_name.data or None)
            return url_for("admin.staff"), _("Account %(name)s created.", name=user.username)

        if done := record_once(form, action):
            return done
    users = db.session.scalars(select(User).options(db.joinedload(User.station)).order_by(User.role, User.username)).all()
    return render_template("admin/staff.html", form=form, users=users, toggle=ToggleForm()), form_status(form)


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
