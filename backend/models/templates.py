"""Pre-approved message templates (WhatsApp) for writing to customers outside the 24h window."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from backend.models.base import Table, business_fk, enum_field, json_field, tz_field


class TemplateCategory(StrEnum):
    """The provider's category for a template."""

    MARKETING = "marketing"
    UTILITY = "utility"
    AUTHENTICATION = "authentication"


class TemplateStatus(StrEnum):
    """Where a template is in the provider's review."""

    DRAFT = "draft"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAUSED = "paused"
    DISABLED = "disabled"


class MessageTemplate(Table, table=True):
    """A message template with its text, buttons and approval status."""

    __table_args__ = (
        sa.UniqueConstraint(
            "business_id", "name", "language", name="uq_messagetemplate_business_name_language"
        ),
    )

    business_id: int = business_fk()
    channel_integration_id: int | None = Field(
        default=None, foreign_key="channelintegration.id", ondelete="CASCADE", index=True
    )
    name: str = Field(max_length=512)
    language: str = Field(max_length=16)
    category: str = enum_field(TemplateCategory.UTILITY)
    status: str = enum_field(TemplateStatus.DRAFT)
    rejection_reason: str | None = Field(default=None, sa_type=sa.Text)
    header: dict = json_field()
    body: str = Field(sa_type=sa.Text)
    footer: str | None = Field(default=None, max_length=255)
    buttons: list = json_field(default_factory=list)
    variables_examples: dict = json_field()
    external_id: str | None = Field(default=None, max_length=255)
    last_synced_at: datetime | None = tz_field()


class BroadcastStatus(StrEnum):
    """Where a broadcast is."""

    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"


class Broadcast(Table, table=True):
    """One approved template sent to a segment of contacts (by label, lead stage, channel)."""

    business_id: int = business_fk()
    template_id: int = Field(foreign_key="messagetemplate.id", ondelete="CASCADE", index=True)
    channel_integration_id: int = Field(foreign_key="channelintegration.id", ondelete="CASCADE")
    name: str = Field(max_length=120)
    segment: dict = json_field()
    variables: list = json_field(default_factory=list)
    status: str = enum_field(BroadcastStatus.SENDING)
    created_by_user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    finished_at: datetime | None = tz_field()


class BroadcastRecipient(Table, table=True):
    """One contact of a broadcast and what happened to their message."""

    __table_args__ = (
        sa.UniqueConstraint("broadcast_id", "contact_id", name="uq_broadcastrecipient_contact"),
        sa.Index("ix_broadcastrecipient_broadcast_status", "broadcast_id", "status"),
        # The page lists each broadcast's first recipients, by id.
        sa.Index("ix_broadcastrecipient_broadcast_id_id", "broadcast_id", "id"),
        # A message's status update finds its broadcast (to refresh the page live).
        sa.Index("ix_broadcastrecipient_message", "message_id"),
    )

    business_id: int = business_fk()
    broadcast_id: int = Field(foreign_key="broadcast.id", ondelete="CASCADE")
    contact_id: int = Field(foreign_key="contact.id", ondelete="CASCADE")
    message_id: int | None = Field(default=None, foreign_key="message.id", ondelete="SET NULL")
    # queued → sent (its message then moves delivered/read/failed) | opted_out | failed
    status: str = enum_field("queued")
    error: str | None = Field(default=None, sa_type=sa.Text)
