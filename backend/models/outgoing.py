"""Outgoing webhooks: the business's endpoints, each event delivered to them, each attempt."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from backend.models.base import Table, business_fk, enum_field, json_field, tz_field


class OutgoingDeliveryStatus(StrEnum):
    """Where one delivery of one event to one endpoint is."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WebhookEndpoint(Table, table=True):
    """A URL of the business's own systems that BizBot POSTs chosen events to, signed."""

    __table_args__ = (
        sa.UniqueConstraint("business_id", "url", name="uq_webhookendpoint_business_url"),
    )

    business_id: int = business_fk()
    url: str = Field(max_length=2000)
    description: str | None = Field(default=None, max_length=200)
    # Event types it receives, e.g. ["message.created", "order.paid"].
    events: list = json_field(default_factory=list)
    # The signing secret, encrypted with backend.core.crypto; shown to the owner once.
    secret_encrypted: str = Field(sa_type=sa.Text)
    secret_hint: str = Field(max_length=32)
    is_enabled: bool = Field(default=True)
    disabled_reason: str | None = Field(default=None, sa_type=sa.Text)
    disabled_at: datetime | None = tz_field()
    # Deliveries that ended failed in a row; reset by a success (auto-disable after N).
    consecutive_failures: int = Field(default=0)
    created_by_user_id: int | None = Field(
        default=None, foreign_key="user.id", ondelete="SET NULL", index=True
    )
    last_success_at: datetime | None = tz_field()
    last_failure_at: datetime | None = tz_field()


class OutgoingDelivery(Table, table=True):
    """One event for one endpoint: the exact JSON sent, and how its attempts went."""

    __table_args__ = (
        # The same happening is delivered once per endpoint, however often its event fires.
        sa.UniqueConstraint("endpoint_id", "event_key", name="uq_outgoingdelivery_endpoint_event"),
        sa.Index("ix_outgoingdelivery_business_created", "business_id", "created_at"),
    )

    business_id: int = business_fk()
    endpoint_id: int = Field(foreign_key="webhookendpoint.id", ondelete="CASCADE", index=True)
    # The `id` of the JSON body and the BizBot-Webhook-Id header (receivers dedupe on it).
    webhook_id: str = Field(max_length=40, unique=True)
    event_type: str = Field(max_length=64)
    # What the event is about, e.g. "message.created:42" (the dedup key).
    event_key: str = Field(max_length=120)
    # The contact it is about, so erasure can find and redact it.
    contact_id: int | None = Field(default=None, index=True)
    payload: dict = json_field()
    status: str = enum_field(OutgoingDeliveryStatus.PENDING, index=True)
    attempts: int = Field(default=0)
    # Attempts allowed before it is marked failed (a manual retry raises it).
    attempt_limit: int = Field(default=6)
    last_status_code: int | None = Field(default=None)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    delivered_at: datetime | None = tz_field()
    failed_at: datetime | None = tz_field()


class OutgoingAttempt(Table, table=True):
    """One POST of a delivery: the receiver's status and the start of its answer, or the error."""

    business_id: int = business_fk()
    delivery_id: int = Field(foreign_key="outgoingdelivery.id", ondelete="CASCADE", index=True)
    number: int = Field(default=1)
    status_code: int | None = Field(default=None)
    # The first 2 KB of the response body.
    response_body: str | None = Field(default=None, sa_type=sa.Text)
    error: str | None = Field(default=None, sa_type=sa.Text)
    duration_ms: int = Field(default=0)
    succeeded: bool = Field(default=False)
