"""Leads: people who may buy, captured from conversations, the widget's offline form and agents."""

from __future__ import annotations

from sqlmodel import Session

from backend import events
from backend.leads import repository as repo
from backend.models.leads import Lead

MAX_INTEREST = 4000


def capture(
    session: Session,
    *,
    business_id: int,
    source: str,
    contact_id: int | None = None,
    conversation_id: int | None = None,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    interest: str | None = None,
) -> Lead:
    """Record a lead; a contact's open lead is updated rather than duplicated."""
    lead = (
        repo.find_open_lead_of_contact(session, business_id=business_id, contact_id=contact_id)
        if contact_id is not None
        else None
    )
    created = lead is None
    if lead is None:
        lead = Lead(business_id=business_id, contact_id=contact_id, source=source)
    lead.conversation_id = conversation_id or lead.conversation_id
    lead.name = name or lead.name
    lead.email = email or lead.email
    lead.phone = phone or lead.phone
    if interest:
        joined = f"{lead.interest}\n\n{interest}" if lead.interest else interest
        lead.interest = joined[-MAX_INTEREST:]
    session.add(lead)
    session.flush()
    events.publish(session, "lead.created" if created else "lead.updated",
                   business_id=business_id, lead_id=lead.id, source=source)  # fmt: skip
    return lead
