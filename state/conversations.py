"""The Conversations page: the live list, an open thread, the composer and the team's actions."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import reflex as rx

from backend.auth import service as auth
from backend.auth.permissions import Actor, Permission, PermissionDenied
from backend.channels.media import max_bytes as media_limit_bytes
from backend.core.db import session_scope
from backend.handoff import service as handoff
from backend.handoff.schemas import AgentView, HandoffError
from backend.inbox import service as inbox
from backend.inbox.schemas import (
    AttachmentView,
    CannedResponseView,
    ContactCard,
    ContactMatch,
    InboxCounts,
    InboxError,
    InboxPage,
    InboxRow,
    MessageView,
    NotFound,
    ThreadView,
)
from backend.payments.base import format_amount
from backend.templates import service as templates
from backend.templates.schemas import TemplateError
from state.base import BaseState
from state.live import LiveBatch, SharedReads, live_consumer
from state.notifications import relative_time, utc_label

PAGE_SIZE = 50
# Rows re-read at once when a live update or a resync needs the whole visible list.
MAX_RELOAD = 100
TRANSLATE_AT_ONCE = 20
ROUTE = "/conversations"
ATTACH_ID = "composer-attach"

STATUS_TABS: list[tuple[str, str]] = [
    ("open", "Open"),
    ("waiting_for_agent", "Waiting"),
    ("human", "With agent"),
    ("ai", "AI"),
    ("resolved", "Resolved"),
    ("all", "All"),
]
STATUS_LABELS = {
    "ai": "AI",
    "waiting_for_agent": "Waiting",
    "human": "With agent",
    "resolved": "Resolved",
}
CHANNEL_LABELS = {
    "whatsapp": "WhatsApp",
    "telegram": "Telegram",
    "instagram": "Instagram",
    "messenger": "Messenger",
    "widget": "Website chat",
}
CHANNEL_ICONS = {
    "whatsapp": "message-circle",
    "telegram": "send",
    "instagram": "camera",
    "messenger": "messages-square",
    "widget": "globe",
}
PRIORITIES = ["low", "normal", "high", "urgent"]
METRIC_LABELS = {
    "first_response": "First reply",
    "next_response": "Next reply",
    "resolution": "Resolution",
}
DELIVERY_LABELS = {
    "queued": "Queued",
    "sent": "Sent",
    "delivered": "Delivered",
    "read": "Read",
    "failed": "Failed",
}
HANDOFF_REASONS = {
    "customer_request": "Customer asked for a person",
    "low_confidence": "The AI was not sure",
    "agent_takeover": "Taken over by an agent",
    "reopened": "Reopened",
}
VIEWER_REASON = (
    "Your role (viewer) can read conversations but not reply or change them; ask an owner "
    "for the agent role."
)
_SLASH = re.compile(r"^\s*/[A-Za-z0-9_\-]{0,32}$")
T = TypeVar("T")


# --- what the page shows ------------------------------------------------------------------------


@dataclass(frozen=True)
class ConversationItem:
    """A conversation as the list, the board and the thread header show it."""

    id: int = 0
    contact_name: str = ""
    initial: str = ""
    channel_kind: str = ""
    channel_label: str = ""
    channel_icon: str = "message-square"
    status: str = ""
    status_label: str = ""
    assignee_id: int = 0
    assignee_name: str = ""
    labels: list[str] = field(default_factory=list)
    unread: int = 0
    priority: str = "normal"
    preview: str = ""
    preview_prefix: str = ""  # "AI: ", "Agent: ", ""
    activity_ts: float = 0.0
    when: str = ""
    when_full: str = ""
    handoff_reason: str = ""
    waiting_ts: float = 0.0
    waiting_label: str = ""
    sla_state: str = "none"  # none | ok | warning | breached
    sla_metric: str = ""
    sla_due_ts: float = 0.0
    sla_seconds_left: int = 0
    sla_paused: bool = False
    sla_label: str = ""


@dataclass(frozen=True)
class SourceItem:
    """A knowledge passage an AI reply used."""

    title: str
    question: str
    excerpt: str
    available: bool


@dataclass(frozen=True)
class AttachmentItem:
    """A file, place or contact on a message, ready to show."""

    kind: str  # image | audio | video | document | location | contact
    status: str  # stored | link | pending | failed | none
    url: str = ""
    filename: str = ""
    size_label: str = ""  # "2.0 MB"
    error: str = ""
    title: str = ""
    detail: str = ""
    map_url: str = ""


@dataclass(frozen=True)
class MessageItem:
    """One message of the open thread."""

    id: int
    kind: str  # customer | ai | agent | system | note
    sender_name: str
    text: str
    content_type: str
    time: str  # 14:05, or 12 Mar 14:05
    time_full: str
    delivery_status: str  # "" for customers' messages and notes
    delivery_label: str
    error: str
    confidence_pct: int  # -1 when not an AI reply
    sources: list[SourceItem]
    language: str
    translation: str = ""
    attachments: list[AttachmentItem] = field(default_factory=list)
    reaction: str = ""  # the customer's emoji on this message


@dataclass(frozen=True)
class IdentityItem:
    """How one channel knows the contact."""

    channel_label: str
    channel_name: str
    external_user_id: str


@dataclass(frozen=True)
class OrderLine:
    """One of the contact's orders on the card."""

    id: int
    number: int
    status_label: str
    total: str
    when: str


@dataclass(frozen=True)
class PastItem:
    """Another conversation of the same contact."""

    id: int
    status_label: str
    channel_label: str
    when: str
    preview: str


@dataclass(frozen=True)
class MatchItem:
    """Another contact that may be the same person, for the merge dialog and suggestions."""

    id: int = 0
    name: str = ""
    detail: str = ""  # "+254712345678 · wanjiru@example.com"
    channels: str = ""  # "Telegram, WhatsApp · 2 conversations"
    reason: str = ""  # "Same phone number" | "Same email" | ""


@dataclass(frozen=True)
class ContactInfo:
    """The contact card beside the thread."""

    id: int = 0
    name: str = ""
    initial: str = ""
    email: str = ""
    phone: str = ""
    language: str = ""
    identities: list[IdentityItem] = field(default_factory=list)
    lead_stage: str = ""
    lead_detail: str = ""
    past: list[PastItem] = field(default_factory=list)
    duplicates: list[MatchItem] = field(default_factory=list)
    orders: list[OrderLine] = field(default_factory=list)
    opted_out: bool = False  # receives no broadcasts (STOP); follows contact events live


@dataclass(frozen=True)
class AgentOption:
    """A member who can be assigned."""

    user_id: int
    name: str
    availability: str
    load: str  # "3 / 10 open"


@dataclass(frozen=True)
class CannedItem:
    """A canned response, for the suggestions and the management dialog."""

    id: int
    shortcut: str
    title: str
    content: str
    preview: str


def _ts(when: datetime | None) -> float:
    if when is None:
        return 0.0
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _duration(seconds: int) -> str:
    seconds = abs(int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        hours, minutes = divmod(seconds // 60, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def sla_label(state: str, metric: str, seconds_left: int, paused: bool) -> str:
    """`First reply · 12 min left`, `Resolution · overdue 5 min`, `… · paused`, or ""."""
    if state == "none":
        return ""
    what = METRIC_LABELS.get(metric, "SLA")
    if paused:
        return f"{what} · paused (closed hours)"
    if seconds_left < 0:
        return f"{what} · overdue {_duration(seconds_left)}"
    return f"{what} · {_duration(seconds_left)} left"


def channel_label(kind: str | None, name: str | None = None) -> str:
    """The channel as people call it; "Disconnected channel" once it is gone."""
    if not kind:
        return "Disconnected channel"
    return CHANNEL_LABELS.get(kind, kind.capitalize())


def conversation_item(row: InboxRow, now: datetime | None = None) -> ConversationItem:
    """An inbox row formatted for display."""
    now = now or datetime.now(UTC)
    prefix = {"ai": "AI: ", "agent": "Agent: ", "system": ""}.get(row.last_message_sender or "", "")
    waiting = _ts(row.waiting_since)
    seconds_left = int(row.sla_seconds_left or 0)
    return ConversationItem(
        id=row.id,
        contact_name=row.contact_name,
        initial=(row.contact_name[:1] or "?").upper(),
        channel_kind=row.channel_kind or "",
        channel_label=channel_label(row.channel_kind, row.channel_name),
        channel_icon=CHANNEL_ICONS.get(row.channel_kind or "", "message-square"),
        status=row.status,
        status_label=STATUS_LABELS.get(row.status, row.status),
        assignee_id=row.assignee_user_id or 0,
        assignee_name=row.assignee_name or "",
        labels=list(row.labels),
        unread=row.unread_count,
        priority=row.priority,
        preview=row.last_message_preview,
        preview_prefix=prefix,
        activity_ts=_ts(row.last_activity_at),
        when=relative_time(row.last_activity_at, now),
        when_full=utc_label(row.last_activity_at),
        handoff_reason=HANDOFF_REASONS.get(row.handoff_reason or "", row.handoff_reason or ""),
        waiting_ts=waiting,
        waiting_label=f"waiting {_duration(int(now.timestamp() - waiting))}" if waiting else "",
        sla_state=row.sla_state,
        sla_metric=row.sla_metric or "",
        sla_due_ts=_ts(row.sla_due_at),
        sla_seconds_left=seconds_left,
        sla_paused=row.sla_paused,
        sla_label=sla_label(row.sla_state, row.sla_metric or "", seconds_left, row.sla_paused),
    )


def retime(item: ConversationItem, now: datetime) -> ConversationItem:
    """The same row with its relative times and SLA time left as of `now` (no database)."""
    seconds_left = item.sla_seconds_left
    if item.sla_due_ts and not item.sla_paused:
        seconds_left = int(item.sla_due_ts - now.timestamp())
    waiting = (
        f"waiting {_duration(int(now.timestamp() - item.waiting_ts))}" if item.waiting_ts else ""
    )
    return dataclasses.replace(
        item,
        when=relative_time(item.activity_ts, now) if item.activity_ts else "",
        waiting_label=waiting,
        sla_seconds_left=seconds_left,
        sla_label=sla_label(item.sla_state, item.sla_metric, seconds_left, item.sla_paused),
    )


def _message_time(when: datetime, now: datetime) -> str:
    local = when if when.tzinfo else when.replace(tzinfo=UTC)
    if local.date() == now.date():
        return f"{local:%H:%M}"
    return f"{local.day} {local:%b} {local:%H:%M}"


_UNNAMED = {"image": "Image", "audio": "Voice message", "video": "Video"}


def size_label(size: int | None) -> str:
    """A file's size for people: 812 bytes, 14 KB, 2.3 MB."""
    if size is None:
        return ""
    if size < 1000:
        return f"{size} bytes"
    if size < 1_000_000:
        return f"{size / 1000:.0f} KB"
    return f"{size / 1_000_000:.1f} MB"


def attachment_item(view: AttachmentView) -> AttachmentItem:
    """An attachment formatted for display."""
    return AttachmentItem(
        kind=view.kind,
        status=view.status,
        url=view.url or "",
        filename=view.filename or _UNNAMED.get(view.kind, "File"),
        size_label=size_label(view.size),
        error=view.error or "",
        title=view.title or "",
        detail=view.detail or "",
        map_url=view.map_url or "",
    )


def message_item(view: MessageView, now: datetime | None = None) -> MessageItem:
    """A thread message formatted for display."""
    now = now or datetime.now(UTC)
    kind = "note" if view.is_private_note else view.sender_type
    status = view.delivery_status or ""
    return MessageItem(
        id=view.id,
        kind=kind,
        sender_name=view.sender_name,
        text=view.text,
        content_type=view.content_type,
        time=_message_time(view.created_at, now),
        time_full=utc_label(view.created_at),
        delivery_status=status,
        delivery_label=DELIVERY_LABELS.get(status, status.capitalize()),
        error=view.error or "",
        confidence_pct=round(view.ai_confidence * 100) if view.ai_confidence is not None else -1,
        sources=[
            SourceItem(s.title, s.question or "", s.excerpt, s.available) for s in view.sources
        ],
        language=(view.language or "").upper(),
        attachments=[attachment_item(a) for a in view.attachments],
        reaction=view.reaction,
    )


_REASONS = {"phone": "Same phone number", "email": "Same email"}


def match_item(view: ContactMatch) -> MatchItem:
    """A possible duplicate, formatted for display."""
    count = view.conversations
    channels = ", ".join(channel_label(k) for k in view.channel_kinds)
    conversations = f"{count} conversation{'s' * (count != 1)}"
    return MatchItem(
        id=view.id,
        name=view.name,
        detail=" · ".join(p for p in (view.phone, view.email) if p),
        channels=f"{channels} · {conversations}" if channels else conversations,
        reason=_REASONS.get(view.reason or "", ""),
    )


def contact_info(card: ContactCard, now: datetime | None = None) -> ContactInfo:
    """The contact card formatted for display."""
    now = now or datetime.now(UTC)
    lead = card.lead
    detail = ""
    if lead is not None:
        parts = [lead.interest or ""]
        if lead.value_cents is not None:
            parts.append(f"{lead.value_cents / 100:,.2f} {lead.currency or ''}".strip())
        detail = " · ".join(p for p in parts if p)
    return ContactInfo(
        id=card.id,
        name=card.name,
        initial=(card.name[:1] or "?").upper(),
        email=card.email or "",
        phone=card.phone or "",
        language=(card.language or "").upper(),
        identities=[
            IdentityItem(channel_label(i.channel_kind), i.channel_name, i.external_user_id)
            for i in card.identities
        ],
        lead_stage=lead.stage.replace("_", " ").capitalize() if lead else "",
        lead_detail=detail,
        past=[
            PastItem(
                p.id,
                STATUS_LABELS.get(p.status, p.status),
                channel_label(p.channel_kind),
                relative_time(p.last_activity_at, now),
                p.last_message_preview,
            )
            for p in card.past_conversations
        ],
        duplicates=[match_item(d) for d in card.duplicates],
        opted_out=card.opted_out,
        orders=[
            OrderLine(
                o.id,
                o.number,
                o.status.replace("_", " ").capitalize(),
                format_amount(o.total_cents, o.currency),
                relative_time(o.created_at, now),
            )
            for o in card.orders
        ],
    )


def agent_option(view: AgentView) -> AgentOption:
    """A member in the assign menu."""
    return AgentOption(
        user_id=view.user_id,
        name=view.name,
        availability=view.availability,
        load=f"{view.open_conversations} / {view.capacity} open",
    )


def canned_item(view: CannedResponseView) -> CannedItem:
    """A canned response for the suggestions and the dialog."""
    flat = " ".join(view.content.split())
    return CannedItem(
        id=view.id,
        shortcut=view.shortcut,
        title=view.title or "",
        content=view.content,
        preview=flat if len(flat) <= 90 else flat[:89] + "…",
    )


# --- the filters and reading them -------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the list is narrowed to."""

    tab: str = "open"
    channel: str = "all"
    assignee: str = "anyone"  # anyone | me | unassigned
    label: str = "all"
    unread: bool = False
    search: str = ""

    def service_args(self) -> dict[str, Any]:
        """Keyword arguments of inbox.list_conversations."""
        return {
            "status": None if self.tab == "all" else self.tab,
            "channel": None if self.channel == "all" else self.channel,
            "assignee": None if self.assignee == "anyone" else self.assignee,
            "label": None if self.label == "all" else self.label,
            "unread": self.unread,
            "search": self.search.strip(),
        }

    def matches(self, row: InboxRow, user_id: int) -> bool:
        """Whether the row belongs in the list (all but the search, which only SQL knows)."""
        if self.tab == "open" and row.status == "resolved":
            return False
        if self.tab not in ("open", "all") and row.status != self.tab:
            return False
        if self.channel != "all" and row.channel_kind != self.channel:
            return False
        if self.assignee == "me" and row.assignee_user_id != user_id:
            return False
        if self.assignee == "unassigned" and row.assignee_user_id is not None:
            return False
        if self.label != "all" and self.label not in row.labels:
            return False
        return not (self.unread and row.unread_count <= 0)


def _read_list(actor: Actor, filters: Filters, limit: int) -> tuple[InboxPage, InboxCounts]:
    with session_scope() as session:
        page = inbox.list_conversations(
            session, actor=actor, limit=max(1, min(limit, MAX_RELOAD)), **filters.service_args()
        )
        return page, inbox.counts(session, actor=actor)


def _read_more(actor: Actor, filters: Filters, cursor: str) -> InboxPage:
    with session_scope() as session:
        return inbox.list_conversations(
            session, actor=actor, cursor=cursor, limit=PAGE_SIZE, **filters.service_args()
        )


def _read_choices(actor: Actor) -> tuple[list[str], list[AgentView]]:
    with session_scope() as session:
        return inbox.list_labels(session, actor=actor), handoff.list_agents(session, actor=actor)


def _read_thread(actor: Actor, conversation_id: int, *, mark: bool) -> ThreadView:
    with session_scope() as session:
        if mark and actor.can(Permission.CONVERSATIONS_REPLY):
            inbox.mark_read(session, actor=actor, conversation_id=conversation_id)
        return inbox.get_thread(session, actor=actor, conversation_id=conversation_id)


@dataclass(frozen=True)
class LiveRequest:
    """What one live batch makes the page re-read (plain data, taken under the state lock)."""

    list_version: int
    thread_version: int
    filters: Filters
    reload_list: bool  # re-read the whole visible list (resync, or a search is on)
    row_ids: list[int]
    count: int
    counts: bool
    choices: bool
    thread_id: int
    mark_read: bool


@dataclass
class LiveResult:
    """What the worker thread read for a LiveRequest."""

    page: InboxPage | None = None
    rows: list[tuple[InboxRow, bool]] = field(default_factory=list)
    counts: InboxCounts | None = None
    labels: list[str] | None = None
    agents: list[AgentView] | None = None
    thread: ThreadView | None = None
    thread_missing: bool = False


def _read_live(actor: Actor, request: LiveRequest, shared: SharedReads) -> LiveResult:
    """What a live batch makes the page re-read; what every tab reads alike is read once."""
    result = LiveResult()
    filters = request.filters

    def read(work):
        with session_scope() as session:
            return work(session)

    if request.reload_list:
        result.page = shared.get(
            ("inbox.list", actor.user_id, filters, request.count),
            lambda: read(lambda s: inbox.list_conversations(
                s, actor=actor, limit=request.count, **filters.service_args()
            )),
        )  # fmt: skip
    elif request.row_ids:
        # A row is the same for every member of the business: read once for all tabs.
        rows = shared.get(
            ("inbox.rows", tuple(request.row_ids)),
            lambda: read(lambda s: inbox.get_rows(
                s, actor=actor, conversation_ids=request.row_ids
            )),
        )  # fmt: skip
        result.rows = [(r, filters.matches(r, actor.user_id)) for r in rows]
    if request.counts:
        result.counts = shared.get(
            ("inbox.counts", actor.user_id), lambda: read(lambda s: inbox.counts(s, actor=actor))
        )
    if request.choices:
        result.labels = shared.get(
            ("inbox.labels",), lambda: read(lambda s: inbox.list_labels(s, actor=actor))
        )
        result.agents = shared.get(
            ("handoff.agents",), lambda: read(lambda s: handoff.list_agents(s, actor=actor))
        )
    if request.thread_id:
        can_reply = actor.can(Permission.CONVERSATIONS_REPLY)
        try:
            if request.mark_read and can_reply:
                read(lambda s: inbox.mark_read(s, actor=actor, conversation_id=request.thread_id))
            result.thread = shared.get(
                ("inbox.thread", request.thread_id, can_reply),
                lambda: _read_thread(actor, request.thread_id, mark=False),
            )
        except NotFound:
            result.thread_missing = True
    return result


def _error_text(exc: Exception) -> str:
    return getattr(exc, "message", None) or str(exc)


def _actor_for(token: str | None) -> Actor | None:
    with session_scope() as session:
        info = auth.resolve_session(session, token=token)
    return info.actor if info else None


def _as_actor(token: str | None, work: Callable[[Actor], T]) -> T | None:
    """Run `work` (in a worker thread) for the member signed in with `token`; None if none."""
    actor = _actor_for(token)
    return None if actor is None else work(actor)


@live_consumer(
    read=_read_live,
    routes=("/conversations",),
    events=("conversation.", "message.", "handoff.", "sla.", "member.", "contact."),
)
class ConversationsState(BaseState):
    """The list with its filters, the open thread, the composer and the canned responses."""

    loaded: bool = False
    rows: list[ConversationItem] = []
    next_cursor: str = ""
    counts: dict[str, int] = {}
    list_error: str = ""

    tab: str = "open"
    channel: str = "all"
    assignee: str = "anyone"
    label: str = "all"
    unread_only: bool = False
    search: str = ""
    labels_in_use: list[str] = []
    agents: list[AgentOption] = []

    my_user_id: int = 0
    open_id: int = 0
    header: ConversationItem = ConversationItem()
    contact: ContactInfo = ContactInfo()
    messages: list[MessageItem] = []
    has_older: bool = False
    can_reply: bool = False
    thread_error: str = ""

    draft: str = ""
    # Bumped to re-mount the composer when the draft is replaced from here (sent, canned).
    composer_key: int = 0
    note_mode: bool = False
    composer_error: str = ""
    suggestions: list[CannedItem] = []
    new_label: str = ""

    # The channel's reply window (WhatsApp / Meta 24 hours): closed → free text cannot be sent.
    window_open: bool = True
    window_notice: str = ""
    # Closed WhatsApp window: the composer offers "Send a template" (state/templates.py).
    template_required: bool = False
    window_closes_ts: float = 0.0

    translate_on: bool = False
    translating: bool = False
    translation_notice: str = ""
    draft_notice: str = ""

    merge_open: bool = False
    merge_search: str = ""
    merge_results: list[MatchItem] = []
    merge_searched: bool = False
    merge_target: MatchItem = MatchItem()
    merge_error: str = ""

    canned_open: bool = False
    canned: list[CannedItem] = []
    canned_edit_id: int = 0
    canned_form: dict[str, str] = {}
    canned_errors: dict[str, str] = {}

    _list_version: int = 0
    _thread_version: int = 0
    _translations: dict[int, str] = {}

    # --- derived ------------------------------------------------------------------------------

    @rx.var
    def may_reply(self) -> bool:
        """Whether the member's role may reply and act (agents, admins, owners)."""
        return self.role in ("owner", "admin", "agent")

    @rx.var
    def viewer_reason(self) -> str:
        """Why the composer and the actions are not there for this role."""
        return VIEWER_REASON

    @rx.var
    def tab_badges(self) -> dict[str, int]:
        """The count shown on each status tab."""
        c = self.counts
        return {
            "open": c.get("ai", 0) + c.get("waiting_for_agent", 0) + c.get("human", 0),
            "waiting_for_agent": c.get("waiting_for_agent", 0),
            "human": c.get("human", 0),
            "ai": c.get("ai", 0),
            "resolved": c.get("resolved", 0),
            "all": sum(c.get(k, 0) for k in ("ai", "waiting_for_agent", "human", "resolved")),
        }

    @rx.var
    def filtered(self) -> bool:
        """Whether any filter beyond the status tab is on."""
        return bool(
            self.channel != "all"
            or self.assignee != "anyone"
            or self.label != "all"
            or self.unread_only
            or self.search.strip()
        )

    @rx.var
    def send_blocked(self) -> bool:
        """Free text cannot reach the customer now (a note still can be added)."""
        return not self.window_open and not self.note_mode

    @rx.var
    def untranslated(self) -> int:
        """Customer messages on screen still waiting for their translation."""
        if not self.translate_on:
            return 0
        return sum(
            1 for m in self.messages if m.kind == "customer" and m.text and not m.translation
        )

    @rx.var
    def status_actions(self) -> list[str]:
        """The header buttons the open conversation's status allows."""
        status, assignee = self.header.status, self.header.assignee_id
        if not self.open_id or not status:
            return []
        if status == "resolved":
            return ["reopen"]
        actions = []
        if not (status == "human" and assignee == self.my_user_id):
            actions.append("take_over")
        if status in ("waiting_for_agent", "human"):
            actions.append("hand_back")
        actions.append("resolve")
        return actions

    # --- helpers ------------------------------------------------------------------------------

    def _filters(self) -> Filters:
        return Filters(
            tab=self.tab, channel=self.channel, assignee=self.assignee, label=self.label,
            unread=self.unread_only, search=self.search,
        )  # fmt: skip

    def _on_page(self) -> bool:
        return self.section == "conversations" and self.router.url.path.rstrip("/") == ROUTE

    def _put(self, name: str, value: Any) -> None:
        """Set a var only when it changes, so live updates send only what changed."""
        if getattr(self, name) != value:
            setattr(self, name, value)

    def _show_counts(self, counts: InboxCounts) -> None:
        self._put("counts", dataclasses.asdict(counts))

    def _show_page(self, page: InboxPage, *, append: bool = False) -> None:
        now = datetime.now(UTC)
        fresh = [conversation_item(r, now) for r in page.rows]
        if append:
            known = {r.id for r in fresh}
            fresh = [r for r in self.rows if r.id not in known] + fresh
        self.rows = fresh
        self.next_cursor = page.next_cursor or ""
        self.loaded = True

    def _show_choices(self, labels: list[str] | None, agents: list[AgentView] | None) -> None:
        if labels is not None:
            self._put("labels_in_use", labels)
        if agents is not None:
            self._put("agents", [agent_option(a) for a in agents])

    def _reload_list(self, actor: Actor) -> None:
        self._list_version += 1
        self.list_error = ""
        try:
            page, counts = _read_list(actor, self._filters(), PAGE_SIZE)
        except InboxError as exc:
            self.list_error = exc.message
            self.rows, self.next_cursor, self.loaded = [], "", True
            return
        self._show_page(page)
        self._show_counts(counts)

    def _merge_rows(self, found: list[tuple[InboxRow, bool]], asked: list[int]) -> None:
        now = datetime.now(UTC)
        current = {r.id: r for r in self.rows}
        oldest = min((r.activity_ts for r in self.rows), default=0.0)
        returned = {row.id for row, _ in found}
        for missing in set(asked) - returned:
            current.pop(missing, None)
        for row, belongs in found:
            item = conversation_item(row, now)
            if not belongs:
                current.pop(row.id, None)
            elif row.id in current or not self.next_cursor or item.activity_ts >= oldest:
                # A row older than the last loaded one arrives with "Load more" instead.
                current[row.id] = item
        self._put(
            "rows", sorted(current.values(), key=lambda r: (r.activity_ts, r.id), reverse=True)
        )

    def _show_thread(self, view: ThreadView, *, keep_older: bool = True) -> None:
        now = datetime.now(UTC)
        fresh = [message_item(m, now) for m in view.messages]
        if keep_older and view.conversation.id == self.open_id and fresh:
            first = fresh[0].id
            older = [m for m in self.messages if m.id < first]
            fresh = older + fresh
            self.has_older = view.has_older if not older else self.has_older
        else:
            self.has_older = view.has_older
        self._put("messages", self._with_translations(fresh))
        self._put("header", conversation_item(view.conversation, now))
        self._put("contact", contact_info(view.contact, now))
        self._put("can_reply", view.can_reply)
        self._put("window_open", view.window.open)
        self._put("window_notice", view.window.notice or "")
        self._put("template_required", view.window.template_required)
        self._put("window_closes_ts", _ts(view.window.closes_at))
        self._put("thread_error", "")
        # The list shows the same conversation: keep its row in step.
        self._put("rows", [self.header if r.id == self.header.id else r for r in self.rows])

    def _with_translations(self, messages: list[MessageItem]) -> list[MessageItem]:
        if not self._translations:
            return messages
        return [
            dataclasses.replace(m, translation=self._translations.get(m.id, m.translation))
            for m in messages
        ]

    def _close_thread(self) -> None:
        self._thread_version += 1
        self.open_id = 0
        self.thread_error = ""
        self.header, self.contact = ConversationItem(), ContactInfo()
        self.messages, self.has_older, self.can_reply = [], False, False
        self.window_open, self.window_notice, self.window_closes_ts = True, "", 0.0
        self.template_required = False
        self.draft, self.suggestions, self.composer_error, self.draft_notice = "", [], "", ""
        self._translations, self.translation_notice = {}, ""
        self.merge_open, self.merge_target, self.merge_error = False, MatchItem(), ""

    def _open(self, actor: Actor, conversation_id: int) -> rx.event.EventSpec | None:
        changed = conversation_id != self.open_id
        if changed:
            self._close_thread()
        self._thread_version += 1
        self.open_id = conversation_id
        try:
            view = _read_thread(actor, conversation_id, mark=True)
        except NotFound:
            self._close_thread()
            self.thread_error = (
                f"Conversation #{conversation_id} was not found in {self.business_name}."
            )
            return None
        self._show_thread(view, keep_older=not changed)
        return None

    def _refresh_open(self, actor: Actor) -> None:
        """Re-read the open thread (after an action), its row and the tab counts."""
        if not self.open_id:
            return
        self._thread_version += 1
        try:
            view = _read_thread(actor, self.open_id, mark=False)
        except NotFound:
            self._close_thread()
            return
        self._show_thread(view)
        with session_scope() as session:
            self._show_counts(inbox.counts(session, actor=actor))

    def _url_script(self) -> rx.event.EventSpec:
        target = f"{ROUTE}?c={self.open_id}" if self.open_id else ROUTE
        return rx.call_script(
            f"window.history.replaceState(window.history.state, '', {json.dumps(target)})"
        )

    def _actor(self) -> Actor | None:
        return self.current_actor()

    # --- live ---------------------------------------------------------------------------------

    def _window_closing(self, now: datetime) -> bool:
        """The open thread's reply window closes within the hour (or just did)."""
        closes = self.window_closes_ts
        return bool(
            self.open_id and self.window_open and closes and now.timestamp() >= closes - 3600
        )

    def _live_request(self, batch: LiveBatch, actor: Actor) -> LiveRequest | None:
        if not (self.loaded and self._on_page()):
            return None
        if batch.tick:
            now = datetime.now(UTC)
            self._put("rows", [retime(r, now) for r in self.rows])
            if self.open_id and self.header.id:
                self._put("header", retime(self.header, now))
            if self._window_closing(now):
                # Re-read the thread so the composer's time left (and its closing) stays true.
                return LiveRequest(
                    list_version=self._list_version, thread_version=self._thread_version,
                    filters=self._filters(), reload_list=False, row_ids=[], count=0,
                    counts=False, choices=False, thread_id=self.open_id, mark_read=False,
                )  # fmt: skip
            return None
        ids = batch.conversation_ids()
        thread_id = self.open_id if self.open_id and (batch.resync or self.open_id in ids) else 0
        mark = any(
            e.get("event") == "message.created"
            and e.get("conversation_id") == self.open_id
            and e.get("sender_type") == "customer"
            for e in batch.events
        )
        if batch.has("contact.") and self.open_id:
            thread_id = self.open_id  # a merge changes names, cards and past conversations
        filters = self._filters()
        reload_list = (
            batch.resync or (bool(ids) and bool(filters.search.strip())) or batch.has("contact.")
        )
        touches_list = batch.has("conversation.", "message.", "handoff.", "sla.")
        if not (reload_list or ids or thread_id or batch.has("member.")):
            return None
        return LiveRequest(
            list_version=self._list_version,
            thread_version=self._thread_version,
            filters=filters,
            reload_list=reload_list,
            row_ids=sorted(ids)[:MAX_RELOAD],
            count=max(PAGE_SIZE, min(len(self.rows), MAX_RELOAD)),
            counts=batch.resync or touches_list,
            choices=batch.resync
            or batch.has("member.", "conversation.assigned")
            or any("labels" in e for e in batch.events),
            thread_id=thread_id,
            mark_read=mark,
        )

    def _live_apply(self, request: LiveRequest, result: LiveResult):
        if not self._on_page():
            return
        if request.list_version == self._list_version:
            if result.page is not None:
                self._show_page(result.page)
            elif request.row_ids:
                self._merge_rows(result.rows, request.row_ids)
        if result.counts is not None:
            self._show_counts(result.counts)
        self._show_choices(result.labels, result.agents)
        current = request.thread_version == self._thread_version
        if request.thread_id and current and request.thread_id == self.open_id:
            if result.thread is not None:
                self._show_thread(result.thread)
                return self._translate_next()
            if result.thread_missing:
                self._close_thread()
                self.thread_error = "This conversation is no longer available."
        return None

    def _translate_next(self):
        """The translation job to run when customer messages on screen lack theirs."""
        if self.translate_on and not self.translating and self.untranslated:
            return ConversationsState.translate_pending
        return None

    # --- loading and the list -----------------------------------------------------------------

    @rx.event
    def load(self):
        """Guard the page, read the list, and open `?c=<id>` when given."""
        actor = self._enter("conversations")
        if actor is None:
            return None if self.signed_in else self._login_redirect()
        self.my_user_id = actor.user_id
        self.canned_open = False
        self._reload_list(actor)
        labels, agents = _read_choices(actor)
        self._show_choices(labels, agents)
        wanted = self.router.url.query_parameters.get("c", "")
        if wanted.isdigit() and int(wanted) > 0:
            self._open(actor, int(wanted))
            return self._translate_next()
        self._close_thread()
        return None

    def _refilter(self):
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        self._reload_list(actor)
        return None

    @rx.event
    def set_tab(self, tab: str):
        """Show one status tab."""
        self.tab = tab if tab in dict(STATUS_TABS) else "open"
        return self._refilter()

    @rx.event
    def set_channel(self, channel: str):
        """Only one channel (or all)."""
        self.channel = channel if channel in CHANNEL_LABELS else "all"
        return self._refilter()

    @rx.event
    def set_assignee(self, assignee: str):
        """Anyone's, mine, or unassigned."""
        self.assignee = assignee if assignee in ("me", "unassigned") else "anyone"
        return self._refilter()

    @rx.event
    def set_label_filter(self, label: str):
        """Only conversations with this label (or all)."""
        self.label = label or "all"
        return self._refilter()

    @rx.event
    def set_unread_only(self, value: bool):
        """Only conversations with unread customer messages."""
        self.unread_only = bool(value)
        return self._refilter()

    @rx.event
    def set_search(self, value: str):
        """Search messages and contacts (the input is debounced)."""
        self.search = value
        return self._refilter()

    @rx.event
    def clear_filters(self):
        """Back to every conversation of the tab."""
        self.channel, self.assignee, self.label = "all", "anyone", "all"
        self.unread_only, self.search = False, ""
        return self._refilter()

    @rx.event
    def load_more(self):
        """Append the next page of the list."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        if not self.next_cursor:
            return None
        try:
            page = _read_more(actor, self._filters(), self.next_cursor)
        except InboxError as exc:
            return rx.toast.error(exc.message)
        self._show_page(page, append=True)
        return None

    # --- the thread ---------------------------------------------------------------------------

    @rx.event
    def open_conversation(self, conversation_id: int):
        """Open a conversation beside the list and mark it read."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        self._open(actor, int(conversation_id))
        return [e for e in (self._url_script(), self._translate_next()) if e is not None]

    @rx.event
    def close_conversation(self):
        """Close the thread pane."""
        self._close_thread()
        return self._url_script()

    @rx.event
    def load_older(self):
        """Prepend older messages of the open thread."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        if not (self.open_id and self.messages):
            return None
        try:
            with session_scope() as session:
                view = inbox.get_thread(
                    session, actor=actor, conversation_id=self.open_id,
                    before_id=self.messages[0].id,
                )  # fmt: skip
        except (NotFound, InboxError) as exc:
            return rx.toast.error(_error_text(exc))
        now = datetime.now(UTC)
        known = {m.id for m in self.messages}
        older = [message_item(m, now) for m in view.messages if m.id not in known]
        self.messages = self._with_translations(older) + self.messages
        self.has_older = view.has_older
        return None

    # --- the composer -------------------------------------------------------------------------

    @rx.event
    def set_draft(self, value: str):
        """Keep the draft; while it is `/shortcut`, suggest canned responses."""
        self.draft = value
        self.composer_error = ""
        if not _SLASH.match(value or "") or not self.may_reply:
            self.suggestions = []
            return None
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        with session_scope() as session:
            found = inbox.suggest_canned(session, actor=actor, text=value)
        self.suggestions = [canned_item(c) for c in found]
        return None

    @rx.event
    def pick_canned(self, canned_id: int):
        """Put a canned response's text in the composer."""
        chosen = next((c for c in self.suggestions if c.id == canned_id), None)
        if chosen is not None:
            self.draft = chosen.content
            self.composer_key += 1
        self.suggestions = []
        return rx.set_focus("composer-text")

    @rx.event
    def set_compose_mode(self, mode: str | list[str]):
        """Write a reply to the customer, or a private note (never sent)."""
        self.note_mode = mode == "note" or mode == ["note"]
        self.composer_error = ""

    @rx.event
    def send(self, form: dict[str, Any]):
        """Send the reply to the customer, or save the private note."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        text = str(form.get("text", self.draft) or "").strip()
        self.composer_error = ""
        if not self.open_id:
            return None
        try:
            with session_scope() as session:
                if self.note_mode:
                    inbox.add_note(session, actor=actor, conversation_id=self.open_id, text=text)
                else:
                    inbox.reply(session, actor=actor, conversation_id=self.open_id, text=text)
        except InboxError as exc:
            self.draft = text
            self.composer_error = exc.message
            return None
        except (PermissionDenied, NotFound) as exc:
            self.draft = text
            self.composer_error = _error_text(exc)
            return None
        self.draft, self.suggestions, self.draft_notice = "", [], ""
        self.composer_key += 1
        self._refresh_open(actor)
        return rx.set_focus("composer-text")

    @rx.event
    async def attach_files(self, files: list[rx.UploadFile]):
        """Send the chosen file to the customer; a refused file names the problem and fix."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        self.composer_error = ""
        if not self.open_id or not files:
            return None
        upload = files[0]
        name = upload.name or "file"
        limit = media_limit_bytes()
        if upload.size is not None and upload.size > limit:
            # Refused before reading it all into memory; the service says the same.
            self.composer_error = (
                f"“{name}” is {upload.size / 1_000_000:.1f} MB, over the {limit / 1_000_000:g} "
                "MB limit for attachments; send a smaller file or a link to it."
            )
            return None
        content = await upload.read()
        try:
            with session_scope() as session:
                inbox.send_file(
                    session, actor=actor, conversation_id=self.open_id, filename=name,
                    content=content, mime_type=upload.content_type,
                )  # fmt: skip
        except InboxError as exc:
            self.composer_error = exc.message
            return None
        except (PermissionDenied, NotFound) as exc:
            self.composer_error = _error_text(exc)
            return None
        self._refresh_open(actor)
        return rx.toast.success(f"Sending {name}…", duration=2500)

    # --- merging contacts ---------------------------------------------------------------------

    @rx.event
    def set_merge_open(self, is_open: bool):
        """Open or close the "merge with…" dialog."""
        self.merge_open = bool(is_open)
        self.merge_search, self.merge_results, self.merge_searched = "", [], False
        self.merge_target, self.merge_error = MatchItem(), ""

    @rx.event
    def set_merge_search(self, value: str):
        """Find the other contact by name, email or phone number."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        self.merge_search, self.merge_error = value, ""
        if not value.strip() or not self.contact.id:
            self.merge_results, self.merge_searched = [], False
            return None
        try:
            with session_scope() as session:
                found = inbox.find_contacts(
                    session, actor=actor, contact_id=self.contact.id, search=value
                )
        except (InboxError, PermissionDenied) as exc:
            self.merge_error = _error_text(exc)
            return None
        self.merge_results = [match_item(m) for m in found]
        self.merge_searched = True
        return None

    @rx.event
    def choose_merge(self, contact_id: int):
        """Ask to confirm merging this contact into the open one."""
        pool = [*self.merge_results, *self.contact.duplicates]
        chosen = next((m for m in pool if m.id == contact_id), None)
        if chosen is not None:
            self.merge_target, self.merge_error = chosen, ""

    @rx.event
    def choose_merge_from_card(self, contact_id: int):
        """A suggested duplicate's "Merge": open the dialog at its confirmation."""
        chosen = next((m for m in self.contact.duplicates if m.id == contact_id), None)
        if chosen is not None:
            self.merge_open, self.merge_results, self.merge_search = True, [], ""
            self.merge_target, self.merge_error = chosen, ""

    @rx.event
    def cancel_merge(self):
        """Back out of the confirmation."""
        self.merge_target, self.merge_error = MatchItem(), ""

    @rx.event
    def confirm_merge(self):
        """Merge the chosen contact into the open conversation's contact."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        if not (self.merge_target.id and self.contact.id):
            return None
        try:
            with session_scope() as session:
                done = inbox.merge_contacts(
                    session, actor=actor, contact_id=self.contact.id,
                    other_contact_id=self.merge_target.id,
                )  # fmt: skip
        except (InboxError, NotFound, PermissionDenied) as exc:
            self.merge_error = _error_text(exc)
            return None
        self.merge_open, self.merge_target = False, MatchItem()
        self.merge_search, self.merge_results, self.merge_searched = "", [], False
        self._refresh_open(actor)
        self._reload_list(actor)
        moved = done.conversations
        return rx.toast.success(
            f"Merged {done.removed_name} into {self.contact.name}: {done.identities} channel "
            f"id{'s' * (done.identities != 1)} and {moved} conversation{'s' * (moved != 1)} "
            "moved.",
            duration=4000,
        )

    # --- header actions -----------------------------------------------------------------------

    def _act(self, do, done: str):
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        if not self.open_id:
            return None
        try:
            with session_scope() as session:
                do(session, actor)
        except (HandoffError, InboxError, PermissionDenied, NotFound) as exc:
            return rx.toast.error(_error_text(exc))
        self._refresh_open(actor)
        return rx.toast.success(done, duration=2500)

    @rx.event
    def take_over(self):
        """Take the conversation: the AI stops and it is assigned to me."""
        cid = self.open_id
        return self._act(
            lambda s, a: handoff.take_over(s, actor=a, conversation_id=cid),
            "You have taken over; the AI will not reply here until you hand it back.",
        )

    @rx.event
    def hand_back(self):
        """Give the conversation back to the AI."""
        cid = self.open_id
        return self._act(
            lambda s, a: handoff.hand_back_to_ai(s, actor=a, conversation_id=cid),
            "Handed back to the AI.",
        )

    @rx.event
    def resolve(self):
        """Resolve the conversation."""
        cid = self.open_id
        return self._act(lambda s, a: handoff.resolve(s, actor=a, conversation_id=cid), "Resolved.")

    @rx.event
    def reopen(self):
        """Reopen a resolved conversation."""
        cid = self.open_id
        return self._act(lambda s, a: handoff.reopen(s, actor=a, conversation_id=cid), "Reopened.")

    @rx.event
    def assign_to(self, user_id: str):
        """Assign to a member ("none": nobody)."""
        cid = self.open_id
        target = int(user_id) if str(user_id).isdigit() else None
        name = next((a.name for a in self.agents if a.user_id == target), "nobody")
        return self._act(
            lambda s, a: handoff.assign(s, actor=a, conversation_id=cid, user_id=target),
            f"Assigned to {name}." if target else "Unassigned.",
        )

    @rx.event
    def set_priority(self, priority: str):
        """Set how urgent the conversation is."""
        cid = self.open_id
        return self._act(
            lambda s, a: handoff.set_priority(s, actor=a, conversation_id=cid, priority=priority),
            f"Priority: {priority}.",
        )

    @rx.event
    def set_new_label(self, value: str):
        """The label being typed."""
        self.new_label = value

    @rx.event
    def add_label(self, form: dict[str, Any]):
        """Add a label to the open conversation."""
        label = str(form.get("label", self.new_label) or "")
        cid = self.open_id
        result = self._act(
            lambda s, a: inbox.add_label(s, actor=a, conversation_id=cid, label=label),
            f"Label “{label.strip().lower()}” added.",
        )
        self.new_label = ""
        actor = self._actor()
        if actor is not None:
            self._show_choices(*_read_choices(actor))
        return result

    @rx.event
    def remove_label(self, label: str):
        """Take a label off the open conversation."""
        cid = self.open_id
        return self._act(
            lambda s, a: inbox.remove_label(s, actor=a, conversation_id=cid, label=label),
            f"Label “{label}” removed.",
        )

    # --- translation --------------------------------------------------------------------------

    @rx.event
    def set_translate(self, value: bool):
        """Show customers' messages with their translation (needs the language model)."""
        self.translate_on = bool(value)
        self.translation_notice = ""
        if not self.translate_on:
            self._translations = {}
            self.messages = [dataclasses.replace(m, translation="") for m in self.messages]
            return None
        return ConversationsState.translate_pending

    @rx.event(background=True)
    async def translate_pending(self):
        """Translate the customer messages on screen that have none yet (one batch)."""
        async with self:
            if self.translating or not self.translate_on:
                return
            wanted = [
                m.id for m in self.messages if m.kind == "customer" and m.text and not m.translation
            ][-TRANSLATE_AT_ONCE:]
            if not wanted:
                return
            self.translating = True
            token, conversation_id = self._session_token(), self.open_id

        def work(actor: Actor) -> tuple[dict[int, str], str]:
            done, notice = {}, ""
            for message_id in wanted:
                with session_scope() as session:
                    view = inbox.translate_message(session, actor=actor, message_id=message_id)
                if not view.ok:
                    notice = view.message or "This message could not be translated."
                    break
                done[message_id] = view.text
            return done, notice

        try:
            found = await asyncio.to_thread(_as_actor, token, work)
        except (NotFound, InboxError, PermissionDenied) as exc:
            found = ({}, _error_text(exc))
        except Exception:
            async with self:
                self.translating = False
            raise
        async with self:
            self.translating = False
            if found is None or conversation_id != self.open_id or not self.translate_on:
                return
            translations, notice = found
            self._translations = {**self._translations, **translations}
            self.messages = self._with_translations(self.messages)
            self.translation_notice = notice
            if notice:
                # Offline: show the originals and stop asking until the toggle is used again.
                self.translate_on = False

    @rx.event(background=True)
    async def translate_draft(self):
        """Translate the draft into the customer's language for the agent to check."""
        async with self:
            if self.translating or not self.open_id or not self.draft.strip():
                return
            self.translating = True
            self.draft_notice = ""
            token, conversation_id, text = self._session_token(), self.open_id, self.draft

        def work(actor: Actor):
            with session_scope() as session:
                return inbox.translate_draft(
                    session, actor=actor, conversation_id=conversation_id, text=text
                )

        notice, translated = "", None
        try:
            view = await asyncio.to_thread(_as_actor, token, work)
            if view is None:
                notice = "Your session has ended; log in again."
            elif view.ok:
                translated = view.text
                language = (view.target_language or "").upper()
                notice = f"Translated into {language}: check it, then send."
            else:
                notice = view.message or "The draft could not be translated."
        except (NotFound, InboxError, PermissionDenied) as exc:
            notice = _error_text(exc)
        except Exception:
            async with self:
                self.translating = False
            raise
        async with self:
            self.translating = False
            if conversation_id == self.open_id:
                if translated is not None and self.draft == text:
                    self.draft = translated
                    self.composer_key += 1
                self.draft_notice = notice

    # --- canned responses ---------------------------------------------------------------------

    def _reload_canned(self, actor: Actor) -> None:
        with session_scope() as session:
            self.canned = [canned_item(c) for c in inbox.list_canned(session, actor=actor)]

    @rx.event
    def open_canned(self):
        """Open the canned responses dialog."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        try:
            self._reload_canned(actor)
        except PermissionDenied as exc:
            return rx.toast.error(str(exc))
        self.canned_edit_id, self.canned_form, self.canned_errors = 0, {}, {}
        self.canned_open = True
        return None

    @rx.event
    def set_canned_open(self, is_open: bool):
        """Open or close the canned responses dialog."""
        self.canned_open = is_open

    @rx.event
    def edit_canned(self, canned_id: int):
        """Fill the form with a canned response to change it."""
        chosen = next((c for c in self.canned if c.id == canned_id), None)
        if chosen is None:
            return
        self.canned_edit_id = chosen.id
        self.canned_form = {
            "shortcut": chosen.shortcut,
            "title": chosen.title,
            "content": chosen.content,
        }
        self.canned_errors = {}

    @rx.event
    def new_canned(self):
        """An empty form for a new canned response."""
        self.canned_edit_id, self.canned_form, self.canned_errors = 0, {}, {}

    @rx.event
    def save_canned(self, form: dict[str, Any]):
        """Create or change a canned response; errors name the field."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        shortcut = str(form.get("shortcut", "")).strip()
        content = str(form.get("content", "")).strip()
        title = str(form.get("title", "")).strip() or None
        self.canned_form = {"shortcut": shortcut, "title": title or "", "content": content}
        try:
            with session_scope() as session:
                if self.canned_edit_id:
                    saved = inbox.update_canned(
                        session, actor=actor, canned_id=self.canned_edit_id, shortcut=shortcut,
                        content=content, title=title,
                    )  # fmt: skip
                else:
                    saved = inbox.create_canned(
                        session, actor=actor, shortcut=shortcut, content=content, title=title
                    )
        except InboxError as exc:
            field_name = exc.field if exc.field in ("shortcut", "title", "content") else "form"
            self.canned_errors = {field_name: exc.message}
            return None
        except (PermissionDenied, NotFound) as exc:
            self.canned_errors = {"form": _error_text(exc)}
            return None
        self._reload_canned(actor)
        self.canned_edit_id, self.canned_form, self.canned_errors = 0, {}, {}
        return rx.toast.success(f"Saved /{saved.shortcut}.", duration=2500)

    @rx.event
    def delete_canned(self, canned_id: int):
        """Delete a canned response."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                inbox.delete_canned(session, actor=actor, canned_id=canned_id)
        except (PermissionDenied, NotFound) as exc:
            return rx.toast.error(_error_text(exc))
        self._reload_canned(actor)
        if self.canned_edit_id == canned_id:
            self.canned_edit_id, self.canned_form = 0, {}
        return rx.toast.success("Canned response deleted.", duration=2500)

    @rx.var
    def canned_summary(self) -> str:
        """How many canned responses there are."""
        n = len(self.canned)
        return "No canned responses yet" if n == 0 else f"{n} canned response{'s' * (n != 1)}"

    # --- broadcasts opt-out on the contact card (templates) -----------------------------------

    # The switch follows the card's own `contact.opted_out`, which is reloaded on every
    # contact event (a customer's STOP included).
    @rx.event
    def set_contact_receives_broadcasts(self, receives: bool):
        """Opt the card's contact out of broadcasts, or back in (the card's switch)."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                templates.set_opt_out(
                    session, actor=actor, contact_id=self.contact.id, opted_out=not receives
                )
        except (TemplateError, PermissionDenied) as exc:
            return rx.toast.error(_error_text(exc))
        self.contact = dataclasses.replace(self.contact, opted_out=not receives)
        return rx.toast.success(
            "Receives broadcasts again." if receives else "Opted out of broadcasts.",
            duration=2500,
        )
