"""All SQL of leads."""

from __future__ import annotations

from sqlmodel import Session, select

from backend.models.leads import Lead

OPEN_STAGES = ("new", "contacted", "qualified")


def find_open_lead_of_contact(
    session: Session, *, business_id: int, contact_id: int
) -> Lead | None:
    """The contact's newest lead that is neither won nor lost."""
    return session.exec(
        select(Lead)
        .where(
            Lead.business_id == business_id,
            Lead.contact_id == contact_id,
            Lead.stage.in_(OPEN_STAGES),
        )
        .order_by(Lead.id.desc())
    ).first()


def list_leads(session: Session, *, business_id: int, limit: int = 100) -> list[Lead]:
    """The business's leads, newest first."""
    return list(
        session.exec(
            select(Lead)
            .where(Lead.business_id == business_id)
            .order_by(Lead.id.desc())
            .limit(limit)
        ).all()
    )
