"""What the fuzzer (bench/fuzz.py) found, pinned: numbers too large for a record id, and a
short fuzz of the API and the page forms against a real gunicorn on the suite's database."""
from __future__ import annotations

from tests.conftest import BACKEND


def test_an_id_too_large_for_the_database_is_not_found_rather_than_a_server_error(api, make):
    admin = api(role="admin")
    huge = "43771379455906238084552428929056838362"
    for path in (f"/batches/{huge}", f"/orders/{huge}/margin", f"/pay-periods/{huge}/close",
                 f"/invoices/{huge}/credit-note.pdf", "/batches/2147483648"):
        answer = admin.post(path, json={}) if path.endswith("/close") else admin.get(path)
        assert answer.status_code == 404, (path, answer.status_code)
    assert admin.get("/batches/2147483647").status_code == 404  # the largest id is still an id


def test_an_id_too_large_is_not_found_whatever_the_method(api):
    # the path has a route for GET and one for PATCH: werkzeug's own refusal of the id answered 405
    admin = api(role="admin")
    for method in ("get", "patch"):
        answer = getattr(admin, method)("/products/2147483648", json={"name": "x"})
        assert answer.status_code == 404, (method, answer.status_code)
        assert answer.get_json()["error"]["code"] == "not_found"
    assert admin.patch("/workers/99999999999999999999", json={}).status_code == 404


def test_the_document_describes_ending_a_token(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    ending = doc["paths"]["/api/v1/auth/token"]["delete"]
    assert set(ending["responses"]) == {"204", "401"}
    assert ending["responses"]["401"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert ending["security"] == [{"bearer": []}]


def test_a_query_number_too_large_or_not_ascii_is_refused_with_its_field(api):
    admin = api(role="admin")
    for query in ("station_id=106335185430244187881296781849851984846", "station_id=%C2%B2"):
        answer = admin.get("/workers?" + query)
        assert answer.status_code == 422, (query, answer.status_code)
        assert "station_id" in answer.get_json()["error"]["fields"]
    assert admin.get("/batches?worker_id=106335185430244187881296781849851984846").status_code == 422
    assert admin.get("/workers?page=6361396515976821916").status_code == 200  # a page past the end is empty


def test_a_short_fuzz_of_the_api_and_the_forms_finds_nothing(app):
    from bench.fuzz import run

    findings, meta = run(BACKEND, cases=300, posts_per_form=1, seed_=20261201)
    assert meta["api_requests"] >= 200
    assert findings.count == 0, "\n".join(f"{k}: {v}" for k, v in findings.problems.items())
