"""The Jijian application factory."""
from __future__ import annotations

from flask import Flask

from app.db_tx import sqlite_engine_options
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

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]  # Flask's documented way to wrap the WSGI app
    register_extensions(app)
    from app.permissions import RecordIdConverter

    app.url_map.converters["int"] = RecordIdConverter  # before the routes: their ids are bounded
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

    warn_if_translations_stale(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = sqlite_engine_options(app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: app.config["TIMEZONE"])
    init_login(app)


def warn_if_translations_stale(app: Flask) -> None:
    """The set-up compiles the catalogs (``python -m app.commands.translations``, run by
    scripts/run.sh and scripts/test.sh); the running app never writes into the source tree.
    A catalog missing or older than its parts is said once, at start-up."""
    from app.commands.translations import stale_catalogs

    for lang in stale_catalogs():
        app.logger.warning("translations/%s: catalog missing or older than its parts; run "
                           "`python -m app.commands.translations`", lang)


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
    from app.counter.views import bp as counter_bp
    # isort: on

    for bp in (main_bp, auth_bp, api_bp, orders_bp, batches_bp, workers_bp, catalog_bp, wages_bp, invoices_bp,
               reports_bp, jobs_admin_bp, admin_bp, counter_bp):
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
