"""Broadcasts follow their messages: a recipient's delivery status changing updates the page."""

from __future__ import annotations

from backend import events
from backend.core.db import session_scope
from backend.events import DomainEvent, listener
from backend.templates import repository as repo


@listener("message.updated")
def broadcast_recipient_moved(domain_event: DomainEvent) -> None:
    """A message of a broadcast was sent, delivered, read or failed: say its broadcast changed."""
    message_id = domain_event.data.get("message_id")
    if not isinstance(message_id, int) or "delivery_status" not in domain_event.data:
        return
    with session_scope() as session:
        broadcast_id = repo.broadcast_of_message(
            session, business_id=domain_event.business_id, message_id=message_id
        )
        if broadcast_id is not None:
            events.publish(session, "broadcast.updated", business_id=domain_event.business_id,
                           broadcast_id=broadcast_id)  # fmt: skip
