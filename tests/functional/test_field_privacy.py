"""ID and bank numbers are masked on every page and API answer by default; an admin reveals
them on request, and every reveal is audited (finding 11)."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent
from tests.helpers import form_values

ID, BANK = "11010519800101002X", "6222020200112233"


def _reveals():
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "reveal"))


def test_worker_page_masks_until_the_admin_asks_and_records_the_reveal(client, login_as, make):
    worker = make.worker(id_number=ID, bank_account=BANK, bank_name="农商行")
    login_as("admin")
    page = client.get(f"/workers/{worker.id}").text
    assert ID not in page and BANK not in page and "1101**********002X" in page
    assert _reveals() == 0
    shown = client.post(f"/workers/{worker.id}/reveal", data=form_values(page))
    assert shown.status_code == 200 and ID in shown.text and BANK in shown.text
    assert shown.headers["Cache-Control"] == "no-store"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reveal"))
    assert event.entity_id == worker.id and event.after["where"] == "page"
    assert ID not in client.get(f"/workers/{worker.id}").text  # the next visit is masked again
    assert client.post(f"/workers/{worker.id}/reveal", data={}).status_code in (302, 303) and _reveals() == 1  # no token


def test_supervisor_can_neither_see_nor_reveal(client, login_as, make):
    station = make.station()
    worker = make.worker(station=station, id_number=ID, bank_account=BANK)
    login_as("supervisor", station=station)
    page = client.get(f"/workers/{worker.id}").text
    assert ID not in page and "1101" not in page and "/reveal" not in page
    assert client.post(f"/workers/{worker.id}/reveal", data=form_values(page)).status_code == 403


def test_api_masks_by_default_and_reveals_for_an_admin_audited(api, make):
    worker = make.worker(id_number=ID, bank_account=BANK)
    admin = api(role="admin")
    plain = admin.get(f"/workers/{worker.id}").json
    assert plain["id_number"] == "1101**********002X" and plain["bank_account"] == "6222********2233"
    listed = admin.get("/workers").json["items"]
    assert all(ID not in str(item) for item in listed)
    assert _reveals() == 0
    full = admin.get(f"/workers/{worker.id}?reveal=1").json
    assert (full["id_number"], full["bank_account"]) == (ID, BANK) and _reveals() == 1
    sup = api(role="supervisor", station=worker.station)
    body = sup.get(f"/workers/{worker.id}?reveal=1").json
    assert "id_number" not in body and _reveals() == 1


def test_the_edit_form_never_shows_the_numbers_and_empty_keeps_them(client, login_as, make):
    worker = make.worker(id_number=ID, bank_account=BANK, bank_name="农商行", name="马秀兰")
    login_as("admin")
    page = client.get(f"/workers/{worker.id}/edit").text
    assert ID not in page and BANK not in page and "1101**********002X" in page and "6222********2233" in page
    values = form_values(page)
    values.update(name="马秀兰", phone=worker.phone)
    assert client.post(f"/workers/{worker.id}/edit", data=values).status_code == 303
    db.session.refresh(worker)
    assert (worker.id_number, worker.bank_account, worker.birth_year) == (ID, BANK, 1980)
    values = form_values(client.get(f"/workers/{worker.id}/edit").text)
    values.update(name="马秀兰", phone=worker.phone, clear_numbers="y")
    assert client.post(f"/workers/{worker.id}/edit", data=values).status_code == 303
    db.session.refresh(worker)
    assert (worker.id_number, worker.bank_account) == (None, None)
