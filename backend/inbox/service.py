"""The agents' inbox: the conversation list, a thread, and what agents do in it.

Everything is scoped to the actor's business; another business's ids are simply not found.
Reading needs `conversations:read` (viewers too); anything that changes a conversation needs
`conversations:reply` (agents, admins, owners). Who handles a conversation (take over, hand
back, assign, resolve, reopen, presence, SLA) is `backend.handoff.service`.
"""

from __future__ import annotations

import base64
import binascii
import math
import mimetypes
import re
from datetime import datetime
from pathlib import PurePath
from typing import Any

from sqlmodel import Session

# Imported for their listeners (handoff routing, new-lead notifications) in the web process.
import backend.handoff.tasks
import backend.notifications.tasks  # noqa: F401
from backend import events
from backend.ai import llm, usage
from backend.ai import service as ai_service
from backend.auth.permissions import Actor, Permission
from backend.channels import media
from backend.channels.base import MediaError, MediaFile
from backend.channels.service import ReplyWindow, reply_window
from backend.conversations import service as conversations
from backend.core.redis import get_redis
from backend.handoff import service as handoff
from backend.inbox import repository as repo
from backend.inbox.schemas import (
    AttachmentView,
    BoardView,
    CannedResponseView,
    ChannelIdentityView,
    ContactCard,
    ContactMatch,
    InboxCounts,
    InboxError,
    InboxPage,
    InboxRow,
    LeadSummary,
    MergeResult,
    MessageView,
    NotFound,
    OrderSummary,
    PastConversation,
    SourceChunkView,
    ThreadView,
    TranslationView,
)
from backend.models.base import utcnow
from backend.models.contacts import Contact
from backend.models.conversations import Conversation, ConversationStatus, Message
from backend.models.inbox import CannedResponse
from backend.security import service as audit

__all__ = [
    "InboxError",
    "NotFound",
    "add_label",
    "add_note",
    "board",
    "counts",
    "create_canned",
    "delete_canned",
    "find_contacts",
    "get_rows",
    "get_thread",
    "list_canned",
    "list_conversations",
    "list_labels",
    "mark_read",
    "merge_contacts",
    "remove_label",
    "reply",
    "send_file",
    "suggest_canned",
    "translate_draft",
    "translate_message",
    "update_canned",
]

PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
THREAD_PAGE = 50
# WhatsApp's limit is 4,096 characters; the strictest channel sets the rule for all.
MAX_REPLY_CHARS = 4096
MAX_NOTE_CHARS = 10_000
MAX_SEARCH_CHARS = 200
MAX_LABELS = 20
MAX_LABEL_CHARS = 40
MAX_CANNED_CHARS = 4096
PREVIEW_CHARS = 120
EXCERPT_CHARS = 300
# Telegram's caption limit (1,024) is the strictest of the channels.
MAX_CAPTION_CHARS = 1024
MAX_FILENAME_CHARS = 200
BOARD_LIMIT = 500
TRANSLATION_TTL = 7 * 24 * 3600
STATUSES = tuple(s.value for s in ConversationStatus)
_LABEL = re.compile(r"^[\w][\w\- ]*$")
_SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,31}$")
_NEEDS_MODEL = (
    "Translation needs a language model: set OPENAI_API_KEY (and OPENAI_BASE_URL for a local "
    "or other OpenAI-compatible server) in .env. The original is shown."
)
_LANGUAGES = {
    "en": "English",
    "fr": "French",
    "es": "Spanish",
    "pt": "Portuguese",
    "sw": "Swahili",
    "ar": "Arabic",
    "de": "German",
    "it": "Italian",
    "nl": "Dutch",
    "zh": "Chinese",
    "ja": "Japanese",
    "hi": "Hindi",
    "am": "Amharic",
    "yo": "Yoruba",
    "ha": "Hausa",
    "zu": "Zulu",
    "tr": "Turkish",
    "ru": "Russian",
}
_CONTENT_LABELS = {
    "image": "[image]",
    "audio": "[voice message]",
    "document": "[document]",
    "location": "[location]",
    "contacts": "[contact card]",
    "reaction": "[reaction]",
    "unsupported": "[unsupported message]",
}


# --- helpers --------------------------------------------------------------------------------


def _conversation(
    session: Session, actor: Actor, conversation_id: int, *, for_update: bool = False
) -> Conversation:
    conversation = repo.get_conversation(
        session,
        business_id=actor.business_id,
        conversation_id=int(conversation_id),
        for_update=for_update,
    )
    if conversation is None:
        raise NotFound(f"Conversation {conversation_id} was not found in this business.")
    return conversation


def _display_name(row: dict) -> str:
    for value in (row.get("contact_name"), row.get("contact_email"), row.get("contact_phone")):
        if value:
            return value
    if row.get("channel_kind") == "widget" or not row.get("external_user_id"):
        return f"Visitor #{row['contact_id']}"
    return row["external_user_id"]


def _one_line(text: str | None, content_type: str | None = "text") -> str:
    if content_type in _CONTENT_LABELS and not (text or "").strip():
        return _CONTENT_LABELS[content_type]
    line = " ".join((text or "").split())
    return line if len(line) <= PREVIEW_CHARS else line[: PREVIEW_CHARS - 1] + "…"


def _rows(session: Session, *, business_id: int, ids: list[int], now: datetime) -> list[InboxRow]:
    data = repo.rows(session, business_id=business_id, ids=ids)
    handoffs = handoff.handoffs_of(session, business_id=business_id, conversation_ids=ids, now=now)
    result = []
    for conversation_id in ids:
        row = data.get(conversation_id)
        if row is None:
            continue
        info = handoffs.get(conversation_id)
        sla = info.sla if info else None
        result.append(
            InboxRow(
                id=row["id"],
                contact_id=row["contact_id"],
                contact_name=_display_name(row),
                channel_kind=row["channel_kind"],
                channel_name=row["channel_name"],
                status=row["status"],
                assignee_user_id=row["assignee_user_id"],
                assignee_name=row["assignee_name"],
                labels=[str(label) for label in row["labels"] or []],
                unread_count=row["unread_count"],
                priority=row["priority"],
                last_message_preview=_one_line(row["last_text"], row["last_content_type"])
                if row["last_sender"]
                else "",
                last_message_sender=row["last_sender"],
                last_activity_at=row["activity"],
                handoff_reason=info.reason if info else None,
                waiting_since=info.since if info else None,
                sla_state=sla.state if sla else "none",
                sla_metric=sla.metric if sla else None,
                sla_due_at=sla.due_at if sla else None,
                sla_seconds_left=sla.seconds_left if sla else None,
                sla_paused=sla.paused if sla else False,
            )
        )
    return result


def _encode_cursor(activity: datetime, conversation_id: int) -> str:
    raw = f"{activity.isoformat()}|{conversation_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        activity, _, conversation_id = raw.rpartition("|")
        return datetime.fromisoformat(activity), int(conversation_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InboxError(
            "The page cursor is not valid; load the list from the first page.", field="cursor"
        ) from None


def _search_terms(search: str) -> tuple[str | None, str | None]:
    """(tsquery of word prefixes, digits for phone numbers) of what the agent typed."""
    if len(search) > MAX_SEARCH_CHARS:
        raise InboxError(f"Keep the search under {MAX_SEARCH_CHARS} characters.", field="search")
    words = [w.lower() for w in re.findall(r"\w+", search)][:8]
    tsquery = " & ".join(f"{w}:*" for w in words) or None
    # A local number ("0712 345678") matches its international form ("+254712345678").
    digits = re.sub(r"\D", "", search).lstrip("0")
    return tsquery, digits if len(digits) >= 4 else None


def _statuses(status: str | list[str] | None) -> list[str] | None:
    if status is None or status == "" or status == "all":
        return None
    values = [status] if isinstance(status, str) else list(status)
    if "open" in values:  # everything not resolved
        values = [v for v in values if v != "open"] + ["ai", "waiting_for_agent", "human"]
    for value in values:
        if value not in STATUSES:
            raise InboxError(
                f"status must be one of {', '.join(STATUSES)} or open (got {value!r}).",
                field="status",
            )
    return sorted(set(values))


def _normal_label(label: str) -> str:
    label = " ".join(str(label or "").split()).lower()
    if not label:
        raise InboxError("Enter a label.", field="label")
    if len(label) > MAX_LABEL_CHARS:
        raise InboxError(f"Keep labels under {MAX_LABEL_CHARS} characters.", field="label")
    if not _LABEL.match(label):
        raise InboxError("Labels use letters, digits, spaces, - and _ only.", field="label")
    return label


# --- the list -------------------------------------------------------------------------------


def list_conversations(
    session: Session,
    *,
    actor: Actor,
    status: str | list[str] | None = None,
    channel: str | None = None,
    assignee: str | int | None = None,
    label: str | None = None,
    unread: bool = False,
    search: str = "",
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    now: datetime | None = None,
) -> InboxPage:
    """One page of the business's conversations, newest activity first.

    `status`: ai, waiting_for_agent, human, resolved, "open" (not resolved) or a list of them;
    `channel`: a channel kind (whatsapp, widget, …); `assignee`: "me", "unassigned" or a user
    id; `label`; `unread`: only those with unread customer messages; `search`: words found in
    any message, or in the contact's name, email or phone (4+ digits match phone numbers and
    channel ids). Pass the page's `next_cursor` as `cursor` for the next page.
    """
    actor.require(Permission.CONVERSATIONS_READ)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise InboxError(f"limit must be from 1 to {MAX_PAGE_SIZE}.", field="limit")
    assignee_id, unassigned = None, False
    if assignee == "me":
        assignee_id = actor.user_id
    elif assignee == "unassigned":
        unassigned = True
    elif assignee not in (None, "", "all"):
        try:
            assignee_id = int(assignee)
        except (TypeError, ValueError):
            raise InboxError(
                "assignee must be me, unassigned or a member's id.", field="assignee"
            ) from None
    if channel is not None and len(channel) > 32:
        raise InboxError(
            "channel must be a channel kind such as whatsapp or widget.", field="channel"
        )
    tsquery, digits = _search_terms((search or "").strip())
    found = repo.page_ids(
        session,
        business_id=actor.business_id,
        statuses=_statuses(status),
        channel_kind=channel or None,
        assignee_user_id=assignee_id,
        unassigned=unassigned,
        label=_normal_label(label) if label else None,
        unread=bool(unread),
        tsquery=tsquery,
        digits=digits,
        after=_decode_cursor(cursor) if cursor else None,
        limit=limit + 1,
    )
    page = found[:limit]
    next_cursor = _encode_cursor(page[-1][1], page[-1][0]) if len(found) > limit else None
    rows = _rows(
        session, business_id=actor.business_id, ids=[cid for cid, _ in page], now=now or utcnow()
    )
    return InboxPage(rows=rows, next_cursor=next_cursor)


def get_rows(
    session: Session, *, actor: Actor, conversation_ids: list[int], now: datetime | None = None
) -> list[InboxRow]:
    """These conversations as list rows (to refresh a row when a live event names it);
    ids of other businesses are left out."""
    actor.require(Permission.CONVERSATIONS_READ)
    ids = [int(i) for i in conversation_ids][:MAX_PAGE_SIZE]
    return _rows(session, business_id=actor.business_id, ids=ids, now=now or utcnow())


def counts(session: Session, *, actor: Actor) -> InboxCounts:
    """Badge counts for the inbox's tabs."""
    actor.require(Permission.CONVERSATIONS_READ)
    return InboxCounts(**repo.counts(session, business_id=actor.business_id, user_id=actor.user_id))


def board(session: Session, *, actor: Actor, now: datetime | None = None) -> BoardView:
    """The handoff board: waiting (nobody assigned), assigned, and breaching conversations.

    A conversation whose SLA is about to breach or breached is only in `breaching`.
    """
    actor.require(Permission.CONVERSATIONS_READ)
    now = now or utcnow()
    ids = repo.with_people_ids(session, business_id=actor.business_id, limit=BOARD_LIMIT)
    waiting, assigned, breaching = [], [], []
    for row in _rows(session, business_id=actor.business_id, ids=ids, now=now):
        if row.sla_state in ("warning", "breached"):
            breaching.append(row)
        elif row.assignee_user_id is None:
            waiting.append(row)
        else:
            assigned.append(row)
    far = 10**12

    def since(row: InboxRow) -> datetime:
        return row.waiting_since or row.last_activity_at

    waiting.sort(key=since)
    assigned.sort(
        key=lambda r: (r.sla_seconds_left if r.sla_seconds_left is not None else far, since(r))
    )
    breaching.sort(key=lambda r: r.sla_seconds_left if r.sla_seconds_left is not None else far)
    return BoardView(
        waiting=waiting,
        assigned=assigned,
        breaching=breaching,
        agents=handoff.list_agents(session, actor=actor),
    )


# --- a thread -------------------------------------------------------------------------------


def _sender_name(message: Message, agent_name: str | None, contact_name: str) -> str:
    if message.sender_type == "customer":
        return contact_name
    if message.sender_type == "agent":
        return agent_name or "Agent"
    if message.sender_type == "ai":
        return "AI assistant"
    return "System"


# Attachment types that carry a file, and how the thread shows them.
_FILE_KINDS = {"image": "image", "sticker": "image", "audio": "audio", "video": "video",
               "document": "document", "file": "document"}  # fmt: skip


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _file_view(message_id: int, index: int, kind: str, raw: dict) -> AttachmentView:
    status, url = str(raw.get("status") or ""), None
    link = str(raw.get("url") or "")
    if status == "stored" and raw.get("path"):
        url = f"/api/media/{message_id}/{index}"
    elif status == "link" and link.startswith(("https://", "http://")):
        url = link
    elif status != "failed":
        status = "pending"  # the download job has not fetched it yet
    size = raw.get("size")
    return AttachmentView(
        index=index, kind=kind, status=status, url=url,
        filename=str(raw["filename"]) if raw.get("filename") else None,
        mime_type=str(raw["mime_type"]) if raw.get("mime_type") else None,
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        error=str(raw["error"]) if status == "failed" and raw.get("error") else None,
    )  # fmt: skip


def _attachment_views(message: Message) -> list[AttachmentView]:
    """The files, places and contacts a message carries (quick replies, reactions: not shown)."""
    views = []
    for index, raw in enumerate(message.attachments or []):
        if not isinstance(raw, dict):
            continue
        kind = str(raw.get("type") or "")
        if kind in _FILE_KINDS:
            views.append(_file_view(message.id, index, _FILE_KINDS[kind], raw))
        elif kind == "location":
            lat, lon = _number(raw.get("latitude")), _number(raw.get("longitude"))
            place = ", ".join(str(p) for p in (raw.get("name"), raw.get("address")) if p)
            known = lat is not None and lon is not None
            views.append(
                AttachmentView(
                    index=index, kind="location", status="none", title=place or None,
                    latitude=lat, longitude=lon,
                    map_url=(
                        f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}"
                        if known else None
                    ),
                )
            )  # fmt: skip
        elif kind == "contact":
            phones = [str(p) for p in raw.get("phones") or [] if p]
            views.append(
                AttachmentView(
                    index=index, kind="contact", status="none",
                    title=str(raw.get("name") or "Contact"), detail=", ".join(phones) or None,
                )
            )  # fmt: skip
    return views


def _message_views(
    session: Session, business_id: int, found: list[tuple[Message, str | None]], contact_name: str
) -> list[MessageView]:
    chunk_ids = sorted(
        {
            int(c)
            for m, _ in found
            for c in (m.ai_sources or [])
            if isinstance(c, int) or str(c).isdigit()
        }
    )
    known = repo.chunks(session, business_id=business_id, chunk_ids=chunk_ids)
    reactions = (
        repo.reactions_on(
            session, business_id=business_id, conversation_id=found[0][0].conversation_id,
            message_ids=[m.id for m, _ in found if m.content_type != "reaction"],
        )
        if found
        else {}
    )  # fmt: skip
    views = []
    for message, agent_name in found:
        sources = []
        for raw in message.ai_sources or []:
            if not (isinstance(raw, int) or str(raw).isdigit()):
                continue
            chunk_id = int(raw)
            if chunk_id in known:
                chunk, source = known[chunk_id]
                excerpt = " ".join(chunk.content.split())
                sources.append(
                    SourceChunkView(
                        chunk_id=chunk_id,
                        source_id=source.id,
                        title=source.title,
                        question=chunk.question or source.question,
                        excerpt=excerpt[:EXCERPT_CHARS],
                        available=True,
                    )
                )
            else:
                sources.append(
                    SourceChunkView(
                        chunk_id=chunk_id,
                        source_id=None,
                        title="No longer in the knowledge base",
                        question=None,
                        excerpt="",
                        available=False,
                    )
                )
        shows_delivery = message.direction == "outbound" and not message.is_private_note
        views.append(
            MessageView(
                id=message.id,
                conversation_id=message.conversation_id,
                direction=message.direction,
                sender_type=message.sender_type,
                sender_name=_sender_name(message, agent_name, contact_name),
                text=message.text or "",
                content_type=message.content_type,
                created_at=message.created_at,
                is_private_note=message.is_private_note,
                delivery_status=message.delivery_status if shows_delivery else None,
                error=message.error,
                language=message.language,
                ai_confidence=message.ai_confidence,
                sources=sources,
                attachments=_attachment_views(message),
                reaction=reactions.get(message.id, ""),
            )
        )
    return views


def _contact_card(
    session: Session, business_id: int, conversation: Conversation, name: str, now: datetime
) -> ContactCard:
    contact = repo.get_contact(session, business_id=business_id, contact_id=conversation.contact_id)
    lead = repo.latest_lead(session, business_id=business_id, contact_id=conversation.contact_id)
    other_ids = repo.other_conversation_ids(
        session,
        business_id=business_id,
        contact_id=conversation.contact_id,
        exclude_id=conversation.id,
        limit=10,
    )
    past = [
        PastConversation(
            id=r.id,
            status=r.status,
            channel_kind=r.channel_kind,
            last_activity_at=r.last_activity_at,
            last_message_preview=r.last_message_preview,
        )
        for r in _rows(session, business_id=business_id, ids=other_ids, now=now)
    ]
    return ContactCard(
        id=conversation.contact_id,
        name=name,
        email=contact.email if contact else None,
        phone=contact.phone if contact else None,
        language=(contact.language if contact else None) or conversation.language,
        identities=[
            ChannelIdentityView(channel_kind=kind, channel_name=channel, external_user_id=uid)
            for kind, channel, uid in repo.identities(
                session, business_id=business_id, contact_id=conversation.contact_id
            )
        ],
        lead=LeadSummary(
            id=lead.id,
            stage=lead.stage,
            interest=lead.interest,
            value_cents=lead.value_cents,
            currency=lead.currency,
        )
        if lead
        else None,
        past_conversations=past,
        opted_out=contact is not None and contact.opted_out_at is not None,
        duplicates=_duplicates(session, business_id, contact) if contact else [],
        orders=[
            OrderSummary(
                id=o.id, number=o.number, status=o.status, total_cents=o.total_cents,
                currency=o.currency, created_at=o.created_at,
            )
            for o in repo.recent_orders(
                session, business_id=business_id, contact_id=conversation.contact_id
            )
        ],
    )  # fmt: skip


def get_thread(
    session: Session,
    *,
    actor: Actor,
    conversation_id: int,
    before_id: int | None = None,
    limit: int = THREAD_PAGE,
    now: datetime | None = None,
) -> ThreadView:
    """A conversation with its newest `limit` messages (older ones: pass `before_id`), private
    notes included and flagged, each AI reply with its confidence and knowledge used."""
    actor.require(Permission.CONVERSATIONS_READ)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 200:
        raise InboxError("limit must be from 1 to 200.", field="limit")
    now = now or utcnow()
    conversation = _conversation(session, actor, conversation_id)
    [header] = _rows(session, business_id=actor.business_id, ids=[conversation.id], now=now)
    found = repo.messages(
        session,
        business_id=actor.business_id,
        conversation_id=conversation.id,
        before_id=before_id,
        limit=limit + 1,
    )
    has_older = len(found) > limit
    found = found[-limit:]
    return ThreadView(
        conversation=header,
        contact=_contact_card(session, actor.business_id, conversation, header.contact_name, now),
        messages=_message_views(session, actor.business_id, found, header.contact_name),
        has_older=has_older,
        can_reply=actor.can(Permission.CONVERSATIONS_REPLY),
        window=_window(conversation, header, now),
    )


def _window(conversation: Conversation, row: InboxRow, now: datetime) -> ReplyWindow:
    return reply_window(
        kind=row.channel_kind, last_customer_message_at=conversation.last_customer_message_at,
        now=now,
    )  # fmt: skip


def mark_read(session: Session, *, actor: Actor, conversation_id: int) -> None:
    """Clear the conversation's unread count (the actor has seen it)."""
    actor.require(Permission.CONVERSATIONS_REPLY)
    conversation = _conversation(session, actor, conversation_id, for_update=True)
    if conversation.unread_count:
        conversation.unread_count = 0
        session.add(conversation)
        session.flush()
        events.publish(
            session,
            "conversation.updated",
            business_id=actor.business_id,
            conversation_id=conversation.id,
            status=conversation.status,
            unread_count=0,
        )


# --- writing --------------------------------------------------------------------------------


def _text(value: str | None, *, field: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise InboxError("Write something first.", field=field)
    if len(text) > limit:
        raise InboxError(
            f"Keep it under {limit:,} characters ({len(text):,} now); split it "
            "into several messages.",
            field=field,
        )
    return text


def _one_message(session: Session, business_id: int, message: Message, contact: str):
    name = repo.user_name(session, business_id=business_id, user_id=message.sender_user_id)
    return _message_views(session, business_id, [(message, name)], contact)[0]


def _writable(
    session: Session, actor: Actor, conversation_id: int, now: datetime
) -> tuple[Conversation, InboxRow]:
    """The conversation, locked, if something sent now can reach the customer; else InboxError."""
    conversation = _conversation(session, actor, conversation_id, for_update=True)
    if conversation.status == "resolved":
        raise InboxError("This conversation is resolved; reopen it to reply.", field="conversation")
    if conversation.channel_integration_id is None:
        raise InboxError(
            "This conversation's channel was disconnected, so a reply cannot "
            "reach the customer; reconnect the channel first.",
            field="conversation",
        )
    [row] = _rows(session, business_id=actor.business_id, ids=[conversation.id], now=now)
    window = _window(conversation, row, now)
    if not window.open:
        # Refused here, before anything is stored, rather than failing later in the send job.
        raise InboxError(
            window.notice or "The channel does not take a reply now.", field="conversation"
        )
    return conversation, row


def _claim(session: Session, actor: Actor, conversation: Conversation, now: datetime) -> bool:
    """Replying takes the conversation (human, assigned to the actor if free) and reads it."""
    changed = handoff.claim_for_reply(
        session, conversation=conversation, user_id=actor.user_id, now=now
    )
    if conversation.unread_count:
        conversation.unread_count, changed = 0, True
    return changed


def _announce_claim(session: Session, conversation: Conversation) -> None:
    events.publish(
        session,
        "conversation.updated",
        business_id=conversation.business_id,
        conversation_id=conversation.id,
        status=conversation.status,
        assignee_user_id=conversation.assignee_user_id,
        unread_count=conversation.unread_count,
    )


def reply(
    session: Session,
    *,
    actor: Actor,
    conversation_id: int,
    text: str,
    now: datetime | None = None,
) -> MessageView:
    """Send the actor's reply to the customer through the conversation's channel (Outbox).

    Replying takes the conversation: the AI stops, it becomes `human`, and it is assigned to
    the actor if nobody had it. Its delivery status moves as the channel reports. Outside the
    channel's reply window (WhatsApp's 24 hours) it is refused with the window's notice.
    """
    actor.require(Permission.CONVERSATIONS_REPLY)
    text = _text(text, field="text", limit=MAX_REPLY_CHARS)
    now = now or utcnow()
    conversation, row = _writable(session, actor, conversation_id, now)
    changed = _claim(session, actor, conversation, now)
    message = conversations.add_outbound(
        session,
        conversation=conversation,
        text=text,
        sender_type="agent",
        sender_user_id=actor.user_id,
        language=conversation.language,
    )
    if changed:
        _announce_claim(session, conversation)
    return _one_message(session, actor.business_id, message, row.contact_name)


def file_kind(mime_type: str) -> str:
    """How a file of this MIME type is sent: image, audio, video or document."""
    top = mime_type.split("/", 1)[0]
    return top if top in ("image", "audio", "video") else "document"


def _accepted_types() -> str:
    return ", ".join(media.allowed_types())


def send_file(
    session: Session,
    *,
    actor: Actor,
    conversation_id: int,
    filename: str,
    content: bytes,
    mime_type: str | None = None,
    caption: str = "",
    now: datetime | None = None,
) -> MessageView:
    """Send a file the actor uploaded to the customer through the conversation's channel.

    Checked against MEDIA_MAX_MB and MEDIA_ALLOWED_TYPES (InboxError on field "file"), then
    stored and queued like a reply (conversations.add_outbound_file); it takes the
    conversation as a reply does, and the reply window applies.
    """
    actor.require(Permission.CONVERSATIONS_REPLY)
    name = PurePath(str(filename or "").replace("\\", "/")).name.strip()[:MAX_FILENAME_CHARS]
    name = name or "file"
    caption = (caption or "").strip()
    if len(caption) > MAX_CAPTION_CHARS:
        raise InboxError(
            f"Keep a file's caption under {MAX_CAPTION_CHARS:,} characters ({len(caption):,} "
            "now); send the rest as a separate message.",
            field="text",
        )
    if not content:
        raise InboxError(f"“{name}” is empty; choose the file again.", field="file")
    limit = media.max_bytes()
    if len(content) > limit:
        raise InboxError(
            f"“{name}” is {len(content) / 1_000_000:.1f} MB, over the {limit / 1_000_000:g} MB "
            "limit for attachments; send a smaller file or a link to it.",
            field="file",
        )
    mime = (mime_type or "").split(";")[0].strip().lower()
    if not mime or mime == "application/octet-stream":
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if not media.is_allowed(mime):
        raise InboxError(
            f"“{name}” is a file of type {mime}, which BizBot does not send; accepted types: "
            f"{_accepted_types()} (MEDIA_ALLOWED_TYPES).",
            field="file",
        )
    now = now or utcnow()
    conversation, row = _writable(session, actor, conversation_id, now)
    changed = _claim(session, actor, conversation, now)
    try:
        message = conversations.add_outbound_file(
            session, conversation=conversation, kind=file_kind(mime),
            file=MediaFile(content, mime, name), caption=caption, sender_type="agent",
            sender_user_id=actor.user_id,
        )  # fmt: skip
    except MediaError as exc:  # the limits checked above, or the disk refused the file
        raise InboxError(f"“{name}” could not be stored: {exc}.", field="file") from exc
    if changed:
        _announce_claim(session, conversation)
    return _one_message(session, actor.business_id, message, row.contact_name)


def add_note(session: Session, *, actor: Actor, conversation_id: int, text: str) -> MessageView:
    """A private note for the team in the thread: stored, never sent to the customer."""
    actor.require(Permission.CONVERSATIONS_REPLY)
    text = _text(text, field="text", limit=MAX_NOTE_CHARS)
    conversation = _conversation(session, actor, conversation_id)
    message = Message(
        business_id=actor.business_id,
        conversation_id=conversation.id,
        direction="outbound",
        sender_type="agent",
        sender_user_id=actor.user_id,
        text=text,
        is_private_note=True,
        delivery_status="received",
    )
    session.add(message)
    session.flush()
    events.publish(
        session,
        "message.created",
        business_id=actor.business_id,
        conversation_id=conversation.id,
        message_id=message.id,
        sender_type="agent",
        is_private_note=True,
    )
    [row] = _rows(session, business_id=actor.business_id, ids=[conversation.id], now=utcnow())
    return _one_message(session, actor.business_id, message, row.contact_name)


def _set_labels(session: Session, conversation: Conversation, labels: list[str]) -> list[str]:
    conversation.labels = labels
    session.add(conversation)
    session.flush()
    events.publish(
        session,
        "conversation.updated",
        business_id=conversation.business_id,
        conversation_id=conversation.id,
        status=conversation.status,
        labels=labels,
    )
    return labels


def add_label(session: Session, *, actor: Actor, conversation_id: int, label: str) -> list[str]:
    """Label the conversation (labels are lower case); its labels after."""
    actor.require(Permission.CONVERSATIONS_REPLY)
    label = _normal_label(label)
    conversation = _conversation(session, actor, conversation_id, for_update=True)
    labels = [str(x) for x in conversation.labels or []]
    if label in labels:
        return labels
    if len(labels) >= MAX_LABELS:
        raise InboxError(
            f"A conversation has at most {MAX_LABELS} labels; remove one first.", field="label"
        )
    return _set_labels(session, conversation, [*labels, label])


def remove_label(session: Session, *, actor: Actor, conversation_id: int, label: str) -> list[str]:
    """Take a label off the conversation; its labels after."""
    actor.require(Permission.CONVERSATIONS_REPLY)
    label = _normal_label(label)
    conversation = _conversation(session, actor, conversation_id, for_update=True)
    labels = [str(x) for x in conversation.labels or []]
    if label not in labels:
        return labels
    return _set_labels(session, conversation, [x for x in labels if x != label])


def list_labels(session: Session, *, actor: Actor) -> list[str]:
    """The labels in use in the business (for the filter and the label picker)."""
    actor.require(Permission.CONVERSATIONS_READ)
    return repo.labels_in_use(session, business_id=actor.business_id, limit=500)


# --- canned responses -----------------------------------------------------------------------


def _canned_view(row: CannedResponse) -> CannedResponseView:
    return CannedResponseView(
        id=row.id,
        shortcut=row.shortcut,
        title=row.title,
        content=row.content,
        updated_at=row.updated_at,
    )


def _shortcut(value: str) -> str:
    shortcut = (value or "").strip().lstrip("/").lower()
    if not _SHORTCUT.match(shortcut):
        raise InboxError(
            "A shortcut is 1-32 lower-case letters, digits, - or _, such as /refund-policy.",
            field="shortcut",
        )
    return shortcut


def _canned_fields(
    session: Session,
    actor: Actor,
    shortcut: str,
    content: str,
    title: str | None,
    except_id: int | None,
) -> tuple[str, str, str | None]:
    shortcut = _shortcut(shortcut)
    content = _text(content, field="content", limit=MAX_CANNED_CHARS)
    title = (title or "").strip() or None
    if title and len(title) > 120:
        raise InboxError("Keep the title under 120 characters.", field="title")
    if repo.shortcut_taken(
        session, business_id=actor.business_id, shortcut=shortcut, except_id=except_id
    ):
        raise InboxError(
            f"/{shortcut} is already a canned response; choose another shortcut.", field="shortcut"
        )
    return shortcut, content, title


def list_canned(
    session: Session, *, actor: Actor, search: str = "", limit: int = 200
) -> list[CannedResponseView]:
    """The business's canned responses (matching `search` in shortcut, title or text)."""
    actor.require(Permission.CONVERSATIONS_REPLY)
    rows = repo.list_canned(
        session,
        business_id=actor.business_id,
        search=(search or "").strip()[:100] or None,
        limit=max(1, min(limit, 500)),
    )
    return [_canned_view(row) for row in rows]


def suggest_canned(
    session: Session, *, actor: Actor, text: str, limit: int = 8
) -> list[CannedResponseView]:
    """What the composer offers while the agent types "/sho…": shortcuts starting with it.

    Text that is not a slash and a word gets no suggestions.
    """
    actor.require(Permission.CONVERSATIONS_REPLY)
    match = re.fullmatch(r"\s*/([A-Za-z0-9_\-]{0,32})", text or "")
    if match is None:
        return []
    rows = repo.canned_by_prefix(
        session,
        business_id=actor.business_id,
        prefix=match.group(1).lower(),
        limit=max(1, min(limit, 50)),
    )
    return [_canned_view(row) for row in rows]


def create_canned(
    session: Session, *, actor: Actor, shortcut: str, content: str, title: str | None = None
) -> CannedResponseView:
    """Save a canned response under `/shortcut`."""
    actor.require(Permission.CONVERSATIONS_REPLY)
    shortcut, content, title = _canned_fields(session, actor, shortcut, content, title, None)
    row = CannedResponse(
        business_id=actor.business_id,
        shortcut=shortcut,
        content=content,
        title=title,
        created_by_user_id=actor.user_id,
    )
    session.add(row)
    session.flush()
    events.publish(
        session, "canned_response.saved", business_id=actor.business_id, canned_response_id=row.id
    )
    return _canned_view(row)


def update_canned(
    session: Session,
    *,
    actor: Actor,
    canned_id: int,
    shortcut: str,
    content: str,
    title: str | None = None,
) -> CannedResponseView:
    """Change a canned response."""
    actor.require(Permission.CONVERSATIONS_REPLY)
    row = repo.get_canned(session, business_id=actor.business_id, canned_id=int(canned_id))
    if row is None:
        raise NotFound(f"Canned response {canned_id} was not found in this business.")
    row.shortcut, row.content, row.title = _canned_fields(
        session, actor, shortcut, content, title, row.id
    )
    session.add(row)
    session.flush()
    events.publish(
        session, "canned_response.saved", business_id=actor.business_id, canned_response_id=row.id
    )
    return _canned_view(row)


def delete_canned(session: Session, *, actor: Actor, canned_id: int) -> None:
    """Delete a canned response."""
    actor.require(Permission.CONVERSATIONS_REPLY)
    row = repo.get_canned(session, business_id=actor.business_id, canned_id=int(canned_id))
    if row is None:
        raise NotFound(f"Canned response {canned_id} was not found in this business.")
    session.delete(row)
    session.flush()
    events.publish(
        session,
        "canned_response.deleted",
        business_id=actor.business_id,
        canned_response_id=int(canned_id),
    )


# --- translation ----------------------------------------------------------------------------


def _language_name(code: str) -> str:
    return _LANGUAGES.get(code.lower()[:2], code)


def _translate(session: Session, business_id: int, text: str, target: str) -> TranslationView:
    """Ask the language model for a translation (slow: call it from a background handler)."""
    if not llm.configured():
        return TranslationView(
            ok=False, text=text, original=text, target_language=target, message=_NEEDS_MODEL
        )
    rules = ai_service.rules_for(session, business_id=business_id)
    if not usage.budget_left(session, business_id=business_id, budget=rules.monthly_token_budget):
        return TranslationView(
            ok=False,
            text=text,
            original=text,
            target_language=target,
            message="This month's AI token budget is used up, so nothing "
            "is translated; an owner can raise it in AI Rules.",
        )
    prompt = (
        f"Translate the user's message into {_language_name(target)}. Reply with the "
        "translation only: no quotes, notes or explanations. Keep names, numbers, links, "
        "emoji and formatting as they are. If it already is in that language, repeat it."
    )
    try:
        answer = llm.chat(
            [{"role": "system", "content": prompt}, {"role": "user", "content": text}],
            json_mode=False,
        )
    except llm.LLMError as exc:
        return TranslationView(
            ok=False,
            text=text,
            original=text,
            target_language=target,
            message=f"Translation failed: {exc}",
        )
    usage.record(
        session,
        business_id=business_id,
        prompt_tokens=answer.prompt_tokens,
        completion_tokens=answer.completion_tokens,
    )
    translated = answer.content.strip()
    if not translated:
        return TranslationView(
            ok=False,
            text=text,
            original=text,
            target_language=target,
            message="The language model returned no translation.",
        )
    return TranslationView(ok=True, text=translated, original=text, target_language=target)


def _target(value: str | None, fallback: str | None, field: str) -> str:
    code = (value or fallback or "").strip().lower()
    if not re.fullmatch(r"[a-z]{2}(-[a-z]{2})?", code):
        raise InboxError(
            "Choose the language to translate into (a code such as en or fr).", field=field
        )
    return code


def translate_message(
    session: Session, *, actor: Actor, message_id: int, target_language: str | None = None
) -> TranslationView:
    """A message of the thread translated into `target_language` (default: the business's
    language). Needs the language model; offline the original comes back with the reason.
    Translations are cached, so toggling back and forth costs one request."""
    actor.require(Permission.CONVERSATIONS_READ)
    message = repo.get_message(session, business_id=actor.business_id, message_id=int(message_id))
    if message is None:
        raise NotFound(f"Message {message_id} was not found in this business.")
    rules = ai_service.rules_for(session, business_id=actor.business_id)
    target = _target(target_language, rules.default_language, "target_language")
    text = message.text or ""
    if not text.strip():
        return TranslationView(
            ok=False,
            text=text,
            original=text,
            target_language=target,
            message="There is no text to translate.",
        )
    key = f"bizbot:translation:{actor.business_id}:{message.id}:{target}"
    cached = get_redis().get(key)
    if cached is not None:
        translated = cached.decode() if isinstance(cached, bytes) else str(cached)
        return TranslationView(ok=True, text=translated, original=text, target_language=target)
    result = _translate(session, actor.business_id, text, target)
    if result.ok:
        get_redis().set(key, result.text, ex=TRANSLATION_TTL)
    return result


def translate_draft(
    session: Session,
    *,
    actor: Actor,
    conversation_id: int,
    text: str,
    target_language: str | None = None,
) -> TranslationView:
    """The agent's draft translated into the customer's language (for the agent to check and
    send with `reply`). Needs the language model; offline the draft comes back unchanged."""
    actor.require(Permission.CONVERSATIONS_REPLY)
    text = _text(text, field="text", limit=MAX_REPLY_CHARS)
    conversation = _conversation(session, actor, conversation_id)
    if not (target_language or conversation.language):
        raise InboxError(
            "The customer's language is not known yet; choose one to translate into.",
            field="target_language",
        )
    target = _target(target_language, conversation.language, "target_language")
    return _translate(session, actor.business_id, text, target)


# --- contacts: the same person on several channels ------------------------------------------

MAX_DUPLICATES = 5
MAX_CONTACT_MATCHES = 10
# Shorter numbers (extensions, short codes) are too likely to be shared by different people.
MIN_PHONE_DIGITS = 7


def _contact_name(contact: Contact) -> str:
    return contact.name or contact.email or contact.phone or f"Contact #{contact.id}"


def _matches(
    session: Session, business_id: int, found: list[tuple[int, str | None]]
) -> list[ContactMatch]:
    summaries = repo.contact_summaries(
        session, business_id=business_id, contact_ids=[cid for cid, _ in found]
    )
    matches = []
    for cid, reason in found:
        if cid not in summaries:
            continue
        contact = summaries[cid]["contact"]
        matches.append(
            ContactMatch(
                id=cid, name=_contact_name(contact), email=contact.email, phone=contact.phone,
                channel_kinds=summaries[cid]["kinds"],
                conversations=summaries[cid]["conversations"], reason=reason,
            )
        )  # fmt: skip
    return matches


def _phone_digits(value: str | None) -> str | None:
    digits = re.sub(r"\D", "", value or "")
    return digits if len(digits) >= MIN_PHONE_DIGITS else None


def _duplicates(session: Session, business_id: int, contact: Contact) -> list[ContactMatch]:
    """Other contacts with the same email, phone number or WhatsApp number."""
    phones = {
        d
        for d in [
            _phone_digits(contact.phone),
            *(
                _phone_digits(n)
                for n in repo.whatsapp_numbers(
                    session, business_id=business_id, contact_id=contact.id
                )
            ),
        ]
        if d
    }
    if not (contact.email or phones):
        return []
    found = repo.duplicate_contact_ids(
        session, business_id=business_id, contact_id=contact.id, email=contact.email,
        phones=sorted(phones), limit=MAX_DUPLICATES,
    )  # fmt: skip
    return _matches(session, business_id, list(found))


def find_contacts(
    session: Session, *, actor: Actor, contact_id: int, search: str
) -> list[ContactMatch]:
    """Other contacts of the business to merge with `contact_id`: by name, email or phone
    (words match as prefixes; 4+ digits match phone numbers and channel ids)."""
    actor.require(Permission.CONVERSATIONS_REPLY)
    words, digits = _search_terms((search or "").strip())
    if not (words or digits):
        return []
    ids = repo.matching_contact_ids(
        session, business_id=actor.business_id, exclude_id=int(contact_id), words=words,
        digits=digits, limit=MAX_CONTACT_MATCHES,
    )  # fmt: skip
    return _matches(session, actor.business_id, [(cid, None) for cid in ids])


def merge_contacts(
    session: Session, *, actor: Actor, contact_id: int, other_contact_id: int
) -> MergeResult:
    """Merge `other_contact_id` into `contact_id`: its channel identities, conversations, leads
    and orders move over, blank details are filled from it, and it is removed (audited)."""
    actor.require(Permission.CONVERSATIONS_REPLY)
    keep_id, other_id = int(contact_id), int(other_contact_id)
    if keep_id == other_id:
        raise InboxError("Choose a different contact to merge with.", field="merge")
    locked = repo.contacts_for_update(
        session, business_id=actor.business_id, contact_ids=[keep_id, other_id]
    )
    missing = next((cid for cid in (keep_id, other_id) if cid not in locked), None)
    if missing is not None:
        raise NotFound(f"Contact {missing} was not found in this business.")
    keep, other = locked[keep_id], locked[other_id]
    for name in ("name", "email", "phone", "language", "avatar_url"):
        if not getattr(keep, name) and getattr(other, name):
            setattr(keep, name, getattr(other, name))
    keep.attributes = {**(other.attributes or {}), **(keep.attributes or {})}
    # Opted out on either channel means opted out: never message someone who said stop.
    opted = [t for t in (keep.opted_out_at, other.opted_out_at) if t]
    keep.opted_out_at = min(opted) if opted else None
    seen = [t for t in (keep.last_seen_at, other.last_seen_at) if t]
    keep.last_seen_at = max(seen) if seen else None
    removed_name = _contact_name(other)
    moved = repo.move_contact_rows(
        session, business_id=actor.business_id, from_id=other_id, to_id=keep_id
    )
    session.add(keep)
    session.flush()
    repo.delete_contact(session, business_id=actor.business_id, contact_id=other_id)
    session.expire_all()  # rows re-pointed in SQL: let later reads see them
    audit.record(
        session, business_id=actor.business_id, action="contact.merged",
        actor_user_id=actor.user_id, target_type="contact", target_id=keep_id,
        details={"merged_contact_id": other_id, "merged_name": removed_name, **moved},
    )  # fmt: skip
    events.publish(
        session, "contact.merged", business_id=actor.business_id, contact_id=keep_id,
        merged_contact_id=other_id,
    )  # fmt: skip
    return MergeResult(
        contact_id=keep_id, removed_contact_id=other_id, removed_name=removed_name,
        identities=moved["identities"], conversations=moved["conversations"],
        leads=moved["leads"], orders=moved["orders"],
    )  # fmt: skip
