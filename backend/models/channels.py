"""Customer channels a business connects, and the raw events they deliver."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from backend.models.base import Table, business_fk, enum_field, json_field, tz_field


class ChannelKind(StrEnum):
    """Where customers talk to the business."""

    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"
    INSTAGRAM = "instagram"
    MESSENGER = "messenger"
    WIDGET = "widget"


class InboundEventKind(StrEnum):
    """What a channel told us about: a new message, a delivery status, an edit, …"""

    MESSAGE = "message"
    STATUS = "status"
    EDIT = "edit"
    REACTION = "reaction"
    ECHO = "echo"
    RECEIPT = "receipt"
    UNSUPPORTED = "unsupported"


class InboundEventStatus(StrEnum):
    """Where an inbound event is in processing."""

    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"


class ChannelIntegration(Table, table=True):
    """One connected channel of a business: a WhatsApp number, a Telegram bot, the widget, …"""

    business_id: int = business_fk()
    kind: str = enum_field(..., index=True)
    name: str = Field(max_length=120)
    is_enabled: bool = Field(default=True)
    # A Fernet token written by the service layer; secrets are never stored in plain text.
    credentials_encrypted: str | None = Field(default=None, sa_type=sa.Text)
    config: dict = json_field()
    public_key: str | None = Field(default=None, max_length=64, unique=True)
    webhook_secret_hash: str | None = Field(default=None, max_length=128)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    connected_at: datetime | None = tz_field()


class InboundEvent(Table, table=True):
    """A webhook or widget event as received, stored once before it is processed."""

    __table_args__ = (
        # A provider redelivering the same event must not create a second row.
        sa.UniqueConstraint(
            "channel_integration_id", "external_id", name="uq_inboundevent_integration_external"
        ),
        sa.Index("ix_inboundevent_status_created", "status", "created_at"),
        # Events of one sender are processed in order: found by this key.
        sa.Index("ix_inboundevent_sender", "channel_integration_id", "sender_external_id"),
    )

    business_id: int = business_fk()
    channel_integration_id: int = Field(foreign_key="channelintegration.id", ondelete="CASCADE")
    external_id: str = Field(max_length=255)
    # Who sent it on the channel (phone, chat id, visitor token): orders a customer's events.
    sender_external_id: str | None = Field(default=None, max_length=255)
    kind: str = enum_field(InboundEventKind.MESSAGE)
    payload: dict = json_field()
    provider_timestamp: datetime | None = tz_field()
    status: str = enum_field(InboundEventStatus.PENDING)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    processed_at: datetime | None = tz_field()


class WebhookDelivery(Table, table=True):
    """One authentic webhook request as received, kept for audit and replay (then purged).

    Requests that fail signature checks are never stored; authentic ones that could not be
    used (malformed, unexpected shape) are kept with the error, for the owner to see.
    """

    __table_args__ = (
        sa.Index("ix_webhookdelivery_integration_created", "channel_integration_id", "created_at"),
        # The retention purge deletes by age.
        sa.Index("ix_webhookdelivery_created", "created_at"),
    )

    business_id: int = business_fk()
    channel_integration_id: int = Field(foreign_key="channelintegration.id", ondelete="CASCADE")
    body: bytes = Field(sa_type=sa.LargeBinary)
    content_type: str | None = Field(default=None, max_length=120)
    # "stored" (events kept), "duplicate" (nothing new), "rejected" (authentic, unusable).
    outcome: str = Field(max_length=16)
    error: str | None = Field(default=None, sa_type=sa.Text)
    event_count: int = Field(default=0)
    new_event_ids: list = json_field(default_factory=list)
