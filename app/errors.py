"""Error pages in the user's language, and JSON errors under /api/."""
from __future__ import annotations

from flask import Flask, flash, g, jsonify, make_response, redirect, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import BadRequest, HTTPException

from app.extensions import db
from app.redirects import safe_referrer
from app.services.errors import DomainError


def wants_json() -> bool:
    return request.path.startswith("/api/")


def api_error(status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"code": code, "message": str(message), "fields": fields or {}}}
    return jsonify(body), status


HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "validation_error",
    429: "too_many_attempts", 500: "server_error",
}


def init_errors(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        if request.path.startswith("/counter/"):
            # The tablet's outbox: it fetches a fresh token and sends again; the record stays.
            return api_error(400, "csrf_failed", _("The page's security token expired. Sending again."))
        # A form left open too long: show it again with what was typed, never a bare 400.
        view = app.view_functions.get(request.endpoint or "")
        if view is not None and getattr(view, "reshow_on_csrf_error", False):
            g.csrf_failed = True
            try:
                return view(**(request.view_args or {}))
            except HTTPException as exc:  # e.g. the record is not this user's: 404, not a 500
                return http_error(exc)
        flash(_("This page was open too long. Please try again."), "warning")
        return redirect(safe_referrer("/"))

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        if wants_json():
            response = api_error(exc.status, exc.code, exc.message, exc.fields)
        else:
            response = render_template("errors/error.html", code=exc.status, message=str(exc.message)), exc.status
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            response = make_response(response)
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.errorhandler(StaleDataError)
    def stale_edit(exc):
        # Two people saved the same row at once: the later save is refused (rule 9).
        from app.services.catalog import StaleEdit

        return domain_error(StaleEdit())

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def out_of_range(exc):
        # A number from the query string or a form too large for the database's integers
        # (?station_id=99999999999999999999): the request is wrong, not the server.
        db.session.rollback()
        return http_error(BadRequest())

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = exc.code or 500
        if wants_json():
            messages = {
                401: _("Sign in first."), 403: _("You may not do this."), 404: _("Not found."),
                405: _("Method not allowed."), 429: _("Too many attempts. Try again later."),
            }
            return api_error(code, HTTP_CODES.get(code, "error"), messages.get(code, exc.description or ""))
        template = f"errors/{code}.html" if code in (403, 404, 500) else "errors/error.html"
        return render_template(template, code=code, message=exc.description), code

    if app.testing:
        return  # let tests see the real exception

    @app.errorhandler(Exception)
    def server_error(exc):
        app.logger.exception("unhandled error")
        db.session.rollback()
        if wants_json():
            return api_error(500, "server_error", _("Something went wrong on our side."))
        return render_template("errors/500.html", code=500), 500
