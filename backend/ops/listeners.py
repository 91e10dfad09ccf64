"""Metrics that follow domain events: handoffs by reason, and messages a channel failed to send."""

from __future__ import annotations

from backend.channels import repository as channels_repo
from backend.conversations import repository as conversations_repo
from backend.core.db import session_scope
from backend.events import DomainEvent, listener
from backend.ops.metrics import HANDOFFS, SEND_FAILURES


@listener("handoff.requested")
def count_handoff(event: DomainEvent) -> None:
    """One more conversation handed to a person, by the reason given."""
    HANDOFFS.labels(reason=str(event.data.get("reason") or "unspecified")[:40]).inc()


@listener("message.updated")
def count_send_failure(event: DomainEvent) -> None:
    """One more message its channel refused, labelled with the channel's kind."""
    if event.data.get("delivery_status") != "failed":
        return
    kind = None
    with session_scope() as session:
        conversation = conversations_repo.get_conversation(
            session, business_id=event.business_id, conversation_id=event.data["conversation_id"]
        )
        if conversation is not None and conversation.channel_integration_id is not None:
            integration = channels_repo.get_integration(
                session,
                business_id=event.business_id,
                integration_id=conversation.channel_integration_id,
            )
            kind = integration.kind if integration else None
    SEND_FAILURES.labels(channel=kind or "unknown").inc()
