"""The API's machinery: bearer tokens, JSON parsing without floats, form validation,
idempotency keys, paging, error bodies, and the one commit per request."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, wraps

from flask import Response, g, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from app import idempotency
from app.api import bp
from app.db_tx import begin_write_phase
from app.errors import api_error
from app.extensions import csrf, db
from app.paging import api_page
from app.services.accounts import account_for_token
from app.services.errors import DomainError, ValidationError

csrf.exempt(bp)

PUBLIC_ENDPOINTS = {"api.create_token", "api.openapi_document"}
WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")


@dataclass
class EndpointSpec:
    rule: str
    method: str
    roles: tuple
    summary: str
    form: type | None
    status: int
    query: dict = field(default_factory=dict)


REGISTRY: list[EndpointSpec] = []


class MalformedJSON(Exception):
    pass


def dumps(payload) -> str:
    return json.dumps(payload, ensure_ascii=False, default=_json_default)


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def json_response(payload, status: int = 200) -> Response:
    return Response(dumps(payload), status=status, mimetype="application/json")


@bp.before_request
def authenticate():
    """Every endpoint but the token exchange and the OpenAPI document needs a bearer token.

    The session cookie is ignored here, so a browser session can never be used cross-site.
    """
    g._login_user = None
    # A write request reads (token, body) before it writes: see begin_write_phase.
    # The token exchange reads first too: it verifies a hash before it writes the outcome.
    g.api_read_phase = request.method in WRITE_METHODS
    header = request.headers.get("Authorization", "")
    account = None
    if header.startswith("Bearer "):
        account = account_for_token(header[7:].strip())
    if account is not None:
        g._login_user = account
        return None
    if request.endpoint in PUBLIC_ENDPOINTS:
        from flask_login import AnonymousUserMixin

        g._login_user = AnonymousUserMixin()
        return None
    return api_error(401, "unauthorized", _("Sign in first: send Authorization: Bearer <token>."))


@bp.errorhandler(IntegrityError)
def integrity_error(exc):
    # A database constraint caught what a concurrent request made impossible.
    db.session.rollback()
    return api_error(409, "conflict", _("This conflicts with what is already recorded."))


@bp.errorhandler(MalformedJSON)
def malformed(exc):
    return api_error(400, "malformed_json", _("The request body is not valid JSON."))


def parse_json_body() -> dict:
    raw = request.get_data(cache=True, as_text=True)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw, parse_float=Decimal)  # no float ever: 0.035 stays Decimal('0.035')
    except ValueError as exc:
        raise MalformedJSON() from exc
    if not isinstance(body, dict):
        raise MalformedJSON()
    return body


@cache
def _list_fields(form_cls) -> frozenset:
    """The form's fields that take several values. Asked of an empty, CSRF-less instance: a
    bare ``form_cls()`` would read the request body and mint a CSRF token, setting a session
    cookie on every API answer."""
    blank = form_cls(formdata=None, meta={"csrf": False})
    return frozenset(name for name, f in blank._fields.items() if f.type in ("SelectMultipleField", "MultiCheckboxField"))


def body_to_formdata(body: dict, form_cls) -> MultiDict:
    """JSON values as the strings a browser would post, refusing nested values."""
    data: MultiDict = MultiDict()
    wrong_type = {}
    list_fields = _list_fields(form_cls) if form_cls else frozenset()
    # Structured values a form leaves to the view (the view reads them from ``form._api_body``).
    json_fields = getattr(form_cls, "json_fields", ())
    for key, value in body.items():
        if value is None or key in json_fields:
            continue
        if isinstance(value, list) and key in list_fields:
            for item in value:
                if isinstance(item, (dict, list)):
                    wrong_type[key] = _("Wrong type.")
                data.add(key, str(item))
        elif isinstance(value, (dict, list)):
            wrong_type[key] = _("Wrong type.")
        elif isinstance(value, bool):
            data.add(key, "y" if value else "")
        else:
            data.add(key, str(value))
    if wrong_type:
        raise ValidationError(fields=wrong_type)
    return data


def validate_form(form_cls, body: dict):
    """Validate a JSON body with the same WTForms class the page uses; 422 with field messages."""
    form = form_cls(formdata=body_to_formdata(body, form_cls), meta={"csrf": False})
    form._api_body = body
    if not form.validate():
        messages = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
        raise ValidationError(fields={name: errs[0] if len(errs) == 1 else errs for name, errs in messages.items()})
    return form


def api_endpoint(rule: str, method: str = "GET", roles=("admin",), form=None, status: int = 200,
                 summary: str = "", query: dict | None = None, reads_first: bool = False):
    """Register an API view. The view gets the validated form (for writes) and returns the
    payload, or (payload, status). This wrapper checks the role, honours Idempotency-Key,
    and commits once.

    A write view begins writing (``begin_write_phase``) once its body is valid, unless it says
    ``reads_first``: then it loads what it needs and calls ``begin_write_phase`` itself just
    before the work that must hold the write lock (the hot paths: recording a return)."""

    def decorator(fn):
        @wraps(fn)
        def view(**kwargs):
            if current_user.role not in roles:
                return api_error(403, "forbidden", _("You may not do this."))
            if method not in WRITE_METHODS:
                return _answer(fn(**kwargs), status, commit=False)
            body = parse_json_body()
            args = (validate_form(form, body),) if form is not None else (body,)
            key = (request.headers.get("Idempotency-Key") or "")[:100] if method == "POST" else None
            fingerprint = idempotency.request_fingerprint(method, request.path, body) if key else ""
            if key:
                done = idempotency.replay(current_user.actor_key, key, fingerprint)
                if done is not None:
                    return done
            if not reads_first:
                begin_write_phase()
            try:
                result = fn(*args, **kwargs)
                return _answer(result, status, key=key, fingerprint=fingerprint)
            except (DomainError, IntegrityError):
                if key:
                    # Perhaps a concurrent request with this key did the work first (PostgreSQL
                    # lets both begin): answer as it did rather than with the refusal it caused.
                    db.session.rollback()
                    done = idempotency.replay(current_user.actor_key, key, fingerprint)
                    if done is not None:
                        return done
                raise

        REGISTRY.append(EndpointSpec(rule, method, tuple(roles), summary or (fn.__doc__ or "").strip().split("\n")[0], form, status, query or {}))
        bp.add_url_rule(rule, endpoint=fn.__name__, view_func=view, methods=[method])
        return view

    return decorator


def _answer(result, status: int, key: str | None = None, fingerprint: str = "",
            commit: bool = True) -> Response:
    """Commit once and answer; a keyed request stores its answer in the same transaction.
    A read (``commit=False``) has nothing to commit: its transaction ends with the request."""
    if isinstance(result, Response):
        if commit:
            db.session.commit()
        return result
    payload, code = result if isinstance(result, tuple) else (result, status)
    text = dumps(payload)
    if key:
        begin_write_phase()  # a no-op once the view began it; refuses if it wrote without
        idempotency.store(current_user.actor_key, key, fingerprint, code, text)
    if commit:
        db.session.commit()
    return Response(text, status=code, mimetype="application/json")


def query_int(name: str) -> int | None:
    """A whole-number query parameter naming a record (None when absent); 422 for anything
    else, a number too large for an id included."""
    from app.permissions import MAX_ID

    value = request.args.get(name)
    if value in (None, ""):
        return None
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_ID:
        raise ValidationError(fields={name: _("Must be a whole number.")})
    return int(value)


def paginate(stmt, serialize, scalars: bool = True) -> dict:
    """``{"items": [...], "total", "page", "per_page"}`` for one page of ``stmt`` (paging.api_page)."""
    page = api_page(stmt, scalars=scalars)
    return {"items": [serialize(r) for r in page.items], **page.envelope()}
