"""Uploaded pictures (product pictures, reject photos, the enterprise's logo), made safe to keep.

A picture's header is read first: over ``MAX_PIXELS`` (40 Mpx, a 20000×20000 PNG is 400) it is
refused before anything is decoded, so a small file that would unpack to gigabytes costs a
few microseconds. The rest is decoded (a JPEG at a reduced scale already), turned upright by its
EXIF orientation, shrunk to at most ``max_side`` pixels a side and encoded again — a PNG as PNG,
anything else as JPEG — with no metadata: EXIF (GPS position, camera serial), XMP and PNG
text are gone. What is stored is at most a few hundred kilobytes, whatever was sent.
"""
from __future__ import annotations

import io

from flask_babel import lazy_gettext as _l

from app.services.errors import ValidationError

MAX_PIXELS = 40_000_000
PICTURE_SIDE = 1600
LOGO_SIDE = 800
ACCEPTED = {"JPEG", "PNG", "WEBP"}
NOT_A_PICTURE = _l("A JPEG, PNG or WebP picture.")
TOO_LARGE = _l("This picture is too large (at most 40 megapixels).")


def clean_picture(data: bytes, field: str, max_side: int = PICTURE_SIDE) -> tuple[bytes, str]:
    """(bytes, content type) of the picture re-encoded without metadata; ValidationError on
    ``field`` when it is not a JPEG, PNG or WebP picture or has more than ``MAX_PIXELS``."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:  # reads the header only
            if image.format not in ACCEPTED:
                raise ValidationError(fields={field: str(NOT_A_PICTURE)})
            width, height = image.size
            if width * height > MAX_PIXELS or width < 1 or height < 1:
                raise ValidationError(fields={field: str(TOO_LARGE)})
            image.draft("RGB", (max_side, max_side))  # JPEG: decode at 1/2, 1/4, 1/8 scale
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((max_side, max_side))
            out = io.BytesIO()
            if image.format == "PNG":  # drawings and logos stay lossless
                upright.convert("RGBA").save(out, "PNG", optimize=True)
                return out.getvalue(), "image/png"
            upright.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
            return out.getvalue(), "image/jpeg"
    except ValidationError:
        raise
    except Image.DecompressionBombError:  # Pillow's own limit, met while reading the header
        raise ValidationError(fields={field: str(TOO_LARGE)}) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ValidationError(fields={field: str(NOT_A_PICTURE)}) from None
