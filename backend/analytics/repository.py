"""All SQL of the analytics domain."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.models.channels import ChannelIntegration
from backend.models.contacts import Contact
from backend.models.conversations import Conversation
from backend.models.knowledge import KnowledgeSource
from backend.models.leads import Lead
from backend.models.tenants import Membership


def _count(session: Session, model, *where) -> int:
    return session.exec(select(sa.func.count()).select_from(model).where(*where)).one()


def workspace_counts(session: Session, *, business_id: int, since: datetime) -> dict[str, int]:
    """How much the business has: conversations since `since`, waiting ones, contacts, …"""
    return {
        "conversations": _count(
            session,
            Conversation,
            Conversation.business_id == business_id,
            Conversation.created_at >= since,
        ),
        "waiting": _count(
            session,
            Conversation,
            Conversation.business_id == business_id,
            Conversation.status == "waiting_for_agent",
        ),
        "contacts": _count(session, Contact, Contact.business_id == business_id),
        "leads": _count(session, Lead, Lead.business_id == business_id),
        "channels": _count(
            session,
            ChannelIntegration,
            ChannelIntegration.business_id == business_id,
            ChannelIntegration.is_enabled,
        ),
        "knowledge_sources": _count(
            session, KnowledgeSource, KnowledgeSource.business_id == business_id
        ),
        "members": _count(session, Membership, Membership.business_id == business_id),
    }
