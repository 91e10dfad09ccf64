"""Listeners of the ads studio: conversations started from an ad's click-to-chat link."""

from __future__ import annotations

from backend.ads import service
from backend.core.db import session_scope
from backend.events import DomainEvent, listener


@listener("message.created")
def count_ad_conversation(domain_event: DomainEvent) -> None:
    """A customer's first message carrying an ad's ref code counts that conversation once."""
    data = domain_event.data
    if data.get("sender_type") != "customer" or not data.get("message_id"):
        return
    with session_scope() as session:
        service.count_conversation(
            session, business_id=domain_event.business_id, message_id=int(data["message_id"])
        )
