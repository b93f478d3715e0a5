"""The HTML pages as served: the pages each role opens most, each with a signed-in
session, beside the bare endpoint of the same stack in the same run, on SQLite and PostgreSQL.

    python -m bench.pages                        # build (about 2 minutes), both databases
    python -m bench.pages --reuse --db sqlite    # the SQLite database of an earlier run
    python -m bench.pages --reuse --against main # this checkout and ``main``, page by page

1. Data: ``bench.production.build`` (2,000 workers, 500 orders, ~100,000 batches, 1,000,000
   returns), then last month's pay period opened and closed through the services (the
   admin's page shows its frozen statements). PostgreSQL gets the very same rows, copied
   table by table from the SQLite file into a throwaway server (COPY), then VACUUM ANALYZE.
2. Served by gunicorn as ``bench.production`` serves it (2 workers × ``--threads``).
3. Sessions: the station's supervisor, the admin and 16 workers sign in through the login
   forms. Load: wrk (``bench.load``), 16 keep-alive connections in a closed loop, 2 s warm-up
   then ``--seconds`` a page; the worker's home with one worker a connection.
4. Per page: req/s, p50/p95/p99, share of bare, the server's CPU a request (gunicorn's
   processes and PostgreSQL's over the measured seconds), and the app's CPU for one page
   measured in-process (``bench/page_probe.py``: test client, median of ``--repeat``).
   With ``--against REF`` a checkout of REF is served beside this one from the same
   database, and each page is measured on both, one right after the other.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from bench import load, production
from bench.page_probe import tree_cpu_seconds

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PASSWORD = "bench-password"  # bench.production.build's staff accounts
PIN = "258036"  # as bench.production hashes it
CLIENT_WORKERS = 16

# key, label; what each page is asked with is set up in ``page_requests``.
PAGES = (
    ("bare", "bare GET /healthz"),
    ("sup_home", "supervisor home /home"),
    ("board", "order board /stations/{id}/board"),
    ("return", "return page /batches/{id}/return"),
    ("issue", "issue page /orders/{id}/issue"),
    ("period", "admin pay period /pay-periods/{id}"),
    ("home_served", "worker home /home, as served"),
    ("home_rendered", "worker home /home, cache off"),
)


# --- data


def add_pay_period(db_path: Path) -> int:
    """Open and close last month's pay period through the services; its id."""
    from app import create_app
    from app.db_tx import writing
    from app.extensions import db
    from app.models import local_today
    from app.services import wages

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "SECRET_KEY": "bench"})
    with app.app_context():
        start, end = wages.month_bounds(local_today().replace(day=1) - timedelta(days=1))
        with writing():
            period = wages.create_pay_period(start, end)
            db.session.commit()
            wages.close_pay_period(period)
            db.session.commit()
        period_id = period.id
        db.engine.dispose()
    return period_id


def page_targets(db_path: Path, station_id: int, seed: int = 20) -> dict:
    """Ids the pages are asked for: the station's open batches and orders, 16 of its workers."""
    rng = random.Random(seed)
    conn = sqlite3.connect(db_path)
    q = conn.execute
    batches = [r[0] for r in q("SELECT id FROM batches WHERE station_id = ? AND status = 'open' AND code LIKE 'B%' "
                               "ORDER BY id", (station_id,))]
    orders = [r[0] for r in q("SELECT id FROM orders WHERE station_id = ? AND status = 'open' ORDER BY id", (station_id,))]
    phones = [r[0] for r in q("SELECT phone FROM workers WHERE station_id = ? ORDER BY id", (station_id,))]
    conn.close()
    return {"open_batches": batches, "open_orders": orders, "phones": rng.sample(phones, CLIENT_WORKERS)}


def period_last_page(db_path: Path, period_id: int) -> int:
    """The last page of the period's statements (the page lists 50; a page's OFFSET is its cost)."""
    from app.wages.views import PERIOD_PER_PAGE

    conn = sqlite3.connect(db_path)
    [count] = conn.execute("SELECT count(*) FROM payslips WHERE pay_period_id = ?", (period_id,)).fetchone()
    conn.close()
    return max(1, -(-count // PERIOD_PER_PAGE))


def schema_fingerprint() -> str:
    """The tables, columns and indexes the app expects: a database built for others is built again."""
    import hashlib

    from app import models  # noqa: F401 - every table
    from app.extensions import db

    names = sorted([f"{t.name}.{c.name}" for t in db.metadata.sorted_tables for c in t.columns]
                   + [f"{t.name}:{ix.name}({','.join(c.name for c in ix.columns)})"
                      for t in db.metadata.sorted_tables for ix in t.indexes])
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


def prepare_sqlite(db_path: Path, reuse: bool) -> dict:
    meta_path = db_path.with_suffix(".meta.json")
    if reuse and meta_path.exists() and db_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("schema") == schema_fingerprint():
            print(f"reusing {db_path}", flush=True)
            return meta
        print("the schema changed since that database was built", flush=True)
    print(f"building {db_path} …", flush=True)
    meta = production.build(db_path)
    meta["schema"] = schema_fingerprint()
    t0 = time.perf_counter()
    meta["period_id"] = add_pay_period(db_path)
    meta["period_closed_in_s"] = round(time.perf_counter() - t0, 1)
    meta.update(page_targets(db_path, meta["stations"][0]))
    meta["period_last_page"] = period_last_page(db_path, meta["period_id"])
    meta_path.write_text(json.dumps(meta))
    print(f"built in {meta['built_in_s']} s; pay period closed in {meta['period_closed_in_s']} s", flush=True)
    return meta


def copy_to_postgresql(db_path: Path, stack: ExitStack) -> tuple[str, int | None]:
    """A throwaway PostgreSQL server holding the SQLite file's rows; its URL and postmaster pid."""
    from sqlalchemy import create_engine, text

    from app import create_app
    from app.extensions import db
    from tests.pgserver import PostgresServer

    server = PostgresServer()
    admin_url = server.start()
    stack.callback(server.stop)
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CREATE DATABASE jijian_bench"))
    engine.dispose()
    url = admin_url.replace("/postgres?", "/jijian_bench?")
    t0 = time.perf_counter()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()
        tables = [t for t in db.metadata.sorted_tables]
        db.engine.dispose()
    src = sqlite3.connect(db_path)
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as pg:
        cur = pg.cursor()
        cur.execute("SET session_replication_role = replica")  # no triggers, no foreign-key checks
        for table in tables:
            cols = [c.name for c in table.columns]
            have = {r[1] for r in src.execute(f"PRAGMA table_info({table.name})")}
            cols = [c for c in cols if c in have]
            if not cols:
                continue
            quoted = ", ".join(f'"{c}"' for c in cols)
            with cur.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
                for row in src.execute(f'SELECT {quoted} FROM "{table.name}"'):
                    copy.write_row(row)
            if "id" in cols and table.c.id.autoincrement in (True, "auto") and not table.c.id.foreign_keys:
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"coalesce((SELECT max(id) FROM \"{table.name}\"), 0) + 1, false) "
                            f"WHERE pg_get_serial_sequence('{table.name}', 'id') IS NOT NULL")
        cur.execute("SET session_replication_role = DEFAULT")
        pg.commit()
        pg.autocommit = True
        cur.execute("VACUUM ANALYZE")
    src.close()
    print(f"copied into PostgreSQL in {time.perf_counter() - t0:.0f} s", flush=True)
    return url, int((server.data / "postmaster.pid").read_text().split()[0])


# --- signing in


class Browser:
    """One keep-alive connection with a cookie jar: enough to sign in through a form."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": self.cookie_header()} if self.cookies else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        for raw in resp.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(raw).items():
                self.cookies[name] = morsel.value
        conn.close()
        return resp.status, resp.headers, data.decode("utf-8", "replace")

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def sign_in(self, path: str, fields: dict) -> str:
        _status, _h, page = self.request("GET", path)
        token = (re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
                 or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page))
        status, headers, _body = self.request("POST", path, {"csrf_token": token.group(1), **fields})
        if status not in (302, 303):
            raise RuntimeError(f"sign-in at {path} answered {status}")
        return self.cookie_header()


def page_requests(port: int, meta: dict) -> dict:
    """key → (requests for wrk, per-connection headers or None)."""
    station = meta["stations"][0]
    sup = Browser(port).sign_in("/login", {"username": "bench-sup1", "password": PASSWORD})
    admin = Browser(port).sign_in("/login", {"username": "bench-admin", "password": PASSWORD})
    workers = [{"Cookie": Browser(port).sign_in("/w/login", {"phone": phone, "pin": PIN})} for phone in meta["phones"]]
    rng = random.Random(3)
    as_sup = {"Cookie": sup}
    # The pay period's first page and its last, in turn (a database built before knew only the first).
    period = f"/pay-periods/{meta['period_id']}"
    last = meta.get("period_last_page", 1)
    period_paths = [period] + ([f"{period}?page={last}"] if last > 1 else [])
    return {
        "bare": ([("GET", "/healthz", None, {})], None),
        "sup_home": ([("GET", "/home", None, as_sup)], None),
        "board": ([("GET", f"/stations/{station}/board", None, as_sup)], None),
        "return": ([("GET", f"/batches/{b}/return", None, as_sup) for b in rng.sample(meta["open_batches"], min(400, len(meta["open_batches"])))], None),
        "issue": ([("GET", f"/orders/{o}/issue", None, as_sup) for o in meta["open_orders"]], None),
        "period": ([("GET", path, None, {"Cookie": admin}) for path in period_paths], None),
        "home_served": ([("GET", "/home", None, {})], workers),
        "home_rendered": ([("GET", "/home", None, {})], workers),
    }


# --- measuring


class Server:
    """gunicorn for one checkout; the worker's home cache off in a second one."""

    def __init__(self, name: str, tree: Path, db_path: Path, url: str, meta: dict, args, stack: ExitStack):
        self.name, self.tree = name, tree
        self.secret = uuid.uuid4().hex
        self.procs = {}
        for cache in (True, False):
            port = production._free_port()
            env = {"SECRET_KEY": self.secret, **({} if cache else {"PAGE_CACHE_SIZE": "0"})}
            log = RESULTS / f"pages-gunicorn-{name}-{'cache' if cache else 'nocache'}.log"
            proc = production.serve(db_path, port, args.workers, args.threads, log, database_url=url, env=env, cwd=tree)
            stack.callback(_stop, proc)
            self.procs[cache] = (proc, port)
        self.requests = {cache: page_requests(port, meta) for cache, (_p, port) in self.procs.items()}

    def measure(self, key: str, args, pg_pid: int | None) -> dict:
        cache = key != "home_rendered"
        proc, port = self.procs[cache]
        reqs, per_client = self.requests[cache][key]
        base = f"http://127.0.0.1:{port}"
        idle_s = _wait_idle(proc.pid, pg_pid)
        status, size = _fetch(port, reqs[0], per_client)
        load.run(base, reqs, args.clients, args.warmup, warmup=0, per_client_headers=per_client)
        c0 = tree_cpu_seconds(proc.pid) + tree_cpu_seconds(pg_pid)
        la = os.getloadavg()[0]
        row = load.run(base, reqs, args.clients, args.seconds, warmup=0, per_client_headers=per_client)
        cpu = tree_cpu_seconds(proc.pid) + tree_cpu_seconds(pg_pid) - c0
        return {**row, "bytes": size, "first_status": status, "load1": round(la, 2), "idle_wait_s": idle_s,
                "server_cpu_ms": round(cpu * 1000 / max(1, row["requests"]), 2)}

    def probe(self, url: str, repeat: int, pg_pid: int | None, profile: str | None = None):
        """The app's CPU for each page, in-process; with ``profile``, cProfile's text for that page."""
        pages = []
        for key, _label in PAGES[1:]:
            cache = key != "home_rendered"
            reqs, per_client = self.requests[True][key]
            cookie = (per_client[0] if per_client else reqs[0][3]).get("Cookie")
            pages.append({"key": key, "paths": [r[1] for r in reqs[:50]], "cookie": cookie, "cache": cache})
        spec = {"database_url": url, "secret_key": self.secret, "repeat": repeat, "pages": pages, "postmaster_pid": pg_pid}
        if profile == "spec":  # for other tools: the pages with their signed-in cookies
            return spec
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
            json.dump(spec, fh)
        try:
            env = {**os.environ, "PYTHONPATH": str(self.tree), "JIJIAN_INSTANCE": str(RESULTS / "instance")}
            out = subprocess.run([sys.executable, str(ROOT / "bench" / "page_probe.py"), fh.name, *filter(None, [profile])],
                                 cwd=self.tree, env=env, check=True, capture_output=True, text=True)
        finally:
            os.unlink(fh.name)
        if profile:
            return out.stdout
        line = next(x for x in out.stdout.splitlines() if x.startswith("JSON "))
        return json.loads(line[5:])



def _wait_idle(pid: int, pg_pid: int | None, limit_s: float = 60.0) -> float:
    """Wait until the server (and PostgreSQL) have finished what the last page's clients left
    queued, so the next page is not measured against its backlog: wrk stops sending, but a slow
    page's last answers (seconds each under load) are still being made. Idle: under 5% of a CPU
    over a quarter of a second. The seconds waited."""
    t0 = time.perf_counter()
    before = tree_cpu_seconds(pid) + tree_cpu_seconds(pg_pid)
    while time.perf_counter() - t0 < limit_s:
        time.sleep(0.25)
        now = tree_cpu_seconds(pid) + tree_cpu_seconds(pg_pid)
        if now - before < 0.0125:
            break
        before = now
    return round(time.perf_counter() - t0, 2)


def _stop(proc) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def _fetch(port: int, req: tuple, per_client) -> tuple[int, int]:
    method, path, _body, headers = req
    headers = {**headers, **(per_client[0] if per_client else {})}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, headers=headers)
    resp = conn.getresponse()
    size = len(resp.read())
    conn.close()
    if resp.status != 200:
        raise RuntimeError(f"{path} answered {resp.status} ({resp.getheader('Location')})")
    return resp.status, size


def run_database(dialect: str, db_path: Path, meta: dict, args, trees: list[tuple[str, Path]]) -> dict:
    with ExitStack() as stack:
        pg_pid = None
        url = f"sqlite:///{db_path}"
        if dialect == "postgresql":
            url, pg_pid = copy_to_postgresql(db_path, stack)
        servers = [Server(name, tree, db_path, url, meta, args, stack) for name, tree in trees]
        keys = [k for k, _ in PAGES if not args.only or k == "bare" or k in args.only.split(",")]
        rows: dict = {s.name: {} for s in servers}
        for round_no in range(args.rounds):
            for i, key in enumerate(keys):
                # Two checkouts: each page on both, one right after the other, in turns.
                order = servers if (i + round_no) % 2 == 0 else servers[::-1]
                for server in order:
                    print(f"[{dialect}] {server.name}: {key} …", flush=True)
                    rows[server.name].setdefault(key, []).append(server.measure(key, args, pg_pid))
        probes: dict = {}
        if args.repeat:
            # In turns too: three rounds of a third of the renders each, checkout after checkout;
            # a page's figure is the median of its rounds' medians, and the least of all.
            runs: dict = {s.name: [] for s in servers}
            for round_no in range(3):
                for server in (servers if round_no % 2 == 0 else servers[::-1]):
                    print(f"[{dialect}] {server.name}: CPU a page in-process, round {round_no + 1} …", flush=True)
                    runs[server.name].append(server.probe(url, max(1, args.repeat // 3), pg_pid))
            for name, per_round in runs.items():
                probes[name] = {key: {"cpu_ms": round(statistics.median(r[key]["cpu_ms"] for r in per_round), 2),
                                      "cpu_min_ms": min(r[key]["cpu_min_ms"] for r in per_round),
                                      "db_cpu_ms": round(statistics.median(r[key]["db_cpu_ms"] for r in per_round), 2),
                                      "rounds": [r[key]["cpu_ms"] for r in per_round]}
                                for key in per_round[0]}
    return {"db": dialect, "rows": rows, "probes": probes}


def _best(runs: list[dict]) -> dict:
    """Of several rounds, the one with the median throughput."""
    return sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]


def report(results: list[dict], args, load_before, load_after) -> str:
    lines = [
        f"Jijian pages bench — {datetime.now(UTC).replace(microsecond=0).isoformat()}, {os.cpu_count()} CPUs, "
        f"gunicorn {args.workers} workers × {args.threads} threads, {args.clients} wrk connections, "
        f"{args.seconds:g} s a page after {args.warmup:g} s warm-up, {args.rounds} round(s)",
        f"load average (1, 5, 15 min) before: {load_before}, after: {load_after}; 'load' below is the 1-minute "
        "figure as each page began",
    ]
    for res in results:
        for name, pages in res["rows"].items():
            bare = _best(pages["bare"])
            probe = res["probes"].get(name, {})
            lines += ["", f"{res['db']} — {name}",
                      f"{'page':38} {'KB':>5} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6} {'of bare':>7} "
                      f"{'srv CPU':>7} {'app CPU':>7} {'db CPU':>6} {'load':>5} {'err':>4}"]
            for key, label in PAGES:
                if key not in pages:
                    continue
                row = _best(pages[key])
                p = probe.get(key, {})
                lines.append(f"{label:38} {row['bytes'] / 1024:5.1f} {row['rps']:7.0f} {row['p50_ms']:6.1f} "
                             f"{row['p95_ms']:6.1f} {row['p99_ms']:6.1f} {row['rps'] / bare['rps']:7.0%} "
                             f"{row['server_cpu_ms']:7.2f} {p.get('cpu_ms', float('nan')):7.2f} "
                             f"{p.get('db_cpu_ms', float('nan')):6.2f} {row['load1']:5.2f} {row['errors']:4d}")
    lines += ["", "ms: p50/p95/p99 latency; srv CPU: gunicorn's (and PostgreSQL's) CPU a request under load; "
              "app CPU: one page in-process, median (PostgreSQL's share in db CPU)"]
    return "\n".join(lines)


def checkout(ref: str, stack: ExitStack) -> Path:
    """A detached worktree of ``ref``, removed at the end."""
    path = Path(tempfile.mkdtemp(prefix="jijian-pages-ref-"))
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), ref], check=True,
                   capture_output=True)
    stack.callback(lambda: subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)],
                                          capture_output=True))
    translations = path / "translations"
    for mo in (ROOT / "translations").glob("*/LC_MESSAGES/messages.mo"):  # compiled, not in git
        target = translations / mo.relative_to(ROOT / "translations")
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(mo, target)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads a worker (scripts/run.sh: 4)")
    parser.add_argument("--rounds", type=int, default=1, help="measure every page this many times (the median is shown)")
    parser.add_argument("--repeat", type=int, default=40, help="in-process renders a page for the CPU figure (0: skip)")
    parser.add_argument("--only", default="", help="comma-separated page keys besides bare: " + ",".join(k for k, _ in PAGES[1:]))
    parser.add_argument("--against", metavar="REF", help="serve a checkout of REF too and measure both in turns")
    parser.add_argument("--profile", metavar="KEY", help="print cProfile's view of --repeat renders of one page, no load ('spec': the pages and their cookies as JSON)")
    parser.add_argument("--path", type=Path, default=RESULTS / "bench-pages.sqlite3")
    parser.add_argument("--reuse", action="store_true", help="reuse the database built by an earlier run")
    args = parser.parse_args(argv)
    if not load.available():
        raise SystemExit("wrk is needed: apt-get install wrk")
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = prepare_sqlite(args.path, args.reuse)
    load_before = [round(x, 2) for x in os.getloadavg()]
    if args.profile:
        with ExitStack() as stack:
            url, pg_pid = f"sqlite:///{args.path}", None
            if args.db == "postgresql":
                url, pg_pid = copy_to_postgresql(args.path, stack)
            out = Server("this checkout", ROOT, args.path, url, meta, args, stack).probe(url, args.repeat, pg_pid, args.profile)
            print(json.dumps(out) if args.profile == "spec" else out)
        return 0
    with ExitStack() as stack:
        trees = [("this checkout", ROOT)]
        if args.against:
            trees.append((args.against, checkout(args.against, stack)))
        dialects = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
        results = [run_database(d, args.path, meta, args, trees) for d in dialects]
    text = report(results, args, load_before, [round(x, 2) for x in os.getloadavg()])
    print()
    print(text)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"pages-{stamp}.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    (RESULTS / f"pages-{stamp}.txt").write_text(text + "\n")
    (RESULTS / "pages-latest.txt").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
