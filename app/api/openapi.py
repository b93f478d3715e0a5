"""The OpenAPI 3 document, generated from the registered endpoints and their forms."""
from __future__ import annotations

import re

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


@bp.get("/openapi.json")
def openapi_document():
    paths: dict = {}
    for spec in REGISTRY:
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", "/api/v1" + spec.rule)
        op = {
            "summary": spec.summary,
            "description": "Roles: " + ", ".join(spec.roles),
            "responses": {
                str(spec.status): {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
                "401": {"description": "No or bad token", "content": {"application/json": {"schema": ERROR}}},
                "403": {"description": "Role may not do this", "content": {"application/json": {"schema": ERROR}}},
                "404": {"description": "Absent or not yours", "content": {"application/json": {"schema": ERROR}}},
            },
            "security": [{"bearer": []}],
        }
        params = [{"name": n, "in": "path", "required": True, "schema": {"type": "integer"}}
                  for n in re.findall(r"{(\w+)}", path)]
        params += [{"name": n, "in": "query", "required": False, "schema": {"type": t}} for n, t in spec.query.items()]
        if spec.method == "GET" and "{" not in path.rsplit("/", 1)[-1]:
            params += [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                       {"name": "per_page", "in": "query", "schema": {"type": "integer", "maximum": 200}}]
        if params:
            op["parameters"] = params
        if spec.method in ("POST", "PATCH", "PUT"):
            schema = _form_schema(spec.form) if spec.form else {"type": "object"}
            op["requestBody"] = {"content": {"application/json": {"schema": schema}}}
            op["parameters"] = op.get("parameters", []) + [
                {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"}}
            ]
            op["responses"].update({
                "409": {"description": "Conflicts with stored state", "content": {"application/json": {"schema": ERROR}}},
                "422": {"description": "A field is invalid", "content": {"application/json": {"schema": ERROR}}},
                "400": {"description": "Malformed JSON", "content": {"application/json": {"schema": ERROR}}},
            })
        paths.setdefault(path, {})[spec.method.lower()] = op
    paths["/api/v1/auth/token"] = {"post": {
        "summary": "Exchange credentials for a bearer token", "security": [],
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
            "username": {"type": "string"}, "password": {"type": "string"},
            "phone": {"type": "string"}, "pin": {"type": "string"}}}}}},
        "responses": {"200": {"description": "token"}, "401": {"description": "bad credentials"},
                      "429": {"description": "throttled (per account, per client address, overall); see Retry-After"}},
    }, "delete": {
        "summary": "End the bearer token this request carries",
        "responses": {"204": {"description": "ended: the token answers 401 from then on"},
                      "401": {"description": "no or bad token"}},
    }}
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "Jijian API", "version": "1"},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}, "fields": {"type": "object"}}}}}},
        },
    }
    return json_response(doc)
