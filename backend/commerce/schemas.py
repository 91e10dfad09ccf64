"""Plain data the commerce domain hands out (never ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "CatalogueImport",
    "CommerceError",
    "OrderItemView",
    "OrderPage",
    "OrderView",
    "ProductView",
]


class CommerceError(ValueError):
    """Bad input for the catalogue or an order; `field` names the form field, the message the
    fix."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class ProductView:
    """A product or service as the Sales page lists it."""

    id: int
    name: str
    description: str
    kind: str  # product | service
    price_cents: int  # in the currency's minor unit
    currency: str
    price_display: str  # e.g. "12.50 USD"
    sku: str | None
    stock: int | None  # None: not tracked
    is_active: bool
    image_path: str | None  # relative to the data folder
    updated_at: datetime


@dataclass(frozen=True)
class OrderItemView:
    """One line of an order."""

    product_id: int | None
    name: str
    quantity: int
    unit_price_cents: int
    line_total_cents: int


@dataclass(frozen=True)
class OrderView:
    """An order with its lines and totals."""

    id: int
    number: int
    status: str
    currency: str
    subtotal_cents: int
    total_cents: int
    total_display: str
    contact_id: int | None
    contact_name: str | None
    conversation_id: int | None
    items: list[OrderItemView]
    created_at: datetime
    notes: str | None = None
    # The newest payment link of the order, if any.
    payment_link_id: int | None = None
    payment_link_url: str | None = None
    payment_link_status: str | None = None  # active | paid | expired | cancelled


@dataclass(frozen=True)
class OrderPage:
    """One page of orders and how many match in all."""

    orders: list[OrderView]
    total: int


@dataclass(frozen=True)
class CatalogueImport:
    """What a CSV import did; `errors` name the row number (the header is row 1)."""

    created: int = 0
    updated: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
