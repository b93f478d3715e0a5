"""SQLite write transactions take the lock by short retries: a writer waits while another holds
it and gets it once released; past the busy timeout it is refused with the usual "database is
locked". Either way the connection's busy timeout is left as it was. (How fast the lock is
handed over is measured by bench/production.py, not asserted here.)"""
import sqlite3
import threading
import time

import pytest

from app.db_tx import _begin_immediate


def _connect(path):
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    return conn


def test_a_waiting_writer_gets_the_lock_once_it_is_released(tmp_path):
    path = tmp_path / "lock.sqlite3"
    holder, waiter = _connect(path), _connect(path)
    holder.execute("BEGIN IMMEDIATE")
    released = threading.Event()

    def release_later():
        time.sleep(0.3)
        holder.execute("INSERT INTO t VALUES (1)")
        released.set()  # before COMMIT: the waiter cannot get the lock earlier than this
        holder.execute("COMMIT")

    holder.execute("CREATE TABLE t (x)")
    thread = threading.Thread(target=release_later)
    thread.start()
    _begin_immediate(waiter, 30000)
    assert released.is_set()  # it waited for the holder rather than failing
    waiter.execute("INSERT INTO t VALUES (2)")
    waiter.execute("COMMIT")
    thread.join()
    assert [r[0] for r in waiter.execute("SELECT x FROM t ORDER BY x")] == [1, 2]
    assert waiter.execute("PRAGMA busy_timeout").fetchone()[0] == 30000


def test_past_the_busy_timeout_the_writer_is_refused(tmp_path):
    path = tmp_path / "lock.sqlite3"
    holder, waiter = _connect(path), _connect(path)
    holder.execute("BEGIN IMMEDIATE")
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _begin_immediate(waiter, 100)
    assert 0.1 <= time.monotonic() - started < 1
    assert waiter.execute("PRAGMA busy_timeout").fetchone()[0] == 100
