import re

import pytest


def test_pages_are_in_simplified_chinese_by_default(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    assert "员工登录" in page.text and "登录" in page.text


def test_english_when_chosen_and_the_choice_is_remembered(client):
    page = client.get("/login?lang=en")
    assert "Staff sign-in" in page.text and "员工登录" not in page.text
    again = client.get("/login")
    assert "Staff sign-in" in again.text


def test_error_pages_in_both_languages(client):
    zh = client.get("/no-such-page")
    assert zh.status_code == 404 and "找不到" in zh.text
    en = client.get("/no-such-page?lang=en")
    assert en.status_code == 404 and "Not found" in en.text


@pytest.mark.parametrize("role", ["admin", "supervisor", "worker"])
def test_each_role_lands_on_its_home(client, login_as, role):
    account = login_as(role)
    home = client.get("/home")
    assert home.status_code == 200
    assert account.name in home.text
    assert home.headers["Cache-Control"] == "no-store"


def test_every_asset_is_served_by_the_app_itself(client, login_as):
    login_as("admin")
    html = client.get("/home").text
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs
    for ref in refs:
        assert not ref.startswith(("http:", "https:", "//")), ref
        if ref.startswith("/static/"):
            assert client.get(ref).status_code == 200


def test_healthz_answers_ok_when_the_database_answers(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.json == {"status": "ok"}


def test_openapi_document_lists_the_endpoints(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/workers/{worker_id}" in doc["paths"]
    assert "post" in doc["paths"]["/api/v1/workers"]
