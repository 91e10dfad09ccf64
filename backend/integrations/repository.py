"""All SQL of the integrations domain."""

from __future__ import annotations

from sqlmodel import Session, select

from backend.channels.widget import KIND as WIDGET
from backend.models.channels import ChannelIntegration
from backend.models.tenants import Business


def get_widget(session: Session, *, business_id: int) -> ChannelIntegration | None:
    """The business's website widget integration (there is at most one)."""
    return session.exec(
        select(ChannelIntegration)
        .where(ChannelIntegration.business_id == business_id, ChannelIntegration.kind == WIDGET)
        .order_by(ChannelIntegration.id)
    ).first()


def lock_business(session: Session, *, business_id: int) -> None:
    """Hold the business's row until commit, so two first saves cannot both create a widget."""
    session.exec(select(Business.id).where(Business.id == business_id).with_for_update()).first()


def save(session: Session, integration: ChannelIntegration) -> ChannelIntegration:
    """Write the integration's changes now (the caller's transaction commits them)."""
    session.add(integration)
    session.flush()
    return integration


def get_channel(session: Session, *, business_id: int, kind: str) -> ChannelIntegration | None:
    """The business's first integration of a messaging channel kind (the page manages one)."""
    return session.exec(
        select(ChannelIntegration)
        .where(ChannelIntegration.business_id == business_id, ChannelIntegration.kind == kind)
        .order_by(ChannelIntegration.id)
    ).first()


def get_business(session: Session, *, business_id: int) -> Business | None:
    """The business with this id (a script names it)."""
    return session.get(Business, business_id)


def get_integration_by_id(session: Session, *, integration_id: int) -> ChannelIntegration | None:
    """An integration a script just created, by id (this lookup finds the tenant)."""
    return session.get(ChannelIntegration, integration_id)
