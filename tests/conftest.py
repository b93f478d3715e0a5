"""Fixtures: the app on SQLite (a fresh file per test) or on a real PostgreSQL server
(TEST_DATABASE=postgresql: started here unless TEST_POSTGRES_URL is given; tables truncated
after each test), a test client, ``login_as(role)``, an API client and callable makers."""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from app import create_app
from app.extensions import db as _db
from tests.clock import Clock, suite_start
from tests.makers import Makers

BACKEND = os.environ.get("TEST_DATABASE", "sqlite")
OUTPUT = Path(__file__).resolve().parents[1] / "test-output"


SUITE_START = suite_start()
# JIJIAN_TEST_DAYS="2026-12-31T23:30,2027-01-01T00:30,...": every test runs once at each of these
# workshop instants (scripts/test.sh runs the `calendar` tests so on the hard days, in one session).
HARD_DAYS = [d.strip() for d in os.environ.get("JIJIAN_TEST_DAYS", "").split(",") if d.strip()]


def pytest_configure(config):
    # The set-up compiles the catalogs; the app itself never writes them (atomic: xdist
    # workers may compile at once).
    from app.commands.translations import compile_catalogs, stale_catalogs

    if stale_catalogs():
        compile_catalogs()


def pytest_report_header(config):
    return f"database backend: {BACKEND}; the workshop's now: {SUITE_START.isoformat()} (JIJIAN_TEST_TODAY / JIJIAN_TEST_TIME)"


def pytest_generate_tests(metafunc):
    if HARD_DAYS and "clock" in metafunc.fixturenames:
        metafunc.parametrize("clock", HARD_DAYS, indirect=True, ids=[f"at {d}" for d in HARD_DAYS])


@pytest.fixture(autouse=True)
def clock(request):
    """Every test runs at the suite's instant (tests/clock.py) with time ticking on; no test sees
    the real clock. Build data relative to ``clock.today`` so the test passes on any day."""
    start = suite_start({"JIJIAN_TEST_TODAY": request.param[:10], "JIJIAN_TEST_TIME": request.param[11:]}) \
        if hasattr(request, "param") else SUITE_START
    with Clock(start) as c:
        yield c


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if BACKEND == "sqlite":
        yield None  # a fresh copy of a template file per test
        return
    url = os.environ.get("TEST_POSTGRES_URL")
    server = None
    if not url:
        from tests.pgserver import PostgresServer

        server = PostgresServer()
        admin_url = server.start()
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("CREATE DATABASE jijian_test"))
        engine.dispose()
        url = admin_url.replace("/postgres?", "/jijian_test?")
    yield url
    if server is not None:
        server.stop()


BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "FAST_PASSWORD_HASH": True,
    "SERVER_NAME": None,
}


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory, database_url):
    if BACKEND != "sqlite":
        return None
    path = tmp_path_factory.mktemp("tpl") / "template.sqlite3"
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        _db.create_all()
        _db.engine.dispose()
    return path


_pg_schema_ready = False


class ThreadedClient(FlaskClient):
    """Runs each request in its own thread, as a server would: a fresh app context, its own
    database session and connection. The test's session commits around each request so it
    neither blocks the request nor reads a stale snapshot afterwards."""

    def open(self, *args, **kwargs):
        _db.session.commit()
        box = {}

        def run():
            try:
                box["response"] = super(ThreadedClient, self).open(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
                box["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        _db.session.commit()
        if "error" in box:
            raise box["error"]
        return box["response"]


@pytest.fixture
def app(database_url, sqlite_template, tmp_path):
    global _pg_schema_ready
    if BACKEND == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        url = database_url
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    app.test_client_class = ThreadedClient
    with app.app_context():
        if BACKEND != "sqlite" and not _pg_schema_ready:
            _db.drop_all()
            _db.create_all()
            _pg_schema_ready = True
        yield app
        _db.session.remove()
        if BACKEND != "sqlite":
            tables = ", ".join(t.name for t in _db.metadata.sorted_tables)
            with _db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        _db.engine.dispose()


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(app):
    return Makers()


@pytest.fixture
def login_as(app, client, make):
    """Sign the test client in as a new account of ``role`` and return the account."""
    from app.auth.loader import session_keys

    def _login(role="admin", **kw):
        if role == "worker":
            account = kw.pop("account", None) or make.worker(pin="246810", **kw)
        else:
            account = kw.pop("account", None) or make.staff(role, **kw)
        with client.session_transaction() as sess:
            sess.update(session_keys(account))
            sess["_fresh"] = True
        return account

    return _login


class ApiClient:
    """The test client speaking JSON with a bearer token."""

    def __init__(self, client, token=None):
        self.client, self.token = client, token

    def _headers(self, extra=None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra or {})
        return headers

    def get(self, path, **kw):
        return self.client.get("/api/v1" + path, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, path, json=None, **kw):
        return self.client.post("/api/v1" + path, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def patch(self, path, json=None, **kw):
        return self.client.patch("/api/v1" + path, json=json, headers=self._headers(kw.pop("headers", None)), **kw)


@pytest.fixture
def api(app, client, make):
    """``api(account)`` → an ApiClient holding a token for that account."""
    from app.services.accounts import issue_token

    def _api(account=None, role="admin", **kw):
        if account is None:
            account = make.worker(**kw) if role == "worker" else make.staff(role, **kw)
        token, _row = issue_token(account)
        _db.session.commit()
        return ApiClient(app.test_client(), token)

    return _api


@pytest.fixture(scope="session")
def output_dir():
    OUTPUT.mkdir(exist_ok=True)
    return OUTPUT


@pytest.fixture
def fresh_tmp():
    d = Path(tempfile.mkdtemp(prefix="jijian-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


class Queries:
    """The SQL statements the app sent while a ``count_queries()`` block ran (every thread)."""

    TRANSACTION = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")

    def __init__(self):
        self.statements: list[str] = []

    def __len__(self) -> int:
        return len(self.statements)

    @property
    def selects(self) -> list[str]:
        return [s for s in self.statements if s.lstrip().upper().startswith("SELECT")]

    @property
    def work(self) -> list[str]:
        """Every statement but those opening or ending a transaction or a savepoint."""
        return [s for s in self.statements if not s.lstrip().upper().startswith(self.TRANSACTION)]


@pytest.fixture
def count_queries(app):
    """``with count_queries() as q: client.get(...)`` then ``len(q)``, ``q.selects`` or ``q.work``:
    pins how many statements a page, a call or a job sends, whatever the number of rows."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def counting():
        queries, lock = Queries(), threading.Lock()

        def on_execute(conn, cursor, statement, *args):
            with lock:
                queries.statements.append(statement)

        event.listen(_db.engine, "before_cursor_execute", on_execute)
        try:
            yield queries
        finally:
            event.remove(_db.engine, "before_cursor_execute", on_execute)

    return counting
