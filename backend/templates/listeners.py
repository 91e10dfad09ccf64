"""Broadcasts follow their messages: a recipient's delivery status changing updates the page."""

from __future__ import annotations

from backend import events
from backend.core.db import session_scope
from backend.events import DomainEvent, listener
from backend.models.conversations import MessageContentType
from backend.templates import repository as repo


@listener("message.updated")
def broadcast_recipient_moved(domain_event: DomainEvent) -> None:
    """A message of a broadcast was sent, delivered, read or failed: say its broadcast changed."""
    data = domain_event.data
    message_id = data.get("message_id")
    if not isinstance(message_id, int) or "delivery_status" not in data:
        return
    if data.get("content_type") != MessageContentType.TEMPLATE:
        return  # only template messages belong to broadcasts: no session for all the others
    with session_scope() as session:
        broadcast_id = repo.broadcast_of_message(
            session, business_id=domain_event.business_id, message_id=message_id
        )
        if broadcast_id is not None:
            events.publish(session, "broadcast.updated", business_id=domain_event.business_id,
                           broadcast_id=broadcast_id)  # fmt: skip
