"""Clients and products, with dated rate history and refusal of stale saves."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Client, Product, ProductRate, StoredFile
from app.services import audit
from app.services.errors import ConflictError, ValidationError

CLIENT_FIELDS = ("name", "contact", "phone", "address", "tax_id", "payment_terms_days")
PRODUCT_FIELDS = ("client_id", "name", "unit", "piece_rate", "unit_price", "material_cost", "batch_size", "active")
RATE_FIELDS = ("piece_rate", "unit_price", "material_cost")


class StaleEdit(ConflictError):
    code = "stale_edit"

    def default_message(self):
        return _l("Someone else saved this in the meantime. Reload the page to see their changes, then make yours again.")


def _check_version(obj, expected_version: int | None) -> None:
    if expected_version is not None and int(expected_version) != obj.version:
        raise StaleEdit()


def create_client(**fields) -> Client:
    name = (fields.get("name") or "").strip()
    if db.session.scalar(select(Client.id).where(Client.name == name)) is not None:
        raise ConflictError(_l("A client with this name exists."), code="client_exists",
                            fields={"name": str(_l("A client with this name exists."))})
    client = Client(**{k: v for k, v in fields.items() if k in CLIENT_FIELDS and v not in (None, "")})
    client.name = name
    db.session.add(client)
    db.session.flush()
    audit.record("create", "client", client.id, after=audit.snapshot(client, CLIENT_FIELDS))
    return client


def update_client(client: Client, expected_version: int | None = None, **changes) -> Client:
    """Apply changes unless someone saved since ``expected_version`` (then StaleEdit)."""
    _check_version(client, expected_version)
    before = audit.snapshot(client, CLIENT_FIELDS)
    for key, value in changes.items():
        if key in CLIENT_FIELDS:
            setattr(client, key, value)
    db.session.flush()
    audit.record("update", "client", client.id, before=before, after=audit.snapshot(client, CLIENT_FIELDS))
    return client


def store_file(filename: str, content_type: str, data: bytes) -> StoredFile:
    import hashlib

    row = StoredFile(filename=filename[:200], content_type=content_type, size=len(data),
                     sha256=hashlib.sha256(data).hexdigest(), data=data)
    db.session.add(row)
    db.session.flush()
    return row


def _validate_rates(values: dict) -> None:
    errors = {}
    for key in RATE_FIELDS:
        value = values.get(key)
        if value is None:
            continue
        if isinstance(value, float):
            raise TypeError("money must be Decimal")
        if Decimal(value) < 0:
            errors[key] = str(_l("Must not be negative."))
        elif Decimal(value).as_tuple().exponent < -4:
            errors[key] = str(_l("At most 4 decimal places."))
    if errors:
        raise ValidationError(fields=errors)


def create_product(*, client_id: int, name: str, piece_rate: Decimal, unit_price: Decimal,
                   unit: str | None = None, material_cost: Decimal | None = None,
                   batch_size: int | None = None, picture: StoredFile | None = None) -> Product:
    """A product of an existing client, with its first dated rate."""
    if db.session.get(Client, client_id) is None:
        raise ValidationError(fields={"client_id": str(_l("No such client."))})
    values = {"piece_rate": piece_rate, "unit_price": unit_price, "material_cost": material_cost or Decimal("0")}
    _validate_rates(values)
    product = Product(client_id=client_id, name=name.strip(), unit=unit or "件", batch_size=batch_size or 100,
                      picture_id=picture.id if picture else None, **values)
    db.session.add(product)
    db.session.flush()
    db.session.add(ProductRate(product_id=product.id, changed_by=audit.actor_of()[1], **values))
    audit.record("create", "product", product.id, after=audit.snapshot(product, PRODUCT_FIELDS))
    return product


def update_product(product: Product, expected_version: int | None = None, picture: StoredFile | None = None,
                   **changes) -> Product:
    """Change a product. A new rate or price is dated in the history and applies to batches
    and orders from now on; existing ones keep their snapshots (rule 2)."""
    _check_version(product, expected_version)
    _validate_rates(changes)
    before = audit.snapshot(product, PRODUCT_FIELDS)
    for key, value in changes.items():
        if key in PRODUCT_FIELDS and value is not None:
            setattr(product, key, Decimal(value).quantize(Decimal("0.0001")) if key in RATE_FIELDS else value)
    if picture is not None:
        product.picture_id = picture.id
    # Compare as Decimals: 0.035 sent for a stored 0.0350 is no change and adds no history row.
    if any(Decimal(before[k]) != Decimal(getattr(product, k)) for k in RATE_FIELDS):
        db.session.add(ProductRate(product_id=product.id, piece_rate=product.piece_rate,
                                   unit_price=product.unit_price, material_cost=product.material_cost,
                                   changed_by=audit.actor_of()[1]))
    db.session.flush()
    audit.record("update", "product", product.id, before=before, after=audit.snapshot(product, PRODUCT_FIELDS))
    return product
