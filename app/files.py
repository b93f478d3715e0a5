"""Stored files: kept in the database (so every app server reaches them) with their SHA-256;
an upload checked by its bytes; a document read back by its id and hash; served with its hash
as the ETag, or inlined into a PDF as a data URI. Storing flushes, never commits."""
from __future__ import annotations

import base64
import hashlib

from flask import Response, abort, request
from flask_babel import lazy_gettext as _l
from werkzeug.utils import secure_filename

from app.extensions import db
from app.images import clean_picture
from app.models import StoredFile
from app.services.errors import StoredPdfChanged, ValidationError

# Magic numbers of the picture formats we accept; the browser's content type is not trusted.
PICTURE_SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))
NOT_A_PICTURE = _l("A JPEG, PNG or WebP picture.")


def digest(data: bytes) -> str:
    """SHA-256 (hex) of a file's bytes, as ``StoredFile.sha256`` holds it."""
    return hashlib.sha256(data).hexdigest()


def store_file(filename: str, content_type: str, data: bytes) -> StoredFile:
    """Keep ``data`` (flushed: the row has its id)."""
    row = StoredFile(filename=filename[:200], content_type=content_type, size=len(data), sha256=digest(data), data=data)
    db.session.add(row)
    db.session.flush()
    return row


def read_checked(file_id: int | None, sha256: str | None = None) -> bytes:
    """The bytes of stored file ``file_id`` exactly as stored: their hash must be ``sha256``
    (the hash the document's owner kept) or, without one, the file's own. StoredPdfChanged
    when the file is missing or its bytes differ."""
    row = db.session.get(StoredFile, file_id) if file_id else None
    if row is None:
        raise StoredPdfChanged()
    data = row.data
    if digest(data) != (sha256 or row.sha256):
        raise StoredPdfChanged()
    return data


def sniff_picture(data: bytes) -> str | None:
    for signature, content_type in PICTURE_SIGNATURES:
        if data.startswith(signature):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def store_picture(field):
    """Store an uploaded picture in the database (flushed, not committed); None when no file.

    Raises ValidationError on the field when the bytes are not a JPEG, PNG or WebP picture."""
    storage = field.data
    if storage is None or not getattr(storage, "filename", ""):
        return None
    data = storage.read()
    if not data or sniff_picture(data) is None:
        raise ValidationError(fields={field.name: str(NOT_A_PICTURE)})
    # Decoded with a pixel limit, re-encoded to a bounded size, EXIF/GPS stripped (app/images.py).
    data, content_type = clean_picture(data, field.name)
    stem = (secure_filename(storage.filename) or "picture").rsplit(".", 1)[0] or "picture"
    return store_file(f"{stem}.{'png' if content_type == 'image/png' else 'jpg'}", content_type, data)


def data_uri(stored: StoredFile | None) -> str | None:
    if stored is None:
        return None
    return f"data:{stored.content_type};base64," + base64.b64encode(stored.data).decode("ascii")


def file_response(stored: StoredFile | None) -> Response:
    """A stored file for a page, cached privately and revalidated by its hash (304 when unchanged)."""
    if stored is None:
        abort(404)
    if request.if_none_match and stored.sha256 in request.if_none_match:
        return Response(status=304)
    resp = Response(stored.data, mimetype=stored.content_type)
    if stored.content_type == "image/svg+xml":
        # Only the demo's own drawings are SVG (uploads must be JPEG, PNG or WebP); opened on
        # their own they still run nothing.
        resp.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    resp.headers["Cache-Control"] = "private, max-age=3600"
    resp.set_etag(stored.sha256)
    return resp
