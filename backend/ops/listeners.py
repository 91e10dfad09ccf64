"""Metrics that follow domain events: handoffs by reason, and messages a channel failed to send."""

from __future__ import annotations

import sqlalchemy as sa

from backend.core.db import session_scope
from backend.events import DomainEvent, listener
from backend.models import ChannelIntegration, Conversation
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
    with session_scope() as session:
        kind = session.execute(
            sa.select(ChannelIntegration.kind)
            .join(Conversation, Conversation.channel_integration_id == ChannelIntegration.id)
            .where(
                Conversation.id == event.data.get("conversation_id"),
                Conversation.business_id == event.business_id,
            )
        ).scalar_one_or_none()
    SEND_FAILURES.labels(channel=kind or "unknown").inc()
