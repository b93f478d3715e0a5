"""Clients, products, their dated rates, and stored files."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from app.extensions import Model
from app.models.base import utcnow
from app.money import Money, Rate


class StoredFile(Model):
    """Files live in the database so every app server can serve them."""

    __tablename__ = "stored_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Client(Model):
    __tablename__ = "clients"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    contact: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(30))
    address: Mapped[str | None] = mapped_column(String(200))
    tax_id: Mapped[str | None] = mapped_column(String(30))
    payment_terms_days: Mapped[int] = mapped_column(default=30)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __mapper_args__ = {"version_id_col": version}


class Product(Model):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(20), default="件")
    piece_rate: Mapped[Decimal] = mapped_column(Rate())
    unit_price: Mapped[Decimal] = mapped_column(Rate())
    material_cost: Mapped[Decimal] = mapped_column(Rate(), default=Decimal("0"))
    batch_size: Mapped[int] = mapped_column(default=100)
    picture_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    client: Mapped[Client] = relationship()
    rates: Mapped[list[ProductRate]] = relationship(
        back_populates="product", order_by="ProductRate.effective_at.desc()"
    )
    # Its ordered steps (工序, rule 14): at least one. A product made in one step has one,
    # named like the product, whose rate is the product's piece rate.
    steps: Mapped[list[ProductStep]] = relationship(back_populates="product", order_by="ProductStep.seq")

    __table_args__ = (
        CheckConstraint("piece_rate >= 0 and unit_price >= 0 and material_cost >= 0", name="money_nonneg"),
        CheckConstraint("batch_size > 0", name="batch_size_pos"),
    )
    __mapper_args__ = {"version_id_col": version}


class ProductRate(Model):
    """The product's rate history: each change, dated, with who made it."""

    __tablename__ = "product_rates"
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    piece_rate: Mapped[Decimal] = mapped_column(Rate())
    unit_price: Mapped[Decimal] = mapped_column(Rate())
    material_cost: Mapped[Decimal] = mapped_column(Rate())
    effective_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[str | None] = mapped_column(String(100))

    product: Mapped[Product] = relationship(back_populates="rates")


class ProductStep(Model):
    """One step of a product (工序): its place in the order of work, its name and its current
    piece rate. A batch is for one step and keeps the step's rate when issued (rules 2, 14).
    Steps are appended (while the product has no order), renamed, given dated rates and
    reordered (while no batch of the product has been handed out); never removed: batches
    point at them (services/catalog.py)."""

    __tablename__ = "product_steps"
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    seq: Mapped[int]
    name: Mapped[str] = mapped_column(String(50))
    piece_rate: Mapped[Decimal] = mapped_column(Rate())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    product: Mapped[Product] = relationship(back_populates="steps")
    rates: Mapped[list[ProductStepRate]] = relationship(
        back_populates="step", order_by="ProductStepRate.effective_at.desc(), ProductStepRate.id.desc()"
    )

    __table_args__ = (
        UniqueConstraint("product_id", "seq", name="uq_product_steps_product_seq"),
        CheckConstraint("seq >= 1", name="seq_pos"),
        CheckConstraint("piece_rate >= 0", name="rate_nonneg"),
    )


class ProductStepRate(Model):
    """A step's rate history: each rate, dated, with who set it (rule 2 per step)."""

    __tablename__ = "product_step_rates"
    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("product_steps.id"), index=True)
    piece_rate: Mapped[Decimal] = mapped_column(Rate())
    effective_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[str | None] = mapped_column(String(100))

    step: Mapped[ProductStep] = relationship(back_populates="rates")


__all__ = ["Client", "Product", "ProductRate", "ProductStep", "ProductStepRate", "StoredFile", "Money"]
