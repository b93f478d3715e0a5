"""How a transaction begins.

Write intent: requests that may write, and jobs and commands that say so (``writing()``), begin
their transactions with SQLite's write lock already taken (BEGIN IMMEDIATE), so SQLite never has
to upgrade a read lock mid-transaction and fail with "database is locked". PostgreSQL ignores it.

The SQLite side lives here too: WAL and the pragmas of each connection, the BEGIN hook, and the
per-process gate writers queue on (``GatedConnection``)."""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

_write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)


def write_intent() -> bool:
    return _write_intent.get()


@contextmanager
def writing():
    """Transactions begun inside this block take SQLite's write lock up front."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def sqlite_engine_options(options: dict) -> dict:
    """Engine options for a SQLite database: connections of the gated class, no pre-ping (a
    file on this machine never drops a connection)."""
    options = {k: v for k, v in options.items() if k != "pool_pre_ping"}
    options["connect_args"] = {**options.get("connect_args", {}), "factory": GatedConnection}
    return options


def _wants_write_lock() -> bool:
    """Requests that may write (and jobs or commands that say so) begin IMMEDIATE, so SQLite
    never has to upgrade a read lock mid-transaction and fail with "database is locked"."""
    if write_intent():
        return True
    if has_request_context():
        from flask import g

        return request.method not in ("GET", "HEAD", "OPTIONS") and not g.get("api_read_phase", False)
    return False


SQLITE_MMAP_BYTES = 1 << 30  # address space, not memory: pages are shared with the OS cache
SQLITE_CACHE_KIB = 32 * 1024  # per connection


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    from flask import current_app, has_app_context

    timeout = current_app.config.get("SQLITE_BUSY_TIMEOUT_MS", 30000) if has_app_context() else 30000
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    connection_record.info["busy_timeout_ms"] = int(timeout)
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={int(timeout)}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    # Read the database through the OS page cache without copying (mmap), and keep more of
    # the hot B-tree pages (indexes of a million returns) in each connection's own cache.
    cur.execute(f"PRAGMA mmap_size={int(SQLITE_MMAP_BYTES)}")
    cur.execute(f"PRAGMA cache_size=-{int(SQLITE_CACHE_KIB)}")
    cur.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn):
    if conn.dialect.name != "sqlite":
        return
    if _wants_write_lock():
        _begin_immediate(conn.connection.dbapi_connection, conn.connection.info.get("busy_timeout_ms", 30000))
    else:
        # On the driver's connection, as BEGIN IMMEDIATE is: through SQLAlchemy's execution
        # (events, result) the BEGIN every read request sends cost ~15 µs, on the driver 0.4.
        conn.connection.dbapi_connection.execute("BEGIN")


class GatedConnection(sqlite3.Connection):
    """A SQLite connection whose write transactions pass one gate per process.

    SQLite lets one writer in at a time. Threads of one process queue on a lock that wakes the
    next one the moment the writer commits, instead of each polling the database lock; only one
    thread a process then asks SQLite for the lock, so the queue between processes stays short.
    """

    holds_gate = False

    def take_gate(self, timeout_s: float) -> None:
        if self.holds_gate:
            return
        if not _write_gate.acquire(timeout=timeout_s):
            raise sqlite3.OperationalError("database is locked (waited for this process's other writers)")
        self.holds_gate = True

    def release_gate(self) -> None:
        if self.holds_gate:
            self.holds_gate = False
            _write_gate.release()

    def commit(self):
        try:
            super().commit()
        finally:
            self.release_gate()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self.release_gate()

    def close(self):
        try:
            super().close()
        finally:
            self.release_gate()


_write_gate = threading.Lock()


def _new_gate_after_fork() -> None:
    global _write_gate
    _write_gate = threading.Lock()


os.register_at_fork(after_in_child=_new_gate_after_fork)


def _begin_immediate(dbapi_connection, timeout_ms: int) -> None:
    """Take SQLite's write lock: first this process's gate (see GatedConnection), then the
    database lock, retrying every millisecond or two until the busy timeout.

    SQLite's own busy handler sleeps ever longer (up to 100 ms a try), so under a burst of
    writes from several processes the lock sits idle between sleepers and one waiter can lose
    it again and again for seconds. Short, even retries hand it over within a couple of
    milliseconds; past the timeout the error is the usual "database is locked".
    """
    deadline = time.monotonic() + timeout_ms / 1000
    gated = isinstance(dbapi_connection, GatedConnection)
    if gated:
        dbapi_connection.take_gate(timeout_ms / 1000)
    delay = 0.0005
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    if gated:
                        dbapi_connection.release_gate()
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.002)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={int(timeout_ms)}")


def read_first() -> None:
    """This request reads before it writes (a sign-in verifies a hash first): on SQLite its
    first transaction is a plain read; ``begin_write_phase`` switches to writing."""
    from flask import g

    g.api_read_phase = True


def begin_write_phase() -> None:
    """From here on the request writes. On SQLite the token lookup, the body's validation and
    everything else read so far ran in a plain read transaction; it ends here, and the next
    query begins IMMEDIATE (the write lock), so the lock is held only for the work itself.
    Objects loaded so far (the signed-in account, the batch) stay loaded across the switch."""
    from flask import g, has_app_context

    from app.extensions import db

    if not has_app_context() or not g.get("api_read_phase"):
        return
    g.api_read_phase = False
    session = db.session()
    if session.in_transaction() and session.get_bind().dialect.name == "sqlite":
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("begin_write_phase after a change: the change would be lost")
        # What was read stays loaded: rows the write part relies on are either immutable
        # (a batch's worker, rate, dates) or re-checked by the conditional UPDATE itself.
        loaded = list(session.identity_map.values())
        session.expunge_all()
        session.rollback()
        for obj in loaded:
            session.add(obj)


def rowcount(result) -> int:
    """The rows a DML statement matched. ``Session.execute`` is typed as returning a plain
    ``Result``; for an UPDATE, DELETE or INSERT it is a ``CursorResult``, which counts them."""
    from sqlalchemy.engine import CursorResult

    assert isinstance(result, CursorResult)
    return result.rowcount
