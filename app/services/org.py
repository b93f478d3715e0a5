"""Stations and workers."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.auth.passwords import hash_secret
from app.extensions import db
from app.models import Station, Worker
from app.services import audit
from app.services.errors import ConflictError, ValidationError

WORKER_FIELDS = ("name", "phone", "station_id", "birth_year", "gender", "groups", "active")


def create_station(name: str, address: str | None = None, shortfall_policy: str = "none") -> Station:
    """A new station with a unique name."""
    name = (name or "").strip()
    if db.session.scalar(select(Station.id).where(Station.name == name)) is not None:
        raise ConflictError(_l("A station with this name exists."), code="station_exists",
                            fields={"name": str(_l("A station with this name exists."))})
    station = Station(name=name, address=address or None, shortfall_policy=shortfall_policy)
    db.session.add(station)
    db.session.flush()
    audit.record("create", "station", station.id, after={"name": name, "shortfall_policy": shortfall_policy})
    return station


def register_worker(*, name: str, phone: str, station_id: int, pin: str, birth_year: int | None = None,
                    gender: str | None = None, groups=(), id_number: str | None = None,
                    bank_account: str | None = None, bank_name: str | None = None,
                    pin_hash: str | None = None) -> Worker:
    """A new worker at an existing station; the phone number is unique, the PIN only hashed
    (``pin_hash`` lets a bulk import hash a shared initial PIN once)."""
    if db.session.get(Station, station_id) is None:
        raise ValidationError(fields={"station_id": str(_l("No such station."))})
    if pin_hash is None:
        from app.services.accounts import check_pin

        check_pin(pin, phone)
    birth_year, gender = facts_from_id_number(id_number, birth_year, gender)
    if db.session.scalar(select(Worker.id).where(Worker.phone == phone)) is not None:
        raise ConflictError(_l("This phone number is already registered."), code="phone_taken",
                            fields={"phone": str(_l("This phone number is already registered."))})
    worker = Worker(name=name.strip(), phone=phone, station_id=station_id, pin_hash=pin_hash or hash_secret(pin),
                    birth_year=birth_year, gender=gender or None, id_number=id_number or None,
                    bank_account=bank_account or None, bank_name=bank_name or None)
    worker.groups = groups
    db.session.add(worker)
    db.session.flush()
    audit.record("create", "worker", worker.id, after=audit.snapshot(worker, WORKER_FIELDS))
    return worker


def set_worker_pin(worker: Worker, pin: str) -> None:
    """A new PIN: see ``accounts.change_worker_pin`` (checked, and every session ends)."""
    from app.services.accounts import change_worker_pin

    change_worker_pin(worker, pin)


SENSITIVE_FIELDS = ("id_number", "bank_account")


def reveal_sensitive(worker: Worker, where: str, user=None) -> dict:
    """The worker's full ID and bank numbers, for an admin who asked to see them: every
    reveal is audited (who, when, where). Pages and the API show them masked otherwise."""
    audit.record("reveal", "worker", worker.id, after={"fields": list(SENSITIVE_FIELDS), "where": where}, user=user)
    return {"id_number": worker.id_number, "bank_account": worker.bank_account, "bank_name": worker.bank_name}


def facts_from_id_number(id_number: str | None, birth_year: int | None, gender: str | None) -> tuple:
    """(birth year, gender) of a worker whose 18-character resident ID number is given: read
    from the number (birth date in characters 7–14, the 17th odd for a man, even for a woman)
    when left out, and refused (422) when typed in and disagreeing with it. Without a number,
    what was typed."""
    from datetime import date as _date

    if not id_number:
        return birth_year, gender or None
    number = id_number.strip().upper()
    errors = {}
    try:
        born = _date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(fields={"id_number": str(_l("This ID number holds no valid birth date."))}) from None
    from_id = "M" if int(number[16]) % 2 else "F"
    if birth_year is not None and birth_year != born.year:
        errors["birth_year"] = str(_l("The ID number says %(year)s.", year=born.year))
    if gender and gender != from_id:
        errors["gender"] = str(_l("The ID number says %(gender)s.", gender=_l("Male") if from_id == "M" else _l("Female")))
    if errors:
        raise ValidationError(fields=errors)
    return born.year, from_id


def update_worker_sensitive(worker: Worker, id_number: str | None, bank_account: str | None,
                            bank_name: str | None) -> None:
    """An admin's change of ID and bank details (the birth year and gender follow the ID
    number, which must agree with them); audited without the numbers themselves."""
    birth_year, gender = facts_from_id_number(id_number, None, None) if id_number else (worker.birth_year, worker.gender)
    changed = [name for name, value in (("id_number", id_number or None), ("bank_account", bank_account or None),
                                        ("bank_name", bank_name or None)) if getattr(worker, name) != value]
    worker.id_number, worker.bank_account, worker.bank_name = id_number or None, bank_account or None, bank_name or None
    if id_number:
        worker.birth_year, worker.gender = birth_year, gender
    db.session.flush()
    if changed:
        audit.record("update", "worker", worker.id, after={"changed": changed})
