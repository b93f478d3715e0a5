"""The workers of a station: the list with what each holds, registering a worker, and a
worker's page."""
from __future__ import annotations

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.forms import BaseForm, form_view
from app.models import Worker, local_today
from app.paging import int_arg
from app.permissions import STAFF, get_visible_or_404, require_roles, sees_sensitive, station_choices_for, station_scope
from app.services import accounts, org
from app.services.errors import ValidationError
from app.submission import form_status, record_once
from app.templating import NAV_EXTRA
from app.workers import queries
from app.workers.forms import PinResetForm, WorkerEditForm, WorkerForm

bp = Blueprint("workers", __name__)

# Loader options built once, at import: get_visible_or_404 keeps a statement for each tuple.
WITH_STATION = (joinedload(Worker.station),)


class RevealForm(BaseForm):
    """A button with its CSRF token: revealing is a deliberate, audited act."""

NAV_EXTRA.append(("workers.workers", _l("Workers"), STAFF))


# --- workers


@bp.get("/workers")
@require_roles(*STAFF)
def workers():
    search = (request.args.get("q") or "").strip()
    page = queries.worker_rows(station_scope(), search=search, page=int_arg("page"))
    return render_template("workers/workers.html", page=page, search=search)


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
            admin = sees_sensitive()
            worker = org.register_worker(
                name=form.name.data, phone=form.phone.data.strip(), station_id=form.station_id.data, pin=form.pin.data,
                birth_year=form.birth_year.data, gender=form.gender.data or None, groups=form.groups.data or (),
                id_number=(form.id_number.data or None) if admin else None,
                bank_account=(form.bank_account.data or None) if admin else None,
                bank_name=(form.bank_name.data or None) if admin else None)
            return url_for("workers.worker_detail", worker_id=worker.id), _("%(name)s registered.", name=worker.name)

        if done := record_once(form, action):
            return done
    status = form_status(form)
    return render_template("workers/worker_form.html", form=form), status


@bp.get("/workers/<int:worker_id>")
@require_roles(*STAFF)
def worker_detail(worker_id: int, revealed: dict | None = None):
    worker = get_visible_or_404(Worker, worker_id, options=WITH_STATION)
    holding = queries.open_batches_of_worker(worker)
    history = queries.history_of_worker(worker, int_arg("page"))
    recent = queries.recent_accepted_of_worker(worker.id)
    return render_template("workers/worker_detail.html", worker=worker, holding=holding, history=history,
                           recent=recent, today=local_today(), revealed=revealed, reveal_form=RevealForm(),
                           pin_form=PinResetForm())


@bp.route("/workers/<int:worker_id>/edit", methods=["GET", "POST"])
@require_roles(*STAFF)
@form_view
def worker_edit(worker_id: int):
    """Correct a worker's details (supervisors: their station's; the ID and bank details:
    admins). The birth year and gender must agree with the ID number."""
    worker = get_visible_or_404(Worker, worker_id)
    admin = sees_sensitive()
    form = WorkerEditForm(obj=worker if request.method == "GET" else None)
    if request.method == "GET":
        form.gender.data = worker.gender or ""
        form.groups.data = worker.groups
        form.id_number.data = form.bank_account.data = None  # masked: typed in only to change them
    if form.validate_on_submit():
        def action():
            cleared = admin and form.clear_numbers.data
            kept_id = None if cleared else worker.id_number
            id_number = (form.id_number.data or kept_id) if admin else worker.id_number
            birth_year, gender = org.facts_from_id_number(id_number, form.birth_year.data, form.gender.data or None)
            accounts.update_worker(worker, {"name": form.name.data, "phone": form.phone.data.strip(),
                                            "birth_year": birth_year, "gender": gender,
                                            "groups": list(form.groups.data or [])})
            if admin:
                org.update_worker_sensitive(worker, id_number,
                                            form.bank_account.data or (None if cleared else worker.bank_account),
                                            form.bank_name.data or None)
            return url_for("workers.worker_detail", worker_id=worker.id), _("%(name)s saved.", name=worker.name)

        if done := record_once(form, action):
            return done
    return render_template("workers/worker_edit.html", form=form, worker=worker), form_status(form)


@bp.post("/workers/<int:worker_id>/reset-pin")
@require_roles(*STAFF)
def worker_reset_pin(worker_id: int):
    """A new random PIN, shown once on a slip to print and hand over; every session and token
    of the worker ends (accounts.reset_worker_pin)."""
    worker = get_visible_or_404(Worker, worker_id, options=WITH_STATION)
    if not PinResetForm().validate_on_submit():
        return redirect(url_for("workers.worker_detail", worker_id=worker.id), 303)
    pin = accounts.reset_worker_pin(worker)
    db.session.commit()
    resp = make_response(render_template("workers/pin_slip.html", worker=worker, pin=pin, today=local_today()))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/workers/<int:worker_id>/reveal")
@require_roles("admin")
def reveal_worker(worker_id: int):
    """The full ID and bank numbers, on this one answer (never cached), audited."""
    worker = get_visible_or_404(Worker, worker_id)
    if not RevealForm().validate_on_submit():
        return redirect(url_for("workers.worker_detail", worker_id=worker.id), 303)
    revealed = org.reveal_sensitive(worker, "page")
    db.session.commit()
    resp = make_response(worker_detail(worker_id, revealed=revealed))
    resp.headers["Cache-Control"] = "no-store"
    return resp
