"""Passing conversations from the AI to people: handoffs, assignments and SLA policies."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from backend.models.base import Table, business_fk, enum_field, json_field, tz_field


class HandoffReason(StrEnum):
    """Why a conversation was handed to a person."""

    LOW_CONFIDENCE = "low_confidence"
    CUSTOMER_REQUEST = "customer_request"
    KEYWORD = "keyword"
    SENTIMENT = "sentiment"
    AGENT_TAKEOVER = "agent_takeover"
    RULE = "rule"


class HandoffRequester(StrEnum):
    """Who asked for the handoff."""

    AI = "ai"
    CUSTOMER = "customer"
    AGENT = "agent"


class AssignmentMethod(StrEnum):
    """How a conversation came to an agent."""

    MANUAL = "manual"
    ROUND_ROBIN = "round_robin"


class Handoff(Table, table=True):
    """A request for a person to take over a conversation, and who accepted it."""

    business_id: int = business_fk()
    conversation_id: int = Field(foreign_key="conversation.id", ondelete="CASCADE", index=True)
    reason: str = enum_field(HandoffReason.LOW_CONFIDENCE)
    requested_by: str = enum_field(HandoffRequester.AI)
    note: str | None = Field(default=None, sa_type=sa.Text)
    accepted_by_user_id: int | None = Field(
        default=None, foreign_key="user.id", ondelete="SET NULL", index=True
    )
    accepted_at: datetime | None = tz_field()
    closed_at: datetime | None = tz_field()


class SLAPolicy(Table, table=True):
    """How fast the team promises to answer and resolve, optionally per channel."""

    business_id: int = business_fk()
    name: str = Field(max_length=120)
    first_response_minutes: int | None = Field(default=None)
    resolution_minutes: int | None = Field(default=None)
    applies_to_channels: list = json_field(default_factory=list)
    is_active: bool = Field(default=True)


class Assignment(Table, table=True):
    """A period during which an agent was responsible for a conversation."""

    business_id: int = business_fk()
    conversation_id: int = Field(foreign_key="conversation.id", ondelete="CASCADE", index=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    assigned_by_user_id: int | None = Field(
        default=None, foreign_key="user.id", ondelete="SET NULL", index=True
    )
    method: str = enum_field(AssignmentMethod.MANUAL)
    unassigned_at: datetime | None = tz_field()
