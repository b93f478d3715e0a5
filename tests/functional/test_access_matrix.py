"""Rule 7 over the whole URL map: every route × six roles × own and foreign records answers as
tests/access_matrix_table.py says, and no answer shows a record its role must not see.
A route missing from the table fails here, so no new route escapes the matrix."""
from __future__ import annotations

from pathlib import Path

from tests.access_matrix import ROLES, render_doc, routes
from tests.access_matrix_table import EXPECTED

DOC = Path(__file__).resolve().parents[2] / "docs" / "access-matrix.md"
# Records that belong to no station or worker (pay periods are the enterprise's; a supervisor
# sees only their station's statements in one, which the leak markers check; products are the
# enterprise's, their pictures shown to staff and to the workers holding them).
SHARED_RECORDS = {"GET /pay-periods/<period_id>", "GET /pay-periods/<period_id>/export.<fmt>",
                  "GET /pay-periods/<period_id>/statements.pdf", "GET /products/<product_id>/picture"}
STATION_ROLES = ("worker", "other_worker", "supervisor", "other_supervisor")


def test_every_route_has_a_row_in_the_access_matrix(app):
    keys = {key for key, _method, _rule in routes(app)}
    missing = sorted(keys - set(EXPECTED))
    assert not missing, (
        "These routes have no row in tests/access_matrix_table.py. Add one for each: run "
        "`python -m tests.access_matrix --record`, check its answers against rule 7, paste the row, then "
        "`python -m tests.access_matrix` to regenerate docs/access-matrix.md:\n  " + "\n  ".join(missing))
    stale = sorted(set(EXPECTED) - keys)
    assert not stale, "Rows for routes that no longer exist (remove them from tests/access_matrix_table.py):\n  " + \
        "\n  ".join(stale)


def test_the_expected_table_itself_gives_no_role_a_foreign_record():
    granted = []
    for key, cells in EXPECTED.items():
        if key in SHARED_RECORDS:
            continue
        for role, cell in zip(ROLES, cells, strict=True):
            if role in STATION_ROLES and "/" in cell and cell.split("/")[1].startswith("2"):
                granted.append(f"{key}: {role} foreign {cell}")
            if role == "anonymous" and any(code.startswith("2") for code in cell.split("/")) and \
                    not key.endswith(("/login", "/healthz", "/openapi.json", "/static/<filename>", "/sw.js", "/help")):
                granted.append(f"{key}: anonymous {cell}")
    assert not granted, "the table lets a role see what rule 7 hides:\n" + "\n".join(granted)


def test_docs_access_matrix_is_the_table():
    assert DOC.read_text(encoding="utf-8") == render_doc(EXPECTED), \
        "docs/access-matrix.md is out of date: run `python -m tests.access_matrix`"


def test_every_route_answers_every_role_as_the_matrix_says_and_leaks_nothing(app, make, db):
    from tests.access_matrix import walk

    observed, leaks = {}, []
    for key, role, variant, code, leaked in walk(app, make, db, only=set(EXPECTED)):
        observed.setdefault(key, {}).setdefault(role, []).append(str(code))
        if leaked:
            leaks.append(f"{key} as {role} ({variant}): shows {', '.join(leaked)}")
    wrong = []
    for key, by_role in sorted(observed.items()):
        for role, cell in zip(ROLES, EXPECTED[key], strict=True):
            got = "/".join(by_role[role])
            if got != cell:
                wrong.append(f"{key} as {role}: expected {cell}, answered {got}")
    assert not leaks, "answers showing records the role must not see:\n" + "\n".join(leaks)
    assert not wrong, f"{len(wrong)} unexpected answer(s) (fix the route, or the table if rule 7 allows it):\n" + \
        "\n".join(wrong)


def test_a_route_showing_everyone_every_worker_is_caught_as_a_leak(app, make, db):
    from sqlalchemy import select

    from app.models import Worker
    from tests.access_matrix import walk

    @app.route("/leaky")
    def leaky():
        return ", ".join(w.name for w in db.session.scalars(select(Worker)))

    leaks = {role for key, role, _variant, code, leaked in walk(app, make, db, only={"GET /leaky"}) if leaked}
    assert leaks == {"anonymous", "worker", "other_worker", "supervisor", "other_supervisor"}
