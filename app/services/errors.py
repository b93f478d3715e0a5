"""Domain errors. Views turn them into form errors; the API into its error body."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message=None, code: str | None = None, fields: dict | None = None):
        super().__init__(str(message) if message is not None else self.code)
        self.message = message if message is not None else self.default_message()
        if code:
            self.code = code
        self.fields = fields or {}

    def default_message(self):
        return _l("The request could not be completed.")

    def __str__(self) -> str:
        return str(self.message)


class ValidationError(DomainError):
    """A field is invalid in itself (422)."""

    status = 422
    code = "validation_error"

    def default_message(self):
        return _l("Please correct the marked fields.")


class ConflictError(DomainError):
    """Well-formed, but conflicts with what is stored (409)."""

    status = 409
    code = "conflict"

    def default_message(self):
        return _l("This conflicts with what is already recorded.")


class NotFound(DomainError):
    status = 404
    code = "not_found"

    def default_message(self):
        return _l("Not found.")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"

    def default_message(self):
        return _l("You may not do this.")


class StoredPdfChanged(DomainError):
    """A stored document's bytes no longer match the hash kept when it was stored."""

    status = 500
    code = "pdf_checksum_mismatch"

    def default_message(self):
        return _l("The stored PDF does not match its checksum. Tell your administrator.")
