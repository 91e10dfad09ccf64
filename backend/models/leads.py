"""Sales leads the AI and the team capture from conversations."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from backend.models.base import Table, business_fk, enum_field, tz_field


class LeadStage(StrEnum):
    """A lead's column on the pipeline board."""

    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    WON = "won"
    LOST = "lost"


class LeadSource(StrEnum):
    """How the lead was captured."""

    AI = "ai"
    WIDGET_OFFLINE = "widget_offline"
    AGENT = "agent"
    IMPORT = "import"


class Lead(Table, table=True):
    """A potential sale: who, what they want, its stage and who follows it up."""

    __table_args__ = (
        sa.Index("ix_lead_business_stage_position", "business_id", "stage", "position"),
        sa.Index("ix_lead_business_follow_up", "business_id", "next_follow_up_at"),
    )

    business_id: int = business_fk()
    contact_id: int | None = Field(
        default=None, foreign_key="contact.id", ondelete="SET NULL", index=True
    )
    conversation_id: int | None = Field(
        default=None, foreign_key="conversation.id", ondelete="SET NULL", index=True
    )
    name: str | None = Field(default=None, max_length=120)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    interest: str | None = Field(default=None, sa_type=sa.Text)
    source: str = enum_field(LeadSource.AI)
    stage: str = enum_field(LeadStage.NEW)
    value_cents: int | None = Field(default=None)
    currency: str | None = Field(default=None, max_length=3)
    owner_user_id: int | None = Field(
        default=None, foreign_key="user.id", ondelete="SET NULL", index=True
    )
    notes: str | None = Field(default=None, sa_type=sa.Text)
    next_follow_up_at: datetime | None = tz_field()
    # The follow-up time a reminder was sent for: one reminder per follow-up time.
    follow_up_reminded_for: datetime | None = tz_field()
    # Order within the stage's column on the board.
    position: int = Field(default=0)
