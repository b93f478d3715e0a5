"""Database backups and restores.

SQLite is copied through its online backup API in one step, which reads a single consistent
snapshot while the app goes on writing (WAL readers never block writers). PostgreSQL is
dumped with ``pg_dump`` (custom format) and restored with ``pg_restore``. A restore goes only
into an empty database unless forced, so a slip of the keyboard cannot overwrite live data.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import make_url

from app.extensions import db
from app.services.errors import ConflictError, ValidationError

NAME_PREFIX = "jijian-"
SUFFIX = {"sqlite": ".sqlite3", "postgresql": ".pgdump"}


class BackupUnavailable(ValidationError):
    code = "backup_unavailable"

    def default_message(self):
        return _l("This database cannot be backed up here (pg_dump is not installed).")


class DatabaseNotEmpty(ConflictError):
    code = "database_not_empty"

    def default_message(self):
        return _l("The database already holds data; restore only into an empty database, or force it.")


class NotABackup(ValidationError):
    code = "not_a_backup"

    def default_message(self):
        return _l("This file is not a readable Jijian backup.")


@dataclass
class BackupResult:
    path: Path
    size: int
    removed: list[Path] = field(default_factory=list)


def dialect() -> str:
    return db.engine.dialect.name


def default_backup_path(now: datetime | None = None) -> Path:
    """``BACKUP_DIR/jijian-YYYYMMDDTHHMMSSmmmZ.<ext>`` (UTC, milliseconds): names sort by time."""
    now = now or datetime.now(UTC)
    directory = Path(current_app.config["BACKUP_DIR"])
    ext = SUFFIX.get(dialect(), ".dump")
    while True:
        path = directory / f"{NAME_PREFIX}{now.strftime('%Y%m%dT%H%M%S')}{now.microsecond // 1000:03d}Z{ext}"
        if not path.exists():
            return path
        now += timedelta(milliseconds=1)  # two backups in one millisecond: keep both, in order


def backup_database(dest: Path | str | None = None, keep: int | None = None) -> BackupResult:
    """Write a consistent copy of the whole database to ``dest`` (default: a new timestamped
    file in BACKUP_DIR, keeping the newest ``keep`` there — BACKUP_KEEP by default). The copy
    appears under its final name only once complete."""
    into_dir = dest is None
    path = Path(dest) if dest is not None else default_backup_path()
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    tmp = path.with_name(path.name + ".part")
    try:
        # Readable by its owner only (0600), from the first byte: a backup holds every worker's
        # ID and bank numbers. SQLite and pg_dump both write into the file as created here.
        tmp.unlink(missing_ok=True)
        os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        if dialect() == "sqlite":
            _sqlite_backup(_sqlite_path(), tmp)
        elif dialect() == "postgresql":
            _pg_dump(tmp)
        else:
            raise BackupUnavailable()
        os.chmod(tmp, 0o600)  # whatever the umask or the dump did
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    removed = []
    if into_dir:
        removed = prune_backups(path.parent, keep if keep is not None else current_app.config["BACKUP_KEEP"])
    return BackupResult(path=path, size=path.stat().st_size, removed=removed)


def refresh_statistics() -> bool:
    """SQLite: refresh the query planner's statistics (``ANALYZE`` on a sample of each index),
    so it picks the right index as the returns grow — the employment report's date ranges rely
    on them. PostgreSQL's autovacuum keeps its own. True when it ran; the job runner commits."""
    if dialect() != "sqlite":
        return False
    from app.db_tx import writing

    with writing():
        conn = db.session.connection()
        conn.exec_driver_sql("PRAGMA analysis_limit=1000")  # a sample a index: a second, not minutes
        conn.exec_driver_sql("ANALYZE")
    return True


def prune_backups(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups this app wrote in ``directory`` (by name,
    which is by time); other files are never touched."""
    keep = max(int(keep), 1)
    ours = sorted(p for p in Path(directory).glob(f"{NAME_PREFIX}*")
                  if p.suffix in SUFFIX.values() and p.is_file())
    doomed = ours[:-keep]
    for p in doomed:
        p.unlink(missing_ok=True)
    return doomed


# --- SQLite


def _sqlite_path() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:":
        raise BackupUnavailable()
    return Path(database)


def _sqlite_backup(source: Path, target: Path) -> None:
    timeout = current_app.config.get("SQLITE_BUSY_TIMEOUT_MS", 30000) / 1000
    src = sqlite3.connect(str(source), timeout=timeout)
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst)  # pages=-1: the whole database in one step, from one read snapshot
        dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained single file
        if dst.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise NotABackup()
    finally:
        dst.close()
        src.close()


def _sqlite_check_backup(path: Path) -> None:
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            con.close()
    except sqlite3.DatabaseError:
        raise NotABackup() from None
    if not ok or "job_runs" not in tables:
        raise NotABackup()


def _sqlite_restore(source: Path, target: Path) -> None:
    db.engine.dispose()  # no pooled connection may hold the old file open
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(str(target), timeout=current_app.config.get("SQLITE_BUSY_TIMEOUT_MS", 30000) / 1000)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    db.engine.dispose()


# --- PostgreSQL


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise BackupUnavailable()


def _pg_target() -> tuple[str, dict]:
    """A libpq URI for the app's database (password passed in the environment, not argv)."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _run(args: list[str], env: dict) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(args[0]).name} failed: {done.stderr.strip()[-2000:]}")


def _pg_dump(target: Path) -> None:
    uri, env = _pg_target()
    _run([_pg_bin("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
          "--file", str(target), "--dbname", uri], env)


def _pg_check_backup(path: Path) -> None:
    done = subprocess.run([_pg_bin("pg_restore"), "--list", str(path)], capture_output=True, text=True)
    if done.returncode != 0 or "job_runs" not in done.stdout:
        raise NotABackup()


def _pg_restore(source: Path) -> None:
    uri, env = _pg_target()
    db.session.remove()
    db.engine.dispose()
    _run([_pg_bin("pg_restore"), "--no-owner", "--no-privileges", "--clean", "--if-exists",
          "--single-transaction", "--exit-on-error", "--dbname", uri, str(source)], env)
    db.engine.dispose()


# --- restore


def is_empty() -> bool:
    """No table of ours holds a row (a freshly migrated or blank database)."""
    existing = set(inspect(db.engine).get_table_names())
    for table in db.metadata.sorted_tables:
        if table.name in existing and db.session.scalar(select(func.count()).select_from(table)):
            return False
    return True


def restore_database(source: Path | str, force: bool = False) -> None:
    """Replace the database with the backup at ``source``. Refuses a non-empty database unless
    ``force``; the backup is checked before anything is touched. Stop the app first."""
    source = Path(source)
    if not source.is_file():
        raise NotABackup()
    if dialect() == "sqlite":
        _sqlite_check_backup(source)
    elif dialect() == "postgresql":
        _pg_check_backup(source)
    else:
        raise BackupUnavailable()
    empty = is_empty()
    db.session.remove()
    if not empty and not force:
        raise DatabaseNotEmpty()
    if dialect() == "sqlite":
        _sqlite_restore(source, _sqlite_path())
    else:
        _pg_restore(source)
