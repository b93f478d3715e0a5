"""Kill -9: SIGKILL a gunicorn worker or the whole server at random moments while counter
tablets record returns, and prove after every kill that nothing was half written.

    flock /tmp/jijian-bench.lock python -m bench.crash                    # both databases, 100 kills each
    python -m bench.crash --db sqlite --kills 20                          # a short run

Tablets (threads) post returns, corrections, new batches and closes through the API, each
with its own Idempotency-Key. A request that gets no answer (the server died under it) is
sent again with the same key until one comes — the tablet's outbox. After each kill the
tablets are held, the server restarted if it was the whole of it, and the ledger checked
(app/services/ledger.py: a return without its counters, a counter without its audit event,
half a pay-period close, an invoice number without its invoice; SQLite's integrity_check).
At the end: every key recorded at most once (rows in the database = keys answered 201), and
answered keys sent again answer as the first time and store nothing. Appended to
bench/results/crash.txt.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from bench.proofs import Client, Stats, check, database, load_text, main_for_each_database, make_app, seed, totals


class Outbox(threading.Thread):
    """One tablet: taps in a closed loop (0.05-0.3 s apart), each request re-sent with its key
    until the server answers it."""

    def __init__(self, server_port, world, info, stop, hold, rng, journal, lock, idle):
        super().__init__(daemon=True)
        self.client = Client(server_port, Stats())
        self.world, self.info, self.stop, self.hold, self.rng = world, info, stop, hold, rng
        self.station = world["stations"][info["station"]]
        self.auth = {"Authorization": f"Bearer {info['token']}"}
        self.journal, self.lock, self.idle = journal, lock, idle
        self.recent: list[int] = []

    def send(self, kind: str, path: str, body: dict):
        key = f"crash-{uuid.uuid4().hex}"
        attempts = 0
        while True:
            self.idle.set()
            self.hold.wait()
            self.idle.clear()
            if not self.hold.is_set():  # held while we were waking: go round
                continue
            attempts += 1
            status, data = self.client.send(kind, "POST", path, body, {**self.auth, "Idempotency-Key": key})
            if status is not None and status not in (502, 503, 504):
                with self.lock:
                    self.journal.append({"key": key, "kind": kind, "path": path, "body": body, "status": status,
                                         "answer": data.decode(errors="replace"), "attempts": attempts,
                                         "auth": self.auth["Authorization"]})
                return status, data
            if self.stop.is_set() and attempts > 200:
                with self.lock:
                    self.journal.append({"key": key, "kind": kind, "path": path, "body": body, "status": None,
                                         "answer": "", "attempts": attempts})
                return None, b""
            time.sleep(0.2)

    def run(self):
        while not self.stop.is_set():
            st, r = self.station, self.rng.random()
            batches = st["batches"]
            batch = self.rng.choice(batches)
            if r < 0.8:
                status, data = self.send("return", f"/api/v1/batches/{batch}/returns",
                                         {"accepted": self.rng.randint(1, 3), "rejected": self.rng.choice((0, 0, 1))})
                if status == 201:
                    self.recent = (self.recent + [(batch, json.loads(data)["id"])])[-5:]
            elif r < 0.88 and self.recent:
                of_batch, original = self.recent.pop()
                self.send("correction", f"/api/v1/batches/{of_batch}/returns",
                          {"accepted": -1, "corrects": original, "reason": "数错了"})
            elif r < 0.96:
                status, data = self.send("issue", "/api/v1/batches", {"order_id": self.rng.choice(st["orders"]),
                                                                     "worker_id": self.rng.choice(st["workers"]),
                                                                     "quantity": 200})
                if status == 201:
                    batches.append(json.loads(data)["id"])
            elif len(batches) > 10:
                status, _ = self.send("close", f"/api/v1/batches/{batch}/close", {"reason": "收工"})
                if status == 200 and batch in batches:
                    batches.remove(batch)
            self.idle.set()
            self.stop.wait(self.rng.uniform(0.05, 0.3))
        self.idle.set()


def run(dialect: str, args) -> tuple[str, bool]:
    from bench.servers import Server

    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix=f"jijian-crash-{dialect}-"))
        url = database(dialect, stack, tmp)
        app = make_app(url)
        world = seed(app, args.tablets, args.tablets * 4)
        server = Server(url, "crash-" + uuid.uuid4().hex, tmp / "instance", workers=2, threads=2, preload=True).start()
        stack.callback(server.stop)
        start_figures = totals(app)
        stop, hold, lock = threading.Event(), threading.Event(), threading.Lock()
        hold.set()
        journal: list[dict] = []
        rng = random.Random(args.seed)
        tablets = [Outbox(server.port, world, t, stop, hold, random.Random(rng.random()), journal, lock,
                          threading.Event()) for t in world["tablets"]]
        for t in tablets:
            t.start()
        kills, after_kill, restarts, worker_respawn = Counter(), [], [], []
        load = [os.getloadavg()]
        started = time.monotonic()
        for i in range(args.kills):
            time.sleep(rng.uniform(*args.gap))
            whole = rng.random() < args.whole or not server.worker_pids()
            if whole:
                server.kill()
                kills["whole server"] += 1
            else:
                pid = rng.choice(server.worker_pids())
                os.kill(pid, signal.SIGKILL)
                kills["one worker"] += 1
            hold.clear()
            deadline = time.monotonic() + 90
            while not all(t.idle.is_set() for t in tablets) and time.monotonic() < deadline:
                time.sleep(0.05)
            if whole:
                t0 = time.monotonic()
                server.start()
                restarts.append(time.monotonic() - t0)
            breaches = check(app)
            if breaches:
                after_kill.append((i + 1, "whole server" if whole else "one worker", breaches[:10]))
            if i == args.kills // 2:
                load.append(os.getloadavg())
            hold.set()
            if not whole:
                worker_respawn.append(len(server.worker_pids()))
        stop.set()
        hold.set()
        for t in tablets:
            t.join(120)
        elapsed = time.monotonic() - started
        load.append(os.getloadavg())
        final = check(app)
        # every key recorded at most once: rows = keys answered 201
        answered = Counter((j["kind"], j["status"]) for j in journal)
        end_figures = totals(app)
        new_returns = end_figures["returns"] - start_figures["returns"]
        new_batches = end_figures["batches"] - start_figures["batches"]
        returns_201 = answered[("return", 201)] + answered[("correction", 201)]
        issued_201 = answered[("issue", 201)]
        unanswered = sum(1 for j in journal if j["status"] is None)
        retried = sum(1 for j in journal if j["attempts"] > 1)
        # answered keys sent again by the tablet that sent them: the same answer, nothing stored
        answered_entries = [j for j in journal if j["status"] is not None]
        sample = random.Random(1).sample(answered_entries, min(50, len(answered_entries)))
        client = Client(server.port, Stats())
        before_replay = totals(app)
        mismatched = 0
        for j in sample:
            status, data = client.send("replay", "POST", j["path"], j["body"],
                                       {"Authorization": j["auth"], "Idempotency-Key": j["key"]})
            mismatched += (status, data.decode(errors="replace")) != (j["status"], j["answer"])
        after_replay = totals(app)
        ok = not after_kill and not final and new_returns == returns_201 and new_batches == issued_201 \
            and not unanswered
        lines = [f"## crash {dialect}: {sum(kills.values())} SIGKILLs ({kills['one worker']} of one worker, "
                 f"{kills['whole server']} of the whole server) in {elapsed:.0f} s under {len(tablets)} tablets; "
                 f"load average " + load_text(load),
                 f"- requests answered: {sum(v for (k, s), v in answered.items() if s is not None)} "
                 f"({dict(sorted((f'{k} {s}', v) for (k, s), v in answered.items()))}); re-sent with the same key "
                 f"after a kill: {retried}; never answered: {unanswered}",
                 f"- returns stored {new_returns} = returns answered 201 {returns_201}; batches stored {new_batches} = "
                 f"issues answered 201 {issued_201}",
                 f"- whole-server restarts: {len(restarts)}, median {sorted(restarts)[len(restarts) // 2] if restarts else 0:.1f} s",
                 f"- ledger checked after every kill: {len(after_kill)} kill(s) left a breach"
                 + "".join(f"\n  - after kill {n} ({what}): {b}" for n, what, b in after_kill[:10]),
                 f"- ledger at the end: {'every invariant holds' if not final else final[:10]}",
                 f"- {len(sample)} answered keys sent again: {len(sample) - mismatched} answered as the first time; "
                 f"rows before/after the replays equal: {before_replay == after_replay}"]
        ok &= before_replay == after_replay and mismatched == 0
        return "\n".join(lines), ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="SIGKILL gunicorn under the tablets' load; check after each kill.")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--whole", type=float, default=0.1, help="share of kills that take the whole server")
    parser.add_argument("--gap", type=float, nargs=2, default=(0.3, 2.0), help="seconds between kills (min max)")
    parser.add_argument("--tablets", type=int, default=8)
    parser.add_argument("--seed", type=int, default=9)
    return main_for_each_database("crash", run, parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
