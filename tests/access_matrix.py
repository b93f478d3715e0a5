"""The access matrix (rule 7): every route of the URL map × six roles × an object of the role's
own and one it must not see. The expected answers live in ``tests/access_matrix_table.py``;
``tests/functional/test_access_matrix.py`` compares, and ``python -m tests.access_matrix``
prints the table as docs/access-matrix.md (``--record`` prints what the app answers now, as
a table to paste after review).

Roles, in this order: anonymous, worker (A1), another worker of the same station (A2), a
supervisor of station A, a supervisor of station B, an admin. "Own" objects are station A's
and worker A1's (worker A2: A2's; supervisor B: station B's); "foreign" ones are those the
role must not see: A2's for A1 (and A1's for A2), station B's for A's supervisor, station
A's for B's. An admin's "foreign" ones are station B's, which an admin sees.

POSTs carry an empty form with a valid CSRF token (the browser's proof, not the
authorisation under test) or an empty JSON body, so an allowed role meets the validation
(a re-rendered form, 400/422) and a refused one its 401/403/404. Besides the codes, every
answer to a role is searched for the markers of the records it must not see (worker names,
phone numbers, batch codes, order notes): a marker found is a leak whatever the table says.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

ROLES = ("anonymous", "worker", "other_worker", "supervisor", "other_supervisor", "admin")
ROLE_TITLES = {"anonymous": "anonymous", "worker": "worker A1", "other_worker": "worker A2",
               "supervisor": "supervisor A", "other_supervisor": "supervisor B", "admin": "admin"}
SKIP_METHODS = {"HEAD", "OPTIONS"}
JSON_PREFIXES = ("/api/", "/counter/")  # routes that take JSON bodies and an Idempotency-Key
PHONES = {"A1": "13700000001", "A2": "13700000002", "B1": "13700000003"}
# Parameters that name no record: filled the same for own and foreign.
PLAIN_VALUES = {"fmt": "csv", "filename": "css/app.css", "kind": "overdue_batch"}
# Routes that also need a query string naming a record (formatted with the scope's ids).
QUERIES = {"GET /batches/<batch_id>/correct": "return_id={return_id}",
           "POST /batches/<batch_id>/correct": "return_id={return_id}"}


def route_key(method: str, rule: str) -> str:
    """``GET /batches/<batch_id>``: the method and the rule without its converters."""
    return method + " " + re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"<\1>", rule)


def routes(app) -> list[tuple[str, str, object]]:
    """(key, method, rule) of every route and method, sorted by key."""
    out = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - SKIP_METHODS):
            out.append((route_key(method, rule.rule), method, rule))
    return sorted(out, key=lambda r: r[0])


@dataclass
class Scope:
    ids: dict        # parameter name → id of this scope's record
    markers: tuple   # strings that only this scope's records show


def build_world(make, db):
    """Two stations; A with workers A1 and A2, B with B1; each worker with an order, a batch,
    returns (one with a photo), a closed-period payslip; clients, products, invoices, periods,
    a policy, notices and spare staff accounts for the routes that name them."""
    from app import files
    from app.models import Notice
    from app.services import catalog, insurance, invoicing, production, wages
    from tests.wages_fixtures import close, issue_on, period_for, previous_month, return_on

    start, end = previous_month()
    period = period_for(start, end)
    stations = {"A": make.station(name="站点甲"), "B": make.station(name="站点乙")}
    scopes, photo_png = {}, b"\x89PNG\r\n\x1a\n" + b"\0" * 32
    other_period_start = start - timedelta(days=400)
    other_period = period_for(date(other_period_start.year, other_period_start.month, 1),
                              wages.month_bounds(other_period_start)[1])
    for label, station_key in (("A1", "A"), ("A2", "A"), ("B1", "B")):
        station = stations[station_key]
        client = make.client(name=f"客户{label}")
        product = make.product(client=client, name=f"品种{label}")
        order = make.order(station=station, product=product, quantity=500, note=f"LEAK-NOTE-{label}")
        worker = make.worker(station=station, name=f"LEAK-WORKER-{label}", phone=PHONES[label])
        old = issue_on(make, order, worker, 20, start)
        return_on(old, start, accepted=10)
        batch = make.batch(order=order, worker=worker, quantity=50)
        photo = files.store_file(f"photo-{label}.png", "image/png", photo_png)
        catalog.update_product(product, picture=files.store_file(f"pic-{label}.png", "image/png", photo_png))
        ret = production.record_return(batch=batch, accepted=5, rejected=1, photo=photo)
        db.session.commit()
        notice = Notice(station_id=station.id, kind="overdue_batch", entity="batch", entity_id=batch.id,
                        message=f"LEAK-NOTICE-{label}")
        db.session.add(notice)
        spare = make.staff("supervisor", station=station)
        db.session.commit()
        scopes[label] = {"worker": worker, "batch": batch, "order": order, "return": ret, "client": client,
                         "product": product, "notice": notice, "spare": spare, "station": station}
    close(period)
    for label in ("A1", "B1"):
        invoicing.issue_invoice(scopes[label]["client"])
        db.session.commit()
    policy_a = insurance.create_policy(insurer="平安", policy_number="P-A", start=start, end=end + timedelta(days=365),
                                       premium_per_person_month=Decimal("5.00"))
    policy_b = insurance.create_policy(insurer="人保", policy_number="P-B", start=start, end=end + timedelta(days=365),
                                       premium_per_person_month=Decimal("5.00"))
    db.session.commit()
    from sqlalchemy import select

    from app.models import Invoice, Payslip

    def ids_of(label, policy, pay_period):
        s = scopes[label]
        payslip = db.session.scalar(select(Payslip.id).where(Payslip.worker_id == s["worker"].id))
        invoice = db.session.scalar(select(Invoice.id).where(Invoice.client_id == s["client"].id))
        return {"worker_id": s["worker"].id, "batch_id": s["batch"].id, "order_id": s["order"].id,
                "return_id": s["return"].id, "client_id": s["client"].id, "product_id": s["product"].id,
                "step_id": s["product"].steps[0].id, "notice_id": s["notice"].id, "user_id": s["spare"].id, "station_id": s["station"].id,
                "payslip_id": payslip, "invoice_id": invoice or 999999, "policy_id": policy.id,
                "period_id": pay_period.id}

    def markers_of(label):
        s = scopes[label]
        return (f"LEAK-WORKER-{label}", s["worker"].phone, s["batch"].code, f"LEAK-NOTE-{label}",
                f"LEAK-NOTICE-{label}")

    world = {label: Scope(ids_of(label, policy_a if label.startswith("A") else policy_b,
                                 period if label != "B1" else other_period), markers_of(label))
             for label in scopes}
    accounts = {
        "worker": scopes["A1"]["worker"], "other_worker": scopes["A2"]["worker"],
        "supervisor": make.staff("supervisor", station=stations["A"]),
        "other_supervisor": make.staff("supervisor", station=stations["B"]),
        "admin": make.staff("admin"),
    }
    return world, accounts


# own scope, foreign scope, and the scopes whose markers the role must never see
ROLE_SCOPES = {
    "anonymous": ("A1", "B1", ("A1", "A2", "B1")),
    "worker": ("A1", "A2", ("A2", "B1")),
    "other_worker": ("A2", "A1", ("A1", "B1")),
    "supervisor": ("A1", "B1", ("B1",)),
    "other_supervisor": ("B1", "A1", ("A1", "A2")),
    "admin": ("A1", "B1", ()),
}


def url_for_rule(rule, ids: dict) -> str:
    def value(match):
        name = match.group(1)
        return str(PLAIN_VALUES.get(name, ids.get(name, 999999)))

    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", value, rule.rule)


def has_objects(rule) -> bool:
    return bool(set(rule.arguments) - set(PLAIN_VALUES))


CSRF_RAW = "0" * 40


def walk(app, make, db, only=None):
    """Send every request of the matrix; yields (key, role, variant, code, leaked markers)."""
    from itsdangerous import URLSafeTimedSerializer

    from app import pdf as pdf_module
    from app.services.accounts import issue_token

    # Who may have a PDF is the question here, not its typesetting: the template is rendered,
    # and its HTML stands in for the PDF (1-2 s each in WeasyPrint), so markers are found in it.
    real_render = pdf_module.render_pdf_html
    pdf_module.render_pdf_html = lambda html: b"%PDF-stand-in\n" + html.encode()
    try:
        yield from _walk(app, make, db, only, URLSafeTimedSerializer, issue_token)
    finally:
        pdf_module.render_pdf_html = real_render


# Routes that end a token or a worker's sessions: the walk restores the accounts after each.
ENDS_SESSIONS = {"DELETE /api/v1/auth/token", "POST /workers/<worker_id>/disable", "PATCH /api/v1/workers/<worker_id>",
                 "POST /workers/<worker_id>/reset-pin"}


def _walk(app, make, db, only, URLSafeTimedSerializer, issue_token):  # noqa: N803 - passed-in class

    world, accounts = build_world(make, db)
    tokens = {}
    for role, account in accounts.items():
        tokens[role], _row = issue_token(account)
    db.session.commit()
    clients = {role: app.test_client() for role in ROLES}
    csrf = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(CSRF_RAW)

    from app.auth.loader import session_keys

    def sign_in(role):
        with clients[role].session_transaction() as sess:
            sess["csrf_token"] = CSRF_RAW  # what flask-wtf keeps in the session for the token below
            if role != "anonymous":
                sess.update(session_keys(accounts[role]))
                sess["_fresh"] = True

    def restore_accounts():
        """After a route that ends sessions or tokens (sign-out of a token, disabling a worker):
        every worker active again, fresh tokens and sessions, so later routes meet the same world."""
        from sqlalchemy import update

        from app.models import Worker

        db.session.execute(update(Worker).values(active=True))
        db.session.commit()
        for role, account in accounts.items():
            db.session.refresh(account)
            tokens[role], _row = issue_token(account)
        db.session.commit()
        for role in ROLES:
            sign_in(role)

    for role in ROLES:
        sign_in(role)
    for key, method, rule in routes(app):
        if only and key not in only:
            continue
        for role in ROLES:
            own, foreign, hidden = ROLE_SCOPES[role]
            variants = (("own", own), ("foreign", foreign)) if has_objects(rule) else (("-", own),)
            for variant, scope in variants:
                url = url_for_rule(rule, world[scope].ids)
                if key in QUERIES:
                    url += "?" + QUERIES[key].format(**world[scope].ids)
                headers = {}
                if url.startswith("/api/") and role != "anonymous":
                    headers["Authorization"] = f"Bearer {tokens[role]}"
                kwargs = {"headers": headers}
                if method in ("POST", "PATCH", "PUT", "DELETE"):
                    if url.startswith(JSON_PREFIXES):
                        kwargs["json"] = {}
                        headers["Idempotency-Key"] = f"matrix-{role}-{variant}-{key}"[:100]
                        if not url.startswith("/api/"):
                            headers["X-CSRFToken"] = csrf  # the page's script sends it
                    else:
                        kwargs["data"] = {"csrf_token": csrf}
                response = clients[role].open(url, method=method, **kwargs)
                body = response.get_data()
                leaked = [m for s in hidden for m in world[s].markers if m.encode() in body]
                yield key, role, variant, response.status_code, leaked
                response.close()
                if key in ENDS_SESSIONS:
                    restore_accounts()
                elif key.endswith(" /logout") or response.status_code in (301, 302) and role != "anonymous":
                    sign_in(role)


def render_doc(table: dict) -> str:
    lines = ["# Access matrix (rule 7)", "",
             "Every route of the URL map, for each role, with an object of the role's own and one it must",
             "not see (own / foreign; one code where the route names no object). Generated from",
             "`tests/access_matrix_table.py` by `python -m tests.access_matrix`; the test",
             "`tests/functional/test_access_matrix.py` holds the app to it on SQLite and PostgreSQL, and",
             "also fails when any answer shows a record the role must not see.", "",
             "Own objects: station A's and worker A1's (worker A2: A2's; supervisor B: station B's).",
             "Foreign: worker A2's for A1 (A1's for A2), station B's for supervisor A, station A's for",
             "supervisor B; an admin's \"foreign\" are station B's, which an admin sees. POSTs carry an",
             "empty body, so an allowed role meets validation (200 re-rendered form, 400/422, a redirect),",
             "a refused one 401/403/404. 302 for a page is the redirect to the sign-in page.", "",
             "| route | " + " | ".join(ROLE_TITLES[r] for r in ROLES) + " |",
             "|---|" + "---|" * len(ROLES)]
    for key in sorted(table):
        lines.append(f"| `{key}` | " + " | ".join(table[key]) + " |")
    lines.append("")
    return "\n".join(lines)


def main(argv=None):  # pragma: no cover - a command
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="print the answers of the app as it is now")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "access-matrix.md"))
    args = parser.parse_args(argv)
    if not args.record:
        from tests.access_matrix_table import EXPECTED

        Path(args.out).write_text(render_doc(EXPECTED), encoding="utf-8")
        print(f"wrote {args.out} ({len(EXPECTED)} routes)")
        return 0
    import tempfile

    from app import create_app
    from app.extensions import db
    from tests.conftest import ThreadedClient
    from tests.makers import Makers

    path = Path(tempfile.mkdtemp()) / "matrix.sqlite3"
    app = create_app({"TESTING": True, "SECRET_KEY": "matrix", "FAST_PASSWORD_HASH": True,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    app.test_client_class = ThreadedClient  # each request in its own app context, as served
    observed: dict = {}
    with app.app_context():
        db.create_all()
        for key, role, _variant, code, leaked in walk(app, Makers(), db):
            cell = observed.setdefault(key, {}).setdefault(role, [])
            cell.append(str(code) + ("!LEAK" if leaked else ""))
    print("EXPECTED = {")
    for key in sorted(observed):
        cells = ", ".join(repr("/".join(observed[key][r])) for r in ROLES)
        print(f"    {key!r}: ({cells}),")
    print("}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.exit(main())
