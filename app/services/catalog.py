"""Clients and products, with dated rate history and refusal of stale saves."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import flag_modified

from app.extensions import db
from app.models import Batch, Client, Product, ProductRate, ProductStep, ProductStepRate, StoredFile, local_today
from app.models.base import utc_start_of, utcnow
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


def _new_step(product: Product, seq: int, name: str, rate: Decimal, actor: str | None,
              effective_at: datetime | None = None) -> ProductStep:
    step = ProductStep(product_id=product.id, seq=seq, name=name, piece_rate=Decimal(rate).quantize(RATE_Q))
    db.session.add(step)
    db.session.flush()
    db.session.add(ProductStepRate(step_id=step.id, piece_rate=step.piece_rate, changed_by=actor,
                                   effective_at=effective_at or utcnow()))
    return step


def _effective_at(effective_on: date | None, field: str = "effective_on") -> datetime:
    """When a rate dated ``effective_on`` starts: now for today (or no date), the start of the
    workshop's day for a later one. An earlier day is refused: the past keeps its rates (rule 2)."""
    today = local_today()
    if effective_on is None or effective_on == today:
        return utcnow()
    if effective_on < today:
        raise ValidationError(fields={field: str(_l(
            "A rate takes effect today or later: work already handed out keeps its rate."))})
    return utc_start_of(effective_on)


def rate_on(step: ProductStep, day: date) -> Decimal:
    """The step's rate in force on the workshop's ``day``: the last one dated before that day
    ends (of two on one day, the later entered). A day before the step's first rate takes
    that first rate: the step had no other."""
    rates = select(ProductStepRate.piece_rate).where(ProductStepRate.step_id == step.id)
    found = db.session.scalar(rates.where(ProductStepRate.effective_at < utc_start_of(day + timedelta(days=1)))
                              .order_by(ProductStepRate.effective_at.desc(), ProductStepRate.id.desc()).limit(1))
    if found is None:
        found = db.session.scalar(rates.order_by(ProductStepRate.effective_at, ProductStepRate.id).limit(1))
    return Decimal(found) if found is not None else Decimal(step.piece_rate)


def bring_rate_up_to_date(step: ProductStep, today: date) -> Decimal:
    """The rate in force today; when a dated rate has come due since the step's current rate
    was set, the step (and the product's rate, the sum of its steps') move to it. Conditional
    UPDATEs: two tablets issuing at once write it once, and neither is refused."""
    rate = rate_on(step, today)
    if rate != Decimal(step.piece_rate):
        conn = db.session.connection()
        conn.execute(update(ProductStep).where(ProductStep.id == step.id, ProductStep.piece_rate != rate)
                     .values(piece_rate=rate))
        total = (select(func.sum(ProductStep.piece_rate)).where(ProductStep.product_id == step.product_id)
                 .scalar_subquery())
        conn.execute(update(Product).where(Product.id == step.product_id).values(piece_rate=total)
                     .execution_options(synchronize_session=False))
        db.session.expire(step, ["piece_rate"])
    return rate


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


def _rerate_step(step: ProductStep, rate: Decimal, effective_on: date | None = None) -> bool:
    """A new dated rate in the step's history. From today it is the step's rate at once; from a
    later day it waits in the history (``rate_on``) and batches issued from that day take it."""
    rate = rate.quantize(RATE_Q)
    starts = _effective_at(effective_on, "effective_on")
    pending = effective_on is not None and effective_on > local_today()
    if not pending and rate == Decimal(step.piece_rate) and rate == rate_on(step, local_today()):
        return False
    db.session.add(ProductStepRate(step_id=step.id, piece_rate=rate, changed_by=audit.actor_of()[1],
                                   effective_at=starts))
    if not pending:
        step.piece_rate = rate
    return True


def add_step(product: Product, *, name: str, piece_rate: Decimal | None, effective_on: date | None = None) -> ProductStep:
    """Append a step to a product that has no orders yet (409 ``product_has_orders``
    otherwise: its orders' pieces, pay lines and finished goods are counted by the steps it
    was taken with; make a new product for a new way of making it). ``effective_on`` dates
    its first rate (today or later)."""
    from app.models import Order

    ((name, rate),) = _validate_steps([{"name": name, "piece_rate": piece_rate}])
    starts = _effective_at(effective_on)
    if db.session.scalar(select(Order.id).where(Order.product_id == product.id).limit(1)) is not None:
        raise ConflictError(_l("This product already has orders: its steps can be renamed and re-rated, not added."),
                            code="product_has_orders")
    steps = steps_of(product.id)
    step = _new_step(product, len(steps) + 1, name, rate, audit.actor_of()[1], effective_at=starts)
    _sync_product_rate(product, [*steps, step])
    db.session.flush()
    audit.record("create", "product_step", step.id, after=audit.snapshot(step, STEP_FIELDS))
    return step


def move_step(step: ProductStep, offset: int) -> ProductStep:
    """Move a step one place earlier (``offset`` −1) or later (+1) while no batch of the
    product has been handed out (409 ``steps_in_use`` after: batches, returns and pay lines
    count by the order of the steps they were made in). Orders already taken, still without
    a batch, follow the new order."""
    from app.models import OrderStep

    if offset not in (-1, 1):
        raise ValidationError(fields={"direction": str(_l("Move a step up or down."))})
    if db.session.scalar(select(Batch.id).where(Batch.product_id == step.product_id).limit(1)) is not None:
        raise ConflictError(_l("Batches of this product have been handed out: its steps keep their order. "
                               "Make a new product for a new order of work."), code="steps_in_use")
    steps = steps_of(step.product_id)
    index = next(i for i, st in enumerate(steps) if st.id == step.id)
    if not 0 <= index + offset < len(steps):
        raise ValidationError(fields={"direction": str(_l("This step is already at that end."))})
    other = steps[index + offset]
    before = audit.snapshot(step, STEP_FIELDS)
    a, b, spare = step.seq, other.seq, len(steps) + 1  # swap through a free place: seq is unique
    last = max(st.seq for st in steps)
    for st_id, seq in ((step.id, spare), (other.id, a), (step.id, b)):
        db.session.execute(update(ProductStep).where(ProductStep.id == st_id).values(seq=seq)
                           .execution_options(synchronize_session=False))
        db.session.execute(update(OrderStep).where(OrderStep.step_id == st_id)
                           .values(seq=seq, last=seq == last).execution_options(synchronize_session=False))
    db.session.expire(step)
    db.session.expire(other)
    db.session.flush()
    audit.record("update", "product_step", step.id, before=before, after=audit.snapshot(step, STEP_FIELDS))
    return step


def update_step(step: ProductStep, *, name: str | None = None, piece_rate: Decimal | None = None,
                effective_on: date | None = None, expected_version: int | None = None) -> ProductStep:
    """Rename or re-rate a step. A new rate is dated in the step's history (from today, or
    from ``effective_on``, a later day) and applies to the step's batches issued from that day
    on; batches already out keep theirs (rule 2). A step is part of its product: a change is
    refused when the product was saved since ``expected_version`` (StaleEdit), and moves the
    product's version, so a page still showing the step before it is refused in turn."""
    product = step.product
    _check_version(product, expected_version)
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
        if _rerate_step(step, Decimal(piece_rate), effective_on):
            _sync_product_rate(step.product, steps_of(step.product_id))
    elif effective_on is not None:
        raise ValidationError(fields={"piece_rate": str(_l("Required."))})
    db.session.flush()
    after = audit.snapshot(step, STEP_FIELDS)
    if after != before or piece_rate is not None:
        flag_modified(product, "name")  # the UPDATE moves products.version (the mapper's version column)
        db.session.flush()
    audit.record("update", "product_step", step.id, before=before, after=after)
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
