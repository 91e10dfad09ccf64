"""All SQL of the channels domain."""

from __future__ import annotations

from sqlmodel import Session, select

from backend.models.channels import ChannelIntegration


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


def find_integration_of_kind(
    session: Session, *, business_id: int, kind: str
) -> ChannelIntegration | None:
    """The business's first integration of a channel kind (the widget is one per business)."""
    return session.exec(
        select(ChannelIntegration)
        .where(ChannelIntegration.business_id == business_id, ChannelIntegration.kind == kind)
        .order_by(ChannelIntegration.id)
    ).first()
