# ruff: noqa: E402
"""JSON API v1 (../shared/API.md). Endpoints call the same services as the pages."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from app.api import (
    accounts,  # noqa: E402,F401
    core,  # noqa: E402,F401  - auth, errors, the endpoint decorator
    openapi,  # noqa: E402,F401
)


def _load_feature_endpoints() -> None:
    from importlib import import_module
    from importlib.util import find_spec

    for name in ("production", "wages", "invoices", "reports", "jobs"):
        if find_spec(f"app.api.{name}") is not None:
            import_module(f"app.api.{name}")


_load_feature_endpoints()
