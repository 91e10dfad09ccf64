"""Businesses with a WhatsApp number, segments of contacts and broadcasts at given statuses,
and a statement counter: shared by the broadcast tests of the backend and of the page state."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlmodel import Session

from backend.core.db import get_engine
from backend.models.base import utcnow
from backend.models.contacts import ContactChannelIdentity
from backend.models.conversations import Conversation, Message
from backend.models.leads import Lead
from backend.models.templates import Broadcast, BroadcastRecipient, MessageTemplate
from tests.factories import actor_for, make_channel, make_contact


@contextmanager
def statements() -> Iterator[list[tuple[str, int]]]:
    """Every statement sent to PostgreSQL meanwhile, with how many rows it returned (or wrote)."""
    seen: list[tuple[str, int]] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, cursor.rowcount))

    sa.event.listen(get_engine(), "after_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(get_engine(), "after_cursor_execute", count)


def business_with_number(session: Session):
    """(owner actor, business, its WhatsApp integration) of a new business."""
    actor, business = actor_for(session)
    number = make_channel(session, business=business, kind="whatsapp")
    return actor, business, number


def segment_contact(session, business, number, name, *, label=None, stage=None, opted_out=False):
    """A contact reachable on `number`, with a conversation labelled `label` and a lead at
    `stage` when given (opted out of broadcasts when asked)."""
    contact = make_contact(session, business=business, name=name)
    if opted_out:
        contact.opted_out_at = utcnow()
    session.add(
        ContactChannelIdentity(
            business_id=business.id, contact_id=contact.id, channel_integration_id=number.id,
            external_user_id=f"2547{contact.id:08d}",
        )
    )  # fmt: skip
    session.add(
        Conversation(
            business_id=business.id, contact_id=contact.id, channel_integration_id=number.id,
            status="resolved", labels=[label] if label else [],
        )
    )  # fmt: skip
    if stage:
        session.add(Lead(business_id=business.id, contact_id=contact.id, stage=stage))
    session.flush()
    return contact


def approved_template(session, business, number, name: str) -> MessageTemplate:
    """An approved marketing template with one body variable ("Hi {{1}}!")."""
    template = MessageTemplate(
        business_id=business.id, channel_integration_id=number.id, name=name,
        language="en_US", category="marketing", status="approved", body="Hi {{1}}!",
        variables_examples={"body": ["Amina"]},
    )  # fmt: skip
    session.add(template)
    session.flush()
    return template


def broadcast_with(session, owner, business, number, name, statuses: list[str]) -> Broadcast:
    """A broadcast whose recipients are at `statuses`: "queued", "opted_out", "failed", or
    "sent:<delivery status>" for a message the outbox took."""
    template = approved_template(session, business, number, f"t_{name.lower()}")
    broadcast = Broadcast(
        business_id=business.id, template_id=template.id, channel_integration_id=number.id,
        name=name, segment={}, created_by_user_id=owner.user_id,
    )  # fmt: skip
    session.add(broadcast)
    session.flush()
    for n, status in enumerate(statuses):
        contact = make_contact(session, business=business, name=f"{name} {n:03d}")
        recipient = BroadcastRecipient(
            business_id=business.id, broadcast_id=broadcast.id, contact_id=contact.id,
            status=status.split(":")[0],
        )  # fmt: skip
        if status.startswith("sent:"):
            conversation = Conversation(
                business_id=business.id, contact_id=contact.id, status="resolved",
                channel_integration_id=number.id,
            )  # fmt: skip
            session.add(conversation)
            session.flush()
            message = Message(
                business_id=business.id, conversation_id=conversation.id, direction="outbound",
                sender_type="agent", text="Hi!", content_type="template",
                delivery_status=status.split(":")[1],
                error="Undeliverable (code 131026)" if status == "sent:failed" else None,
            )  # fmt: skip
            session.add(message)
            session.flush()
            recipient.message_id = message.id
        session.add(recipient)
    session.flush()
    return broadcast
