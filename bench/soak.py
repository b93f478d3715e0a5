"""Soak: 40 counter tablets and 300 workers' phones with think times against a real gunicorn,
on SQLite and PostgreSQL, then the ledger's invariants; with a backup taken mid-run and
restored into a fresh database (the restore drill).

    flock /tmp/jijian-bench.lock python -m bench.soak                 # both databases, 5 minutes each
    python -m bench.soak --db sqlite --seconds 900                    # one 15-minute run
    python -m bench.soak --db postgresql --servers 2                  # two app servers, round robin

Tablets (each a supervisor signed in, 2-6 s between taps): open the station's board and a
batch page, record returns through the API with an Idempotency-Key (one in ten re-sent with
the same key, as a flaky network would, and checked to answer as the first did), correct a
return, issue batches, close them. Phones (each a worker, 5-20 s between taps): sign in with
phone and PIN once, then the home page, earnings, pay statements, what they hold.

The load comes from Python threads with the standard library's HTTP client (one keep-alive
connection each), sleeping between taps: 340 mostly idle threads cost the server's two cores
far less than a load tool's own event loop would. Reported: p50/p95/p99 per page, statuses
per page, transport errors, "database is locked" in the server log, the checker's verdict,
and the restore drill's counts and money. Appended to bench/results/soak.txt.

With ``--servers N``, N gunicorn instances (their own ports, the same database and secret)
serve the devices, and each device sends each request to the next server in turn (a
round-robin balancer, the cookie shared): a session started on one server must work on the
others (a signed-in page answering a redirect to sign-in is a finding), a same-key re-send
usually lands on the other server, and the statuses are reported per server too.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

from bench.proofs import (
    PASSWORD,
    PIN,
    Client,
    Stats,
    check,
    database,
    load_text,
    main_for_each_database,
    make_app,
    percentile,
    seed,
    totals,
)


def _csrf(html: bytes) -> str:
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', html)
    return match.group(1).decode() if match else ""


class Tablet(threading.Thread):
    def __init__(self, ports, stats, info, world, stop, rng, think=(2.0, 6.0), pause=None):
        super().__init__(daemon=True)
        self.client = Client(ports, stats, first=rng.randrange(1 << 16))
        self.info, self.world, self.stop, self.rng = info, world, stop, rng
        self.station = world["stations"][info["station"]]
        self.auth = {"Authorization": f"Bearer {info['token']}"}
        self.think, self.pause = think, pause
        self.recent: list[int] = []  # ids of returns this tablet recorded
        self.stats = stats

    def sign_in(self):
        status, page = self.client.send("login page", "GET", "/login")
        self.client.send("login", "POST", "/login", {"csrf_token": _csrf(page), "username": self.info["username"],
                                                    "password": PASSWORD}, form=True)

    def run(self):
        self.stop.wait(self.rng.uniform(0, self.think[1]))  # tablets are switched on over the first seconds too
        self.sign_in()
        while not self.stop.is_set():
            if self.pause is not None:
                self.pause.wait()
            self.tap()
            self.stop.wait(self.rng.uniform(*self.think))

    def tap(self):
        r, c, st = self.rng.random(), self.client, self.station
        batches = st["batches"]
        if not batches:
            return
        batch = self.rng.choice(batches)
        if r < 0.25:
            c.send("board", "GET", f"/stations/{st['id']}/board")
        elif r < 0.35:
            c.send("batch page", "GET", f"/batches/{batch}")
        elif r < 0.42:
            c.send("orders page", "GET", "/orders")
        elif r < 0.80:
            key = f"soak-{uuid.uuid4().hex}"
            body = {"accepted": self.rng.randint(1, 4), "rejected": self.rng.choice((0, 0, 0, 1))}
            headers = {**self.auth, "Idempotency-Key": key}
            status, data = c.send("API return", "POST", f"/api/v1/batches/{batch}/returns", body, headers)
            if status == 201:
                self.recent = (self.recent + [(batch, json.loads(data)["id"])])[-5:]
            if self.rng.random() < 0.1 and status is not None:
                again, data2 = c.send("API return (same key again)", "POST", f"/api/v1/batches/{batch}/returns",
                                      body, headers)
                if (again, data2) != (status, data):
                    with self.stats.lock:
                        self.stats.replay_mismatch.append((key, status, again))
        elif r < 0.86 and self.recent:
            of_batch, original = self.recent.pop()
            c.send("API correction", "POST", f"/api/v1/batches/{of_batch}/returns",
                   {"accepted": -1, "corrects": original, "reason": "数错了"},
                   {**self.auth, "Idempotency-Key": f"soak-{uuid.uuid4().hex}"})
        elif r < 0.95:
            worker = self.rng.choice(st["workers"])
            status, data = c.send("API issue batch", "POST", "/api/v1/batches",
                                  {"order_id": self.rng.choice(st["orders"]), "worker_id": worker, "quantity": 300},
                                  {**self.auth, "Idempotency-Key": f"soak-{uuid.uuid4().hex}"})
            if status == 201:
                batches.append(json.loads(data)["id"])
        elif len(batches) > 20:
            status, _ = c.send("API close batch", "POST", f"/api/v1/batches/{batch}/close", {"reason": "收工"},
                               {**self.auth, "Idempotency-Key": f"soak-{uuid.uuid4().hex}"})
            if status == 200 and batch in batches:
                batches.remove(batch)


class Phone(threading.Thread):
    def __init__(self, ports, stats, info, stop, rng, think=(5.0, 20.0), pause=None):
        super().__init__(daemon=True)
        self.client = Client(ports, stats, first=rng.randrange(1 << 16))
        self.info, self.stop, self.rng, self.think, self.pause = info, stop, rng, think, pause

    def run(self):
        self.stop.wait(self.rng.uniform(0, self.think[1]))  # phones wake up over the first seconds
        status, page = self.client.send("worker login page", "GET", "/w/login")
        self.client.send("worker login", "POST", "/w/login",
                         {"csrf_token": _csrf(page), "phone": self.info["phone"], "pin": PIN}, form=True)
        while not self.stop.is_set():
            if self.pause is not None:
                self.pause.wait()
            r = self.rng.random()
            if r < 0.5:
                self.client.send("home", "GET", "/home")
            elif r < 0.7:
                self.client.send("earnings", "GET", "/me/earnings")
            elif r < 0.85:
                self.client.send("pay statements", "GET", "/me/payslips")
            else:
                self.client.send("what I hold", "GET", "/me/batches")
            self.stop.wait(self.rng.uniform(*self.think))


def table(stats: Stats) -> list[str]:
    """Per page: percentiles of the whole run, and p95 after the first WARM_UP_S seconds (the
    devices signing in, each gunicorn worker rendering each template for the first time)."""
    lines = [f"| page | requests | p50 ms | p95 ms | p99 ms | p95 ms after {WARM_UP_S} s | statuses | transport errors |",
             "|---|---|---|---|---|---|---|---|"]
    for page in sorted(set(stats.latency) | set(stats.transport)):
        lat = stats.latency[page]
        steady = [t for t, at in zip(lat, stats.when[page], strict=True) if at >= WARM_UP_S]
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(stats.status[page].items()))
        lines.append(f"| {page} | {len(lat)} | {percentile(lat, 50) * 1000:.0f} | {percentile(lat, 95) * 1000:.0f} | "
                     f"{percentile(lat, 99) * 1000:.0f} | {percentile(steady, 95) * 1000:.0f} | {statuses} | "
                     f"{stats.transport[page]} |")
    return lines


# --- one run

# Pages a signed-in device opens: a redirect (to sign in) means its session was not recognised.
WARM_UP_S = 30
SIGNED_IN_PAGES = ("board", "batch page", "orders page", "home", "earnings", "pay statements", "what I hold")



def run(dialect: str, args) -> tuple[str, bool]:
    from bench.servers import Server

    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix=f"jijian-soak-{dialect}-"))
        url = database(dialect, stack, tmp)
        app = make_app(url)
        t0 = time.monotonic()
        world = seed(app, args.tablets, args.phones)
        seeded = time.monotonic() - t0
        secret = "soak-" + uuid.uuid4().hex
        servers = []
        for _ in range(args.servers):
            servers.append(Server(url, secret, tmp / "instance", workers=args.workers, threads=args.threads).start())
            stack.callback(servers[-1].stop)
        ports = [s.port for s in servers]
        stats, stop, pause = Stats(), threading.Event(), threading.Event()
        pause.set()
        rng = random.Random(args.seed)
        devices = [Tablet(ports, stats, t, world, stop, random.Random(rng.random()), pause=pause)
                   for t in world["tablets"]]
        devices += [Phone(ports, stats, p, stop, random.Random(rng.random()), pause=pause)
                    for p in world["phones"]]
        load = [os.getloadavg()]
        started = time.monotonic()
        stats.started = time.perf_counter()
        for d in devices:
            d.start()
        drill = {}
        backup_at = started + args.seconds / 2
        minute_load = []  # the 1-minute load average at the end of each minute
        while time.monotonic() < started + args.seconds:
            time.sleep(1)
            if time.monotonic() - started >= 60 * (len(minute_load) + 1):
                minute_load.append(os.getloadavg()[0])
            if len(load) < 2 and time.monotonic() > started + args.seconds / 2:
                load.append(os.getloadavg())
            if not drill and not args.no_backup and time.monotonic() >= backup_at:
                drill = backup_moment(app, pause, tmp, started)
        stop.set()
        pause.set()
        for d in devices:
            d.join(70)
        elapsed = time.monotonic() - started
        load.append(os.getloadavg())
        breaches = check(app)
        locked = sum(s.log.read_text(errors="replace").count("database is locked") for s in servers
                     if s.log.exists())
        server_errors = sum(v for page in stats.status.values() for k, v in page.items() if k >= 500)
        signed_out = sum(stats.status[page][302] for page in SIGNED_IN_PAGES)
        restored = restore_drill(dialect, drill, stack, tmp) if drill else None
        ok = not breaches and not server_errors and not locked and not stats.replay_mismatch and \
            not signed_out and (restored is None or restored["ok"])
        lines = [f"## soak {dialect}: {args.tablets} tablets, {args.phones} phones, {elapsed:.0f} s "
                 f"(seeded in {seeded:.0f} s), {args.servers} gunicorn server(s) x {args.workers} workers x "
                 f"{args.threads} threads; load average " + load_text(load), "",
                 *table(stats), "",
                 f"- 5xx: {server_errors}; 'database is locked' in the server log: {locked}; "
                 f"re-sent same-key returns answering differently: {len(stats.replay_mismatch)}; "
                 f"signed-in pages answering a redirect to sign-in: {signed_out}",
                 *(["- statuses by server (round robin): " + "; ".join(
                     f"{port}: " + ", ".join(f"{k}: {v}" for k, v in sorted(stats.by_server[port].items(), key=str))
                     for port in ports)] if len(ports) > 1 else []),
                 "- p95 of the signed-in pages and API calls, minute by minute (the machine's 1-minute load "
                 "average at the minute's end): " + by_minute(stats, minute_load),
                 f"- ledger: {'every invariant holds' if not breaches else str(len(breaches)) + ' breach(es)'}",
                 *[f"  - {b}" for b in breaches[:20]]]
        if restored is not None:
            lines += [f"- restore drill: backup taken at {drill['at_s']:.0f} s into the run ({drill['size']} bytes, "
                      f"load paused {drill['paused_s']:.1f} s for the moment's figures); restored into a fresh "
                      f"database in {restored['seconds']:.1f} s; checker on the copy: "
                      f"{'every invariant holds' if not restored['breaches'] else restored['breaches'][:5]}; "
                      f"figures at the backup's moment {'equal' if restored['equal'] else 'DIFFER'}: "
                      f"{json.dumps(drill['totals'], ensure_ascii=False)}"
                      + ("" if restored["equal"] else f" vs copy {json.dumps(restored['totals'], ensure_ascii=False)}")]
        return "\n".join(lines), ok


def by_minute(stats: Stats, minute_load: list[float]) -> str:
    """p95 of every answer but the sign-ins, a minute at a time: whether the tail follows the
    machine's load or stays whatever the load."""
    minutes: dict[int, list[float]] = {}
    for page, latencies in stats.latency.items():
        if "login" in page:
            continue
        for seconds, at in zip(latencies, stats.when[page], strict=True):
            minutes.setdefault(int(at // 60), []).append(seconds)
    return ", ".join(f"{m + 1}: {percentile(v, 95) * 1000:.0f} ms"
                     + (f" ({minute_load[m]:.1f})" if m < len(minute_load) else "")
                     for m, v in sorted(minutes.items()))


def backup_moment(app, pause: threading.Event, tmp: Path, started: float) -> dict:
    """Hold the devices between taps, let requests in flight finish, note the figures, back up,
    and let them go on."""
    from app.services.backup import backup_database

    t0 = time.monotonic()
    pause.clear()
    time.sleep(2.0)  # a tap already sent is answered within this (p99 is far below)
    figures = totals(app)
    with app.app_context():
        result = backup_database(tmp / "drill.backup")
    pause.set()
    return {"path": result.path, "size": result.size, "totals": figures, "paused_s": time.monotonic() - t0,
            "at_s": t0 - started}


def restore_drill(dialect: str, drill: dict, stack: ExitStack, tmp: Path) -> dict:
    from app.services.backup import restore_database

    url = database(dialect, stack, tmp, name="restored")
    app = make_app(url)
    t0 = time.monotonic()
    with app.app_context():
        restore_database(drill["path"])
    seconds = time.monotonic() - t0
    breaches = check(app)
    copy = totals(app)
    return {"seconds": seconds, "breaches": breaches, "totals": copy, "equal": copy == drill["totals"],
            "ok": not breaches and copy == drill["totals"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Soak: tablets and phones against gunicorn, then the checker.")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--tablets", type=int, default=40)
    parser.add_argument("--phones", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--servers", type=int, default=1, help="app servers on the one database, round robin")
    parser.add_argument("--no-backup", action="store_true", help="skip the restore drill")
    parser.add_argument("--seed", type=int, default=15)
    return main_for_each_database("soak", run, parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
