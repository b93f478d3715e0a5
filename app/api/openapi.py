"""The OpenAPI 3 document, generated from the registered endpoints and their forms."""
from __future__ import annotations

import re
from typing import Any

from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    FileField,
    IntegerField,
    SelectMultipleField,
)

from app.api import bp
from app.api.core import REGISTRY, json_response
from app.forms import MoneyField


def _field_schema(field) -> dict:
    if isinstance(field, IntegerField):
        return {"type": "integer"}
    if isinstance(field, (DecimalField, MoneyField)):
        return {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d{1,4})?$"}
    if isinstance(field, DateField):
        return {"type": "string", "format": "date"}
    if isinstance(field, BooleanField):
        return {"type": "boolean"}
    if isinstance(field, SelectMultipleField):
        choices = [str(c[0]) for c in field.choices or []]
        return {"type": "array", "items": {"type": "string", **({"enum": choices} if choices else {})}}
    if isinstance(field, FileField):
        return {"type": "string", "format": "binary"}
    return {"type": "string"}


def _form_schema(form_cls) -> dict:
    form = form_cls(meta={"csrf": False}, formdata=None)
    props, required = {}, []
    for name, field in form._fields.items():
        if name in ("idem_key", "csrf_token", "submit"):
            continue
        props[name] = {**_field_schema(field), "description": str(field.label.text)}
        if any(getattr(v, "field_flags", {}).get("required") for v in field.validators):
            required.append(name)
    schema = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    return schema


ERROR = {"$ref": "#/components/schemas/Error"}
# What a download route answers instead of JSON, by the rule's ending.
FILE_TYPES = {".pdf": "application/pdf", ".csv": "text/csv",
              ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _query_schema(kind: str) -> dict:
    """``integer``, ``string``, ``date`` or ``a|b|c`` (one of those words) as a JSON schema."""
    if kind == "date":
        return {"type": "string", "format": "date"}
    if "|" in kind:
        return {"type": "string", "enum": kind.split("|")}
    return {"type": kind}


def _answer(rule: str) -> dict:
    for ending, content_type in FILE_TYPES.items():
        if rule.endswith(ending):
            return {content_type: {"schema": {"type": "string", "format": "binary"}}}
    return {"application/json": {"schema": {"type": "object"}}}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


@bp.get("/openapi.json")
def openapi_document():
    paths: dict = {}
    for spec in REGISTRY:
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", "/api/v1" + spec.rule)
        op: dict[str, Any] = {
            "summary": spec.summary,
            "description": "Roles: " + ", ".join(spec.roles),
            "responses": {
                str(spec.status): {"description": "OK", "content": _answer(spec.rule)},
                "401": _error("No or bad token"),
                "403": _error("Role may not do this"),
                "404": _error("Absent or not yours"),
            },
            "security": [{"bearer": []}],
        }
        params = [{"name": n, "in": "path", "required": True, "schema": {"type": "integer"}}
                  for n in re.findall(r"{(\w+)}", path)]
        params += [{"name": n, "in": "query", "required": False, "schema": _query_schema(t)}
                   for n, t in spec.query.items()]
        if spec.method == "GET" and "{" not in path.rsplit("/", 1)[-1]:
            params += [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                       {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}}]
        if spec.method == "GET" and len(params) > len(re.findall(r"{(\w+)}", path)):
            op["responses"]["422"] = _error("A query parameter is invalid")
        if spec.method == "GET":  # gunicorn's own answer to a request line past its limit (4 KB)
            op["responses"]["400"] = {"description": "The URL is too long"}
        if params:
            op["parameters"] = params
        if spec.method in ("POST", "PATCH", "PUT"):
            schema = _form_schema(spec.form) if spec.form else {"type": "object"}
            op["requestBody"] = {"content": {"application/json": {"schema": schema}}}
            op["parameters"] = op.get("parameters", []) + [
                {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"}}
            ]
            op["responses"].update({
                "409": _error("Conflicts with stored state"),
                "422": _error("A field is invalid"),
                "400": _error("Malformed JSON"),
            })
        paths.setdefault(path, {})[spec.method.lower()] = op
    paths["/api/v1/auth/token"] = {
        "post": {
            "summary": "Exchange credentials for a bearer token", "security": [],
            "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
                "username": {"type": "string"}, "password": {"type": "string"},
                "phone": {"type": "string"}, "pin": {"type": "string"}}}}}},
            "responses": {
                "200": {"description": "token", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["token", "role", "expires_at"], "properties": {
                        "token": {"type": "string"}, "role": {"type": "string"}, "expires_at": {"type": "string"}}}}}},
                "400": _error("Malformed JSON"), "401": _error("Bad credentials"),
                "422": _error("Neither username nor phone"),
                "429": _error("Throttled (per account, per client address, overall); see Retry-After")},
        },
        "delete": {
            "summary": "End the bearer token this request carries: it answers 401 from then on",
            "description": "Roles: the token's holder, any role. Takes no body.",
            "security": [{"bearer": []}],
            "responses": {"204": {"description": "The token is ended"}, "401": _error("No or bad token")},
        },
    }
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "Jijian API", "version": "1"},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"], "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}}}}}}},
        },
    }
    return json_response(doc)
