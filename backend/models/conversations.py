"""Conversations with customers, their messages, and the queue of messages to send."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlmodel import Field

from backend.models.base import Table, business_fk, enum_field, json_field, tz_field


class ConversationStatus(StrEnum):
    """Who is handling a conversation right now."""

    AI = "ai"
    WAITING_FOR_AGENT = "waiting_for_agent"
    HUMAN = "human"
    RESOLVED = "resolved"


class MessageDirection(StrEnum):
    """Whether a message came from the customer or went to them."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class SenderType(StrEnum):
    """Who wrote a message."""

    CUSTOMER = "customer"
    AI = "ai"
    AGENT = "agent"
    SYSTEM = "system"


class DeliveryStatus(StrEnum):
    """How far a message got on its way to the customer."""

    RECEIVED = "received"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class MessageContentType(StrEnum):
    """What a message carries."""

    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    DOCUMENT = "document"
    LOCATION = "location"
    CONTACTS = "contacts"
    INTERACTIVE = "interactive"
    REACTION = "reaction"
    TEMPLATE = "template"
    UNSUPPORTED = "unsupported"


class ConversationPriority(StrEnum):
    """How urgently a conversation needs a person (SLA escalation raises it)."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class OutboxStatus(StrEnum):
    """Where an outgoing message is in sending."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Conversation(Table, table=True):
    """A thread with one customer on one channel, handled by the AI or by an agent."""

    __table_args__ = (
        sa.Index("ix_conversation_business_last_message", "business_id", "last_message_at"),
    )

    business_id: int = business_fk()
    contact_id: int = Field(foreign_key="contact.id", ondelete="CASCADE", index=True)
    # SET NULL: disconnecting a channel keeps the conversation history.
    channel_integration_id: int | None = Field(
        default=None, foreign_key="channelintegration.id", ondelete="SET NULL", index=True
    )
    status: str = enum_field(ConversationStatus.AI, index=True)
    assignee_user_id: int | None = Field(
        default=None, foreign_key="user.id", ondelete="SET NULL", index=True
    )
    language: str | None = Field(default=None, max_length=16)
    subject: str | None = Field(default=None, max_length=200)
    labels: list = json_field(default_factory=list)
    unread_count: int = Field(default=0)
    last_message_at: datetime | None = tz_field()
    # WhatsApp allows free-form replies only within 24 hours of the customer's last message.
    last_customer_message_at: datetime | None = tz_field()
    resolved_at: datetime | None = tz_field()
    csat_score: int | None = Field(default=None)
    csat_comment: str | None = Field(default=None, sa_type=sa.Text)
    # The AI's running summary of older turns (its memory beyond the last few messages).
    summary: str | None = Field(default=None, sa_type=sa.Text)
    ai_turns: int = Field(default=0)
    priority: str = enum_field(ConversationPriority.NORMAL)


# The inbox's sort key: newest activity first (a conversation without messages yet sorts by
# when it started). The indexes below walk it in order, so a page costs the same at 50,000
# conversations as at 50; docs/inbox.md explains each one.
INBOX_ACTIVITY = sa.func.coalesce(
    Conversation.__table__.c.last_message_at, Conversation.__table__.c.created_at
)
sa.Index(
    "ix_conversation_inbox",
    Conversation.__table__.c.business_id,
    INBOX_ACTIVITY,
    Conversation.__table__.c.id,
)
sa.Index(
    "ix_conversation_inbox_status",
    Conversation.__table__.c.business_id,
    Conversation.__table__.c.status,
    INBOX_ACTIVITY,
    Conversation.__table__.c.id,
)
sa.Index(
    "ix_conversation_inbox_assignee",
    Conversation.__table__.c.business_id,
    Conversation.__table__.c.assignee_user_id,
    INBOX_ACTIVITY,
    Conversation.__table__.c.id,
)
sa.Index(
    "ix_conversation_labels",
    Conversation.__table__.c.labels,
    postgresql_using="gin",
    postgresql_ops={"labels": "jsonb_path_ops"},
)


class Message(Table, table=True):
    """One message in a conversation: from the customer, the AI, an agent or the system."""

    __table_args__ = (
        sa.Index("ix_message_conversation_created", "conversation_id", "created_at"),
        sa.Index("ix_message_search_vector", "search_vector", postgresql_using="gin"),
    )

    business_id: int = business_fk()
    conversation_id: int = Field(foreign_key="conversation.id", ondelete="CASCADE")
    direction: str = enum_field(MessageDirection.INBOUND)
    sender_type: str = enum_field(SenderType.CUSTOMER)
    sender_user_id: int | None = Field(
        default=None, foreign_key="user.id", ondelete="SET NULL", index=True
    )
    text: str | None = Field(default=None, sa_type=sa.Text)
    language: str | None = Field(default=None, max_length=16)
    content_type: str = enum_field(MessageContentType.TEXT)
    attachments: list = json_field(default_factory=list)
    # The channel's id of this message; delivery status updates find the message by it.
    external_id: str | None = Field(default=None, max_length=255, index=True)
    # Unique: a job that runs twice for the same event stores the message only once.
    inbound_event_id: int | None = Field(
        default=None, foreign_key="inboundevent.id", ondelete="SET NULL", unique=True
    )
    delivery_status: str = enum_field(DeliveryStatus.RECEIVED)
    error: str | None = Field(default=None, sa_type=sa.Text)
    is_private_note: bool = Field(default=False)
    ai_confidence: float | None = Field(default=None)
    ai_sources: list = json_field(default_factory=list)
    provider_timestamp: datetime | None = tz_field()
    search_vector: str | None = Field(
        default=None,
        sa_column=sa.Column(
            TSVECTOR,
            sa.Computed("to_tsvector('simple', coalesce(\"text\", ''))", persisted=True),
        ),
    )


class Outbox(Table, table=True):
    """A message waiting to be sent on its channel, retried until it goes or gives up."""

    __table_args__ = (sa.Index("ix_outbox_status_next_attempt", "status", "next_attempt_at"),)

    business_id: int = business_fk()
    message_id: int = Field(foreign_key="message.id", ondelete="CASCADE", unique=True)
    channel_integration_id: int = Field(
        foreign_key="channelintegration.id", ondelete="CASCADE", index=True
    )
    status: str = enum_field(OutboxStatus.PENDING)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = tz_field()
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    external_id: str | None = Field(default=None, max_length=255)
    sent_at: datetime | None = tz_field()


# The Overview analytics (backend/analytics) read a business's conversations and messages by
# creation time; bench/analytics.py measures them at 1,000,000 messages.
sa.Index(
    "ix_conversation_business_created",
    Conversation.__table__.c.business_id,
    Conversation.__table__.c.created_at,
)
sa.Index(
    "ix_message_business_created",
    Message.__table__.c.business_id,
    Message.__table__.c.created_at,
)
