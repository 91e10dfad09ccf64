"""Broadcasts: a template to a segment, opt-outs skipped, paced, a status per recipient."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from backend.api import create_app
from backend.core.db import session_scope
from backend.models.base import utcnow
from backend.models.contacts import ContactChannelIdentity
from backend.models.conversations import Conversation, Message
from backend.models.leads import Lead
from backend.models.tenants import Role
from backend.templates import service
from backend.templates.schemas import TemplateError
from backend.templates.tasks import send_broadcast
from tests.backend.channels.helpers import meta_headers, payload, run_worker
from tests.backend.templates.conftest import approved, whatsapp_business
from tests.factories import actor_for, make_contact

pytestmark = pytest.mark.usefixtures("committed")


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c


def customer(session, business, integration, name, *, label=None, stage=None, opted_out=False):
    contact = make_contact(session, business=business, name=name)
    if opted_out:
        contact.opted_out_at = utcnow()
    session.add(
        ContactChannelIdentity(
            business_id=business.id, contact_id=contact.id,
            channel_integration_id=integration.id, external_user_id=f"2547{contact.id:08d}",
        )
    )  # fmt: skip
    session.add(
        Conversation(
            business_id=business.id, contact_id=contact.id, status="resolved",
            channel_integration_id=integration.id, labels=[label] if label else [],
        )
    )  # fmt: skip
    if stage:
        session.add(Lead(business_id=business.id, contact_id=contact.id, stage=stage))
    session.flush()
    return contact


def test_a_broadcast_to_a_label_skips_opt_outs_is_paced_and_tracks_each_recipient(
    client, graph, monkeypatch
):
    with session_scope() as session:
        owner, business, integration = whatsapp_business(session)
        view = approved(session, owner, graph)
        vips = [customer(session, business, integration, n, label="vip") for n in "ABC"]
        customer(session, business, integration, "Other")  # not in the segment
        customer(session, business, integration, "Gone", label="vip", opted_out=True)
        broadcast = service.create_broadcast(
            session, actor=owner, template_id=view.id, name="Weekend bread",
            variables=["friend", "#WEEKEND"], header_variables=["#WEEKEND"], label="vip",
        )  # fmt: skip
    assert broadcast.counts == {"queued": 3, "opted_out": 1}

    # Two a second (the number's limit here): the first batch sends two and waits.
    assert send_broadcast(broadcast.id, per_batch=2) == 1
    run_worker("outbound")
    assert len(graph.sent("messages")) == 2
    assert send_broadcast(broadcast.id, per_batch=2) == 0
    run_worker("outbound")
    sent = graph.sent("messages")
    assert sorted(m["to"] for m in sent) == sorted(f"2547{c.id:08d}" for c in vips)
    assert {m["template"]["name"] for m in sent} == {"order_ready"}
    assert send_broadcast(broadcast.id, per_batch=2) == 0  # done: nothing sent twice
    run_worker("outbound")
    assert len(graph.sent("messages")) == 3

    # WhatsApp reports one as delivered then read.
    with session_scope() as session:
        first = session.exec(
            select(Message).where(Message.external_id.is_not(None)).order_by(Message.id)
        ).first()
    body = payload("whatsapp", "status_delivered_read").replace(
        b"wamid.OUT1", first.external_id.encode()
    )
    assert (
        client.post(
            f"/webhooks/whatsapp/{integration.id}", content=body, headers=meta_headers(body)
        ).status_code
        == 200
    )
    run_worker()
    with session_scope() as session:
        shown = service.get_broadcast(session, actor=owner, broadcast_id=broadcast.id)
    assert shown.status == "done"
    assert shown.counts == {"read": 1, "sent": 2, "opted_out": 1}
    assert {r.contact_name for r in shown.recipients if r.status == "opted_out"} == {"Gone"}


def test_segments_by_lead_stage_and_refusals(graph):
    with session_scope() as session:
        owner, business, integration = whatsapp_business(session)
        view = approved(session, owner, graph)
        customer(session, business, integration, "Won", stage="won")
        customer(session, business, integration, "New", stage="new")
        by_stage = service.create_broadcast(
            session, actor=owner, template_id=view.id, name="Thanks", lead_stage="won",
            variables=["A", "B"], header_variables=["B"],
        )  # fmt: skip
        assert [r.contact_name for r in by_stage.recipients] == ["Won"]
        with pytest.raises(TemplateError, match="No contact"):
            service.create_broadcast(
                session, actor=owner, template_id=view.id, name="None", label="nobody",
                variables=["A", "B"], header_variables=["B"],
            )  # fmt: skip
        with pytest.raises(TemplateError) as caught:
            service.create_broadcast(
                session, actor=owner, template_id=view.id, name="Short", variables=["A"],
            )  # fmt: skip
        assert "{{2}}" in caught.value.errors["variables"]
        agent, _ = actor_for(session, role=Role.AGENT, business=business)
        with pytest.raises(PermissionError):
            service.create_broadcast(
                session, actor=agent, template_id=view.id, name="x", variables=["A", "B"],
                header_variables=["B"],
            )  # fmt: skip
        stranger, _, _ = whatsapp_business(session)
        with pytest.raises(TemplateError, match="does not exist"):
            service.get_broadcast(session, actor=stranger, broadcast_id=by_stage.id)


def test_a_recipient_whatsapp_refuses_shows_failed_with_the_reason(graph):
    with session_scope() as session:
        owner, business, integration = whatsapp_business(session)
        view = approved(session, owner, graph)
        customer(session, business, integration, "Juma", label="vip")
        broadcast = service.create_broadcast(
            session, actor=owner, template_id=view.id, name="Promo", label="vip",
            variables=["A", "B"], header_variables=["B"],
        )  # fmt: skip
    graph.fail_next("messages", code=131026, message="Message undeliverable")
    assert send_broadcast(broadcast.id) == 0
    run_worker("outbound")
    with session_scope() as session:
        [recipient] = service.get_broadcast(
            session, actor=owner, broadcast_id=broadcast.id
        ).recipients
    assert (recipient.contact_name, recipient.status) == ("Juma", "failed")
    assert "Message undeliverable (code 131026)" in recipient.error
