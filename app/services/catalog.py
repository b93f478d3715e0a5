"""Clients and products, with dated rate history and refusal of stale saves."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Client, Product, ProductRate, ProductStep, ProductStepRate, StoredFile
from app.services import audit
from app.services.errors import ConflictError, ValidationError

CLIENT_FIELDS = ("name", "contact", "phone", "address", "tax_id", "payment_terms_days")
PRODUCT_FIELDS = ("client_id", "name", "unit", "piece_rate", "unit_price", "material_cost", "batch_size", "active")
RATE_FIELDS = ("piece_rate", "unit_price", "material_cost")
STEP_FIELDS = ("product_id", "seq", "name", "piece_rate")
RATE_Q = Decimal("0.0001")


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
        elif Decimal(value).is_finite() and int(Decimal(value).as_tuple().exponent) < -4:
            errors[key] = str(_l("At most 4 decimal places."))
    if errors:
        raise ValidationError(fields=errors)


def _validate_steps(steps) -> list[tuple[str, Decimal]]:
    """``[{name, piece_rate}, ...]`` checked field by field (``steps.0.name``…): a name of 1–50
    characters and a rate like any other."""
    errors, out = {}, []
    for i, step in enumerate(steps):
        name = (step.get("name") or "").strip() if isinstance(step, dict) else ""
        rate = step.get("piece_rate") if isinstance(step, dict) else None
        if not name:
            errors[f"steps.{i}.name"] = str(_l("Required."))
        elif len(name) > 50:
            errors[f"steps.{i}.name"] = str(_l("At most %(n)s characters.", n=50))
        if rate is None:
            errors[f"steps.{i}.piece_rate"] = str(_l("Required."))
        else:
            try:
                _validate_rates({"piece_rate": rate})
            except ValidationError as exc:
                errors[f"steps.{i}.piece_rate"] = exc.fields["piece_rate"]
        out.append((name, Decimal(rate) if rate is not None and not errors else Decimal("0")))
    if errors:
        raise ValidationError(fields=errors)
    return out


def create_product(*, client_id: int, name: str, piece_rate: Decimal | None, unit_price: Decimal,
                   unit: str | None = None, material_cost: Decimal | None = None,
                   batch_size: int | None = None, picture: StoredFile | None = None,
                   steps: list[dict] | None = None) -> Product:
    """A product of an existing client, with its first dated rate and its steps (rule 14).

    Without ``steps`` it has one step, named like the product, at ``piece_rate``. With them
    (``[{name, piece_rate}]`` in order), its ``piece_rate`` is the sum of the steps' rates
    (the wages of one finished piece); a ``piece_rate`` sent with them must equal that sum.
    """
    if db.session.get(Client, client_id) is None:
        raise ValidationError(fields={"client_id": str(_l("No such client."))})
    step_values = _validate_steps(steps) if steps else None
    if step_values is not None:
        total = sum((rate for _name, rate in step_values), Decimal("0"))
        if piece_rate is not None and Decimal(piece_rate) != total:
            raise ValidationError(fields={"piece_rate": str(_l(
                "With steps, the piece rate is the sum of the steps' rates (%(total)s); leave it out.",
                total=f"{total.quantize(RATE_Q)}"))})
        piece_rate = total
    elif piece_rate is None:
        raise ValidationError(fields={"piece_rate": str(_l("Required."))})
    values = {"piece_rate": piece_rate, "unit_price": unit_price, "material_cost": material_cost or Decimal("0")}
    _validate_rates(values)
    product = Product(client_id=client_id, name=name.strip(), unit=unit or "件", batch_size=batch_size or 100,
                      picture_id=picture.id if picture else None, **values)
    db.session.add(product)
    db.session.flush()
    actor = audit.actor_of()[1]
    db.session.add(ProductRate(product_id=product.id, changed_by=actor, **values))
    for seq, (step_name, rate) in enumerate(step_values or [(product.name[:50], Decimal(piece_rate))], start=1):
        _new_step(product, seq, step_name, rate, actor)
    db.session.flush()
    audit.record("create", "product", product.id, after=audit.snapshot(product, PRODUCT_FIELDS))
    return product


def _new_step(product: Product, seq: int, name: str, rate: Decimal, actor: str | None) -> ProductStep:
    step = ProductStep(product_id=product.id, seq=seq, name=name, piece_rate=Decimal(rate).quantize(RATE_Q))
    db.session.add(step)
    db.session.flush()
    db.session.add(ProductStepRate(step_id=step.id, piece_rate=step.piece_rate, changed_by=actor))
    return step


def steps_of(product_id: int) -> list[ProductStep]:
    """The product's steps in order (at least one)."""
    return list(db.session.scalars(select(ProductStep).where(ProductStep.product_id == product_id)
                                   .order_by(ProductStep.seq)))


def _sync_product_rate(product: Product, steps: list[ProductStep]) -> None:
    """The product's piece rate follows its steps: the one step's rate, or the sum of them
    all; a change is dated in the product's history like any rate change."""
    total = sum((st.piece_rate for st in steps), Decimal("0")).quantize(RATE_Q)
    if Decimal(product.piece_rate) != total:
        product.piece_rate = total
        db.session.add(ProductRate(product_id=product.id, piece_rate=total, unit_price=product.unit_price,
                                   material_cost=product.material_cost, changed_by=audit.actor_of()[1]))


def _rerate_step(step: ProductStep, rate: Decimal) -> bool:
    rate = rate.quantize(RATE_Q)
    if rate == Decimal(step.piece_rate):
        return False
    step.piece_rate = rate
    db.session.add(ProductStepRate(step_id=step.id, piece_rate=rate, changed_by=audit.actor_of()[1]))
    return True


def add_step(product: Product, *, name: str, piece_rate: Decimal) -> ProductStep:
    """Append a step to a product that has no orders yet (409 ``product_has_orders``
    otherwise: its orders' pieces, pay lines and finished goods are counted by the steps it
    was taken with; make a new product for a new way of making it)."""
    from app.models import Order

    ((name, rate),) = _validate_steps([{"name": name, "piece_rate": piece_rate}])
    if db.session.scalar(select(Order.id).where(Order.product_id == product.id).limit(1)) is not None:
        raise ConflictError(_l("This product already has orders: its steps can be renamed and re-rated, not added."),
                            code="product_has_orders")
    steps = steps_of(product.id)
    step = _new_step(product, len(steps) + 1, name, rate, audit.actor_of()[1])
    _sync_product_rate(product, [*steps, step])
    db.session.flush()
    audit.record("create", "product_step", step.id, after=audit.snapshot(step, STEP_FIELDS))
    return step


def update_step(step: ProductStep, *, name: str | None = None, piece_rate: Decimal | None = None) -> ProductStep:
    """Rename or re-rate a step. A new rate is dated in the step's history and applies to the
    step's batches issued from now on; batches already out keep theirs (rule 2)."""
    before = audit.snapshot(step, STEP_FIELDS)
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationError(fields={"name": str(_l("Required."))})
        if len(name) > 50:
            raise ValidationError(fields={"name": str(_l("At most %(n)s characters.", n=50))})
        step.name = name
    if piece_rate is not None:
        _validate_rates({"piece_rate": piece_rate})
        if _rerate_step(step, Decimal(piece_rate)):
            _sync_product_rate(step.product, steps_of(step.product_id))
    db.session.flush()
    audit.record("update", "product_step", step.id, before=before, after=audit.snapshot(step, STEP_FIELDS))
    return step


def update_product(product: Product, expected_version: int | None = None, picture: StoredFile | None = None,
                   **changes) -> Product:
    """Change a product. A new rate or price is dated in the history and applies to batches
    and orders from now on; existing ones keep their snapshots (rule 2)."""
    _check_version(product, expected_version)
    _validate_rates(changes)
    steps = steps_of(product.id)
    new_rate = changes.get("piece_rate")
    if new_rate is not None and Decimal(new_rate) != Decimal(product.piece_rate):
        if len(steps) > 1:
            raise ValidationError(fields={"piece_rate": str(_l(
                "This product is made in several steps: change the rate of a step."))})
        # The one step's rate is the product's: the step is re-rated with it, dated in its history.
        _rerate_step(steps[0], Decimal(new_rate))
    before = audit.snapshot(product, PRODUCT_FIELDS)
    new_name = changes.get("name")
    if new_name and len(steps) == 1 and steps[0].name == product.name[:50]:
        steps[0].name = new_name.strip()[:50]  # the one step is named like its product
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
