"""Meta's template webhooks through the real route, and sending a template outside 24 hours."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from backend.api import create_app
from backend.conversations.tasks import send_outbound  # noqa: F401  (the job the worker runs)
from backend.core.db import session_scope
from backend.inbox import service as inbox
from backend.inbox.schemas import InboxError
from backend.models import InboundEvent, Message
from backend.models.notifications import Notification
from backend.models.tenants import Role
from backend.templates import service
from backend.templates.schemas import TemplateError
from tests.backend.channels.helpers import meta_headers, payload_json, run_worker
from tests.backend.templates.conftest import (
    approved,
    old_conversation,
    order_ready,
    whatsapp_business,
)
from tests.factories import actor_for, make_user

pytestmark = pytest.mark.usefixtures("committed")


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c


def deliver(client, integration_id: int, change: dict) -> None:
    body = payload_json("whatsapp", "template_status_update")
    body["entry"][0]["changes"] = [change]
    raw = json.dumps(body).encode()
    answer = client.post(
        f"/webhooks/whatsapp/{integration_id}", content=raw, headers=meta_headers(raw)
    )
    assert answer.status_code == 200, answer.text


def status_change(view, event: str, reason: str = "NONE") -> dict:
    return {
        "field": "message_template_status_update",
        "value": {
            "event": event, "message_template_id": int(view.external_id),
            "message_template_name": view.name, "message_template_language": view.language,
            "reason": reason,
        },
    }  # fmt: skip


def test_a_rejection_by_webhook_shows_the_reason_and_notifies_once(client, graph):
    with session_scope() as session:
        actor, business, integration = whatsapp_business(session)
        admin = make_user(session, business=business, role=Role.ADMIN)
        make_user(session, business=business, role=Role.AGENT)
        view = service.create_template(session, actor=actor, data=order_ready())
        view = service.submit_template(session, actor=actor, template_id=view.id)
    change = status_change(view, "REJECTED", "INVALID_FORMAT")
    for _ in range(3):  # Meta redelivers: one change, one notification each
        deliver(client, integration.id, change)
    run_worker()
    with session_scope() as session:
        [shown] = service.list_templates(session, actor=actor)
        notes = session.exec(select(Notification)).all()
        stored = session.exec(select(InboundEvent)).all()
    assert shown.status == "rejected"
    assert shown.rejection_reason == (
        "Its format is invalid (check variables, examples and buttons)."
    )
    assert sorted(n.user_id for n in notes) == sorted([actor.user_id, admin.id])
    assert {n.title for n in notes} == {"Template order_ready (en_US) is rejected"}
    assert all("format is invalid" in n.body for n in notes)
    assert [(e.kind, e.status) for e in stored] == [("unsupported", "done")]


def test_approval_pause_and_category_change_by_webhook(client, graph):
    with session_scope() as session:
        actor, _, integration = whatsapp_business(session)
        view = service.create_template(session, actor=actor, data=order_ready(category="marketing"))
        view = service.submit_template(session, actor=actor, template_id=view.id)
    deliver(client, integration.id, status_change(view, "APPROVED"))
    run_worker()
    with session_scope() as session:
        assert service.get_template(session, actor=actor, template_id=view.id).status == "approved"
    paused = status_change(view, "PAUSED")
    paused["value"]["other_info"] = {
        "title": "FIRST_PAUSE", "description": "Paused for 3 hours: low quality feedback.",
    }  # fmt: skip
    deliver(client, integration.id, paused)
    deliver(
        client,
        integration.id,
        {
            "field": "template_category_update",
            "value": {
                "message_template_id": int(view.external_id), "message_template_name": view.name,
                "message_template_language": view.language, "previous_category": "MARKETING",
                "new_category": "UTILITY",
            },
        },
    )  # fmt: skip
    run_worker()
    with session_scope() as session:
        shown = service.get_template(session, actor=actor, template_id=view.id)
        titles = [n.title for n in session.exec(select(Notification).order_by(Notification.id))]
    assert (shown.status, shown.category) == ("paused", "utility")
    assert shown.rejection_reason == "Paused for 3 hours: low quality feedback."
    assert titles == [
        "Template order_ready (en_US) is approved",
        "Template order_ready (en_US) is paused",
        "Template order_ready (en_US) moved from marketing to utility",
    ]


def test_news_of_another_businesss_template_changes_nothing_here(client, graph):
    with session_scope() as session:
        actor, _, _ = whatsapp_business(session)
        view = approved(session, actor, graph)
        _, _, other_integration = whatsapp_business(session)
    # The other business's webhook names this business's template id: nothing may change.
    deliver(client, other_integration.id, status_change(view, "DISABLED"))
    run_worker()
    with session_scope() as session:
        assert service.get_template(session, actor=actor, template_id=view.id).status == "approved"
        titles = [n.title for n in session.exec(select(Notification))]
    assert titles == ["Template order_ready (en_US) is approved"]  # from the sync, not the webhook


def test_a_template_goes_out_through_the_outbox_outside_the_24_hour_window(graph):
    with session_scope() as session:
        owner, business, integration = whatsapp_business(session)
        view = approved(session, owner, graph)
        conversation = old_conversation(session, business=business, integration=integration)
        agent, _ = actor_for(session, role=Role.AGENT, business=business)
        conversation_id = conversation.id
    with session_scope() as session, pytest.raises(InboxError, match="outside 24 hours"):
        inbox.reply(session, actor=agent, conversation_id=conversation_id, text="Hello?")
    with session_scope() as session:
        with pytest.raises(TemplateError) as caught:
            service.send_template(
                session, actor=agent, conversation_id=conversation_id, template_id=view.id,
                variables=["Amina"],
            )  # fmt: skip
        assert "{{2}}" in caught.value.errors["variables"]
        service.send_template(
            session, actor=agent, conversation_id=conversation_id, template_id=view.id,
            variables=["Amina", "#2001"], header_variables=["#2001"],
        )  # fmt: skip
    run_worker("outbound")
    [sent] = graph.sent("messages")
    assert sent["to"] == "254712345678"
    assert sent["type"] == "template"
    assert sent["template"] == {
        "name": "order_ready",
        "language": {"code": "en_US"},
        "components": [
            {"type": "header", "parameters": [{"type": "text", "text": "#2001"}]},
            {"type": "body", "parameters": [
                {"type": "text", "text": "Amina"}, {"type": "text", "text": "#2001"}]},
        ],
    }  # fmt: skip
    with session_scope() as session:
        [message] = session.exec(select(Message)).all()
        thread = inbox.get_thread(session, actor=agent, conversation_id=conversation_id)
    assert message.delivery_status == "sent"
    assert message.text == (
        "*Order #2001*\n\nHi Amina, your order #2001 is ready for pickup.\n\n_Sunrise Bakery_"
    )
    assert thread.messages[-1].text == message.text


def test_only_approved_templates_of_this_business_can_be_sent(graph):
    with session_scope() as session:
        owner, business, integration = whatsapp_business(session)
        draft = service.create_template(session, actor=owner, data=order_ready(name="draft_one"))
        conversation = old_conversation(session, business=business, integration=integration)
        stranger, _, _ = whatsapp_business(session)
        mine = approved(session, owner, graph)
        ids = (conversation.id, draft.id, mine.id)
    conversation_id, draft_id, approved_id = ids
    with session_scope() as session:
        with pytest.raises(TemplateError, match="Only approved"):
            service.send_template(
                session, actor=owner, conversation_id=conversation_id, template_id=draft_id,
                variables=["A", "B"],
            )  # fmt: skip
        with pytest.raises(TemplateError, match="conversation does not exist"):
            service.send_template(
                session, actor=stranger, conversation_id=conversation_id,
                template_id=approved_id, variables=["A", "B"],
            )  # fmt: skip
    run_worker("outbound")
    assert graph.sent("messages") == []
