"""Privacy: export everything BizBot holds about a contact, erase it, and purge old conversations.

Export and erasure are for owners and admins, scoped to their business, and audited
("contact.exported", "contact.erased"). Erasure redacts rather than deletes where the business
must keep records: messages stay as "[erased]" (so conversation counts and reports hold),
orders stay for accounting without their customer; leads, channel ids and files go.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlmodel import Session

from backend import events
from backend.auth.permissions import Actor, Permission
from backend.channels import media
from backend.channels.base import MediaError
from backend.core.queue import enqueue_after_commit
from backend.models.base import utcnow
from backend.privacy import repository as repo
from backend.privacy.schemas import (
    ERASED,
    MAX_RETENTION_DAYS,
    ContactMatch,
    ContactNotFound,
    ErasureSummary,
    PrivacyError,
    PurgeResult,
    RetentionView,
)
from backend.security import service as security

log = logging.getLogger(__name__)

DELETE_FILES = "backend.privacy.tasks.delete_files"
PURGE_BATCH = 200
# Identifiers shorter than this are not searched for inside free text (too many false hits).
_MIN_NEEDLE = 3
# Columns never exported: derived data with no meaning outside the database.
_SKIP = {"search_vector"}


def _require(actor: Actor) -> None:
    # Owners and admins: the roles that manage members also answer data-subject requests.
    actor.require(Permission.MEMBERS_MANAGE)


def _plain(value: Any) -> Any:
    """A JSON-serialisable copy of a column value."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _row(row: Any, *, skip: set[str] = frozenset()) -> dict[str, Any]:
    data = row.model_dump()
    return {k: _plain(v) for k, v in data.items() if k not in _SKIP and k not in skip}


def _contact(session: Session, actor: Actor, contact_id: int):
    contact = repo.get_contact(session, business_id=actor.business_id, contact_id=contact_id)
    if contact is None:
        raise ContactNotFound(f"No contact {contact_id} in this business.")
    return contact


def search_contacts(
    session: Session, *, actor: Actor, query: str, limit: int = 20
) -> list[ContactMatch]:
    """Contacts matching a name, email, phone or id (owners and admins)."""
    _require(actor)
    rows = repo.search_contacts(
        session, business_id=actor.business_id, query=(query or "")[:200],
        limit=max(1, min(limit, 100)),
    )  # fmt: skip
    return [
        ContactMatch(
            id=c.id,
            name=c.name,
            email=c.email,
            phone=c.phone,
            conversations=count,
            created_at=c.created_at,
            erased="erased_at" in (c.attributes or {}),
        )
        for c, count in rows
    ]


def export_contact(
    session: Session, *, actor: Actor, contact_id: int, ip: str | None = None
) -> dict[str, Any]:
    """Everything BizBot holds about one contact, as JSON-serialisable data (audited)."""
    _require(actor)
    business_id = actor.business_id
    contact = _contact(session, actor, contact_id)
    conversations = repo.conversations_of(session, business_id=business_id, contact_id=contact_id)
    conversation_ids = [c.id for c in conversations]
    messages = repo.messages_of(session, business_id=business_id, conversation_ids=conversation_ids)
    handoffs = repo.handoffs_of(session, business_id=business_id, conversation_ids=conversation_ids)
    by_conversation: dict[int, list[dict]] = {}
    for message in messages:
        by_conversation.setdefault(message.conversation_id, []).append(_row(message))
    notes: dict[int, list[dict]] = {}
    for handoff in handoffs:
        notes.setdefault(handoff.conversation_id, []).append(_row(handoff))
    orders = repo.orders_of(session, business_id=business_id, contact_id=contact_id)
    order_ids = [o.id for o in orders]
    items: dict[int, list[dict]] = {}
    for item in repo.items_of(session, business_id=business_id, order_ids=order_ids):
        items.setdefault(item.order_id, []).append(_row(item))
    payments: dict[int, list[dict]] = {}
    for payment in repo.payments_of(session, business_id=business_id, order_ids=order_ids):
        payments.setdefault(payment.order_id, []).append(_row(payment))
    leads = repo.leads_of(
        session, business_id=business_id, contact_id=contact_id, conversation_ids=conversation_ids
    )
    export = {
        "format": "bizbot.contact-export.v1",
        "exported_at": utcnow().isoformat(),
        "business_id": business_id,
        "contact": _row(contact),
        "channel_identities": [
            {**_row(identity), "channel_kind": kind}
            for identity, kind in repo.identities_of(
                session, business_id=business_id, contact_id=contact_id
            )
        ],
        "conversations": [
            {
                **_row(c),
                "messages": by_conversation.get(c.id, []),
                "handoffs": notes.get(c.id, []),
            }
            for c in conversations
        ],
        "leads": [_row(lead) for lead in leads],
        "orders": [
            {**_row(o), "items": items.get(o.id, []), "payments": payments.get(o.id, [])}
            for o in orders
        ],
    }
    security.record(
        session,
        business_id=business_id,
        action="contact.exported",
        actor_user_id=actor.user_id,
        ip=ip,
        target_type="contact",
        target_id=contact_id,
        details={"conversations": len(conversations), "messages": len(messages)},
    )
    return export


def _needles(*values: str | None) -> list[str]:
    found = {v.strip() for v in values if v and len(v.strip()) >= _MIN_NEEDLE}
    # Longest first, so "Amina Njeri" is replaced before "Amina".
    return sorted(found, key=len, reverse=True)


def _scrub(value: Any, pattern: re.Pattern | None) -> Any:
    """`value` with every mention of the identifiers replaced by "[erased]"."""
    if pattern is None:
        return value
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, dict):
        return {k: _scrub(v, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, pattern) for v in value]
    return value


def _files(messages: list) -> list[str]:
    return [
        str(a["path"])
        for m in messages
        for a in (m.attachments or [])
        if isinstance(a, dict) and a.get("path")
    ]


def erase_contact(
    session: Session, *, actor: Actor, contact_id: int, confirm: str, ip: str | None = None
) -> ErasureSummary:
    """Erase a contact: messages redacted and files deleted, identifiers and leads removed,
    orders kept without the customer, mentions in the audit log redacted (audited).

    `confirm` must be "ERASE": the page asks the member to type it.
    """
    _require(actor)
    if (confirm or "").strip() != "ERASE":
        raise PrivacyError("Type ERASE to confirm; erasure cannot be undone.", field="confirm")
    business_id = actor.business_id
    contact = _contact(session, actor, contact_id)
    identities = repo.identities_of(session, business_id=business_id, contact_id=contact_id)
    conversations = repo.conversations_of(session, business_id=business_id, contact_id=contact_id)
    conversation_ids = [c.id for c in conversations]
    messages = repo.messages_of(session, business_id=business_id, conversation_ids=conversation_ids)
    leads = repo.leads_of(
        session, business_id=business_id, contact_id=contact_id, conversation_ids=conversation_ids
    )
    needles = _needles(
        contact.name, contact.email, contact.phone,
        *(identity.external_user_id for identity, _ in identities),
        *(value for lead in leads for value in (lead.name, lead.email, lead.phone)),
    )  # fmt: skip
    pattern = (
        re.compile("|".join(re.escape(n) for n in needles), re.IGNORECASE) if needles else None
    )
    files = _files(messages)

    redacted = repo.redact_messages(
        session, business_id=business_id, conversation_ids=conversation_ids, text=ERASED
    )
    repo.clear_conversations(session, business_id=business_id, conversation_ids=conversation_ids)
    event_ids = repo.redact_inbound_events(
        session,
        business_id=business_id,
        event_ids=[m.inbound_event_id for m in messages if m.inbound_event_id],
        senders=[(i.channel_integration_id, i.external_user_id) for i, _ in identities],
    )
    repo.delete_raw_bodies(session, business_id=business_id, event_ids=event_ids)
    removed = repo.delete_identities(session, business_id=business_id, contact_id=contact_id)
    deleted_leads = repo.delete_leads(
        session, business_id=business_id, lead_ids=[lead.id for lead in leads]
    )
    orders = repo.anonymise_orders(session, business_id=business_id, contact_id=contact_id)
    repo.redact_outgoing(session, business_id=business_id, contact_id=contact_id)
    audit_entries = repo.audit_entries_about(
        session, business_id=business_id, contact_id=contact_id, needles=needles
    )
    for entry in audit_entries:
        repo.set_audit_details(
            session, business_id=business_id, entry_id=entry.id,
            details=_scrub(dict(entry.details or {}), pattern),
        )  # fmt: skip
    for note in repo.notifications_about(session, business_id=business_id, needles=needles):
        note.title = _scrub(note.title, pattern)
        note.body = _scrub(note.body, pattern)
        session.add(note)
    repo.anonymise_contact(
        session, business_id=business_id, contact_id=contact_id, when=utcnow().isoformat()
    )
    session.expire(contact)
    summary = ErasureSummary(
        contact_id=contact_id,
        messages_redacted=redacted,
        files_deleted=len(files),
        identities_removed=removed,
        leads_deleted=deleted_leads,
        orders_anonymised=len(orders),
        audit_entries_redacted=len(audit_entries),
    )
    security.record(
        session,
        business_id=business_id,
        action="contact.erased",
        actor_user_id=actor.user_id,
        ip=ip,
        target_type="contact",
        target_id=contact_id,
        details={k: v for k, v in vars(summary).items() if k != "contact_id"},
    )
    if files:
        # Files go only once the erasure is committed (a rollback keeps them with their rows).
        enqueue_after_commit(session, DELETE_FILES, business_id, files, queue="default")
    events.publish(session, "contact.updated", business_id=business_id, contact_id=contact_id)
    session.flush()
    return summary


def delete_files(*, business_id: int, paths: list[str]) -> int:
    """Delete stored files of the business (missing ones are skipped); how many went."""
    deleted = 0
    for relative in paths:
        try:
            path: Path = media.resolve(business_id, relative)
        except MediaError:
            continue  # already gone, or not this business's file
        path.unlink(missing_ok=True)
        deleted += 1
    return deleted


# --- retention ---------------------------------------------------------------------------------


def get_retention(session: Session, *, actor: Actor) -> RetentionView:
    """The business's retention setting (owners and admins)."""
    _require(actor)
    policy = repo.get_policy(session, business_id=actor.business_id)
    if policy is None:
        return RetentionView(conversation_days=None, last_purge_at=None, last_purge_count=0)
    return RetentionView(
        conversation_days=policy.conversation_days,
        last_purge_at=policy.last_purge_at,
        last_purge_count=policy.last_purge_count,
    )


def set_retention(
    session: Session, *, actor: Actor, days: int | str | None, ip: str | None = None
) -> RetentionView:
    """Purge conversations idle for more than `days` (None or "" turns the purge off)."""
    _require(actor)
    if isinstance(days, str):
        days = days.strip()
        if days and not days.isdigit():
            raise PrivacyError(
                "Retention: enter a whole number of days, or leave it empty to keep everything.",
                field="days",
            )
        days = int(days) if days else None
    if days is not None and not 1 <= days <= MAX_RETENTION_DAYS:
        raise PrivacyError(
            f"Retention must be from 1 to {MAX_RETENTION_DAYS} days, or off.", field="days"
        )
    repo.save_policy(
        session, business_id=actor.business_id, conversation_days=days,
        updated_by_user_id=actor.user_id, updated_at=utcnow(),
    )  # fmt: skip
    security.record(
        session,
        business_id=actor.business_id,
        action="retention.changed",
        actor_user_id=actor.user_id,
        ip=ip,
        target_type="business",
        target_id=actor.business_id,
        details={"conversation_days": days},
    )
    return get_retention(session, actor=actor)


def purge_batch(
    session: Session, *, business_id: int, days: int, now: datetime | None = None,
    limit: int = PURGE_BATCH,
) -> PurgeResult:  # fmt: skip
    """Delete up to `limit` conversations idle for more than `days`, with their messages and
    the webhook events they came from; the files to delete once this is committed."""
    before = (now or utcnow()) - timedelta(days=days)
    ids = repo.expired_conversations(session, business_id=business_id, before=before, limit=limit)
    if not ids:
        return PurgeResult(conversations=0, messages=0, files=[])
    files = _files(repo.messages_of(session, business_id=business_id, conversation_ids=ids))
    event_ids = repo.inbound_event_ids_of(session, business_id=business_id, conversation_ids=ids)
    messages = repo.delete_conversations(session, business_id=business_id, conversation_ids=ids)
    repo.delete_raw_bodies(session, business_id=business_id, event_ids=event_ids)
    repo.delete_inbound_events(session, business_id=business_id, event_ids=event_ids)
    return PurgeResult(conversations=len(ids), messages=messages, files=files)


def record_purge(
    session: Session, *, business_id: int, days: int, conversations: int, messages: int,
    files: int,
) -> None:  # fmt: skip
    """Audit a finished purge (counts only) and remember it on the policy."""
    repo.save_policy(
        session, business_id=business_id, last_purge_at=utcnow(), last_purge_count=conversations
    )
    security.record(
        session,
        business_id=business_id,
        action="retention.purged",
        target_type="business",
        target_id=business_id,
        details={
            "conversation_days": days,
            "conversations": conversations,
            "messages": messages,
            "files": files,
        },
    )


def businesses_with_retention(session: Session) -> list[tuple[int, int]]:
    """(business id, days) of every business with a retention period."""
    return repo.businesses_with_retention(session)
