"""Tokens, stations, workers and the worker's own profile."""
from __future__ import annotations

from flask import Response, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.admin.forms import StationForm
from app.api import bp
from app.api.core import api_endpoint, begin_write_phase, json_response, paginate, parse_json_body, query_int
from app.api.serializers import station_json, worker_json
from app.db_tx import writing
from app.errors import api_error
from app.extensions import db
from app.models import Station, Worker
from app.permissions import get_visible_or_404, sees_sensitive, visible
from app.services import accounts, org
from app.services.accounts import BadCredentials, LoginThrottled
from app.workers.forms import WorkerForm


@bp.post("/auth/token")
def create_token():
    """Exchange a username and password, or a phone and PIN, for a bearer token."""
    body = parse_json_body()
    address = request.remote_addr
    try:
        if body.get("username") is not None:
            account = accounts.authenticate_staff(str(body.get("username")), str(body.get("password") or ""), address)
        elif body.get("phone") is not None:
            account = accounts.authenticate_worker(str(body.get("phone")), str(body.get("pin") or ""), address)
        else:
            return api_error(422, "validation_error", _("Send username and password, or phone and pin."),
                             {"username": _("Required.")})
    except BadCredentials as exc:
        db.session.commit()  # keep the failure count
        return api_error(401, exc.code, exc.message)
    except LoginThrottled as exc:
        db.session.rollback()
        response, status = api_error(429, exc.code, exc.message)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response, status
    token, row = accounts.issue_token(account)
    db.session.commit()
    return json_response({"token": token, "role": account.role,
                          "expires_at": row.expires_at.replace(microsecond=0).isoformat() + "Z"})


@api_endpoint("/stations", "POST", roles=("admin",), form=StationForm, status=201, summary="Create a station")
def create_station(form):
    station = org.create_station(form.name.data, form.address.data, form.shortfall_policy.data)
    return station_json(station), 201


@api_endpoint("/stations", "GET", roles=("admin",), summary="List stations")
def list_stations():
    return paginate(select(Station).order_by(Station.id), station_json)


def _worker_form_station_ok(form) -> None:
    if current_user.role == "supervisor" and form.station_id.data != current_user.station_id:
        from app.services.errors import ValidationError

        raise ValidationError(fields={"station_id": _("You can only register workers at your own station.")})


@api_endpoint("/workers", "POST", roles=("admin", "supervisor"), form=WorkerForm, status=201, summary="Register a worker")
def create_worker(form):
    _worker_form_station_ok(form)
    worker = org.register_worker(
        name=form.name.data, phone=form.phone.data, station_id=form.station_id.data, pin=form.pin.data,
        birth_year=form.birth_year.data, gender=form.gender.data or None, groups=form.groups.data,
        id_number=form.id_number.data, bank_account=form.bank_account.data, bank_name=form.bank_name.data,
    )
    return worker_json(worker), 201


@api_endpoint("/workers", "GET", roles=("admin", "supervisor"), summary="List workers",
              query={"station_id": "integer", "q": "string"})
def list_workers():
    stmt = select(Worker).where(visible(Worker)).order_by(Worker.id)
    station_id = query_int("station_id")
    if station_id is not None:
        stmt = stmt.where(Worker.station_id == station_id)
    if request.args.get("q"):
        q = f"%{request.args['q']}%"
        stmt = stmt.where(Worker.name.like(q) | Worker.phone.like(q))
    return paginate(stmt, worker_json)


@api_endpoint("/workers/<int:worker_id>", "GET", roles=("admin", "supervisor"),
              summary="One worker; ID and bank numbers masked, in full for an admin with ?reveal=1 (audited)",
              query={"reveal": "integer"})
def get_worker(worker_id):
    worker = get_visible_or_404(Worker, worker_id)
    if request.args.get("reveal") == "1" and sees_sensitive():
        db.session.commit()  # end the read; the audit row takes SQLite's write lock up front
        with writing():
            revealed = org.reveal_sensitive(worker, "api")
            db.session.commit()
        return worker_json(worker, revealed)
    return worker_json(worker)


@bp.delete("/auth/token")
def delete_token():
    """End the bearer token this request carries: it answers 401 from then on."""
    header = request.headers.get("Authorization", "")
    begin_write_phase()
    accounts.revoke_token(header[7:].strip())
    db.session.commit()
    return Response(status=204)


@api_endpoint("/workers/<int:worker_id>", "PATCH", roles=("admin", "supervisor"), summary="Change a worker",
              reads_first=True)
def patch_worker(body, worker_id):
    """Any of name, phone, birth_year, gender, groups, active, pin; ``active: false`` or a new
    pin ends the worker's tokens and sessions at once."""
    worker = get_visible_or_404(Worker, worker_id)
    begin_write_phase()
    accounts.update_worker(worker, body)
    return worker_json(worker)


@api_endpoint("/workers/<int:worker_id>/unlock", "POST", roles=("admin", "supervisor"),
              summary="Lift a worker's sign-in lock")
def unlock_worker(body, worker_id):
    worker = get_visible_or_404(Worker, worker_id)
    accounts.unlock_worker(worker)
    return worker_json(worker)


@api_endpoint("/me", "GET", roles=("worker",), summary="The signed-in worker")
def me():
    return worker_json(current_user)
