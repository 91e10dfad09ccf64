"""The conversation pipeline: store what comes in once, answer it in order, send what goes out."""

from __future__ import annotations

import dataclasses
import logging
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session

from backend import events
from backend.ai import engine, llm
from backend.ai import service as ai_service
from backend.ai.schemas import Action, AIDecision, EngineInput, Turn
from backend.billing import service as billing
from backend.channels import media, registry
from backend.channels import repository as channels_repo
from backend.channels.base import (
    ChannelConfig,
    ChannelEvent,
    Echo,
    Edit,
    MediaError,
    MediaFile,
    MessageIn,
    Reaction,
    Receipt,
    StatusUpdate,
)
from backend.commerce import chat as commerce_chat
from backend.conversations import repository as repo
from backend.core.queue import enqueue_after_commit
from backend.models.base import utcnow
from backend.models.channels import InboundEvent
from backend.models.contacts import Contact
from backend.models.conversations import Conversation, Message
from backend.models.handoff import Handoff, HandoffReason
from backend.ops import metrics
from backend.templates import optout

log = logging.getLogger(__name__)

# Text beyond this is not kept in the message (the raw event keeps everything).
MAX_TEXT_CHARS = 20_000
HISTORY_TURNS = 10
PROCESS_INBOUND = "backend.conversations.tasks.process_inbound"
SEND_OUTBOUND = "backend.conversations.tasks.send_outbound"
DOWNLOAD_MEDIA = "backend.conversations.tasks.download_media"
FETCH_PROFILE = "backend.conversations.tasks.fetch_profile"
# A pipeline job's outcome is in the database (the event's or outbox row's status): RQ keeps a
# succeeded job for a minute only (a failed one stays in the failed registry, with its error).
# Not 0: RQ deletes such a job at once, with five more round trips to Redis than letting it expire.
_PIPELINE_JOB = {"result_ttl": 60}
# Customer messages stored and shown but not answered by the AI: nothing was asked.
NOT_ANSWERED = ("unsupported", "story_mention", "command")
# Telegram's /start, when the business wrote no greeting in its AI rules.
DEFAULT_GREETING = "Hi! How can we help you today?"
_STATUS_RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3}
_ROLE = {"customer": "customer", "ai": "assistant", "agent": "agent"}
_AI_ERROR_NOTICE = "Sorry, I can't answer right now. A member of our team will reply shortly."


def _payload(event: ChannelEvent) -> dict[str, Any]:
    # Shallow: the JSON encoding walks the values (asdict's deep copy cost more than the insert).
    data = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    data.pop("timestamp", None)
    data["type"] = event.kind
    return data


def receive(
    session: Session,
    *,
    cfg: ChannelConfig,
    events_in: list[ChannelEvent],
    raw_body: bytes | None = None,
    content_type: str | None = None,
) -> list[int]:
    """The one entry point after a channel verified its request: store each event once.

    Returns the ids of events that were new; each is processed by a job enqueued after the
    caller commits. A duplicate delivery stores and enqueues nothing. With `raw_body` (a
    webhook), the request is kept as its WebhookDelivery in the same statement.
    """
    events = [
        {
            "external_id": str(event.external_id)[:255],
            "sender_external_id": getattr(event, "sender_id", None),
            "kind": event.kind,
            "payload": _payload(event),
            "provider_timestamp": event.timestamp,
            "status": "pending",
        }
        for event in events_in
    ]
    delivery = None
    if raw_body is not None:
        delivery = {"body": raw_body, "content_type": (content_type or "")[:120] or None}
    # One statement, one round trip, for the whole body and its raw copy.
    new_ids = repo.insert_inbound_events(
        session, business_id=cfg.business_id, channel_integration_id=cfg.integration_id,
        events=events, delivery=delivery,
    )  # fmt: skip
    for event_id in new_ids:
        enqueue_after_commit(session, PROCESS_INBOUND, event_id, queue="inbound", **_PIPELINE_JOB)
    return new_ids


def find_contact(
    session: Session, *, business_id: int, integration_id: int, external_user_id: str
) -> Contact | None:
    """The contact a channel user (a phone number, a chat id, a widget visitor) is, if known."""
    return repo.find_contact_by_identity(
        session, business_id=business_id, integration_id=integration_id,
        external_user_id=external_user_id,
    )  # fmt: skip


def contact_for(
    session: Session, *, business_id: int, integration_id: int, external_user_id: str,
    name: str | None = None,
) -> Contact:  # fmt: skip
    """The channel user's contact, created with its identity on first contact; marked seen now."""
    contact, _ = _find_or_add_contact(
        session, business_id=business_id, integration_id=integration_id,
        external_user_id=external_user_id, name=name,
    )  # fmt: skip
    return contact


def _find_or_add_contact(
    session: Session, *, business_id: int, integration_id: int, external_user_id: str,
    name: str | None, first_attributes: dict[str, Any] | None = None,
) -> tuple[Contact, bool]:  # fmt: skip
    """contact_for, and whether the contact is new (created with `first_attributes`)."""
    now = utcnow()
    contact = repo.touch_contact_by_identity(
        session, business_id=business_id, integration_id=integration_id,
        external_user_id=external_user_id, seen_at=now,
    )  # fmt: skip
    if contact is None:
        contact = repo.add_contact_with_identity(
            session, business_id=business_id, integration_id=integration_id,
            external_user_id=external_user_id, name=name, last_seen_at=now,
            attributes=first_attributes or {},
        )  # fmt: skip
        return contact, True
    if name and not contact.name:
        contact.name = name
        session.add(contact)
    return contact, False


def _conversation_for(
    session: Session, *, business_id: int, integration_id: int, contact: Contact
) -> Conversation:
    """The contact's open conversation on the channel; a new one is announced once."""
    conversation, _ = _find_or_start_conversation(
        session, business_id=business_id, integration_id=integration_id, contact=contact
    )
    return conversation


def _find_or_start_conversation(
    session: Session, *, business_id: int, integration_id: int, contact: Contact,
    first_message_at: datetime | None = None, contact_is_new: bool = False,
) -> tuple[Conversation, bool]:  # fmt: skip
    """_conversation_for, and whether the conversation is new. A new one started by a customer's
    message (at `first_message_at`) counts that message in the same INSERT. A contact created
    in this transaction has no conversation to look for."""
    if not contact_is_new:
        conversation = repo.find_open_conversation(
            session, business_id=business_id, contact_id=contact.id, integration_id=integration_id
        )
        if conversation is not None:
            return conversation, False
    over_plan = _over_plan(session, business_id)
    first = {}
    if first_message_at is not None:
        first = {"last_message_at": first_message_at,
                 "last_customer_message_at": first_message_at, "unread_count": 1}  # fmt: skip
    conversation = repo.insert_conversation(
        session, business_id=business_id, contact_id=contact.id,
        channel_integration_id=integration_id, **first,
    )  # fmt: skip
    events.publish(session, "conversation.created", business_id=business_id,
                   conversation_id=conversation.id, contact_id=contact.id)  # fmt: skip
    if over_plan is not None:
        session.info.setdefault(_OVER_PLAN_KEY, set()).add(conversation.id)
        events.publish(session, "billing.limit_reached", business_id=business_id,
                       what="conversations", limit=over_plan.limit,
                       plan=over_plan.plan.name)  # fmt: skip
    return conversation, True


def _over_plan(session: Session, business_id: int) -> billing.PlanLimitReached | None:
    """Why the business may not start another AI conversation this month (None: it may)."""
    try:
        billing.check_limit(session, business_id=business_id, what="conversations")
    except billing.PlanLimitReached as reached:
        return reached
    return None


def _message_in(event: InboundEvent) -> MessageIn:
    data = dict(event.payload)
    return MessageIn(
        external_id=event.external_id,
        sender_id=event.sender_external_id or data.get("sender_id") or "unknown",
        text=data.get("text") or "",
        sender_name=data.get("sender_name"),
        content_type=data.get("content_type") or "text",
        attachments=data.get("attachments") or [],
        timestamp=event.provider_timestamp,
    )


def _problem_with(text: str, content_type: str) -> str | None:
    if content_type == "text" and not text.strip():
        return "Empty message: there is nothing to answer."
    if len(text) > MAX_TEXT_CHARS:
        return (
            f"Message too long ({len(text):,} characters): the first {MAX_TEXT_CHARS:,} were "
            "kept and the AI did not answer; an agent should reply."
        )
    return None


def record_incoming(
    session: Session, *, event: InboundEvent
) -> tuple[Conversation, Message | None]:
    """Find or create the contact and open conversation and store the message (once)."""
    _, conversation, message = _record_incoming(session, event=event)
    return conversation, message


def _record_incoming(
    session: Session, *, event: InboundEvent
) -> tuple[Contact, Conversation, Message | None]:
    incoming = _message_in(event)
    if event.kind == "unsupported":
        incoming = dataclasses.replace(
            incoming,
            content_type="unsupported",
            text=event.payload.get("description") or "Unsupported message type",
        )
    business_id, integration_id = event.business_id, event.channel_integration_id
    # A nameless new contact is created with its profile lookup's mark (see _after_incoming).
    mark = None if incoming.sender_name else _profile_mark(session, event)
    contact, new_contact = _find_or_add_contact(
        session, business_id=business_id, integration_id=integration_id,
        external_user_id=incoming.sender_id, name=incoming.sender_name,
        first_attributes={"profile_checked": mark} if mark else None,
    )  # fmt: skip
    if new_contact and mark == "pending":
        enqueue_after_commit(session, FETCH_PROFILE, contact.id, integration_id, queue="default")
    now = utcnow()
    conversation, new_conversation = _find_or_start_conversation(
        session, business_id=business_id, integration_id=integration_id, contact=contact,
        first_message_at=now, contact_is_new=new_contact,
    )  # fmt: skip
    problem = _problem_with(incoming.text, incoming.content_type)
    message = repo.insert_message(
        session,
        business_id=business_id,
        conversation_id=conversation.id,
        direction="inbound",
        sender_type="customer",
        text=incoming.text[:MAX_TEXT_CHARS],
        content_type=incoming.content_type,
        attachments=incoming.attachments,
        external_id=incoming.external_id[:255],
        inbound_event_id=event.id,
        delivery_status="received",
        error=problem,
        ai_sources=[],
        is_private_note=False,
        provider_timestamp=incoming.timestamp,
    )
    if message is None:  # This event's message was stored by an earlier run.
        if new_conversation:  # (and that conversation was closed since): nothing new in this one
            conversation.last_message_at = conversation.last_customer_message_at = None
            conversation.unread_count = 0
            session.add(conversation)
        return contact, conversation, None
    if not new_conversation:  # a new one counted the message when it was stored
        conversation.last_message_at = now
        conversation.last_customer_message_at = now
        conversation.unread_count += 1
        session.add(conversation)
        session.flush()
    events.publish(session, "message.created", business_id=business_id,
                   conversation_id=conversation.id, message_id=message.id,
                   sender_type="customer")  # fmt: skip
    return contact, conversation, message


def _engine_input(
    session: Session,
    conversation: Conversation,
    message: Message,
    *,
    tools: list[dict[str, Any]] | None = None,
) -> EngineInput:
    history = repo.recent_messages(
        session, business_id=conversation.business_id, conversation_id=conversation.id,
        before_id=message.id, limit=HISTORY_TURNS,
    )  # fmt: skip
    return EngineInput(
        business_id=conversation.business_id,
        message=message.text or "",
        history=[
            Turn(role=_ROLE.get(m.sender_type, "customer"), text=m.text)
            for m in history
            if m.text and m.sender_type in _ROLE
        ],
        summary=conversation.summary,
        conversation_language=conversation.language,
        ai_turns=conversation.ai_turns,
        now=message.provider_timestamp or utcnow(),
        tools=tools or [],
    )


def _fallback_decision(language: str | None) -> AIDecision:
    return AIDecision(
        action=Action.HANDOFF,
        text=_AI_ERROR_NOTICE,
        language=language or "en",
        confidence=0.0,
    )


def add_outbound(
    session: Session,
    *,
    conversation: Conversation,
    text: str,
    sender_type: str,
    sender_user_id: int | None = None,
    language: str | None = None,
    confidence: float | None = None,
    sources: list[int] | None = None,
    quick_replies: list[str] | None = None,
    answers: Message | None = None,
) -> Message:
    """Store a reply to the customer and queue it for sending on the conversation's channel.

    `answers`: the customer's message this replies to, which takes the reply's language."""
    conversation.last_message_at = utcnow()
    session.add(conversation)  # flushed as the reply is stored
    message, outbox_id = repo.insert_outbound(
        session,
        values={
            "business_id": conversation.business_id,
            "conversation_id": conversation.id,
            "direction": "outbound",
            "sender_type": sender_type,
            "sender_user_id": sender_user_id,
            "text": text,
            "language": language,
            "content_type": "text",
            "delivery_status": "queued",
            "is_private_note": False,
            "ai_confidence": confidence,
            "ai_sources": sources or [],
            "attachments": (
                [{"type": "quick_replies", "options": quick_replies}] if quick_replies else []
            ),
        },
        integration_id=conversation.channel_integration_id,
        answered=answers,
    )
    if outbox_id is not None:
        enqueue_after_commit(session, SEND_OUTBOUND, outbox_id, queue="outbound", **_PIPELINE_JOB)
    events.publish(session, "message.created", business_id=conversation.business_id,
                   conversation_id=conversation.id, message_id=message.id,
                   sender_type=sender_type)  # fmt: skip
    return message


def answer(
    session: Session, *, conversation: Conversation, message: Message, final_attempt: bool
) -> Message:
    """Ask the AI engine about `message`; store its reply and hand over when it decides so.

    A purchase intent is answered by commerce (an order and its payment link) instead of the
    engine; with an LLM, the engine may also call commerce's create_order tool, and commerce's
    reply is sent instead of the model's. On the last attempt an engine failure does not lose
    the customer: a person is called.
    """
    purchase = commerce_chat.purchase_reply(
        session, business_id=conversation.business_id, conversation_id=conversation.id,
        contact_id=conversation.contact_id, text=message.text or "",
        language=conversation.language,
    )  # fmt: skip
    if purchase is not None:
        reply = add_outbound(
            session, conversation=conversation, text=purchase.text, sender_type="ai",
            language=conversation.language, quick_replies=purchase.quick_replies or None,
        )  # fmt: skip
        conversation.ai_turns += 1
        session.add(conversation)
        session.flush()
        return reply
    # Only an LLM can call tools: offline, building the tool would cost queries for nothing.
    tool = (
        commerce_chat.order_tool(session, business_id=conversation.business_id)
        if llm.configured()
        else None
    )
    try:
        inp = _engine_input(session, conversation, message, tools=[tool] if tool else None)
        started = time.perf_counter()
        decision = engine.reply(session, inp=inp)
        answerer = "llm" if decision.used_llm else "offline"
        metrics.AI_REPLY_SECONDS.labels(answerer=answerer).observe(time.perf_counter() - started)
        metrics.AI_CONFIDENCE.observe(decision.confidence)
    except Exception:
        if not final_attempt:
            raise
        log.exception("AI engine failed on message %s; handing over", message.id)
        decision = _fallback_decision(conversation.language)
        reason = "ai_error"
    else:
        reason = decision.handoff_reason.value if decision.handoff_reason else None
    if decision.tool_call is not None and decision.tool_call.name == commerce_chat.ORDER_TOOL:
        purchase = commerce_chat.reply_to_tool_call(
            session, business_id=conversation.business_id, conversation_id=conversation.id,
            contact_id=conversation.contact_id, call=decision.tool_call,
            language=decision.language,
        )  # fmt: skip
        decision = dataclasses.replace(
            decision, text=purchase.text, quick_replies=purchase.quick_replies
        )
    # The conversation's changes first: add_outbound's flush writes them in one UPDATE.
    conversation.language = decision.language
    conversation.summary = decision.summary or conversation.summary
    conversation.ai_turns += 1
    reply = add_outbound(
        session, conversation=conversation, text=decision.text, sender_type="ai",
        language=decision.language, confidence=decision.confidence,
        sources=decision.source_chunk_ids, quick_replies=decision.quick_replies,
        answers=message,
    )  # fmt: skip
    if decision.action == Action.HANDOFF:
        conversation.status = "waiting_for_agent"
        session.add(
            Handoff(
                business_id=conversation.business_id,
                conversation_id=conversation.id,
                reason=reason or "low_confidence",
                requested_by="customer" if reason == "customer_request" else "ai",
            )
        )
        events.publish(session, "handoff.requested", business_id=conversation.business_id,
                       conversation_id=conversation.id, reason=reason)  # fmt: skip
    session.add(conversation)
    session.flush()
    events.publish(session, "conversation.updated", business_id=conversation.business_id,
                   conversation_id=conversation.id, status=conversation.status)  # fmt: skip
    return reply


def apply_status(session: Session, *, event: InboundEvent) -> bool:
    """Move one of our messages forward (sent → delivered → read), or mark it failed.

    A status can arrive before the send that caused it has stored the channel's message id:
    it is then parked (`unmatched`) and applied by `apply_unmatched_statuses` when the id is
    stored. Returns False when the status was parked.
    """
    data = event.payload
    external_id = str(data.get("message_external_id") or "")
    repo.lock_external_message_id(
        session, integration_id=event.channel_integration_id, external_id=external_id
    )
    message = repo.find_message_by_external_id(
        session, business_id=event.business_id, integration_id=event.channel_integration_id,
        external_id=external_id,
    )  # fmt: skip
    if message is None:
        return False
    _apply_status_to(session, message=message, data=data, business_id=event.business_id)
    return True


# A parked status older than this names a message BizBot did not send (e.g. from the phone app).
UNMATCHED_STATUS_WINDOW = timedelta(days=1)


def apply_unmatched_statuses(session: Session, *, message: Message, integration_id: int) -> int:
    """Apply statuses that arrived before `message`'s channel id was stored; how many."""
    if not message.external_id:
        return 0
    repo.lock_external_message_id(
        session, integration_id=integration_id, external_id=message.external_id
    )
    parked = repo.unmatched_statuses(
        session, business_id=message.business_id, integration_id=integration_id,
        external_id=message.external_id, since=utcnow() - UNMATCHED_STATUS_WINDOW,
    )  # fmt: skip
    for event in parked:
        _apply_status_to(
            session, message=message, data=event.payload, business_id=event.business_id
        )
        _finish(session, event)
    return len(parked)


def _apply_status_to(
    session: Session, *, message: Message, data: dict[str, Any], business_id: int
) -> None:
    status = data.get("status") or ""
    if status == "failed":
        message.delivery_status, message.error = "failed", data.get("error") or "failed"
    elif _STATUS_RANK.get(status, -1) > _STATUS_RANK.get(message.delivery_status, -1):
        message.delivery_status = status
    else:
        return
    session.add(message)
    events.publish(session, "message.updated", business_id=business_id,
                   conversation_id=message.conversation_id, message_id=message.id,
                   delivery_status=message.delivery_status,
                   content_type=message.content_type)  # fmt: skip


_RECORDED_KEY = "bizbot_recorded_messages"
# Conversations this job started beyond the plan's monthly limit (a person answers them).
_OVER_PLAN_KEY = "bizbot_over_plan"


def _needs_answer(conversation: Conversation, message: Message) -> bool:
    return (
        conversation.status == "ai"
        and message.error is None
        and message.content_type not in NOT_ANSWERED
    )


def _is_greeting(conversation: Conversation, message: Message) -> bool:
    return conversation.status == "ai" and message.content_type == "command"


def _finish(session: Session, event: InboundEvent) -> None:
    event.status = "done"
    event.processed_at = utcnow()
    event.last_error = None
    session.add(event)


def process_event(session: Session, *, event: InboundEvent, final_attempt: bool) -> bool:
    """Do the next step of one stored event (in the caller's transaction); True when finished.

    A customer message the AI should answer takes two steps, each committed on its own: it is
    stored and shown first (the event becomes `recorded`), then answered (`done`). Every
    other event is finished in one step.
    """
    if event.status == repo.RECORDED:
        answer_recorded(session, event=event, final_attempt=final_attempt)
        _finish(session, event)
        return True
    if event.kind == StatusUpdate.kind:
        if not apply_status(session, event=event):
            event.status = repo.UNMATCHED
            session.add(event)
            return True
    elif event.kind == Edit.kind:
        apply_edit(session, event=event)
    elif event.kind == Reaction.kind:
        record_reaction(session, event=event)
    elif event.kind == Echo.kind:
        record_echo(session, event=event)
    elif event.kind == Receipt.kind:
        apply_receipt(session, event=event)
    elif event.kind == "unsupported" and not event.sender_external_id:
        pass  # No customer to file it under (an account notice): the stored event is the record.
    elif event.kind in (MessageIn.kind, "unsupported"):
        contact, conversation, message = _record_incoming(session, event=event)
        if conversation.id in session.info.get(_OVER_PLAN_KEY, ()):
            # Over the plan's conversations this month: kept, and answered by a person.
            request_human(session, conversation=conversation, requested_by="ai",
                          reason=HandoffReason.PLAN_LIMIT)  # fmt: skip
        if message is not None:
            _after_incoming(session, event=event, contact=contact, message=message)
            # STOP / START answer for themselves: a confirmation, and no AI reply.
            keyword = optout.handle_keyword(
                session, business_id=event.business_id, contact_id=contact.id,
                text=message.text or "", language=conversation.language,
            )  # fmt: skip
            if keyword is not None:
                add_outbound(session, conversation=conversation, text=keyword.text,
                             sender_type="ai", language=keyword.language)  # fmt: skip
            elif _needs_answer(conversation, message) or _is_greeting(conversation, message):
                event.status, event.last_error = repo.RECORDED, None
                session.add(event)
                session.info.setdefault(_RECORDED_KEY, {})[event.id] = message
                return False
    _finish(session, event)
    return True


def answer_recorded(session: Session, *, event: InboundEvent, final_attempt: bool) -> None:
    """Answer the stored message of a `recorded` event, unless a person took over meanwhile."""
    # The job that stored the message still holds it: no need to read it again.
    message = session.info.get(_RECORDED_KEY, {}).pop(event.id, None)
    if message is None:
        message = repo.find_message_of_event(
            session, business_id=event.business_id, event_id=event.id
        )
    if message is None:
        return
    conversation = repo.lock_conversation(
        session, business_id=event.business_id, conversation_id=message.conversation_id
    )
    if conversation is None:
        return
    if _needs_answer(conversation, message):
        answer(session, conversation=conversation, message=message, final_attempt=final_attempt)
    elif _is_greeting(conversation, message):
        greet(session, conversation=conversation, message=message)


# --- channel events beyond new messages -----------------------------------------------------


def _after_incoming(
    session: Session, *, event: InboundEvent, contact: Contact, message: Message
) -> None:
    """Fetch the files a message carries (platform URLs expire) and the sender's name."""
    if any(media.pending(a) for a in message.attachments or []):
        enqueue_after_commit(session, DOWNLOAD_MEDIA, message.id, queue="default")
    attributes = contact.attributes or {}
    if contact.name or attributes.get("profile_checked"):
        return
    # Looked up once per nameless contact: the mark below skips it on their next messages. A
    # contact created by a message gets the mark when it is stored (_record_incoming).
    mark = _profile_mark(session, event)
    contact.attributes = {**attributes, "profile_checked": mark}
    session.add(contact)
    if mark == "pending":
        enqueue_after_commit(
            session, FETCH_PROFILE, contact.id, event.channel_integration_id, queue="default"
        )


def _profile_mark(session: Session, event: InboundEvent) -> str:
    """ "pending" when the event's channel can tell a sender's name (a job asks it), else
    "unsupported"."""
    kind = channels_repo.integration_kind(
        session, business_id=event.business_id, integration_id=event.channel_integration_id
    )
    try:
        adapter = registry.get_adapter(kind) if kind else None
    except registry.UnknownChannel:
        adapter = None
    return "pending" if adapter is not None and hasattr(adapter, "profile_name") else "unsupported"


def greet(session: Session, *, conversation: Conversation, message: Message) -> Message:
    """Answer a conversation-opening command (Telegram's /start) with the business's greeting."""
    rules = ai_service.rules_for(session, business_id=conversation.business_id)
    return add_outbound(
        session, conversation=conversation, text=rules.greeting or DEFAULT_GREETING,
        sender_type="ai", language=conversation.language,
    )  # fmt: skip


def apply_edit(session: Session, *, event: InboundEvent) -> None:
    """The customer edited (or deleted) a stored message: its text follows."""
    data = event.payload
    message = repo.find_inbound_message_by_ref(
        session, business_id=event.business_id, integration_id=event.channel_integration_id,
        sender=event.sender_external_id or "", ref=str(data.get("message_external_id") or ""),
    )  # fmt: skip
    if message is None:
        event.last_error = "the edited message is not stored (it may predate this channel)"
        return
    if data.get("deleted"):
        message.text, message.error = "", "The customer deleted this message."
    else:
        message.text = str(data.get("text") or "")[:MAX_TEXT_CHARS]
    session.add(message)
    events.publish(session, "message.updated", business_id=event.business_id,
                   conversation_id=message.conversation_id, message_id=message.id,
                   edited=True, deleted=bool(data.get("deleted")))  # fmt: skip


def _thread_of(session: Session, event: InboundEvent) -> Conversation:
    return open_conversation(
        session,
        business_id=event.business_id,
        integration_id=event.channel_integration_id,
        sender_id=event.sender_external_id or "unknown",
    )


def record_reaction(session: Session, *, event: InboundEvent) -> Message | None:
    """Store a customer's reaction as a small message of its own (never answered)."""
    data = event.payload
    conversation = _thread_of(session, event)
    target = repo.find_message_by_external_id(
        session, business_id=event.business_id, integration_id=event.channel_integration_id,
        external_id=str(data.get("message_external_id") or ""),
    )  # fmt: skip
    emoji = str(data.get("emoji") or "")
    message = repo.insert_message(
        session, business_id=event.business_id, conversation_id=conversation.id,
        direction="inbound", sender_type="customer",
        text=emoji or "Removed their reaction", content_type="reaction",
        attachments=[{"type": "reaction", "emoji": emoji,
                      "message_external_id": data.get("message_external_id"),
                      "message_id": target.id if target else None}],
        external_id=event.external_id[:255], inbound_event_id=event.id,
        delivery_status="received", error=None, ai_sources=[], is_private_note=False,
        provider_timestamp=event.provider_timestamp,
    )  # fmt: skip
    if message is None:
        return None
    conversation.last_message_at = utcnow()
    session.add(conversation)
    session.flush()
    events.publish(session, "message.created", business_id=event.business_id,
                   conversation_id=conversation.id, message_id=message.id,
                   sender_type="customer")  # fmt: skip
    return message


def record_echo(session: Session, *, event: InboundEvent) -> Message | None:
    """A message the business's account sent outside BizBot, stored as outbound (no answer).

    Echoes of BizBot's own sends (marked `bizbot:<id>`, or already known by their id) only
    confirm the channel's id of that message.
    """
    data = event.payload
    business_id, integration_id = event.business_id, event.channel_integration_id
    known = repo.find_message_by_external_id(
        session, business_id=business_id, integration_id=integration_id,
        external_id=event.external_id,
    )  # fmt: skip
    if known is not None:
        return None
    metadata = str(data.get("metadata") or "")
    if metadata.startswith("bizbot:") and metadata[7:].isdigit():
        own = repo.get_message(session, business_id=business_id, message_id=int(metadata[7:]))
        if own is not None:
            if not own.external_id:
                own.external_id = event.external_id[:255]
                session.add(own)
            return None
    conversation = _thread_of(session, event)
    message = repo.insert_message(
        session, business_id=business_id, conversation_id=conversation.id,
        direction="outbound", sender_type="agent", text=str(data.get("text") or ""),
        content_type=str(data.get("content_type") or "text"),
        attachments=list(data.get("attachments") or []),
        external_id=event.external_id[:255], inbound_event_id=event.id,
        delivery_status="sent", error=None, ai_sources=[], is_private_note=False,
        provider_timestamp=event.provider_timestamp,
    )  # fmt: skip
    if message is None:
        return None
    conversation.last_message_at = utcnow()
    session.add(conversation)
    session.flush()
    events.publish(session, "message.created", business_id=business_id,
                   conversation_id=conversation.id, message_id=message.id,
                   sender_type="agent")  # fmt: skip
    return message


def _advance(session: Session, message: Message, status: str) -> bool:
    if _STATUS_RANK.get(status, -1) <= _STATUS_RANK.get(message.delivery_status, -1):
        return False
    message.delivery_status = status
    session.add(message)
    events.publish(session, "message.updated", business_id=message.business_id,
                   conversation_id=message.conversation_id, message_id=message.id,
                   delivery_status=status, content_type=message.content_type)  # fmt: skip
    return True


def apply_receipt(session: Session, *, event: InboundEvent) -> int:
    """Delivered/read receipts: the named messages, or all ours before the watermark, move on."""
    data = event.payload
    status = str(data.get("status") or "")
    business_id, integration_id = event.business_id, event.channel_integration_id
    moved = 0
    for external_id in data.get("message_external_ids") or []:
        message = repo.find_message_by_external_id(
            session, business_id=business_id, integration_id=integration_id,
            external_id=str(external_id),
        )  # fmt: skip
        if message is not None and message.direction == "outbound":
            moved += _advance(session, message, status)
    if data.get("watermark") and event.sender_external_id:
        contact = find_contact(
            session, business_id=business_id, integration_id=integration_id,
            external_user_id=event.sender_external_id,
        )  # fmt: skip
        if contact is not None:
            until = datetime.fromisoformat(str(data["watermark"]))
            for message in repo.outbound_messages_until(
                session, business_id=business_id, integration_id=integration_id,
                contact_id=contact.id, until=until,
            ):  # fmt: skip
                moved += _advance(session, message, status)
    return moved


def mark_failed(session: Session, *, event_id: int, error: str, final: bool) -> None:
    """Record why processing an event failed; `final` stops the sweep from retrying it."""
    event = repo.get_event_for_job(session, event_id=event_id)
    if event is None or event.status == "done":
        return
    event.last_error = error[:2000]
    if final:
        event.status = "failed"
    elif event.status != repo.RECORDED:  # a stored message keeps its place: only its answer waits
        event.status = "pending"
    session.add(event)


def stale_work(
    session: Session, *, older_than: datetime, max_attempts: int
) -> tuple[list[int], list[int]]:
    """Events and outbox rows stored but not finished since `older_than` (for the sweep)."""
    return (
        repo.stale_event_ids(session, older_than=older_than, max_attempts=max_attempts, limit=500),
        repo.stale_outbox_ids(session, older_than=older_than, limit=500),
    )


class NotResolved(ValueError):
    """A rating was given for a conversation that is not resolved yet."""


class InvalidRating(ValueError):
    """A CSAT score outside 1-5, or a comment that is too long."""


MAX_CSAT_COMMENT = 2000


def request_human(
    session: Session,
    *,
    conversation: Conversation,
    requested_by: str = "customer",
    reason: str = "customer_request",
) -> bool:
    """Stop the AI and call a person; the customer is told in their language.

    Returns False when a person is already called or in charge (nothing changes then).
    """
    if conversation.status in ("waiting_for_agent", "human"):
        return False
    conversation.status = "waiting_for_agent"
    session.add(
        Handoff(
            business_id=conversation.business_id,
            conversation_id=conversation.id,
            reason=reason,
            requested_by=requested_by,
        )
    )
    add_outbound(
        session, conversation=conversation, text=ai_service.handoff_notice(conversation.language),
        sender_type="system", language=conversation.language,
    )  # fmt: skip
    session.add(conversation)
    session.flush()
    events.publish(session, "handoff.requested", business_id=conversation.business_id,
                   conversation_id=conversation.id, reason=reason)  # fmt: skip
    events.publish(session, "conversation.updated", business_id=conversation.business_id,
                   conversation_id=conversation.id, status=conversation.status)  # fmt: skip
    return True


def resolve(session: Session, *, conversation: Conversation) -> None:
    """Close a conversation; the customer's next message starts a new one."""
    if conversation.status == "resolved":
        return
    now = utcnow()
    conversation.status, conversation.resolved_at = "resolved", now
    for handoff in repo.open_handoffs(
        session, business_id=conversation.business_id, conversation_id=conversation.id
    ):
        handoff.closed_at = now
        session.add(handoff)
    session.add(conversation)
    session.flush()
    events.publish(session, "conversation.updated", business_id=conversation.business_id,
                   conversation_id=conversation.id, status=conversation.status)  # fmt: skip


def rate(session: Session, *, conversation: Conversation, score: int, comment: str | None) -> None:
    """Store the customer's satisfaction rating (CSAT, 1-5) of a resolved conversation."""
    if conversation.status != "resolved":
        raise NotResolved("Conversations can be rated once they are resolved.")
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise InvalidRating("score must be a whole number from 1 to 5.")
    comment = (comment or "").strip() or None
    if comment and len(comment) > MAX_CSAT_COMMENT:
        raise InvalidRating(f"comment is longer than {MAX_CSAT_COMMENT} characters; shorten it.")
    conversation.csat_score, conversation.csat_comment = score, comment
    session.add(conversation)
    session.flush()
    events.publish(session, "conversation.rated", business_id=conversation.business_id,
                   conversation_id=conversation.id, score=score)  # fmt: skip
    events.publish(session, "conversation.updated", business_id=conversation.business_id,
                   conversation_id=conversation.id, status=conversation.status)  # fmt: skip


def open_conversation(
    session: Session, *, business_id: int, integration_id: int, sender_id: str,
    name: str | None = None,
) -> Conversation:  # fmt: skip
    """The sender's open conversation on a channel, started (with its contact) when none is."""
    contact = contact_for(
        session, business_id=business_id, integration_id=integration_id,
        external_user_id=sender_id, name=name,
    )  # fmt: skip
    return _conversation_for(
        session, business_id=business_id, integration_id=integration_id, contact=contact
    )


# --- admin: the latest messages, replays ------------------------------------------------------


def latest_messages(session: Session, *, business_id: int, limit: int = 20) -> list[dict[str, Any]]:
    """The business's newest messages (newest first) with their channel ids and delivery status."""
    return [
        {
            "id": m.id,
            "conversation_id": m.conversation_id,
            "direction": m.direction,
            "sender_type": m.sender_type,
            "content_type": m.content_type,
            "text": m.text,
            "external_id": m.external_id,
            "delivery_status": m.delivery_status,
            "error": m.error,
            "attachments": m.attachments,
            "created_at": m.created_at.isoformat() if m.created_at else None,
        }
        for m in repo.latest_messages(session, business_id=business_id, limit=limit)
    ]


class NothingToReplay(LookupError):
    """A replay names an event or a stored webhook body that does not exist."""


def replay_event(session: Session, *, event_id: int) -> InboundEvent:
    """Make a stored event pending again (attempts reset); the caller runs or enqueues its job."""
    event = repo.reset_event(session, event_id=event_id)
    if event is None:
        raise NothingToReplay(f"there is no inbound event {event_id}")
    return event


def replay_delivery(session: Session, *, delivery_id: int) -> dict[str, Any]:
    """Parse a kept webhook body again and store what it holds (duplicates stay ignored)."""
    delivery = channels_repo.get_delivery_for_replay(session, delivery_id=delivery_id)
    if delivery is None:
        raise NothingToReplay(f"there is no stored webhook body {delivery_id} (kept 30 days)")
    integration = channels_repo.find_integration_for_webhook(
        session, integration_id=delivery.channel_integration_id
    )
    from backend.channels.service import to_config

    cfg = to_config(integration)
    events_in = registry.get_adapter(cfg.kind).parse(bytes(delivery.body), cfg)
    new_ids = receive(session, cfg=cfg, events_in=events_in)
    return {"delivery_id": delivery_id, "events": len(events_in), "new_event_ids": new_ids}


# --- files: agents' attachments out, customers' files shown -----------------------------------

OUTBOUND_FILE_TYPES = ("image", "audio", "video", "document")


class AttachmentNotFound(LookupError):
    """No such stored file on a message of this business."""


def add_outbound_file(
    session: Session,
    *,
    conversation: Conversation,
    kind: str,
    file: MediaFile | None = None,
    url: str | None = None,
    caption: str = "",
    sender_type: str = "agent",
    sender_user_id: int | None = None,
) -> Message:
    """Send a file to the customer (an upload kept under DATA_DIR/media, or a public URL).

    Raises MediaError when the file breaks MEDIA_MAX_MB / MEDIA_ALLOWED_TYPES or neither is given.
    """
    if kind not in OUTBOUND_FILE_TYPES:
        raise MediaError(f"attachments are {', '.join(OUTBOUND_FILE_TYPES)}, not {kind!r}")
    if file is not None:
        name = f"out-{conversation.id}-{utcnow().strftime('%Y%m%d%H%M%S%f')}"
        stored = media.store(business_id=conversation.business_id, name=name, file=file)
        attachment = {"type": kind, "status": "stored", **stored}
    elif url and url.startswith(("https://", "http://")):
        attachment = {"type": kind, "url": url, "status": "link"}
    else:
        raise MediaError("attach a file, or give an http(s) URL of one")
    message = add_outbound(
        session, conversation=conversation, text=caption, sender_type=sender_type,
        sender_user_id=sender_user_id,
    )  # fmt: skip
    message.content_type = kind
    message.attachments = [attachment]
    session.add(message)
    session.flush()
    return message


def attachment_file(
    session: Session, *, business_id: int, message_id: int, index: int
) -> tuple[Path, str, str | None]:
    """A stored file of one of the business's messages: its path, type and original name."""
    message = repo.get_message(session, business_id=business_id, message_id=message_id)
    attachments = message.attachments if message is not None else []
    if not 0 <= index < len(attachments) or not attachments[index].get("path"):
        raise AttachmentNotFound(f"message {message_id} has no stored file {index}")
    found = attachments[index]
    try:
        path = media.resolve(business_id, str(found["path"]))
    except MediaError:
        raise AttachmentNotFound(f"the file of message {message_id} is gone") from None
    return path, str(found.get("mime_type") or "application/octet-stream"), found.get("filename")
