"""Idempotency (rule 8): a repeated request with the same key records once and answers as
the first did; the same key with another body is refused.

The key row is inserted in the same transaction as the work, so a concurrent repeat waits on
the unique index (PostgreSQL) or the write lock (SQLite) and then finds the stored answer.
"""
from __future__ import annotations

import hashlib
import json

from flask import Response
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import IdempotencyKey, utcnow
from app.services.errors import ConflictError


class KeyReused(ConflictError):
    code = "idempotency_key_reused"

    def default_message(self):
        return _l("This idempotency key was already used for a different request.")


def request_fingerprint(method: str, path: str, body) -> str:
    canonical = json.dumps(body, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(f"{method} {path} {canonical}".encode()).hexdigest()


_FIND = select(IdempotencyKey).where(IdempotencyKey.actor == bindparam("actor"), IdempotencyKey.key == bindparam("key"))


def find(actor: str, key: str) -> IdempotencyKey | None:
    return db.session.scalar(_FIND, {"actor": actor, "key": key[:100]})


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


def replay(actor: str, key: str, fingerprint: str):
    """The stored answer for a repeat of a keyed API request, or None for a new key.

    Asked before the work begins, and again when the work was refused: a concurrent twin
    that committed first either made this request's INSERT of the key fail (``store``) or
    made its work impossible (the pieces are already returned), and its answer is given.
    """
    existing = find(actor, key)
    if existing is None:
        return None
    if existing.request_hash != fingerprint:
        raise KeyReused()
    db.session.rollback()
    return Response(existing.response_body, status=existing.status_code, mimetype="application/json")


_STORE = insert(IdempotencyKey.__table__)


def store(actor: str, key: str, fingerprint: str, status_code: int, body: str) -> None:
    """Keep a keyed API request's answer with its work, in one INSERT. A twin that committed
    first makes it fail on the unique key, and the twin's answer is given instead."""
    db.session.connection().execute(_STORE, {"actor": actor, "key": key[:100], "request_hash": fingerprint,
                                             "status_code": status_code, "response_body": body,
                                             "created_at": utcnow()})


def complete(row: IdempotencyKey, status_code: int, body: str | None = None, location: str | None = None) -> None:
    row.status_code = status_code
    row.response_body = body
    row.location = location
    db.session.flush()
