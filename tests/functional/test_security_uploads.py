"""Uploads: decoded with a pixel limit (a 20000×20000 PNG is refused in well under a second,
before it is unpacked), re-encoded to a bounded size, EXIF (GPS) stripped — product pictures,
reject photos and the enterprise's logo alike."""
from __future__ import annotations

import io
import re
import struct
import time
import zlib

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.images import MAX_PIXELS, clean_picture
from app.models import StoredFile
from app.services.errors import ValidationError
from tests.helpers import form_values


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_bomb(side: int = 20000) -> bytes:
    """A real 1-bit PNG of side×side pixels (400 Mpx at 20000): ~60 KB that unpack to 50 MB
    of rows, and to 1.6 GB once decoded as RGBA."""
    row = b"\0" + b"\0" * ((side + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def photo_with_gps(size=(4000, 3000)) -> bytes:
    image = Image.new("RGB", size, (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° to show upright
    exif[0x8825] = {1: "N", 2: (34.0, 1.0, 2.0), 3: "E", 4: (113.0, 49.0, 5.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=95)
    return out.getvalue()


def test_a_20000_by_20000_png_upload_is_refused_in_under_a_second(client, login_as, make, db):
    bomb = png_bomb()
    assert len(bomb) < 200_000 and 20000 * 20000 > MAX_PIXELS
    login_as("admin")
    owner = make.client()
    page = client.get("/products/new")
    data = {**form_values(page.text), "client_id": str(owner.id), "name": "黑枸杞礼盒折叠", "unit": "个",
            "piece_rate": "0.035", "unit_price": "0.06", "material_cost": "0.005",
            "picture": (io.BytesIO(bomb), "box.png")}
    started = time.perf_counter()
    resp = client.post("/products/new", data=data, content_type="multipart/form-data")
    elapsed = time.perf_counter() - started
    assert resp.status_code == 422 and "图片太大" in resp.text, re.findall(r"error[^>]*>([^<]+)", resp.text)
    assert elapsed < 1.0, elapsed
    assert db.session.scalar(select(func.count(StoredFile.id))) == 0


def test_a_reject_photo_is_stored_upright_small_and_without_exif(client, login_as, make, db):
    from tests.functional.test_production_pages_returns import setup_batch
    from tests.production_pages_fixtures import submit

    batch = setup_batch(make, login_as)
    sent = photo_with_gps()
    assert Image.open(io.BytesIO(sent)).getexif().get_ifd(0x8825)
    resp, _ = submit(client, f"/batches/{batch.id}/return", {"accepted": "90", "rejected": "8"},
                     files={"photo": (io.BytesIO(sent), "rejects.jpg")})
    assert resp.status_code == 303
    stored = db.session.scalar(select(StoredFile))
    kept = Image.open(io.BytesIO(stored.data))
    assert kept.format == "JPEG" and max(kept.size) <= 1600
    assert kept.size[0] < kept.size[1]  # turned upright by its orientation, then the tag dropped
    assert not kept.getexif() and b"Exif" not in stored.data[:200] and b"PhoneMaker" not in stored.data
    assert stored.size == len(stored.data) < 500_000


def test_the_logo_is_cleaned_too(make, db):
    from app.services import invoicing

    with pytest.raises(ValidationError):
        invoicing.update_enterprise_settings(logo=png_bomb(), name="东城车间")
    db.session.rollback()
    small = io.BytesIO()
    Image.new("RGBA", (3000, 1000), (10, 20, 30, 128)).save(small, "PNG", pnginfo=None)
    invoicing.update_enterprise_settings(logo=small.getvalue(), name="东城车间")
    db.session.commit()
    logo = db.session.get(StoredFile, invoicing.enterprise_settings()["logo_file_id"])
    image = Image.open(io.BytesIO(logo.data))
    assert image.format == "PNG" and max(image.size) <= 800 and image.mode == "RGBA"


def test_clean_picture_refuses_what_is_not_a_picture():
    for data in (b"", b"\x89PNG\r\n\x1a\n" + b"\0" * 32, b"GIF89a" + b"\0" * 20, b"<svg/>"):
        with pytest.raises(ValidationError):
            clean_picture(data, "photo")


def test_our_own_limit_holds_below_pillows(app):
    """50 Mpx is under Pillow's bomb threshold (89 Mpx) but over ours."""
    with pytest.raises(ValidationError) as err:
        clean_picture(png_bomb(7100), "picture")
    assert "40" in err.value.fields["picture"]
