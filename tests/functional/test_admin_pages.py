from sqlalchemy import func, select

from app.models import Station, User
from tests.helpers import form_values


def test_admin_creates_a_station_and_a_supervisor_account(client, login_as, db):
    login_as("admin")
    page = client.get("/admin/stations")
    resp = client.post("/admin/stations", data={**form_values(page.text), "name": "南湖就业服务站",
                                                "shortfall_policy": "material_cost"})
    assert resp.status_code == 303
    station = db.session.scalar(select(Station).where(Station.name == "南湖就业服务站"))
    assert station.shortfall_policy == "material_cost"
    page = client.get("/admin/staff")
    resp = client.post("/admin/staff", data={**form_values(page.text), "username": "nanhu", "role": "supervisor",
                                             "station_id": str(station.id), "password": "long-password"})
    assert resp.status_code == 303
    assert db.session.scalar(select(User).where(User.username == "nanhu")).station_id == station.id


def test_bad_account_input_shows_chinese_messages_and_stores_nothing(client, login_as, db):
    login_as("admin")
    before = db.session.scalar(select(func.count()).select_from(User))
    page = client.get("/admin/staff")
    resp = client.post("/admin/staff", data={**form_values(page.text), "username": "x y", "role": "supervisor",
                                             "station_id": "0", "password": "short"})
    assert resp.status_code == 422
    assert "至少 8 个字符" in resp.text
    assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_disabling_an_account_signs_it_out_everywhere(client, login_as, make, api, db):
    login_as("admin")
    supervisor = make.staff("supervisor")
    supervisor_api = api(supervisor)
    assert supervisor_api.get("/workers").status_code == 200
    page = client.get("/admin/staff")
    client.post(f"/admin/staff/{supervisor.id}/active", data={"csrf_token": form_values(page.text)["csrf_token"]})
    assert db.session.get(User, supervisor.id).active is False
    assert supervisor_api.get("/workers").status_code == 401


def test_supervisors_may_not_manage_accounts(client, login_as):
    login_as("supervisor")
    assert client.get("/admin/staff").status_code == 403
    assert client.get("/admin/stations").status_code == 403
