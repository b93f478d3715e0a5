"""Idempotency (rule 8): a repeated request with the same key records once and answers as
the first did; the same key with another body is refused.

The key row is inserted in the same transaction as the work, so a concurrent repeat waits on
the unique index (PostgreSQL) or the write lock (SQLite) and then finds the stored answer.
"""
from __future__ import annotations

import hashlib
import json

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import IdempotencyKey
from app.services.errors import ConflictError


class KeyReused(ConflictError):
    code = "idempotency_key_reused"

    def default_message(self):
        return _l("This idempotency key was already used for a different request.")


def request_fingerprint(method: str, path: str, body) -> str:
    canonical = json.dumps(body, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(f"{method} {path} {canonical}".encode()).hexdigest()


def find(actor: str, key: str) -> IdempotencyKey | None:
    return db.session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.actor == actor, IdempotencyKey.key == key)
    )


def replay_or_claim(actor: str, key: str, fingerprint: str) -> IdempotencyKey:
    """Return the stored row for a repeat (raising KeyReused on another body), or claim the key.

    A claimed row has ``status_code`` None until ``complete`` fills it before the commit.
    """
    existing = find(actor, key)
    if existing is not None:
        if existing.request_hash != fingerprint:
            raise KeyReused()
        return existing
    row = IdempotencyKey(actor=actor, key=key[:100], request_hash=fingerprint)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        # A concurrent request with the same key committed first: answer as it did.
        existing = find(actor, key)
        if existing is None or existing.request_hash != fingerprint:
            raise KeyReused() from None
        return existing
    return row


def complete(row: IdempotencyKey, status_code: int, body: str | None = None, location: str | None = None) -> None:
    row.status_code = status_code
    row.response_body = body
    row.location = location
    db.session.flush()
