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
