"""Plain data the inbox hands to pages (never ORM rows): flat, so a page can show it as is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from backend.channels.service import ReplyWindow
from backend.handoff.schemas import AgentView, NotFound

__all__ = [
    "AttachmentView",
    "BoardView",
    "CannedResponseView",
    "ChannelIdentityView",
    "ContactCard",
    "ContactMatch",
    "InboxCounts",
    "InboxError",
    "InboxPage",
    "InboxRow",
    "LeadSummary",
    "MergeResult",
    "MessageView",
    "NotFound",
    "PastConversation",
    "ReplyWindow",
    "SourceChunkView",
    "ThreadView",
    "TranslationView",
]


class InboxError(ValueError):
    """Bad input, or an action the conversation's state does not allow; `field` names the
    form field (or "conversation")."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class InboxRow:
    """One conversation in the inbox list (and on the handoff board, and a thread's header)."""

    id: int
    contact_id: int
    # The contact's name, else email or phone, else their id on the channel.
    contact_name: str
    channel_kind: str | None  # whatsapp, telegram, …, widget; None when disconnected
    channel_name: str | None
    status: str  # ai | waiting_for_agent | human | resolved
    assignee_user_id: int | None
    assignee_name: str | None
    labels: list[str]
    unread_count: int
    priority: str  # low | normal | high | urgent
    last_message_preview: str  # one line, at most 120 characters ("" before any message)
    last_message_sender: str | None  # customer | ai | agent | system
    last_activity_at: datetime
    # The open handoff, if the conversation is with people.
    handoff_reason: str | None = None
    waiting_since: datetime | None = None
    # The nearest SLA deadline: state is "none" when no policy times this conversation.
    sla_state: str = "none"  # none | ok | warning | breached
    sla_metric: str | None = None  # first_response | next_response | resolution
    sla_due_at: datetime | None = None
    sla_seconds_left: int | None = None  # negative once breached
    sla_paused: bool = False  # the business is closed and the policy counts open hours only


@dataclass(frozen=True)
class InboxPage:
    """A page of the inbox list, newest activity first."""

    rows: list[InboxRow]
    # Pass back as `cursor` for the next page; None on the last page.
    next_cursor: str | None


@dataclass(frozen=True)
class InboxCounts:
    """Badge counts for the inbox's tabs."""

    ai: int
    waiting_for_agent: int
    human: int
    resolved: int
    mine: int  # assigned to the actor, waiting or human
    unassigned: int  # waiting for an agent with nobody assigned
    unread: int  # open conversations with unread customer messages


@dataclass(frozen=True)
class SourceChunkView:
    """A knowledge passage an AI reply was based on."""

    chunk_id: int
    source_id: int | None
    title: str
    question: str | None
    excerpt: str  # at most 300 characters
    available: bool  # False once the knowledge was edited or deleted since


@dataclass(frozen=True)
class AttachmentView:
    """What a message carries besides its text: a file, a place or a shared contact."""

    index: int  # its position in the message's attachments (the media URL's last part)
    kind: str  # image | audio | video | document | location | contact
    # stored (url is ours) | link (url is the sender's public link) | pending (being
    # downloaded) | failed (error says why) | none (a location or contact: nothing to fetch)
    status: str
    url: str | None = None  # /api/media/<message id>/<index> for a stored file
    filename: str | None = None
    mime_type: str | None = None
    size: int | None = None  # bytes
    error: str | None = None
    title: str | None = None  # a place's name and address, a contact's name
    detail: str | None = None  # a contact's phone numbers
    map_url: str | None = None  # a location on OpenStreetMap
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class MessageView:
    """One message of a thread."""

    id: int
    conversation_id: int
    direction: str  # inbound | outbound
    sender_type: str  # customer | ai | agent | system
    sender_name: str
    text: str
    content_type: str
    created_at: datetime
    is_private_note: bool
    # queued | sent | delivered | read | failed for replies; None for customers' messages and
    # notes.
    delivery_status: str | None
    error: str | None  # why sending failed, or what is wrong with an inbound message
    language: str | None
    ai_confidence: float | None
    sources: list[SourceChunkView] = field(default_factory=list)
    attachments: list[AttachmentView] = field(default_factory=list)
    # The customer's reaction to this message (an emoji; "" when none), on every channel.
    reaction: str = ""


@dataclass(frozen=True)
class ChannelIdentityView:
    """How one channel knows the contact."""

    channel_kind: str
    channel_name: str
    external_user_id: str


@dataclass(frozen=True)
class LeadSummary:
    """The contact's newest lead."""

    id: int
    stage: str
    interest: str | None
    value_cents: int | None
    currency: str | None


@dataclass(frozen=True)
class PastConversation:
    """Another conversation of the same contact."""

    id: int
    status: str
    channel_kind: str | None
    last_activity_at: datetime
    last_message_preview: str


@dataclass(frozen=True)
class ContactMatch:
    """Another contact of the business an agent may merge with the one they are looking at."""

    id: int
    name: str  # display name (same fallback as InboxRow.contact_name)
    email: str | None
    phone: str | None
    channel_kinds: list[str]  # the channels they wrote on, e.g. ["telegram", "whatsapp"]
    conversations: int
    # Why BizBot suggests it: "phone" | "email" (the same on both), None for a search result.
    reason: str | None = None


@dataclass(frozen=True)
class MergeResult:
    """What merging moved onto the surviving contact."""

    contact_id: int  # the surviving contact
    removed_contact_id: int
    removed_name: str
    identities: int
    conversations: int
    leads: int
    orders: int


@dataclass(frozen=True)
class OrderSummary:
    """One of the contact's orders, newest first on the card."""

    id: int
    number: int
    status: str
    total_cents: int
    currency: str
    created_at: datetime


@dataclass(frozen=True)
class ContactCard:
    """Who the customer is, across channels, with their lead and history."""

    id: int
    name: str  # display name (same fallback as InboxRow.contact_name)
    email: str | None
    phone: str | None
    language: str | None
    identities: list[ChannelIdentityView]
    lead: LeadSummary | None
    past_conversations: list[PastConversation]
    opted_out: bool  # wrote STOP (or an agent opted them out): no broadcasts reach them
    # Other contacts with the same phone number or email: likely the same person elsewhere.
    duplicates: list[ContactMatch] = field(default_factory=list)
    orders: list[OrderSummary] = field(default_factory=list)  # newest first, at most five


@dataclass(frozen=True)
class ThreadView:
    """An open conversation: its header, the contact card and the messages, oldest first."""

    conversation: InboxRow
    contact: ContactCard
    messages: list[MessageView]
    # Older messages exist: ask again with before_id=messages[0].id.
    has_older: bool
    can_reply: bool  # the actor's role may reply, note, label, assign
    # Whether free text can reach the customer now (WhatsApp's and Meta's 24-hour windows),
    # with the sentence the composer shows when it cannot or closes within the hour.
    window: ReplyWindow = field(default_factory=lambda: ReplyWindow(open=True))


@dataclass(frozen=True)
class CannedResponseView:
    """A saved reply, inserted by typing /shortcut in the composer."""

    id: int
    shortcut: str  # without the slash
    title: str | None
    content: str
    updated_at: datetime


@dataclass(frozen=True)
class TranslationView:
    """A translation, or why there is none (then `text` is the original)."""

    ok: bool
    text: str
    original: str
    target_language: str | None
    message: str | None = None  # e.g. "Translation needs a language model: …"


@dataclass(frozen=True)
class BoardView:
    """The handoff board: conversations waiting, assigned and breaching, and the agents."""

    waiting: list[InboxRow]  # waiting for an agent, nobody assigned; longest waiting first
    assigned: list[InboxRow]  # with an agent (waiting or human); nearest deadline first
    breaching: list[InboxRow]  # SLA about to breach or breached; most overdue first
    agents: list[AgentView]
