"""RQ jobs of the pipeline: process an inbound event, send an outbox row, sweep what was dropped."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel import Session

import backend.live  # noqa: F401  (registers the live-push listener in worker processes)
from backend import events
from backend.channels import registry
from backend.channels import repository as channels_repo
from backend.channels.base import OutboundMessage, SendResult
from backend.channels.service import to_config
from backend.conversations import repository as repo
from backend.conversations import service
from backend.core.db import session_scope
from backend.core.queue import enqueue
from backend.knowledge import service as knowledge
from backend.models.base import utcnow
from backend.models.channels import ChannelIntegration
from backend.models.conversations import Conversation

log = logging.getLogger(__name__)

# One first try plus the queue's retries; after this many an event is failed for good.
MAX_ATTEMPTS = 4
MAX_SEND_ATTEMPTS = 5
_SEND_BACKOFF = (5, 30, 120, 600)
# An event or outbox row untouched this long is assumed dropped (worker killed, Redis lost).
STALE_AFTER = timedelta(seconds=60)


class EventNotFound(LookupError):
    """A job names an inbound event that does not exist."""


class SendFailed(RuntimeError):
    """A channel refused or failed to take a message; the job is retried with backoff."""


def process_inbound(event_id: int) -> str:
    """Process one stored event, and any earlier unfinished ones of the same sender first.

    A per-sender advisory lock orders work across workers; a run for an event already done
    stores nothing. Returns the event's final status.
    """
    with session_scope() as session:
        event = repo.get_event_for_job(session, event_id=event_id)
        if event is None:
            raise EventNotFound(f"inbound event {event_id} does not exist")
        if event.status in ("done", "failed"):
            return event.status
        attempt = repo.count_attempt(session, event_id=event_id)
    try:
        with session_scope() as session:
            event = repo.get_event_for_job(session, event_id=event_id)
            if event.sender_external_id:
                repo.lock_sender(
                    session,
                    integration_id=event.channel_integration_id,
                    sender=event.sender_external_id,
                )
                queue = repo.unfinished_events_of_sender(
                    session, business_id=event.business_id,
                    integration_id=event.channel_integration_id, sender=event.sender_external_id,
                )  # fmt: skip
            else:
                queue = [event]
            session.refresh(event)
            if event.status in ("done", "failed"):
                return event.status
            # Earlier messages of this sender first, then this one; later ones wait their job.
            for earlier in queue:
                service.process_event(session, event=earlier, final_attempt=attempt >= MAX_ATTEMPTS)
                if earlier.id == event_id:
                    break
            return "done"
    except Exception as exc:
        final = attempt >= MAX_ATTEMPTS
        with session_scope() as session:
            service.mark_failed(
                session, event_id=event_id, error=f"{type(exc).__name__}: {exc}", final=final
            )
        raise


def _deliver(
    session: Session, integration: ChannelIntegration, conversation: Conversation, message
) -> SendResult:
    """Hand the message to its channel's adapter; every failure becomes a SendResult."""
    identity = repo.find_identity_of_contact(
        session, business_id=conversation.business_id, contact_id=conversation.contact_id,
        integration_id=integration.id,
    )  # fmt: skip
    if identity is None:
        return SendResult(error="the contact has no identity on this channel", retryable=False)
    quick_replies = next(
        (a.get("options", []) for a in message.attachments if a.get("type") == "quick_replies"), []
    )
    outbound = OutboundMessage(
        message_id=message.id, conversation_id=conversation.id,
        recipient_id=identity.external_user_id, text=message.text or "",
        quick_replies=quick_replies,
    )  # fmt: skip
    try:
        return registry.get_adapter(integration.kind).send(outbound, to_config(integration))
    except registry.UnknownChannel as exc:
        return SendResult(error=str(exc), retryable=False)
    except Exception as exc:  # A crashing adapter is a failed send, retried like one.
        log.exception("adapter %s failed sending message %s", integration.kind, message.id)
        return SendResult(error=f"{type(exc).__name__}: {exc}", retryable=True)


def send_outbound(outbox_id: int) -> str:
    """Send one queued reply on its channel; failures are recorded and retried with backoff."""
    retry_error: str | None = None
    with session_scope() as session:
        outbox = repo.get_outbox_for_job(session, outbox_id=outbox_id)
        if outbox is None or outbox.status in ("sent", "failed"):
            return outbox.status if outbox else "busy"
        business_id = outbox.business_id
        message = repo.get_message(session, business_id=business_id, message_id=outbox.message_id)
        conversation = repo.get_conversation(
            session, business_id=business_id, conversation_id=message.conversation_id
        )
        integration = channels_repo.find_integration_for_webhook(
            session, integration_id=outbox.channel_integration_id
        )
        outbox.attempts += 1
        result = _deliver(session, integration, conversation, message)
        if result.error is None:
            outbox.status, outbox.sent_at = "sent", utcnow()
            outbox.external_id = message.external_id = result.external_id
            message.delivery_status, message.error = "sent", None
        else:
            outbox.last_error = result.error[:2000]
            if not result.retryable or outbox.attempts >= MAX_SEND_ATTEMPTS:
                outbox.status = "failed"
                message.delivery_status, message.error = "failed", result.error[:2000]
            else:
                backoff = _SEND_BACKOFF[min(outbox.attempts, len(_SEND_BACKOFF)) - 1]
                outbox.status, outbox.next_attempt_at = (
                    "pending",
                    utcnow() + timedelta(seconds=backoff),
                )
                retry_error = result.error
        session.add(outbox)
        session.add(message)
        events.publish(session, "message.updated", business_id=business_id,
                       conversation_id=conversation.id, message_id=message.id,
                       delivery_status=message.delivery_status)  # fmt: skip
        status = outbox.status
    if retry_error is not None:
        raise SendFailed(retry_error)
    return status


def sweep() -> dict[str, int]:
    """Re-enqueue events and replies that were stored but never finished (run periodically)."""
    with session_scope() as session:
        event_ids, outbox_ids = service.stale_work(
            session, older_than=utcnow() - STALE_AFTER, max_attempts=MAX_ATTEMPTS
        )
    for event_id in event_ids:
        enqueue(process_inbound, event_id, queue="inbound")
    for outbox_id in outbox_ids:
        enqueue(send_outbound, outbox_id, queue="outbound")
    with session_scope() as session:
        sources = knowledge.enqueue_pending(session)
    if event_ids or outbox_ids or sources:
        log.info("sweep re-enqueued %d events, %d replies, %d knowledge sources",
                 len(event_ids), len(outbox_ids), sources)  # fmt: skip
    return {"events": len(event_ids), "replies": len(outbox_ids), "knowledge_sources": sources}
