"""Configuration read from the environment.

Local runs keep their SQLite database and a generated secret key in ``instance/``;
production (``JIJIAN_ENV=production``) refuses to start without a real secret or with debug on.
"""
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("JIJIAN_INSTANCE", BASE_DIR / "instance"))


def _local_secret_key() -> str:
    """Generate a secret key once and keep it in instance/ for local runs."""
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'jijian.sqlite3'}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS", "30000"))

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    # Behind a load balancer that terminates HTTPS: trust its X-Forwarded-* headers.
    TRUST_PROXY = os.environ.get("TRUST_PROXY", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 12 * 3600
    # Pages kept per process (app/page_cache.py): the workers' home pages, about 7 KB each.
    PAGE_CACHE_SIZE = int(os.environ.get("PAGE_CACHE_SIZE", "4096"))
    WTF_CSRF_TIME_LIMIT = 8 * 3600

    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    LANGUAGES = ("zh", "en")
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    TIMEZONE = os.environ.get("JIJIAN_TIMEZONE", "Asia/Shanghai")

    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    # Staff tokens 30 days, workers' 7 (a lost phone's token dies within the week); both end
    # at once on DELETE /api/v1/auth/token, a disable or a password/PIN change.
    API_TOKEN_HOURS = int(os.environ.get("API_TOKEN_HOURS", "720"))
    API_TOKEN_HOURS_WORKER = int(os.environ.get("API_TOKEN_HOURS_WORKER", "168"))
    # A session ends after PERMANENT_SESSION_LIFETIME without a request (sliding) and, however
    # busy, this long after sign-in (absolute): a counter tablet's shift, a worker's week.
    SESSION_ABSOLUTE_HOURS = int(os.environ.get("SESSION_ABSOLUTE_HOURS", "24"))
    SESSION_ABSOLUTE_HOURS_WORKER = int(os.environ.get("SESSION_ABSOLUTE_HOURS_WORKER", "168"))
    # Failed sign-ins (app/services/login_throttle.py says why these numbers).
    LOGIN_WINDOW_MINUTES = int(os.environ.get("LOGIN_WINDOW_MINUTES", "15"))
    LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
    LOGIN_LOCK_MINUTES = int(os.environ.get("LOGIN_LOCK_MINUTES", "15"))
    LOGIN_MAX_FAILURES_PER_ADDRESS = int(os.environ.get("LOGIN_MAX_FAILURES_PER_ADDRESS", "20"))
    LOGIN_ADDRESS_LOCK_MINUTES = int(os.environ.get("LOGIN_ADDRESS_LOCK_MINUTES", "15"))
    LOGIN_MAX_FAILURES_OVERALL = int(os.environ.get("LOGIN_MAX_FAILURES_OVERALL", "300"))
    LOGIN_OVERALL_LOCK_MINUTES = int(os.environ.get("LOGIN_OVERALL_LOCK_MINUTES", "5"))

    # Scheduled work (app/jobs.py): cron expressions in TIMEZONE — five fields (minute hour
    # day month day-of-week, 0/7 = Sunday), or six with seconds first ("* * * * * *" = every
    # second); "off" switches a schedule off. Each tick runs once across all processes.
    JOB_SCHEDULES = {
        "mark_overdue": os.environ.get("JOB_MARK_OVERDUE", "*/15 * * * *"),
        "flag_orders_at_risk": os.environ.get("JOB_FLAG_AT_RISK", "5 * * * *"),
        "close_pay_period": os.environ.get("JOB_CLOSE_PAY_PERIOD", "30 1 * * *"),
        "backup": os.environ.get("JOB_BACKUP", "0 2 * * *"),
    }
    BACKUP_DIR = os.environ.get("BACKUP_DIR", str(INSTANCE_DIR / "backups"))
    BACKUP_KEEP = int(os.environ.get("BACKUP_KEEP", "7"))
    JOB_MISFIRE_GRACE_SECONDS = int(os.environ.get("JOB_MISFIRE_GRACE_SECONDS", "3600"))
    JOB_THREADS = int(os.environ.get("JOB_THREADS", "4"))

    TESTING = False
    DEBUG = False


class ProductionConfig(Config):
    pass


class DevelopmentConfig(Config):
    pass


def load_config(overrides: dict | None = None) -> dict:
    """Return the configuration as a dict, refusing an unsafe production set-up."""
    env = os.environ.get("JIJIAN_ENV", "development")
    cls = ProductionConfig if env == "production" else DevelopmentConfig
    conf = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
    conf["JIJIAN_ENV"] = env
    conf.update(overrides or {})
    if env == "production":
        if not conf.get("SECRET_KEY") or conf["SECRET_KEY"] in {"dev", "change-me", "secret"}:
            raise RuntimeError("JIJIAN_ENV=production needs a real SECRET_KEY in the environment")
        if conf.get("DEBUG") or os.environ.get("FLASK_DEBUG") in {"1", "true"}:
            raise RuntimeError("JIJIAN_ENV=production refuses to start with debug on")
    elif not conf.get("SECRET_KEY"):
        conf["SECRET_KEY"] = _local_secret_key()
    return conf
