"""All SQL of the channels domain."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.models.channels import ChannelIntegration, WebhookDelivery


def find_integration_for_webhook(
    session: Session, *, integration_id: int
) -> ChannelIntegration | None:
    """The integration a webhook or job names by id (this lookup finds the tenant)."""
    return session.get(ChannelIntegration, integration_id)


def get_integration(
    session: Session, *, business_id: int, integration_id: int
) -> ChannelIntegration | None:
    """The business's integration with this id."""
    return session.exec(
        select(ChannelIntegration).where(
            ChannelIntegration.business_id == business_id, ChannelIntegration.id == integration_id
        )
    ).first()


# An integration's kind never changes, and its id is never given to another: each process
# remembers the kinds it has read.
_KINDS: dict[tuple[int, int], str] = {}
_MAX_KINDS = 10_000


def integration_kind(session: Session, *, business_id: int, integration_id: int) -> str | None:
    """The kind ("whatsapp", "telegram", …) of the business's integration with this id."""
    key = (business_id, integration_id)
    kind = _KINDS.get(key)
    if kind is None:
        kind = session.execute(
            sa.select(ChannelIntegration.kind).where(
                ChannelIntegration.business_id == business_id,
                ChannelIntegration.id == integration_id,
            )
        ).scalar_one_or_none()
        if kind is not None:
            if len(_KINDS) >= _MAX_KINDS:
                _KINDS.clear()
            _KINDS[key] = kind
    return kind


def forget_kinds() -> None:
    """Forget the remembered kinds (for tests that restart the id sequences)."""
    _KINDS.clear()


def find_integration_of_kind(
    session: Session, *, business_id: int, kind: str
) -> ChannelIntegration | None:
    """The business's first integration of a channel kind (the widget is one per business)."""
    return session.exec(
        select(ChannelIntegration)
        .where(ChannelIntegration.business_id == business_id, ChannelIntegration.kind == kind)
        .order_by(ChannelIntegration.id)
    ).first()


def list_integrations(session: Session, *, business_id: int) -> list[ChannelIntegration]:
    """Every channel integration of the business, oldest first."""
    return list(
        session.exec(
            select(ChannelIntegration)
            .where(ChannelIntegration.business_id == business_id)
            .order_by(ChannelIntegration.id)
        ).all()
    )


def add_delivery(session: Session, delivery: WebhookDelivery) -> WebhookDelivery:
    """Keep one authentic webhook request (in the caller's transaction)."""
    session.add(delivery)
    session.flush()
    return delivery


def get_delivery_for_replay(session: Session, *, delivery_id: int) -> WebhookDelivery | None:
    """A stored webhook request by id (the admin CLI's replay; this lookup finds the tenant)."""
    return session.get(WebhookDelivery, delivery_id)


def list_deliveries(
    session: Session, *, business_id: int, integration_id: int | None = None, limit: int = 50
) -> list[WebhookDelivery]:
    """The business's latest stored webhook requests, newest first."""
    query = select(WebhookDelivery).where(WebhookDelivery.business_id == business_id)
    if integration_id is not None:
        query = query.where(WebhookDelivery.channel_integration_id == integration_id)
    return list(session.exec(query.order_by(WebhookDelivery.id.desc()).limit(limit)).all())


def purge_deliveries(session: Session, *, older_than: datetime, batch: int = 5000) -> int:
    """Delete stored webhook requests older than `older_than` (a sweep across tenants)."""
    ids = (
        sa.select(WebhookDelivery.id)
        .where(WebhookDelivery.created_at < older_than)
        .limit(batch)
        .scalar_subquery()
    )
    result = session.execute(sa.delete(WebhookDelivery).where(WebhookDelivery.id.in_(ids)))
    return result.rowcount or 0
