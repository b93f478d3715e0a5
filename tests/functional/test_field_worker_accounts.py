"""Worker accounts: edit, PIN reset with a printed slip, "忘记 PIN？请找站点管理员" on the
worker's sign-in, birth year and gender read from the ID number and checked against it
(finding 2; disabling and the PATCH endpoint are the security work these pages build on)."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken, Worker
from app.services import org
from app.services.errors import ValidationError
from tests.helpers import form_values


def test_the_worker_sign_in_says_who_helps_with_a_forgotten_pin(client):
    assert "忘记 PIN？请找站点管理员" in client.get("/w/login").text


def test_birth_year_and_gender_come_from_the_id_number_and_must_agree(make):
    station = make.station()
    worker = make.worker(station=station, id_number="640102197501015688")  # 17th digit 8: a woman
    assert (worker.birth_year, worker.gender) == (1975, "F")
    with pytest.raises(ValidationError) as refused:
        make.worker(station=station, id_number="640102197501015678", gender="F")  # 7: a man
    assert "gender" in refused.value.fields
    with pytest.raises(ValidationError) as refused:
        make.worker(station=station, id_number="640102197501015688", birth_year=1980)
    assert "1975" in refused.value.fields["birth_year"]
    db.session.rollback()
    assert org.facts_from_id_number(None, 1980, "M") == (1980, "M")


def test_supervisor_edits_a_worker_and_the_id_must_agree(client, login_as, make):
    station = make.station()
    worker = make.worker(station=station, name="高秀英")
    login_as("supervisor", station=station)
    page = client.get(f"/workers/{worker.id}/edit").text
    values = {**form_values(page), "name": "高秀兰", "phone": worker.phone, "birth_year": "1972", "gender": "F"}
    assert client.post(f"/workers/{worker.id}/edit", data=values).status_code == 303
    db.session.expire_all()
    saved = db.session.get(Worker, worker.id)
    assert (saved.name, saved.birth_year, saved.gender) == ("高秀兰", 1972, "F")


def test_admin_edit_with_a_disagreeing_id_number_stores_nothing(client, login_as, make):
    worker = make.worker(name="高秀英", birth_year=1970, gender="F")
    login_as("admin")
    values = {**form_values(client.get(f"/workers/{worker.id}/edit").text), "name": "高秀英", "phone": worker.phone,
              "birth_year": "1970", "gender": "F", "id_number": "640102197501015678"}
    refused = client.post(f"/workers/{worker.id}/edit", data=values)
    assert refused.status_code == 422 and "身份证号显示" in refused.text
    db.session.expire_all()
    assert db.session.get(Worker, worker.id).id_number is None


def test_pin_reset_prints_a_slip_and_ends_the_workers_sign_ins(client, login_as, make, api):
    station = make.station()
    worker = make.worker(station=station)
    token_client = api(worker)
    assert token_client.get("/me").status_code == 200
    login_as("supervisor", station=station)
    page = client.get(f"/workers/{worker.id}").text
    action = f'action="/workers/{worker.id}/reset-pin"'
    assert action in page
    form = page[page.index(action):]
    slip = client.post(f"/workers/{worker.id}/reset-pin", data=form_values(form))
    assert slip.status_code == 200 and slip.headers["Cache-Control"] == "no-store"
    pin = re.search(r'class="pin-big">(\d{6})<', slip.text).group(1)
    assert "data-print" in slip.text and worker.phone in slip.text
    assert token_client.get("/me").status_code == 401  # every token ended
    from app.auth.passwords import verify_secret

    db.session.expire_all()
    assert verify_secret(db.session.get(Worker, worker.id).pin_hash, pin)
    assert db.session.scalar(select(ApiToken.id).where(ApiToken.worker_id == worker.id, ApiToken.revoked_at.is_(None))) is None
