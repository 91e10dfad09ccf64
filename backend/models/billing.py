"""Billing: the business paying for BizBot (its plan and Stripe subscription)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field

from backend.models.base import Table, business_fk, enum_field, json_field, tz_field


class SubscriptionStatus(StrEnum):
    """Stripe's subscription statuses (plus "none" before the first checkout)."""

    NONE = "none"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    UNPAID = "unpaid"
    CANCELED = "canceled"
    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    PAUSED = "paused"


class Subscription(Table, table=True):
    """A business's BizBot plan and, once it has paid, its Stripe customer and subscription."""

    business_id: int = Field(
        foreign_key="business.id", ondelete="CASCADE", unique=True, nullable=False
    )
    plan: str = enum_field("free")
    status: str = enum_field(SubscriptionStatus.NONE)
    stripe_customer_id: str | None = Field(default=None, max_length=255, unique=True)
    stripe_subscription_id: str | None = Field(default=None, max_length=255, unique=True)
    current_period_end: datetime | None = tz_field()
    cancel_at_period_end: bool = Field(default=False)


class BillingWebhookEvent(Table, table=True):
    """A Stripe billing webhook delivery, stored once by its event id so replays change nothing."""

    business_id: int = business_fk()
    stripe_event_id: str = Field(max_length=255, unique=True)
    event_type: str = Field(max_length=64)
    payload: dict = json_field()
