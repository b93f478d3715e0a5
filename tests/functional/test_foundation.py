"""Configuration safety, money without floats from form to database, worker lock-out, demo data."""
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from werkzeug.datastructures import MultiDict

from app.catalog.forms import ProductForm
from app.models import Batch, Client, Order, Return, Station, User, Worker
from app.money import Money
from app.services import catalog
from tests.helpers import csrf_token

ROOT = Path(__file__).resolve().parents[2]


def _run_python(code: str, **env):
    full_env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "JIJIAN_ENV", "FLASK_DEBUG")}
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full_env, capture_output=True, text=True)


def test_production_refuses_to_start_without_a_real_secret_key(tmp_path):
    done = _run_python("from app import create_app; create_app()", JIJIAN_ENV="production", JIJIAN_INSTANCE=str(tmp_path))
    assert done.returncode != 0 and "SECRET_KEY" in done.stderr


def test_production_refuses_to_start_with_debug_on(tmp_path):
    done = _run_python("from app import create_app; create_app()", JIJIAN_ENV="production", SECRET_KEY="x" * 40,
                       FLASK_DEBUG="1", JIJIAN_INSTANCE=str(tmp_path))
    assert done.returncode != 0 and "debug" in done.stderr


def test_local_runs_generate_a_secret_key_once_and_keep_it(tmp_path):
    code = "from app import create_app; print(create_app().config['SECRET_KEY'])"
    first = _run_python(code, JIJIAN_INSTANCE=str(tmp_path))
    second = _run_python(code, JIJIAN_INSTANCE=str(tmp_path))
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and len(first.stdout.strip()) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(app, db):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_no_float_on_the_path_from_a_form_to_the_database_and_back(app, db, make, monkeypatch):
    seen = []
    original = Money.process_bind_param

    def spy(self, value, dialect):
        seen.append(type(value))
        return original(self, value, dialect)

    monkeypatch.setattr(Money, "process_bind_param", spy)
    client = make.client()
    form = ProductForm(formdata=MultiDict({"client_id": str(client.id), "name": "黑枸杞礼盒", "piece_rate": "0.0350",
                                           "unit_price": "0.60", "material_cost": "0.05", "batch_size": "200"}),
                       meta={"csrf": False})
    assert form.validate(), form.errors
    assert isinstance(form.piece_rate.data, Decimal)
    product = catalog.create_product(client_id=client.id, name=form.name.data, piece_rate=form.piece_rate.data,
                                     unit_price=form.unit_price.data, material_cost=form.material_cost.data)
    db.session.commit()
    assert seen and all(t is Decimal for t in seen), seen
    raw = db.session.execute(text("SELECT piece_rate FROM products WHERE id = :id"), {"id": product.id}).scalar()
    assert raw == 350 and isinstance(raw, int)
    db.session.expire_all()
    assert db.session.get(type(product), product.id).piece_rate == Decimal("0.0350")


def test_a_money_field_refuses_more_decimals_than_allowed_with_a_chinese_message(app):
    from flask import current_app

    with current_app.test_request_context("/"):
        form = ProductForm(formdata=MultiDict({"client_id": "1", "name": "x", "piece_rate": "0.00001", "unit_price": "1"}),
                           meta={"csrf": False})
        assert not form.validate()
        assert "4 位小数" in form.piece_rate.errors[0]


def test_a_worker_is_locked_out_after_five_wrong_pins(client, make):
    make.worker(phone="13811112222", pin="258036")
    for _ in range(5):
        page = client.get("/w/login")
        resp = client.post("/w/login", data={"phone": "13811112222", "pin": "000000", "csrf_token": csrf_token(page.text)})
        assert resp.status_code == 401
    page = client.get("/w/login")
    resp = client.post("/w/login", data={"phone": "13811112222", "pin": "258036", "csrf_token": csrf_token(page.text)})
    assert resp.status_code == 429


def test_session_cookie_is_secure_when_served_over_https(client, make):
    make.staff("admin", username="boss", password="correct-horse")
    page = client.get("/login", base_url="https://localhost")
    resp = client.post("/login", base_url="https://localhost",
                       data={"username": "boss", "password": "correct-horse", "csrf_token": csrf_token(page.text)})
    cookie = [h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session=")][0]
    assert "Secure" in cookie


def test_seed_demo_fills_a_realistic_demo_once(app, db):
    from app.commands.demo import seed_demo

    logins = seed_demo()
    db.session.commit()
    counts = {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in (Station, Client, Worker, User, Order, Batch, Return)}
    assert counts["Station"] == 2 and counts["Client"] == 3 and counts["Worker"] == 40
    assert counts["Batch"] > 100 and counts["Return"] > 100
    assert db.session.scalar(select(func.sum(Return.rejected))) > 0
    assert logins["admin"][0] == "admin"
    seed_demo()
    db.session.commit()
    again = {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in (Station, Client, Worker, User, Order, Batch, Return)}
    assert again == counts
    groups = db.session.execute(select(func.sum(Worker.is_disabled.cast(db.Integer)), func.sum(Worker.is_relocated.cast(db.Integer)))).one()
    assert all(g and g > 0 for g in groups)
