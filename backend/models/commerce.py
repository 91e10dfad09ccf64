"""What the business sells and the orders customers place."""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from backend.models.base import Table, business_fk, enum_field


class ProductKind(StrEnum):
    """Whether the business sells a thing or a service."""

    PRODUCT = "product"
    SERVICE = "service"


class OrderStatus(StrEnum):
    """Where an order is, from placed to paid (or not)."""

    PENDING = "pending"
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    NEEDS_REVIEW = "needs_review"
    FAILED = "failed"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


class Product(Table, table=True):
    """A product or service in the business's catalogue."""

    __table_args__ = (
        # A SKU names one product per business: CSV imports update it instead of duplicating.
        sa.Index(
            "uq_product_business_sku",
            "business_id",
            "sku",
            unique=True,
            postgresql_where=sa.text("sku IS NOT NULL"),
        ),
    )

    business_id: int = business_fk()
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, sa_type=sa.Text)
    price_cents: int
    currency: str = Field(max_length=3)
    image_path: str | None = Field(default=None, max_length=500)
    sku: str | None = Field(default=None, max_length=64)
    # None means stock is not tracked.
    stock: int | None = Field(default=None)
    is_active: bool = Field(default=True)
    kind: str = enum_field(ProductKind.PRODUCT)


class Order(Table, table=True):
    """A customer's order, numbered per business (#1, #2, …)."""

    __table_args__ = (
        sa.UniqueConstraint("business_id", "number", name="uq_order_business_number"),
    )

    business_id: int = business_fk()
    contact_id: int | None = Field(
        default=None, foreign_key="contact.id", ondelete="SET NULL", index=True
    )
    conversation_id: int | None = Field(
        default=None, foreign_key="conversation.id", ondelete="SET NULL", index=True
    )
    number: int
    status: str = enum_field(OrderStatus.PENDING, index=True)
    currency: str = Field(max_length=3)
    subtotal_cents: int = Field(default=0)
    total_cents: int = Field(default=0)
    notes: str | None = Field(default=None, sa_type=sa.Text)


class OrderItem(Table, table=True):
    """One line of an order; name and price are copied so later catalogue edits don't change it."""

    business_id: int = business_fk()
    order_id: int = Field(foreign_key="order.id", ondelete="CASCADE", index=True)
    product_id: int | None = Field(
        default=None, foreign_key="product.id", ondelete="SET NULL", index=True
    )
    name: str = Field(max_length=200)
    unit_price_cents: int
    quantity: int = Field(default=1)
    line_total_cents: int
