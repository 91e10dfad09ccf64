"""RQ jobs of the pipeline: process an inbound event, send an outbox row, sweep what was dropped."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlmodel import Session

from backend import events
from backend.channels import media, registry
from backend.channels import repository as channels_repo
from backend.channels.base import MediaError, OutboundMessage, SendResult
from backend.channels.service import to_config
from backend.conversations import repository as repo
from backend.conversations import service
from backend.core import logs
from backend.core.db import get_engine, session_scope
from backend.core.queue import enqueue, get_queue
from backend.core.redis import get_redis
from backend.knowledge import service as knowledge
from backend.knowledge import tasks as knowledge_tasks
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


@contextmanager
def _job_session() -> Iterator[Session]:
    """One connection for a whole job (several commits), returned clean even after a failure."""
    with get_engine().connect() as conn:
        session = Session(bind=conn, expire_on_commit=False)
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


@contextmanager
def _outside_transaction(session: Session) -> Iterator[None]:
    """Each statement in the block is a transaction of its own: one round trip to PostgreSQL,
    without the BEGIN and COMMIT of a transaction around a single statement."""
    conn = session.connection()
    session.commit()  # nothing is open; the job's connection is now idle
    conn.execution_options(isolation_level="AUTOCOMMIT")
    try:
        yield
        session.commit()
    finally:
        conn.execution_options(isolation_level=conn.default_isolation_level)


def process_inbound(event_id: int) -> str:
    """Process one stored event, and any earlier unfinished ones of the same sender first.

    A per-sender advisory lock, held for the whole job, orders work across workers. Each step
    commits on its own: a customer's message is stored and shown before it is answered, and a
    run for an event already done (or a step already committed) stores nothing twice. Returns
    the event's final status.
    """
    with _job_session() as session:
        with _outside_transaction(session):  # the attempt counts even if the job dies
            started = repo.start_attempt(session, event_id=event_id)
        if started is None:
            status = repo.event_status(session, event_id=event_id)
            if status is None:
                raise EventNotFound(f"inbound event {event_id} does not exist")
            return status
        attempt, business_id, integration_id, sender = started
        logs.bind(business_id=business_id, event_id=event_id)  # on every line of this job
        final = attempt >= MAX_ATTEMPTS
        locked = False
        try:
            if sender:
                repo.lock_sender(session, integration_id=integration_id, sender=sender)
                locked = True
                queue = repo.unfinished_events_of_sender(
                    session, business_id=business_id, integration_id=integration_id,
                    sender=sender,
                )  # fmt: skip
            else:
                event = repo.get_event_for_job(session, event_id=event_id)
                queue = [event] if event.status in repo.UNFINISHED else []
            if not any(e.id == event_id for e in queue):  # finished meanwhile (another worker)
                return repo.event_status(session, event_id=event_id)
            # Earlier messages of this sender first, then this one; later ones wait their job.
            # No other worker touches this sender's events while the lock is held, so the
            # queue read once stays true across the commits.
            for earlier in queue:
                while not service.process_event(session, event=earlier, final_attempt=final):
                    session.commit()
                session.commit()
                if earlier.id == event_id:
                    return earlier.status
            return repo.event_status(session, event_id=event_id)
        except Exception as exc:
            session.rollback()
            with session_scope() as other:
                service.mark_failed(
                    other, event_id=event_id, error=f"{type(exc).__name__}: {exc}", final=final
                )
            raise
        finally:
            if locked:
                _unlock(session, integration_id=integration_id, sender=sender)


def _unlock(session: Session, *, integration_id: int, sender: str) -> None:
    """Release the sender's lock; a connection that cannot is dropped (and its locks with it)."""
    try:
        session.rollback()
        with _outside_transaction(session):
            repo.unlock_sender(session, integration_id=integration_id, sender=sender)
    except Exception:
        log.exception("could not release the lock of sender %s; dropping the connection", sender)
        session.connection().invalidate()


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
    template = next((a for a in message.attachments if a.get("type") == "template"), None)
    files = [a for a in message.attachments if a.get("type") not in ("quick_replies", "template")]
    outbound = OutboundMessage(
        message_id=message.id, conversation_id=conversation.id,
        recipient_id=identity.external_user_id, text=message.text or "",
        quick_replies=quick_replies, attachments=files, sender_type=message.sender_type,
        customer_last_message_at=conversation.last_customer_message_at, template=template,
    )  # fmt: skip
    try:
        return registry.get_adapter(integration.kind).send(outbound, to_config(integration))
    except registry.UnknownChannel as exc:
        return SendResult(error=str(exc), retryable=False)
    except Exception as exc:  # A crashing adapter is a failed send, retried like one.
        log.exception("adapter %s failed sending message %s", integration.kind, message.id)
        return SendResult(error=f"{type(exc).__name__}: {exc}", retryable=True)


def _hold_key(integration_id: int) -> str:
    return f"bizbot:channel-hold:{integration_id}"


def hold_remaining(integration_id: int) -> float:
    """Seconds a channel asked BizBot to wait before sending again (0 when none)."""
    ttl = get_redis().pttl(_hold_key(integration_id))
    return max(ttl, 0) / 1000


def _hold(integration_id: int, seconds: float) -> None:
    get_redis().set(_hold_key(integration_id), "1", px=max(int(seconds * 1000), 1))


def _send_later(outbox_id: int, seconds: float) -> None:
    get_queue("outbound").enqueue_in(
        timedelta(seconds=max(seconds, 0.5)), send_outbound, outbox_id, retry=None
    )


def send_outbound(outbox_id: int) -> str:
    """Send one queued reply on its channel; failures are recorded and retried with backoff.

    When a channel rate-limits BizBot (Telegram's 429 `retry_after`), nothing is sent on that
    channel until the wait is over; the reply is sent again right after it.
    """
    retry_error: str | None = None
    wait: float | None = None
    with session_scope() as session:
        outbox = repo.get_outbox_for_job(session, outbox_id=outbox_id)
        if outbox is None or outbox.status in ("sent", "failed"):
            return outbox.status if outbox else "busy"
        held = hold_remaining(outbox.channel_integration_id)
        if held > 0:
            wait = held
            status = outbox.status
        else:
            status, retry_error, wait = _send_now(session, outbox)
    if wait is not None:
        _send_later(outbox_id, wait)
        return status
    if retry_error is not None:
        raise SendFailed(retry_error)
    return status


def _send_now(session: Session, outbox) -> tuple[str, str | None, float | None]:
    """One attempt; (outbox status, error to retry with, seconds the channel asked to wait)."""
    retry_error: str | None = None
    wait: float | None = None
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
        # Statuses the channel sent before this id was stored (a fast "delivered") apply now.
        service.apply_unmatched_statuses(session, message=message, integration_id=integration.id)
    else:
        outbox.last_error = result.error[:2000]
        if not result.retryable or outbox.attempts >= MAX_SEND_ATTEMPTS:
            outbox.status = "failed"
            message.delivery_status, message.error = "failed", result.error[:2000]
        elif result.retry_after is not None:
            wait = float(result.retry_after)
            _hold(integration.id, wait)
            outbox.status = "pending"
            outbox.next_attempt_at = utcnow() + timedelta(seconds=wait)
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
                   delivery_status=message.delivery_status,
                   content_type=message.content_type)  # fmt: skip
    status = outbox.status
    return status, retry_error, wait


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
    with session_scope() as session:
        knowledge_tasks.refresh_search_statistics(session)  # after imports by single-entry jobs
    if event_ids or outbox_ids or sources:
        log.info("sweep re-enqueued %d events, %d replies, %d knowledge sources",
                 len(event_ids), len(outbox_ids), sources)  # fmt: skip
    return {"events": len(event_ids), "replies": len(outbox_ids), "knowledge_sources": sources}


# --- inbound media and profiles ----------------------------------------------------------------


class MessageNotFound(LookupError):
    """A job names a message that does not exist."""


class MediaDownloadFailed(RuntimeError):
    """A customer's file could not be fetched yet; the job is retried with backoff."""


def _media_job_input(message_id: int):
    with session_scope() as session:
        message = repo.get_message_for_job(session, message_id=message_id)
        if message is None:
            raise MessageNotFound(f"message {message_id} does not exist")
        conversation = repo.get_conversation(
            session, business_id=message.business_id, conversation_id=message.conversation_id
        )
        integration = (
            channels_repo.find_integration_for_webhook(
                session, integration_id=conversation.channel_integration_id
            )
            if conversation and conversation.channel_integration_id
            else None
        )
        cfg = to_config(integration) if integration is not None else None
        return message.business_id, list(message.attachments or []), cfg


def download_media(message_id: int) -> str:
    """Fetch a customer message's files (within MEDIA_MAX_MB and MEDIA_ALLOWED_TYPES) into
    DATA_DIR/media and record each one's path, or why it could not be kept."""
    business_id, attachments, cfg = _media_job_input(message_id)
    results: dict[int, dict] = {}
    retry: str | None = None
    for index, attachment in enumerate(attachments):
        if not media.pending(attachment):
            continue
        if cfg is None:
            results[index] = {"status": "failed", "error": "the channel was disconnected"}
            continue
        adapter = registry.get_adapter(cfg.kind)
        try:
            if not hasattr(adapter, "download"):
                raise MediaError(f"{cfg.kind} files cannot be downloaded")
            file = adapter.download(attachment, cfg, max_bytes=media.max_bytes())
            stored = media.store(business_id=business_id, name=f"{message_id}-{index}", file=file)
            results[index] = {"status": "stored", "error": None, **stored}
        except MediaError as exc:
            if exc.retryable:
                retry = str(exc)
                results[index] = {"error": str(exc)}  # still pending: the retry tries again
            else:
                results[index] = {"status": "failed", "error": str(exc)}
    if results:
        with session_scope() as session:
            message = repo.lock_message(session, business_id=business_id, message_id=message_id)
            merged = [dict(a) for a in message.attachments or []]
            for index, change in results.items():
                if index < len(merged):
                    merged[index] = {k: v for k, v in {**merged[index], **change}.items()
                                     if v is not None}  # fmt: skip
            message.attachments = merged  # a new list: JSONB columns do not track changes in place
            session.add(message)
            events.publish(session, "message.updated", business_id=business_id,
                           conversation_id=message.conversation_id, message_id=message.id,
                           attachments=True)  # fmt: skip
    if retry is not None:
        raise MediaDownloadFailed(retry)
    stored = sum(1 for r in results.values() if r.get("status") == "stored")
    return f"{stored} stored, {len(results) - stored} not"


def fetch_profile(contact_id: int, integration_id: int) -> str | None:
    """Ask the channel for a new contact's name (Meta's webhooks carry only an id)."""
    with session_scope() as session:
        contact = repo.get_contact_for_job(session, contact_id=contact_id)
        integration = channels_repo.find_integration_for_webhook(
            session, integration_id=integration_id
        )
        if contact is None or integration is None or contact.name:
            return contact.name if contact else None
        identity = repo.find_identity_of_contact(
            session, business_id=contact.business_id, contact_id=contact_id,
            integration_id=integration_id,
        )  # fmt: skip
        cfg = to_config(integration)
    adapter = registry.get_adapter(cfg.kind)
    name = None
    if identity is not None and hasattr(adapter, "profile_name"):
        try:
            name = adapter.profile_name(identity.external_user_id, cfg)
        except Exception:  # A profile is a nicety: never fail the pipeline over it.
            log.warning("profile lookup failed for contact %s", contact_id, exc_info=True)
    with session_scope() as session:
        contact = repo.get_contact_for_job(session, contact_id=contact_id)
        if contact is None:
            return None
        contact.attributes = {**(contact.attributes or {}), "profile_checked": utcnow().isoformat()}
        if name and not contact.name:
            contact.name = name[:120]
        session.add(contact)
        if name:
            events.publish(session, "contact.updated", business_id=contact.business_id,
                           contact_id=contact.id)  # fmt: skip
    return name
