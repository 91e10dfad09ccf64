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
    BLOCKED_TOPIC = "blocked_topic"
    MAX_TURNS = "max_turns"
    AI_ERROR = "ai_error"
    REOPENED = "reopened"
    PLAN_LIMIT = "plan_limit"  # the plan's AI conversations this month are used up


class HandoffRequester(StrEnum):
    """Who asked for the handoff."""

    AI = "ai"
    CUSTOMER = "customer"
    AGENT = "agent"


class AssignmentMethod(StrEnum):
    """How a conversation came to an agent."""

    MANUAL = "manual"
    ROUND_ROBIN = "round_robin"
    TAKEOVER = "takeover"  # the agent took it, or replied to it unassigned
    ESCALATION = "escalation"  # an SLA breach moved it to another agent


class SLAMetric(StrEnum):
    """The promises an SLA policy can make."""

    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class Handoff(Table, table=True):
    """One period of a conversation in people's hands: from the handoff until it is resolved
    or handed back to the AI. Its SLA clock (policy, responses, escalations) lives here."""

    __table_args__ = (
        # Open handoffs are few and looked at every minute (SLA) and on every board load.
        sa.Index(
            "ix_handoff_open",
            "business_id",
            "conversation_id",
            postgresql_where=sa.text("closed_at IS NULL"),
        ),
    )

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
    # Set once the handoff was routed: SLA policy applied, team notified, assignment tried.
    routed_at: datetime | None = tz_field()
    sla_policy_id: int | None = Field(
        default=None, foreign_key="slapolicy.id", ondelete="SET NULL", index=True
    )
    first_response_at: datetime | None = tz_field()
    last_agent_reply_at: datetime | None = tz_field()
    # What the SLA job already did, so it never does it twice: {"first_response:breached": iso}.
    sla_events: dict = json_field()


class SLAPolicy(Table, table=True):
    """How fast the team promises to answer and resolve, optionally per channel."""

    business_id: int = business_fk()
    name: str = Field(max_length=120)
    first_response_minutes: int | None = Field(default=None)
    next_response_minutes: int | None = Field(default=None)
    resolution_minutes: int | None = Field(default=None)
    # Count only minutes when the business is open (its AI rules' business hours).
    business_hours_only: bool = Field(default=True)
    # "About to breach" this many minutes before a deadline.
    warn_before_minutes: int = Field(default=5)
    # What a breach does, besides notifying the assigned agent.
    escalate_notify_owner: bool = Field(default=True)
    escalate_reassign: bool = Field(default=False)
    escalate_raise_priority: bool = Field(default=True)
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
