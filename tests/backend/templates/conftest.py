"""The fake Graph API behind BizBot, and businesses with a WhatsApp number."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session

from backend.channels.service import create_integration
from backend.models.base import utcnow
from backend.models.contacts import ContactChannelIdentity
from backend.models.conversations import Conversation
from backend.models.tenants import Role
from backend.templates import service
from backend.templates.schemas import TemplateInput
from tests.backend.channels.helpers import WHATSAPP, fake_graph
from tests.factories import actor_for, make_contact
from tests.fakes.graph_server import FakeGraph


@pytest.fixture
def graph(monkeypatch) -> Iterator[FakeGraph]:
    """The fake Graph API with the test WhatsApp number, as BizBot's Graph API."""
    with fake_graph(monkeypatch) as server:
        yield server


def order_ready(**overrides) -> TemplateInput:
    """A valid utility template with two body variables, a header variable and buttons."""
    fields = {
        "name": "order_ready",
        "language": "en_US",
        "category": "utility",
        "header_text": "Order {{1}}",
        "header_examples": ["#1042"],
        "body": "Hi {{1}}, your order {{2}} is ready for pickup.",
        "body_examples": ["Amina", "#1042"],
        "footer": "Sunrise Bakery",
        "buttons": [
            {"type": "quick_reply", "text": "On my way"},
            {"type": "url", "text": "Track", "url": "https://example.com/track"},
        ],
    }
    fields.update(overrides)
    return TemplateInput(**fields)


def whatsapp_business(session: Session, *, role: Role = Role.OWNER):
    """An actor in a new business that has the test WhatsApp number connected."""
    actor, business = actor_for(session, role=role)
    integration = create_integration(
        session, business_id=business.id, kind="whatsapp", name="WhatsApp", credentials=WHATSAPP
    )
    return actor, business, integration


def approved(session: Session, actor, graph: FakeGraph, **overrides):
    """A template created, submitted to the fake Graph and approved there, then synced."""
    view = service.create_template(session, actor=actor, data=order_ready(**overrides))
    service.submit_template(session, actor=actor, template_id=view.id)
    graph.review_template(view.name, view.language, status="APPROVED")
    service.sync_templates(session, business_id=actor.business_id)
    return service.get_template(session, actor=actor, template_id=view.id)


def old_conversation(session: Session, *, business, integration, hours: int = 48):
    """A WhatsApp conversation whose customer last wrote `hours` ago."""
    contact = make_contact(session, business=business, name="Amina")
    session.add(
        ContactChannelIdentity(
            business_id=business.id, contact_id=contact.id,
            channel_integration_id=integration.id, external_user_id="254712345678",
        )
    )  # fmt: skip
    conversation = Conversation(
        business_id=business.id, contact_id=contact.id, channel_integration_id=integration.id,
        status="ai", last_customer_message_at=utcnow() - timedelta(hours=hours),
    )  # fmt: skip
    session.add(conversation)
    session.flush()
    return conversation
