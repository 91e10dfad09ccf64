"""All SQL of outgoing webhooks: endpoints, deliveries, attempts, and the rows events describe."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from backend.models.commerce import Order
from backend.models.conversations import Conversation, Message
from backend.models.handoff import Handoff
from backend.models.leads import Lead
from backend.models.outgoing import (
    OutgoingAttempt,
    OutgoingDelivery,
    OutgoingDeliveryStatus,
    WebhookEndpoint,
)

# --- endpoints -------------------------------------------------------------------------------


def list_endpoints(session: Session, *, business_id: int) -> list[WebhookEndpoint]:
    """The business's endpoints, oldest first."""
    return list(
        session.exec(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.business_id == business_id)
            .order_by(WebhookEndpoint.id)
        ).all()
    )


def count_endpoints(session: Session, *, business_id: int) -> int:
    """How many endpoints the business has."""
    return session.exec(
        select(sa.func.count())
        .select_from(WebhookEndpoint)
        .where(WebhookEndpoint.business_id == business_id)
    ).one()


def get_endpoint(session: Session, *, business_id: int, endpoint_id: int) -> WebhookEndpoint | None:
    """One of the business's endpoints."""
    return session.exec(
        select(WebhookEndpoint).where(
            WebhookEndpoint.business_id == business_id, WebhookEndpoint.id == endpoint_id
        )
    ).first()


def find_endpoint_by_url(session: Session, *, business_id: int, url: str) -> WebhookEndpoint | None:
    """The business's endpoint with this URL."""
    return session.exec(
        select(WebhookEndpoint).where(
            WebhookEndpoint.business_id == business_id, WebhookEndpoint.url == url
        )
    ).first()


def enabled_endpoints_for(
    session: Session, *, business_id: int, event_type: str
) -> list[WebhookEndpoint]:
    """The business's enabled endpoints subscribed to `event_type`."""
    return list(
        session.exec(
            select(WebhookEndpoint)
            .where(
                WebhookEndpoint.business_id == business_id,
                WebhookEndpoint.is_enabled.is_(True),
                WebhookEndpoint.events.contains([event_type]),
            )
            .order_by(WebhookEndpoint.id)
        ).all()
    )


def add_failure(session: Session, *, business_id: int, endpoint_id: int) -> int:
    """Count one more delivery failed in a row (atomically); the new count."""
    return session.execute(
        sa.update(WebhookEndpoint)
        .where(WebhookEndpoint.business_id == business_id, WebhookEndpoint.id == endpoint_id)
        .values(
            consecutive_failures=WebhookEndpoint.consecutive_failures + 1,
            last_failure_at=sa.func.now(),
        )
        .returning(WebhookEndpoint.consecutive_failures)
    ).scalar_one()


def reset_failures(session: Session, *, business_id: int, endpoint_id: int) -> None:
    """A delivery succeeded: the endpoint's failure streak ends."""
    session.execute(
        sa.update(WebhookEndpoint)
        .where(WebhookEndpoint.business_id == business_id, WebhookEndpoint.id == endpoint_id)
        .values(consecutive_failures=0, last_success_at=sa.func.now())
    )


# --- deliveries ------------------------------------------------------------------------------


def insert_delivery(session: Session, **values: Any) -> int | None:
    """Store a delivery unless this endpoint already has one for the event; its id or None."""
    return session.execute(
        insert(OutgoingDelivery)
        .values(**values)
        .on_conflict_do_nothing(constraint="uq_outgoingdelivery_endpoint_event")
        .returning(OutgoingDelivery.id)
    ).scalar_one_or_none()


def get_delivery(
    session: Session, *, business_id: int, delivery_id: int
) -> OutgoingDelivery | None:
    """One of the business's deliveries."""
    return session.exec(
        select(OutgoingDelivery).where(
            OutgoingDelivery.business_id == business_id, OutgoingDelivery.id == delivery_id
        )
    ).first()


def get_delivery_for_job(session: Session, *, delivery_id: int) -> OutgoingDelivery | None:
    """A delivery by id alone, locked (how the send job, given only an id, finds its tenant)."""
    return session.exec(
        select(OutgoingDelivery).where(OutgoingDelivery.id == delivery_id).with_for_update()
    ).first()


def list_deliveries(
    session: Session, *, business_id: int, endpoint_id: int | None = None, limit: int = 50
) -> list[OutgoingDelivery]:
    """The business's deliveries (of one endpoint), newest first."""
    query = select(OutgoingDelivery).where(OutgoingDelivery.business_id == business_id)
    if endpoint_id is not None:
        query = query.where(OutgoingDelivery.endpoint_id == endpoint_id)
    return list(session.exec(query.order_by(OutgoingDelivery.id.desc()).limit(limit)).all())


def fail_pending_of_endpoint(
    session: Session, *, business_id: int, endpoint_id: int, error: str
) -> int:
    """Mark the endpoint's pending deliveries failed (it was disabled); how many."""
    return session.execute(
        sa.update(OutgoingDelivery)
        .where(
            OutgoingDelivery.business_id == business_id,
            OutgoingDelivery.endpoint_id == endpoint_id,
            OutgoingDelivery.status == OutgoingDeliveryStatus.PENDING,
        )
        .values(status=OutgoingDeliveryStatus.FAILED, last_error=error, failed_at=sa.func.now())
    ).rowcount


def add_attempt(session: Session, **values: Any) -> None:
    """Record one POST of a delivery."""
    session.add(OutgoingAttempt(**values))
    session.flush()


def attempts_of(
    session: Session, *, business_id: int, delivery_ids: list[int]
) -> list[OutgoingAttempt]:
    """The attempts of these deliveries, newest first."""
    if not delivery_ids:
        return []
    return list(
        session.exec(
            select(OutgoingAttempt)
            .where(
                OutgoingAttempt.business_id == business_id,
                OutgoingAttempt.delivery_id.in_(delivery_ids),
            )
            .order_by(OutgoingAttempt.id.desc())
        ).all()
    )


# --- what events describe --------------------------------------------------------------------


def get_message(session: Session, *, business_id: int, message_id: int) -> Message | None:
    """One of the business's messages."""
    return session.exec(
        select(Message).where(Message.business_id == business_id, Message.id == message_id)
    ).first()


def get_conversation(
    session: Session, *, business_id: int, conversation_id: int
) -> Conversation | None:
    """One of the business's conversations."""
    return session.exec(
        select(Conversation).where(
            Conversation.business_id == business_id, Conversation.id == conversation_id
        )
    ).first()


def get_lead(session: Session, *, business_id: int, lead_id: int) -> Lead | None:
    """One of the business's leads."""
    return session.exec(
        select(Lead).where(Lead.business_id == business_id, Lead.id == lead_id)
    ).first()


def get_order(session: Session, *, business_id: int, order_id: int) -> Order | None:
    """One of the business's orders."""
    return session.exec(
        select(Order).where(Order.business_id == business_id, Order.id == order_id)
    ).first()


def latest_handoff_id(session: Session, *, business_id: int, conversation_id: int) -> int | None:
    """The id of the conversation's newest handoff."""
    return session.exec(
        select(Handoff.id)
        .where(Handoff.business_id == business_id, Handoff.conversation_id == conversation_id)
        .order_by(Handoff.id.desc())
    ).first()
