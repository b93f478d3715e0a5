"""The Jijian application factory."""
from __future__ import annotations

import os
import sqlite3
import threading
import time

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from config import INSTANCE_DIR, load_config


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        instance_relative_config=True,
        template_folder="../templates",
    )
    app.config.update(load_config(config))
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    from app.sessions import SessionInterface

    app.session_interface = SessionInterface()
    if app.config.get("TRUST_PROXY"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from app import models  # noqa: F401 - every table known before the first query
    from app.auth.loader import init_login
    from app.extensions import babel, csrf, db, migrate
    from app.i18n import select_locale

    ensure_compiled_translations()
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A file on this machine never drops a connection: no ping before every checkout.
        options = {k: v for k, v in app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}).items() if k != "pool_pre_ping"}
        options["connect_args"] = {**options.get("connect_args", {}), "factory": GatedConnection}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: app.config["TIMEZONE"])
    init_login(app)


def ensure_compiled_translations() -> None:
    """Compile the .po parts when a catalog is missing or older than its parts."""
    from app.commands.translations import ROOT, compile_catalogs

    for lang_dir in (p for p in ROOT.iterdir() if p.is_dir()):
        mo = lang_dir / "LC_MESSAGES" / "messages.mo"
        parts = list((lang_dir / "parts").glob("*.po"))
        if parts and (not mo.exists() or max(p.stat().st_mtime for p in parts) > mo.stat().st_mtime):
            compile_catalogs()
            return


def register_blueprints(app: Flask) -> None:
    """Every page blueprint, by name: a missing module fails here, loudly.

    Importing a feature adds its links to the navigation and its panels to the home pages
    (app/templating.py NAV_EXTRA, app/main/views.py HOME_PANELS) in import order, so the
    imports below are in the order the menu shows them."""
    # isort: off
    from app.main.views import bp as main_bp
    from app.auth.views import bp as auth_bp
    from app.api import bp as api_bp
    from app.orders.views import bp as orders_bp
    from app.batches.views import bp as batches_bp
    from app.workers.views import bp as workers_bp
    from app.catalog.views import bp as catalog_bp
    from app.wages.views import bp as wages_bp
    from app.invoices.views import bp as invoices_bp
    from app.reports.views import bp as reports_bp
    from app.jobs_admin.views import bp as jobs_admin_bp
    from app.admin.views import bp as admin_bp
    # isort: on

    for bp in (main_bp, auth_bp, api_bp, orders_bp, batches_bp, workers_bp, catalog_bp, wages_bp, invoices_bp,
               reports_bp, jobs_admin_bp, admin_bp):
        app.register_blueprint(bp)


def register_errorhandlers(app: Flask) -> None:
    from app.errors import init_errors

    init_errors(app)


def register_template_helpers(app: Flask) -> None:
    from app.templating import init_templating

    init_templating(app)


def register_commands(app: Flask) -> None:
    from app.cli import init_cli

    init_cli(app)


# --- SQLite: WAL, busy timeout, foreign keys, and write transactions that take the lock up front.


def _wants_write_lock() -> bool:
    """Requests that may write (and jobs or commands that say so) begin IMMEDIATE, so SQLite
    never has to upgrade a read lock mid-transaction and fail with "database is locked"."""
    from app.db_tx import write_intent

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
        conn.exec_driver_sql("BEGIN")


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
