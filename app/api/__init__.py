# ruff: noqa: E402
"""JSON API v1 (docs in ../shared/API.md). Endpoints call the same services as the pages."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Every module of endpoints, by name (each adds its routes to ``bp`` when imported).
from app.api import (  # noqa: F401
    accounts,
    core,  # auth, errors, the endpoint decorator
    invoices,
    jobs,
    openapi,
    production,
    reports,
    wages,
)
