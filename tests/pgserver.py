"""A throwaway PostgreSQL server for the test run: initdb as the postgres user in a temporary
directory, listening only on a unix socket there. Used when TEST_DATABASE=postgresql and no
TEST_POSTGRES_URL is given."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path


def _bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise RuntimeError(f"{name} not found: install postgresql")


def _as_postgres(args: list[str]) -> None:
    if os.geteuid() == 0:
        cmd = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(args)]
    else:
        cmd = args
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class PostgresServer:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="jijian-pg-"))
        self.data = self.dir / "data"
        self.port = 5432 + (os.getpid() % 1000) + 1000

    def start(self) -> str:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        os.chmod(self.dir, 0o755)
        _as_postgres([_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
                      "-E", "UTF8", "--locale=C.UTF-8"])
        opts = f"-k {self.dir} -p {self.port} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        _as_postgres([_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-w", "-o", f'"{opts}"', "start"])
        for _ in range(50):
            if (self.dir / f".s.PGSQL.{self.port}").exists():
                break
            time.sleep(0.1)
        return f"postgresql+psycopg://postgres@/postgres?host={self.dir}&port={self.port}"

    def stop(self) -> None:
        try:
            _as_postgres([_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"])
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
