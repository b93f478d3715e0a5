"""Real gunicorn servers for the proofs (tests/functional/test_two_servers.py, bench.fuzz,
bench.soak, bench.crash): started on loopback ports against one database and one secret,
stopped (or SIGKILLed) by pid, and a small round-robin HTTP client over them."""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(database_url: str, secret: str, instance: Path, extra: dict | None = None) -> dict:
    instance.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": secret, "JIJIAN_ENV": "production",
            "JIJIAN_INSTANCE": str(instance), "PAGE_CACHE_SIZE": os.environ.get("PAGE_CACHE_SIZE", "4096"),
            **(extra or {})}


class Server:
    """One gunicorn (its own process group, so a SIGKILL takes the master and its workers)."""

    def __init__(self, database_url: str, secret: str, instance: Path, *, port: int | None = None,
                 workers: int = 1, threads: int = 2, env: dict | None = None, log: Path | None = None,
                 preload: bool = False):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = server_env(database_url, secret, instance, env)
        self.workers, self.threads = workers, threads
        self.log = log or instance / f"gunicorn-{self.port}.log"
        self.preload = preload  # workers forked from a loaded app: a killed one is back in a moment
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Server:
        cmd = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
               "--threads", str(self.threads), "--log-level", "warning", "--graceful-timeout", "5",
               *(["--preload"] if self.preload else []), "wsgi:app"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=self.log.open("a"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {self.log}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer in {timeout}s; see {self.log}")

    def worker_pids(self) -> list[int]:
        if self.proc is None:
            return []
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def kill(self) -> None:
        """SIGKILL the whole server (master and workers), as a power cut would."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None


@contextmanager
def servers(database_url: str, secret: str, instance: Path, count: int = 2, **kw):
    started = []
    try:
        for _ in range(count):
            started.append(Server(database_url, secret, instance, **kw).start())
        yield started
    finally:
        for server in started:
            server.stop()


class RoundRobin:
    """requests against several servers in turn, sharing one cookie jar (a cookie is per host,
    not per port: the browser behind a load balancer)."""

    def __init__(self, bases: list[str]):
        import requests

        self.bases = list(bases)
        self.session = requests.Session()
        self.turn = 0

    def next_base(self) -> str:
        base = self.bases[self.turn % len(self.bases)]
        self.turn += 1
        return base

    def request(self, method: str, path: str, base: str | None = None, **kw):
        kw.setdefault("allow_redirects", False)
        kw.setdefault("timeout", 30)
        return self.session.request(method, (base or self.next_base()) + path, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)
