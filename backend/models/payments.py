"""Getting paid: provider settings, payment links, payments and provider webhooks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from backend.models.base import Table, business_fk, enum_field, json_field, tz_field


class PaymentProviderKind(StrEnum):
    """The payment providers a business can connect."""

    STRIPE = "stripe"
    PAYSTACK = "paystack"
    FLUTTERWAVE = "flutterwave"
    MPESA = "mpesa"
    PAYPAL = "paypal"
    AIRTEL = "airtel"
    BINANCE = "binance"


class PaymentLinkStatus(StrEnum):
    """Whether a payment link can still be paid."""

    ACTIVE = "active"
    PAID = "paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class PaymentStatus(StrEnum):
    """Where one payment attempt is with its provider."""

    CREATED = "created"
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


class PaymentProviderSetting(Table, table=True):
    """A business's account with one payment provider: keys, mode and accepted currencies."""

    __table_args__ = (
        sa.UniqueConstraint("business_id", "kind", name="uq_paymentprovidersetting_business_kind"),
    )

    business_id: int = business_fk()
    kind: str = enum_field(...)
    # Off until the owner has tested the connection.
    is_enabled: bool = Field(default=False)
    is_test_mode: bool = Field(default=True)
    # A Fernet token written by the service layer; secrets are never stored in plain text.
    credentials_encrypted: str | None = Field(default=None, sa_type=sa.Text)
    config: dict = json_field()
    currencies: list = json_field(default_factory=list)


class PaymentLink(Table, table=True):
    """A shareable /pay/{token} page for an order, where the customer picks how to pay."""

    business_id: int = business_fk()
    order_id: int = Field(foreign_key="order.id", ondelete="CASCADE", index=True)
    token: str = Field(max_length=64, unique=True)
    status: str = enum_field(PaymentLinkStatus.ACTIVE)
    expires_at: datetime | None = tz_field()
    paid_at: datetime | None = tz_field()


class Payment(Table, table=True):
    """One attempt to pay an order through one provider."""

    __table_args__ = (
        sa.UniqueConstraint("provider", "provider_reference", name="uq_payment_provider_reference"),
        sa.UniqueConstraint("reference", name="uq_payment_reference"),
    )

    business_id: int = business_fk()
    payment_link_id: int | None = Field(
        default=None, foreign_key="paymentlink.id", ondelete="SET NULL", index=True
    )
    order_id: int = Field(foreign_key="order.id", ondelete="CASCADE", index=True)
    provider: str = enum_field(...)
    status: str = enum_field(PaymentStatus.CREATED, index=True)
    amount_cents: int
    currency: str = Field(max_length=3)
    provider_reference: str | None = Field(default=None, max_length=255)
    # BizBot's own reference of this attempt, sent to the provider and echoed in its webhooks.
    reference: str | None = Field(default=None, max_length=64)
    payer_phone: str | None = Field(default=None, max_length=32)
    payer_email: str | None = Field(default=None, max_length=254)
    raw: dict = json_field()
    failure_reason: str | None = Field(default=None, sa_type=sa.Text)
    confirmed_at: datetime | None = tz_field()


class PaymentWebhookEvent(Table, table=True):
    """A provider's webhook delivery, stored once so redeliveries are recognised."""

    __table_args__ = (
        sa.UniqueConstraint(
            "provider", "external_id", name="uq_paymentwebhookevent_provider_external"
        ),
    )

    business_id: int = business_fk()
    provider: str = enum_field(...)
    external_id: str = Field(max_length=255)
    payload: dict = json_field()
    processed_at: datetime | None = tz_field()
