"""The audit trail: one call per money-relevant change."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_login import current_user
from sqlalchemy import insert

from app.extensions import db
from app.models import AuditEvent, utcnow


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def snapshot(obj, fields) -> dict:
    """The named attributes of a model, ready for an audit record."""
    return {f: _jsonable(getattr(obj, f)) for f in fields}


def actor_of(user=None) -> tuple[str, str | None]:
    user = user if user is not None else current_user
    try:
        if user and user.is_authenticated:
            return user.actor_key, user.name
    except RuntimeError:  # outside a request: a job or a CLI command
        pass
    return "system", None


_INSERT = insert(AuditEvent.__table__)


def record(action: str, entity: str, entity_id: int | None, before=None, after=None, user=None) -> None:
    """Append one audit event to the current transaction (as plain SQL: every return writes
    one inside the write lock, and the ORM's flush costs several times the INSERT)."""
    actor, name = actor_of(user)
    db.session.connection().execute(_INSERT, {
        "at": utcnow(), "actor": actor, "actor_name": name, "action": action, "entity": entity,
        "entity_id": entity_id, "before": _jsonable(before), "after": _jsonable(after),
    })
