"""Broadcasts: a template to a segment, opt-outs skipped, paced, a status per recipient."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from backend.api import create_app
from backend.channels.service import create_integration
from backend.core.db import session_scope
from backend.core.queue import get_queue
from backend.core.redis import get_redis
from backend.live import tenant_channel
from backend.models.base import utcnow
from backend.models.contacts import Contact, ContactChannelIdentity
from backend.models.conversations import Conversation, Message
from backend.models.leads import Lead
from backend.models.templates import BroadcastRecipient
from backend.models.tenants import Role
from backend.templates import optout, service
from backend.templates.schemas import TemplateError
from backend.templates.tasks import send_broadcast
from tests.backend.channels.helpers import WHATSAPP, meta_headers, payload, run_worker
from tests.backend.templates.conftest import approved, old_conversation, whatsapp_business
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


# --- segments combined, the preview, statuses moving, live events -------------------------------


def test_segments_combine_label_stage_and_number_and_the_preview_counts_them(graph):
    with session_scope() as session:
        owner, business, integration = whatsapp_business(session)
        second = create_integration(
            session, business_id=business.id, kind="whatsapp", name="Second number",
            credentials={**WHATSAPP, "phone_number_id": "106540352242999"},
        )  # fmt: skip
        view = approved(session, owner, graph)
        customer(session, business, integration, "VIP won", label="vip", stage="won")
        customer(session, business, integration, "VIP new", label="vip", stage="new")
        customer(session, business, integration, "Won only", stage="won")
        customer(session, business, integration, "VIP won, opted out", label="vip", stage="won",
                 opted_out=True)  # fmt: skip
        customer(session, business, second, "VIP won elsewhere", label="vip", stage="won")
        other_owner, other, other_integration = whatsapp_business(session)
        customer(session, other, other_integration, "Another business's VIP", label="vip",
                 stage="won")  # fmt: skip

        preview = service.preview_segment(
            session, actor=owner, label="vip", lead_stage="won", integration_id=integration.id
        )
        assert (preview.total, preview.will_send, preview.opted_out) == (2, 1, 1)
        assert service.preview_segment(session, actor=owner, label="vip").total == 3
        assert service.preview_segment(session, actor=owner, integration_id=second.id).total == 1
        assert service.preview_segment(session, actor=other_owner, label="vip").total == 1
        with pytest.raises(TemplateError, match="Connect a WhatsApp number"):
            service.preview_segment(session, actor=other_owner, integration_id=second.id)
        assert service.broadcast_channels(session, actor=owner) == [
            (integration.id, "WhatsApp"), (second.id, "Second number"),
        ]  # fmt: skip

        broadcast = service.create_broadcast(
            session, actor=owner, template_id=view.id, name="Winners", label="vip",
            lead_stage="won", integration_id=integration.id, variables=["A", "B"],
            header_variables=["B"],
        )  # fmt: skip
    assert sorted((r.contact_name, r.status) for r in broadcast.recipients) == [
        ("VIP won", "queued"), ("VIP won, opted out", "opted_out"),
    ]  # fmt: skip
    assert broadcast.segment == {
        "label": "vip", "lead_stage": "won", "channel_integration_id": integration.id,
    }  # fmt: skip


def test_the_job_sends_at_most_n_per_batch_and_reschedules_the_rest(graph):
    with session_scope() as session:
        owner, business, integration = whatsapp_business(session)
        view = approved(session, owner, graph)
        for n in range(7):
            customer(session, business, integration, f"Customer {n}", label="all")
        broadcast = service.create_broadcast(
            session, actor=owner, template_id=view.id, name="Seven", label="all",
            variables=["A", "B"], header_variables=["B"],
        )  # fmt: skip
    batches = []
    while True:
        left = send_broadcast(broadcast.id, per_batch=3)
        with session_scope() as session:
            queued = session.exec(select(Message).where(Message.delivery_status == "queued")).all()
        batches.append(len(queued))
        run_worker("outbound")  # the outbox sends this batch, nothing more
        if not left:
            break
    # 3 + 3 + 1 messages queued per batch; each batch asked for the next one a second later.
    assert batches == [3, 3, 1]
    assert len(graph.sent("messages")) == 7
    scheduled = get_queue("default").scheduled_job_registry
    assert len(scheduled.get_job_ids()) == 2


def _status_webhook(client, integration, external_id: str, status: str, **extra) -> None:
    item = {"id": external_id, "status": status, "timestamp": "1764057701",
            "recipient_id": "254700000000", **extra}  # fmt: skip
    body = json.dumps({
        "object": "whatsapp_business_account",
        "entry": [{"id": WHATSAPP["waba_id"], "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881",
                         "phone_number_id": WHATSAPP["phone_number_id"]},
            "statuses": [item],
        }}]}],
    }).encode()  # fmt: skip
    response = client.post(
        f"/webhooks/whatsapp/{integration.id}", content=body, headers=meta_headers(body)
    )
    assert response.status_code == 200
    run_worker()


def _live_events(pubsub) -> list[dict]:
    """The live events published so far on the business's channel (already in the socket)."""
    found = []
    while (message := pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)) is not None:
        found.append(json.loads(message["data"]))
    return found


def test_each_recipient_moves_queued_sent_delivered_read_or_failed_and_the_page_hears_it(
    client, graph
):
    with session_scope() as session:
        owner, business, integration = whatsapp_business(session)
        view = approved(session, owner, graph)
        for name in ("Amina", "Baraka", "Chebet"):
            customer(session, business, integration, name, label="vip")
    pubsub = get_redis().pubsub()
    pubsub.subscribe(tenant_channel(business.id))
    assert pubsub.get_message(timeout=1.0)["type"] == "subscribe"

    def statuses() -> dict[str, str]:
        with session_scope() as session:
            shown = service.get_broadcast(session, actor=owner, broadcast_id=broadcast.id)
        return {r.contact_name: r.status for r in shown.recipients}

    def broadcast_events() -> int:
        return sum(
            e["event"] == "broadcast.updated" and e["broadcast_id"] == broadcast.id
            for e in _live_events(pubsub)
        )

    with session_scope() as session:
        broadcast = service.create_broadcast(
            session, actor=owner, template_id=view.id, name="Live", label="vip",
            variables=["A", "B"], header_variables=["B"],
        )  # fmt: skip
    assert broadcast_events() == 1
    send_broadcast(broadcast.id)
    assert statuses() == {"Amina": "queued", "Baraka": "queued", "Chebet": "queued"}
    assert broadcast_events() == 1  # the batch went to the outbox
    run_worker("outbound")
    assert statuses() == {"Amina": "sent", "Baraka": "sent", "Chebet": "sent"}
    assert broadcast_events() == 3  # one per message WhatsApp accepted

    with session_scope() as session:
        ids = dict(
            session.exec(
                select(Contact.name, Message.external_id)
                .join(BroadcastRecipient, BroadcastRecipient.contact_id == Contact.id)
                .join(Message, Message.id == BroadcastRecipient.message_id)
                .where(BroadcastRecipient.broadcast_id == broadcast.id)
            ).all()
        )
    _status_webhook(client, integration, ids["Amina"], "delivered")
    _status_webhook(client, integration, ids["Baraka"], "delivered")
    _status_webhook(client, integration, ids["Baraka"], "read")
    _status_webhook(client, integration, ids["Chebet"], "failed", errors=[
        {"code": 131049, "title": "This message was not delivered to maintain healthy "
         "ecosystem engagement."},
    ])  # fmt: skip
    assert statuses() == {"Amina": "delivered", "Baraka": "read", "Chebet": "failed"}
    assert broadcast_events() == 4
    # A late "delivered" never moves a read message back.
    _status_webhook(client, integration, ids["Baraka"], "delivered")
    assert statuses()["Baraka"] == "read"
    with session_scope() as session:
        shown = service.get_broadcast(session, actor=owner, broadcast_id=broadcast.id)
    assert shown.counts == {"delivered": 1, "read": 1, "failed": 1}
    [failed] = [r for r in shown.recipients if r.status == "failed"]
    assert "131049" in failed.error
    pubsub.close()


def test_a_status_of_an_ordinary_reply_publishes_no_broadcast_event(client, graph):
    with session_scope() as session:
        owner, business, integration = whatsapp_business(session)
        view = approved(session, owner, graph)
        conversation = old_conversation(session, business=business, integration=integration)
        message = service.send_template(
            session, actor=owner, conversation_id=conversation.id, template_id=view.id,
            variables=["Amina", "#1"], header_variables=["#1"],
        )  # fmt: skip
        message_id = message.id
    pubsub = get_redis().pubsub()
    pubsub.subscribe(tenant_channel(business.id))
    assert pubsub.get_message(timeout=1.0)["type"] == "subscribe"
    run_worker("outbound")
    with session_scope() as session:
        external_id = session.get(Message, message_id).external_id
    _status_webhook(client, integration, external_id, "delivered")
    names = [e["event"] for e in _live_events(pubsub)]
    assert names.count("message.updated") == 2  # sent, then delivered: the inbox hears them
    assert "broadcast.updated" not in names
    pubsub.close()


def test_a_contact_who_writes_stop_while_a_broadcast_runs_is_skipped(graph):
    with session_scope() as session:
        owner, business, integration = whatsapp_business(session)
        view = approved(session, owner, graph)
        stays = customer(session, business, integration, "Stays", label="vip")
        leaves = customer(session, business, integration, "Leaves", label="vip")
        broadcast = service.create_broadcast(
            session, actor=owner, template_id=view.id, name="Promo", label="vip",
            variables=["A", "B"], header_variables=["B"],
        )  # fmt: skip
    assert broadcast.counts == {"queued": 2}
    with session_scope() as session:
        reply = optout.handle_keyword(
            session, business_id=business.id, contact_id=leaves.id, text="Unsubscribe"
        )
    assert reply.action == optout.OPTED_OUT
    assert send_broadcast(broadcast.id) == 0
    run_worker("outbound")
    assert [m["to"] for m in graph.sent("messages")] == [f"2547{stays.id:08d}"]
    with session_scope() as session:
        shown = service.get_broadcast(session, actor=owner, broadcast_id=broadcast.id)
    assert {r.contact_name: r.status for r in shown.recipients} == {
        "Stays": "sent", "Leaves": "opted_out",
    }  # fmt: skip
