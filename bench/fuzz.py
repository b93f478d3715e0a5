"""Fuzz the API from its own OpenAPI document (schemathesis) and every page form, against a
real gunicorn on SQLite or PostgreSQL.

    python -m bench.fuzz                         # both databases, 10,000+ API requests each
    python -m bench.fuzz --db sqlite --cases 300 # a short run (the test suite runs one)

For every operation of /api/v1/openapi.json (but ``DELETE /auth/token``, which would end the
fuzzer's own token: NOT_FUZZED) and every token (admin, supervisor, worker),
schemathesis generates requests — valid ones and, as often, ones that break the schema
(wrong types, missing fields, huge and odd strings, bad path ids; half of the path ids and
body id fields replaced by seeded records' ids, so a write gets past the 404 to the rules) —
and each answer must:

- not be a 5xx;
- carry a status code the document lists for that operation, and a body matching the
  documented schema (the error body ``{"error": {"code", "message", "fields"}}`` for a 4xx);
- for a refused request (4xx), leave every table's row count as it was (the login throttle
  and the idempotency keys, which record refusals by design, excepted).

Then every page form (each POST route of the URL map) is posted, signed in as each staff role
and a worker, with random, huge, malformed and non-UTF-8 values: no answer may be a 5xx.
The ledger's invariants (app/services/ledger.py) must hold at the end. A summary is printed
and appended to bench/results/fuzz.txt; the exit code is 1 on any finding.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "fuzz.txt"
# Tables that record a refusal on purpose: a failed sign-in counts against the account (rule
# 15) and an idempotency key keeps its first answer, refusals included (rule 8).
RECORDS_REFUSALS = {"login_throttles", "idempotency_keys"}
# Ids the fuzzer gives, as often as not, in place of the ones it generates (which name no
# record, so a write would stop at 404): a path parameter or body field → the table it names.
KNOWN_IDS = {"invoice_id": "invoices", "period_id": "pay_periods", "pay_period_id": "pay_periods",
             "order_id": "orders", "worker_id": "workers", "batch_id": "batches", "client_id": "clients",
             "product_id": "products", "step_id": "product_steps", "payslip_id": "payslips",
             "station_id": "stations", "corrects": "returns"}
# Operations of the document not fuzzed: ending the token would end the fuzzer's own (every
# later request as that role would answer 401). Proved by tests/functional/test_security_accounts.py.
NOT_FUZZED = {"DELETE /api/v1/auth/token"}


@dataclass
class Findings:
    requests: int = 0
    by_status: Counter = field(default_factory=Counter)
    problems: dict = field(default_factory=lambda: defaultdict(list))  # kind → examples
    operations: set = field(default_factory=set)
    by_operation: dict = field(default_factory=lambda: defaultdict(Counter))
    skipped: list = field(default_factory=list)  # (operation, mode) with nothing to generate

    def add(self, kind: str, detail: str) -> None:
        if len(self.problems[kind]) < 20:
            self.problems[kind].append(detail)
        else:
            self.problems[kind + " (more)"] = self.problems.get(kind + " (more)", [0])
            self.problems[kind + " (more)"][0] += 1

    @property
    def count(self) -> int:
        return sum(len(v) if not k.endswith("(more)") else v[0] for k, v in self.problems.items())


# --- the database under test


def make_app(database_url: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "fuzz", "FAST_PASSWORD_HASH": True,
                       "TESTING": False})


def seed(app) -> dict:
    """Two stations with orders, batches, returns, a closed period, an invoice; three tokens."""
    from datetime import timedelta

    from sqlalchemy import text

    from app.extensions import db
    from app.models import Worker
    from app.services import invoicing, wages
    from app.services.accounts import issue_token
    from tests.makers import Makers
    from tests.wages_fixtures import close, issue_on, period_for, previous_month, return_on

    make = Makers()
    with app.app_context():
        db.create_all()
        stations = [make.station(), make.station()]
        start, end = previous_month()
        period = period_for(start, end)
        ids = defaultdict(list)
        for station in stations:
            client = make.client()
            for _ in range(2):
                order = make.order(station=station, product=make.product(client=client), quantity=5000)
                worker = make.worker(station=station)
                old = issue_on(make, order, worker, 30, start)
                return_on(old, start + timedelta(days=1), accepted=20)
                batch = make.batch(order=order, worker=worker, quantity=400)
                make.return_(batch=batch, accepted=10)
                ids["order"].append(order.id)
                ids["batch"].append(batch.id)
                ids["worker"].append(worker.id)
            invoicing.issue_invoice(client)
            db.session.commit()
        close(period)
        wages.create_pay_period(*wages.month_bounds(end + timedelta(days=1)))
        db.session.commit()
        accounts = {"admin": make.staff("admin"), "supervisor": make.staff("supervisor", station=stations[0]),
                    "worker": db.session.get(Worker, ids["worker"][0])}
        tokens = {role: issue_token(account)[0] for role, account in accounts.items()}
        db.session.commit()
        known = {name: [i for (i,) in db.session.execute(text(f"SELECT id FROM {table} ORDER BY id"))]
                 for name, table in KNOWN_IDS.items()}
        logins = {"admin": accounts["admin"].username, "supervisor": accounts["supervisor"].username,
                  "worker": accounts["worker"].phone}
        return {"tokens": tokens, "ids": dict(ids), "logins": logins, "known": known}


def row_counts(engine) -> dict:
    from sqlalchemy import text

    from app.extensions import db

    names = [t.name for t in db.metadata.sorted_tables if t.name not in RECORDS_REFUSALS]
    sql = " UNION ALL ".join(f"SELECT '{n}', count(*) FROM {n}" for n in names)
    with engine.connect() as conn:
        return dict(conn.execute(text(sql)).all())


# --- the API


def fuzz_api(base: str, world: dict, engine, cases: int, findings: Findings, seed_: int = 0) -> None:
    import hypothesis.errors
    import requests
    import schemathesis
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
    )
    from schemathesis.generation import GenerationMode

    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    schema = schemathesis.openapi.from_url(base + "/api/v1/openapi.json")
    operations = [op for op in (result.ok() for result in schema.get_all_operations())
                  if f"{op.method.upper()} {op.path}" not in NOT_FUZZED]
    roles = list(world["tokens"])
    per_run = max(1, cases // (len(operations) * len(roles) * 2))
    rng = random.Random(seed_)
    session = requests.Session()
    for op in operations:
        label = f"{op.method.upper()} {op.path}"
        findings.operations.add(label)
        for role in roles:
            headers = {"Authorization": f"Bearer {world['tokens'][role]}"}
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                run = _case_runner(op.as_strategy(generation_mode=mode), per_run, seed_, base, session, headers,
                                   f"{label} as {role}", engine, checks, findings, world.get("known"), rng)
                try:
                    run()
                except hypothesis.errors.Unsatisfiable:  # nothing in the schema to break this way
                    findings.skipped.append(f"{label} as {role} ({mode.value})")


def _one_line(exc) -> str:
    text = " ".join(line.strip() for line in str(getattr(exc, "message", "") or exc).splitlines() if line.strip())
    return text[:240]


def use_known_ids(case, known: dict, rng: random.Random) -> None:
    """As often as not, a path id or a body's id field names a seeded record (of any station,
    so another's record is tried too): the request then reaches the rules behind the 404."""
    for name in list(case.path_parameters or {}):
        if known.get(name) and rng.random() < 0.5:
            case.path_parameters[name] = rng.choice(known[name])
    if isinstance(case.body, dict):
        for name, value in list(case.body.items()):
            if known.get(name) and isinstance(value, int) and not isinstance(value, bool) and rng.random() < 0.5:
                case.body[name] = rng.choice(known[name])


def _case_runner(strategy, examples, seed_, base, session, headers, who, engine, checks, findings, known=None,
                 rng=None):
    import hypothesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.core.failures import FailureGroup

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.generate], report_multiple_bugs=False)
    @given(case=strategy)
    @hypothesis.seed(seed_)
    def run(case):
        if case.headers and "Idempotency-Key" in case.headers:
            case.headers["Idempotency-Key"] = f"fuzz-{uuid.uuid4().hex}"
        if known:
            use_known_ids(case, known, rng)
        before = row_counts(engine) if case.method.upper() != "GET" else None
        try:
            response = case.call(base_url=base, session=session, headers=headers, timeout=60)
        except Exception as exc:  # noqa: BLE001 - a dropped connection is a finding
            findings.add("no answer", f"{who}: {exc!r}"[:300])
            return
        findings.requests += 1
        findings.by_status[response.status_code] += 1
        findings.by_operation[who.rsplit(" as ", 1)[0]][response.status_code] += 1
        try:
            case.validate_response(response, checks=checks)
        except FailureGroup as group:
            for exc in group.exceptions:
                kind = "5xx" if response.status_code >= 500 else f"does not match the document ({exc.title})"
                findings.add(kind, f"{who} → {response.status_code}: {_one_line(exc)} | "
                                   f"{case.as_curl_command(headers={'Authorization': 'Bearer …'})[:300]}")
        if before is not None and 400 <= response.status_code < 500:
            after = row_counts(engine)
            changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
            if changed:
                findings.add("a refusal stored rows", f"{who} → {response.status_code}: {changed}")

    return run


# --- the pages

NASTY = ["", " ", "0", "-1", "1e309", "NaN", "99999999999999999999999", "1.23456789", "２０", "٣",
         "2026-02-30", "0000-00-00", "9999-12-31", "<script>alert(1)</script>", "' OR 1=1 --", "=cmd|' /C calc'!A0",
         "\x00", "\u202e", "😀" * 50, "a" * 100_000, "%s%n", "../../etc/passwd", "[]", "{}", "true"]
NON_UTF8 = [b"\xff\xfe\xfd", b"\xc3\x28", b"\xe2\x82", b"\x80abc"]


def _random_value(rng: random.Random):
    roll = rng.random()
    if roll < 0.1:
        return rng.choice(NON_UTF8)
    if roll < 0.6:
        return rng.choice(NASTY)
    if roll < 0.8:
        return str(rng.randint(-10**12, 10**12))
    return "".join(chr(rng.randint(1, 0x2FFF)) for _ in range(rng.randint(1, 40)))


def _field_names(html: str) -> list[str]:
    return sorted(set(re.findall(r'name="([^"]+)"', html)) - {"csrf_token"})


def fuzz_pages(served_app, base: str, world: dict, findings: Findings, posts_per_form: int,
               rng: random.Random) -> None:
    """Every POST route, signed in as admin, supervisor and a worker, with hostile values in
    every field the form's page shows (and a few it does not)."""
    import requests

    ids = world["ids"]
    fill = {"batch_id": ids["batch"][0], "order_id": ids["order"][0], "worker_id": ids["worker"][0]}
    post_rules = [r for r in served_app.url_map.iter_rules() if "POST" in r.methods and not r.rule.startswith("/api/")]
    sessions = {}
    for role, password in (("admin", "correct-horse"), ("supervisor", "correct-horse"), ("worker", "258036")):  # the makers' PIN
        s = requests.Session()
        login = "/w/login" if role == "worker" else "/login"
        page = s.get(base + login)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
        data = {"csrf_token": token, "password": password, "username": world["logins"][role]} if role != "worker" \
            else {"csrf_token": token, "phone": world["logins"][role], "pin": password}
        s.post(base + login, data=data, allow_redirects=False)
        sessions[role] = s
    for rule in sorted(post_rules, key=lambda r: r.rule):
        url = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(fill.get(m.group(1), 1)), rule.rule)
        if rule.rule in ("/logout",):
            continue
        findings.operations.add(f"POST {rule.rule} (page)")
        for role, s in sessions.items():
            page = s.get(base + url, allow_redirects=False)
            names = _field_names(page.text) if page.status_code == 200 else []
            names += ["quantity", "accepted", "due_date", "name", "reason", "amount"]
            token_match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
            if token_match is None:
                home = s.get(base + "/orders" if role != "worker" else base + "/home")
                token_match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', home.text)
            token = token_match.group(1) if token_match else ""
            for _ in range(posts_per_form):
                body = {n: _random_value(rng) for n in names if rng.random() < 0.8}
                body["csrf_token"] = token
                try:
                    response = s.post(base + url, data=body, allow_redirects=False, timeout=60)
                except Exception as exc:  # noqa: BLE001
                    findings.add("no answer", f"page POST {rule.rule} as {role}: {exc!r}"[:300])
                    continue
                findings.requests += 1
                findings.by_status[response.status_code] += 1
                if response.status_code >= 500:
                    shown = {k: (v[:40] if isinstance(v, (str, bytes)) else v) for k, v in body.items() if k != "csrf_token"}
                    findings.add("5xx", f"page POST {rule.rule} as {role} → {response.status_code}: {shown!r}"[:400])


# --- running it


def run(dialect: str, cases: int, posts_per_form: int, seed_: int) -> tuple[Findings, dict]:
    from sqlalchemy import create_engine

    from bench.servers import Server

    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix=f"jijian-fuzz-{dialect}-"))
        if dialect == "sqlite":
            url = f"sqlite:///{tmp / 'fuzz.sqlite3'}"
        else:
            from tests.pgserver import PostgresServer

            pg = PostgresServer()
            admin_url = pg.start()
            stack.callback(pg.stop)
            engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.exec_driver_sql("CREATE DATABASE fuzz")
            engine.dispose()
            url = admin_url.replace("/postgres?", "/fuzz?")
        app = make_app(url)
        world = seed(app)
        engine = create_engine(url)
        stack.callback(engine.dispose)
        server = Server(url, "fuzz-" + uuid.uuid4().hex, tmp / "instance", workers=1, threads=2).start()
        stack.callback(server.stop)
        findings = Findings()
        started = time.monotonic()
        fuzz_api(server.url, world, engine, cases, findings, seed_)
        api_seconds = time.monotonic() - started
        api_requests = findings.requests
        fuzz_pages(app, server.url, world, findings, posts_per_form, random.Random(seed_))
        with app.app_context():
            from app.services.ledger import check_ledger

            breaches = check_ledger()
        for breach in breaches:
            findings.add("ledger", str(breach))
        return findings, {"api_requests": api_requests, "api_seconds": api_seconds,
                          "page_requests": findings.requests - api_requests, "seconds": time.monotonic() - started}


def report(dialect: str, findings: Findings, meta: dict, load: tuple) -> str:
    lines = [f"fuzz {dialect}: {meta['api_requests']} API requests over {len([o for o in findings.operations if '(page)' not in o])} "
             f"operations in {meta['api_seconds']:.0f} s, {meta['page_requests']} page form posts over "
             f"{len([o for o in findings.operations if '(page)' in o])} forms; total {meta['seconds']:.0f} s; "
             f"load average {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f}",
             "  statuses: " + ", ".join(f"{k}: {v}" for k, v in sorted(findings.by_status.items())),
             f"  findings: {findings.count}; nothing to generate for: {', '.join(findings.skipped) or 'none'}; "
             f"not fuzzed: {', '.join(sorted(NOT_FUZZED))}",
             "  per operation: " + "; ".join(f"{op} {dict(sorted(c.items()))}" for op, c in
                                            sorted(findings.by_operation.items()))]
    for kind, examples in sorted(findings.problems.items()):
        if kind.endswith("(more)"):
            lines.append(f"  - {kind}: {examples[0]}")
            continue
        for example in examples:
            lines.append(f"  - {kind}: {example}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Fuzz the API (schemathesis) and the page forms.")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--cases", type=int, default=11_000,
                        help="API requests to generate per database (about: 11,000 gives 10,900 over 52 operations)")
    parser.add_argument("--posts-per-form", type=int, default=6, help="hostile posts per page form and role")
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args(argv)
    os.environ.setdefault("JIJIAN_INSTANCE", tempfile.mkdtemp(prefix="jijian-fuzz-instance-"))
    failed = False
    out = []
    for dialect in (["sqlite", "postgresql"] if args.db == "both" else [args.db]):
        findings, meta = run(dialect, args.cases, args.posts_per_form, args.seed)
        text = report(dialect, findings, meta, os.getloadavg())
        print(text, flush=True)
        out.append(text)
        failed |= findings.count > 0
    RESULTS.parent.mkdir(exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(f"# {time.strftime('%Y-%m-%d %H:%M:%S %Z')} {' '.join(sys.argv[1:])}\n" + "\n".join(out) + "\n\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
